"""The deep hashers: training loop behaviour and the loss terms."""

import ast
import inspect
import itertools
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import check_seeded_fit

torch = pytest.importorskip("torch")

from scipy.stats import wasserstein_distance  # noqa: E402

from skhash import AEHasher, IDRAEHasher, LPAEHasher, WGANAEHasher  # noqa: E402
from skhash.deep import BaseDeepHasher  # noqa: E402
from skhash.deep._losses import assignment_wasserstein, independent_wasserstein  # noqa: E402
from skhash.utils.discovery import all_estimators  # noqa: E402

TINY = dict(n_bits=6, hidden_layer_sizes=(16,), max_epochs=3, batch_size=32, device="cpu")
ALL = [
    AEHasher(**TINY),
    IDRAEHasher(**TINY),
    IDRAEHasher(schedule="alternating", distance="squared", **TINY),
    LPAEHasher(**TINY),
    WGANAEHasher(n_critic=2, **TINY),
    WGANAEHasher(lipschitz="clip", n_critic=2, **TINY),
]
IDS = ["ae", "idr", "idr-alternating", "lp", "wgan-gp", "wgan-clip"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 12))
    return (centres[rng.integers(0, 4, 200)] + 0.3 * rng.normal(size=(200, 12))).astype(np.float32)


def test_import_skhash_does_not_import_torch():
    code = "import sys, skhash; assert 'torch' not in sys.modules; skhash.IDRAEHasher"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_public_subpackage_is_an_attribute_of_skhash():
    code = (
        "import sys, skhash\n"
        "names = ['datasets', 'features', 'metrics', 'neighbors', 'linear', 'utils']\n"
        "mods = [getattr(skhash, n) for n in names]\n"
        "assert [m.__name__ for m in mods] == ['skhash.' + n for n in names]\n"
        "assert 'torch' not in sys.modules\n"
        "assert skhash.deep.IDRAEHasher is skhash.IDRAEHasher\n"
        "assert set(names) <= set(dir(skhash))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_names_the_extra():
    code = (
        "import sys\n"
        "class NoTorch:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ImportError('No module named torch')\n"
        "sys.meta_path.insert(0, NoTorch())\n"
        "try:\n    from skhash import IDRAEHasher\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'skhash[torch]'" in out.stdout


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_seed_gives_identical_codes_and_leaves_global_rng(estimator, X):
    check_seeded_fit(estimator, X)


@pytest.mark.parametrize("estimator", ALL, ids=IDS)
def test_history(estimator, X):
    est = estimator.set_params(random_state=0).fit(X)
    assert est.n_iter_ == 3 and len(est.history_) == 3
    assert [h["epoch"] for h in est.history_] == [1, 2, 3]
    assert est.loss_curve_ == [h["loss"] for h in est.history_]
    assert {"loss", "reconstruction", "distribution", "time"} <= set(est.history_[0]) or (
        isinstance(est, AEHasher)
    )
    assert est.device_ == torch.device("cpu")
    assert not est.module_.training
    assert not hasattr(est, "optimizers_")


def test_default_network(X):
    est = IDRAEHasher(n_bits=8, max_epochs=1, device="cpu", random_state=0).fit(X)
    encoder = est.module_["encoder"]
    assert (encoder.linear.in_features, encoder.linear.out_features) == (12, 8)
    assert not encoder.linear.weight.requires_grad  # ITQ's projections stay fixed
    linear = [m for m in encoder.mlp if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(12, 512), (512, 256), (256, 8)]
    random = IDRAEHasher(n_bits=8, init="random", max_epochs=1, device="cpu").fit(X)
    linear = [m for m in random.module_["encoder"] if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(12, 512), (512, 256), (256, 8)]
    decoder = [m for m in est.module_["decoder"] if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in decoder] == [(8, 256), (256, 512), (512, 12)]


def test_autoencoder_learns(X):
    """The scaled reconstruction error starts near 1 (mean predictor) and decreases."""
    est = AEHasher(**{**TINY, "max_epochs": 30}, lr=1e-2, random_state=0).fit(X)
    assert est.reconstruction_scale_ == pytest.approx(float(X.var(axis=0).mean()), rel=1e-4)
    assert est.loss_curve_[-1] < 0.2 * est.loss_curve_[0]


def test_idr_balances_bits_better_than_ae(X):
    """On clustered data the bits of a plain AE are unbalanced; IDR-AE evens them out."""
    params = {**TINY, "n_bits": 16, "max_epochs": 40, "init": "random", "random_state": 0}
    ae_codes = AEHasher(**params).fit(X).transform(X)
    idr = IDRAEHasher(**params, distribution_weight=3.0).fit(X)
    idr_codes = idr.transform(X)
    ae_imbalance = np.abs(ae_codes.mean(axis=0) - 0.5).mean()
    idr_imbalance = np.abs(idr_codes.mean(axis=0) - 0.5).mean()
    assert idr_imbalance < 0.7 * ae_imbalance
    assert idr.history_[-1]["distribution"] < idr.history_[0]["distribution"]


def test_independent_wasserstein_matches_scipy():
    rng = np.random.default_rng(0)
    b = rng.uniform(size=(50, 5))
    z = (rng.uniform(size=(50, 5)) < 0.5).astype(float)
    expected = np.mean([wasserstein_distance(b[:, i], z[:, i]) for i in range(5)])
    got = independent_wasserstein(torch.tensor(b), torch.tensor(z))
    assert float(got) == pytest.approx(expected, rel=1e-12)
    squared = independent_wasserstein(torch.tensor(b), torch.tensor(z), squared=True)
    sorted_diff = np.sort(b, axis=0) - np.sort(z, axis=0)
    assert float(squared) == pytest.approx(np.mean(sorted_diff**2), rel=1e-12)


def test_assignment_wasserstein_matches_brute_force_and_gradient():
    rng = np.random.default_rng(1)
    b = torch.tensor(rng.uniform(size=(6, 3)), requires_grad=True)
    z = torch.tensor((rng.uniform(size=(6, 3)) < 0.5).astype(float))
    cost = np.linalg.norm(b.detach().numpy()[:, None] - z.numpy()[None], axis=2)
    best = min(cost[range(6), list(p)].sum() for p in itertools.permutations(range(6)))
    loss = assignment_wasserstein(b, z)
    assert float(loss.detach()) == pytest.approx(best / 6, rel=1e-12)
    loss.backward()
    assert torch.isfinite(b.grad).all() and b.grad.abs().sum() > 0


def test_non_finite_loss_names_the_cause(X):
    with pytest.raises(FloatingPointError, match="learning rate.*unscaled input"):
        AEHasher(**TINY, lr=1e30, random_state=0).fit(X * 1e30)


def test_keyboard_interrupt_is_raised_on_and_keeps_partial_model(X, monkeypatch):
    est = IDRAEHasher(**{**TINY, "max_epochs": 5}, random_state=0)
    original = IDRAEHasher._training_step
    calls = {"n": 0}
    per_epoch = -(-X.shape[0] // TINY["batch_size"])

    def interrupted(self, batch, step):
        calls["n"] += 1
        if calls["n"] == 2 * per_epoch + 1:
            raise KeyboardInterrupt
        return original(self, batch, step)

    monkeypatch.setattr(IDRAEHasher, "_training_step", interrupted)
    with pytest.warns(UserWarning, match="interrupted after 2 complete epoch"):
        with pytest.raises(KeyboardInterrupt):
            est.fit(X)
    assert est.n_iter_ == 2 < est.n_epochs_ and len(est.history_) == 2
    assert not est.module_.training
    assert "optimizers_" not in vars(est) and "_generator" not in vars(est)
    assert est.transform(X).shape == (200, 6)


_SIGINT_SCRIPT = """
import signal, sys, numpy as np, torch
# A process started in the background by a non-interactive shell inherits SIGINT as ignored
# (POSIX), and Python then installs no KeyboardInterrupt handler: restore the usual one.
signal.signal(signal.SIGINT, signal.default_int_handler)
from sklearn.model_selection import GridSearchCV
from skhash import AEHasher
from skhash.metrics import map_scorer

torch.set_num_threads(1)
fits = []
original = AEHasher._training_step

def step(self, batch, n):
    if n == 0:
        fits.append(1)
        print("fit", len(fits), flush=True)
    return original(self, batch, n)

AEHasher._training_step = step
X = np.random.default_rng(0).normal(size=(400, 10))
y = np.arange(400) % 4
search = GridSearchCV(
    AEHasher(n_bits=8, max_epochs=100_000, batch_size=50, hidden_layer_sizes=(8,)),
    {"lr": [1e-3, 2e-3, 3e-3]}, scoring=map_scorer(), cv=2, error_score="raise",
)
try:
    search.fit(X, y)
except KeyboardInterrupt:
    print("stopped after", len(fits), "fit(s)", flush=True)
    sys.exit(3)
print("search finished", flush=True)
"""


def test_sigint_stops_a_grid_search(tmp_path):
    """A real Ctrl-C (SIGINT) inside GridSearchCV stops the whole search."""
    import signal
    import subprocess
    import sys

    script = tmp_path / "search.py"
    script.write_text(_SIGINT_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "fit 1"
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:  # a second Ctrl-C must stop everything
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode != 0, (out, err)
    assert "search finished" not in out and "fit 2" not in out, (out, err)
    assert "interrupted after" in err


def test_verbose_shows_progress(X, capsys):
    pytest.importorskip("tqdm")
    AEHasher(**TINY, verbose=True, random_state=0).fit(X)
    assert "AEHasher" in capsys.readouterr().err


@pytest.mark.parametrize(
    "params, match",
    [
        ({"device": "tpu-9"}, "device='tpu-9' is not a torch device"),
        ({"hidden_layer_sizes": (8, 0)}, "hidden_layer_sizes must be a sequence of positive"),
        ({"activation": "swish"}, "'activation' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
    ],
)
def test_bad_parameters(params, match, X):
    with pytest.raises(ValueError, match=match):
        IDRAEHasher(**{**TINY, **params}).fit(X)


def test_bad_input(X):
    est = AEHasher(**TINY, random_state=0)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad)
    est.fit(X)
    with pytest.raises(ValueError, match="12 features"):
        est.transform(X[:, :5])


def test_cuda_unavailable_is_a_clear_error(X):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="no CUDA device"):
        AEHasher(**{**TINY, "device": "cuda"}).fit(X)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_pickles_to_cpu(X):
    est = IDRAEHasher(**{**TINY, "device": "cuda"}, random_state=0).fit(X)
    assert est.device_.type == "cuda"
    state = est.__getstate__()
    assert next(state["module_"].parameters()).device.type == "cpu"
    assert next(est.module_.parameters()).device.type == "cuda"  # the live model stays
    restored = pickle.loads(pickle.dumps(est))
    assert restored.device_.type == "cuda"  # back on CUDA where it is available
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_model_fitted_on_cuda_unpickles_on_cpu_with_a_warning(X):
    est = IDRAEHasher(**TINY, random_state=0).fit(X)
    state = pickle.loads(pickle.dumps(est)).__getstate__()
    state["device_"] = torch.device("cuda", 0)  # as pickled on a CUDA machine
    restored = IDRAEHasher.__new__(IDRAEHasher)
    with pytest.warns(UserWarning, match="IDRAEHasher was fitted on cuda:0.*using the CPU"):
        restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    assert "optimizers_" not in state and "_generator" not in state
    np.testing.assert_array_equal(restored.transform(X), est.transform(X))


def test_base_class_extension_points(X):
    """A method made of its modules and its loss only, as the base docstring describes."""

    class LinearSignHasher(BaseDeepHasher):
        def __init__(
            self,
            n_bits=4,
            *,
            hidden_layer_sizes=(),
            activation="relu",
            batch_size=64,
            max_epochs=2,
            lr=1e-2,
            optimizer="sgd",
            optimizer_kwargs=None,
            n_jobs=None,
            device="cpu",
            random_state=None,
            verbose=False,
            callbacks=None,
            validation_fraction=None,
        ):
            super().__init__(
                n_bits=n_bits,
                hidden_layer_sizes=hidden_layer_sizes,
                activation=activation,
                batch_size=batch_size,
                max_epochs=max_epochs,
                lr=lr,
                optimizer=optimizer,
                optimizer_kwargs=optimizer_kwargs,
                n_jobs=n_jobs,
                device=device,
                random_state=random_state,
                verbose=verbose,
                callbacks=callbacks,
                validation_fraction=validation_fraction,
            )

        def _build_modules(self, X):
            return {"encoder": torch.nn.Linear(X.shape[1], self.n_bits)}

        def _loss(self, X_batch):
            h = torch.tanh(self.module_["encoder"](X_batch))
            quantization = (h.abs() - 1).square().mean()
            return {"loss": quantization, "quantization": quantization}

    est = LinearSignHasher(random_state=0).fit(X)
    assert set(est.history_[0]) == {"loss", "quantization", "epoch", "time"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est.transform(X).shape == (200, 4)


@pytest.mark.parametrize("cls", [AEHasher, IDRAEHasher])
@pytest.mark.parametrize("n_bits", [8, 16])
def test_itq_start_gives_itq_codes(cls, n_bits, X):
    """Before training moves it, the ITQ start reproduces ITQHasher's codes exactly (bits
    beyond ITQ's limit of 12 features are random projections)."""
    from skhash import ITQHasher

    est = cls(n_bits=n_bits, max_epochs=1, lr=1e-12, device="cpu", random_state=0).fit(X)
    # fit seeds torch from random_state; the ITQ seed is its first draw.
    seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        itq_seed = int(torch.randint(np.iinfo(np.int32).max, (1,)).item())
    n_itq = min(n_bits, X.shape[1])
    itq = ITQHasher(n_bits=n_itq, random_state=itq_seed).fit(X.astype(np.float32))
    codes = est.transform(X)
    np.testing.assert_array_equal(codes[:, :n_itq], itq.transform(X))
    assert 0.2 < codes[:, n_itq:].mean() < 0.8 if n_bits > n_itq else True


def test_itq_start_keeps_the_linear_path_and_trains_the_correction(X):
    start = IDRAEHasher(n_bits=8, max_epochs=1, lr=1e-12, device="cpu", random_state=0).fit(X)
    trained = IDRAEHasher(n_bits=8, max_epochs=5, lr=1e-2, device="cpu", random_state=0).fit(X)
    before, after = start.module_["encoder"], trained.module_["encoder"]
    assert torch.equal(before.linear.weight, after.linear.weight)
    assert torch.equal(before.linear.bias, after.linear.bias)
    assert after.mlp[-1].weight.abs().sum() > 0  # the correction has left zero
    # Without hidden layers there is no correction to learn: the linear path trains.
    linear = IDRAEHasher(n_bits=8, hidden_layer_sizes=(), max_epochs=5, lr=1e-2, device="cpu")
    linear = linear.set_params(random_state=0).fit(X).module_["encoder"]
    assert linear.linear.weight.requires_grad
    assert not torch.equal(linear.linear.weight, before.linear.weight)


@pytest.mark.parametrize("scaling", ["none", "global", "feature"])
def test_scaling_is_learned_in_fit(scaling, X):
    est = IDRAEHasher(n_bits=8, scaling=scaling, max_epochs=1, device="cpu", random_state=0)
    est.fit(X)
    mean, scale = est.module_["input"].mean.numpy(), est.module_["input"].scale.numpy()
    if scaling == "none":
        np.testing.assert_array_equal(mean, 0)
        np.testing.assert_array_equal(scale, 1)
    else:
        np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-5, atol=1e-6)
        expected = X.std(axis=0) if scaling == "feature" else np.sqrt(X.var(axis=0).mean())
        np.testing.assert_allclose(scale, np.broadcast_to(expected, scale.shape), rtol=1e-4)
        # The reconstruction is measured on the scaled input: scale 1 for "feature".
        if scaling == "feature":
            assert est.reconstruction_scale_ == pytest.approx(1.0, rel=1e-4)
        # An affine change of units leaves the codes alone.
        moved = IDRAEHasher(**est.get_params()).fit(X * 10 + 3)
        agreement = (moved.transform(X * 10 + 3) == est.transform(X)).mean()
        assert agreement > 0.98


def test_scaling_leaves_constant_features_unscaled(X):
    X = np.hstack([X, np.full((len(X), 1), 7.0)])
    est = AEHasher(n_bits=4, scaling="feature", max_epochs=1, device="cpu").fit(X)
    assert est.module_["input"].scale[-1] == 1 and est.module_["input"].mean[-1] == 7
    assert np.isfinite(est.decision_function(X)).all()


def test_auto_epochs_aim_at_a_fixed_number_of_steps(X):
    from skhash.deep._base import AUTO_STEPS

    est = AEHasher(n_bits=4, hidden_layer_sizes=(8,), batch_size=64, device="cpu").fit(X)
    # 200 rows at batch 64: 4 steps an epoch, so 100 epochs make the 400 steps.
    assert AUTO_STEPS == 400 and est.max_epochs == "auto"
    assert est.n_epochs_ == est.n_iter_ == len(est.history_) == 100
    est.set_params(batch_size=512)
    assert [est._n_epochs(n) for n in (50_000, 60_000, 320, 10**7)] == [5, 4, 400, 1]
    assert IDRAEHasher(max_epochs=7)._n_epochs(10**6) == 7


@pytest.mark.parametrize(
    "cls", [cls for _, cls in all_estimators("hasher") if issubclass(cls, BaseDeepHasher)]
)
def test_docstring_documents_each_parameter_once_with_its_default(cls):
    """The shared docstring sections fill in every deep hasher, with the class's defaults."""
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(cls)
    documented = [p.name for p in doc["Parameters"]]
    assert sorted(documented) == sorted(cls().get_params()), cls
    assert "{" not in "".join(p.name for p in doc["Parameters"] + doc["Attributes"])
    for param in doc["Parameters"]:
        default = inspect.signature(cls).parameters[param.name].default
        written = ast.literal_eval(param.type.rsplit("default=", 1)[1])
        assert written == default, (cls, param.name, param.type)
    attributes = [a.name for a in doc["Attributes"]]
    assert len(attributes) == len(set(attributes)) and "device_" in attributes


@pytest.mark.parametrize("name", ["IDRAEHasher", "SGHHasher", "SSDHHasher", "WGANAEHasher"])
def test_same_seed_fits_in_threads_agree_and_leave_the_callers_rng(X, name):
    """Every draw of a fit, the initial weights included, comes from its own generators:
    concurrent same-seed fits give the codes of a lone fit, even while another thread
    draws from the global torch RNG, and the caller's RNG is untouched."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    cls = dict(all_estimators(type_filter="hasher"))[name]
    options = dict(n_bits=6, max_epochs=2, device="cpu", random_state=3)
    alone = cls(**options).fit(X).transform(X)
    before = torch.get_rng_state().clone()
    with ThreadPoolExecutor(4) as pool:
        fits = list(pool.map(lambda _: cls(**options).fit(X), range(4)))
    assert torch.equal(torch.get_rng_state(), before)
    stop = threading.Event()

    def draw_from_the_global_rng():
        while not stop.is_set():
            torch.rand(64)

    other = threading.Thread(target=draw_from_the_global_rng)
    other.start()
    try:
        fits += [cls(**options).fit(X) for _ in range(3)]
    finally:
        stop.set()
        other.join()
    for est in fits:
        np.testing.assert_array_equal(est.transform(X), alone)


@pytest.mark.parametrize("name", ["BiHalfHasher", "GreedyHashHasher", "AEHasher"])
def test_a_last_minibatch_of_one_row_joins_the_one_before(name, X):
    """n_samples % batch_size == 1 trains: the pair and batch-statistic losses are
    undefined on a single row, so that row joins the previous minibatch."""
    from skhash.deep._base import minibatch_bounds

    assert minibatch_bounds(65, 32) == [(0, 32), (32, 65)]
    assert minibatch_bounds(64, 32) == [(0, 32), (32, 64)]
    assert minibatch_bounds(1, 32) == [(0, 1)]
    cls = dict(all_estimators(type_filter="hasher"))[name]
    est = cls(n_bits=6, batch_size=33, max_epochs=2, device="cpu", random_state=0)
    est.fit(X[:67])
    assert len(est.history_) == 2 and all(np.isfinite(h["loss"]) for h in est.history_)


def test_the_fitted_model_holds_no_training_scratch(X):
    est = IDRAEHasher(**TINY, random_state=0).fit(X)
    private = {k for k in vars(est) if k.startswith("_") and not k.startswith("__")}
    assert private <= {"_sklearn_version"}, private


@pytest.mark.parametrize(
    "cls", [c for _, c in all_estimators(type_filter="hasher") if c._uses_torch], ids=repr
)
def test_rendered_docstrings_have_single_braces(cls):
    assert "{{" not in cls.__doc__ and "}}" not in cls.__doc__


def test_optimizer_kwargs_reach_the_optimiser(X, monkeypatch):
    """The released recipes' SGD momentum and weight decay have a home."""
    from skhash import GreedyHashHasher

    seen = []
    original = BaseDeepHasher._make_optimizer

    def spy(self, params, lr=None):
        optimizer = original(self, params, lr)
        seen.append(optimizer.defaults)
        return optimizer

    monkeypatch.setattr(BaseDeepHasher, "_make_optimizer", spy)
    options = {"momentum": 0.9, "weight_decay": 5e-4}
    GreedyHashHasher(
        n_bits=4, max_epochs=1, optimizer="sgd", optimizer_kwargs=options, random_state=0
    ).fit(X)
    assert seen[0]["momentum"] == 0.9 and seen[0]["weight_decay"] == 5e-4
    with pytest.raises(ValueError, match="are not options of torch.optim.adam.Adam"):
        AEHasher(**TINY, optimizer_kwargs={"momentum": 0.9}).fit(X)
    with pytest.raises(ValueError, match="must not hold 'lr'"):
        AEHasher(**TINY, optimizer_kwargs={"lr": 0.1}).fit(X)
