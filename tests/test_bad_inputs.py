"""Bad inputs get a clear error (or warning) naming the parameter: never a silent wrong answer.

The estimators and metric functions are discovered, not hand-listed; each test id says which
estimator or function and which bad input it tried.
"""

import inspect
import os
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.model_selection import GridSearchCV

import skhash
import skhash.metrics
from skhash import HammingRetriever, load_codes, save_codes
from skhash.utils._validation import _takes_integers
from skhash.utils.discovery import all_estimators

HASHERS = dict(all_estimators("hasher"))
DEEP = {
    name: cls for name, cls in HASHERS.items() if "max_epochs" in inspect.signature(cls).parameters
}
TINY = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=32, device="cpu", random_state=0)

# Every public metric of labelled codes: f(query_codes, db_codes, y_query, y_db, ...).
METRICS = {
    name: getattr(skhash.metrics, name)
    for name in skhash.metrics.__all__
    if callable(getattr(skhash.metrics, name))
    and list(inspect.signature(getattr(skhash.metrics, name)).parameters)[:4]
    == ["query_codes", "db_codes", "y_query", "y_db"]
}


def small(cls, n_bits=4):
    params = inspect.signature(cls).parameters
    est = cls(n_bits=n_bits)
    tiny = {k: v for k, v in TINY.items() if k in params}
    if "random_state" in params:
        tiny["random_state"] = 0
    return est.set_params(**tiny)


@pytest.fixture(scope="module")
def codes():
    rng = np.random.default_rng(0)
    return rng.integers(0, 2, (200, 16)).astype(np.uint8), rng.integers(0, 3, 200)


def test_discovery_finds_every_estimator():
    names = {name for name, _ in all_estimators()}
    assert {"ITQHasher", "IDRAEHasher", "SSDHHasher", "HammingRetriever", "VGG16Features"} <= names
    assert len(HASHERS) == 27 and len(DEEP) == 11 and len(METRICS) == 6
    assert set(CALLBACKS) == {"Checkpoint", "EarlyStopping", "LRScheduler", "ProgressBar"}


# ---------------------------------------------------------------- training callbacks
try:  # every public callback of skhash.deep (which needs torch)
    import skhash.deep as _deep
    from skhash.deep._callbacks import Callback

    CALLBACKS = {
        name: getattr(_deep, name)
        for name in dir(_deep)
        if not name.startswith("_")
        and isinstance(getattr(_deep, name), type)
        and issubclass(getattr(_deep, name), Callback)
        and getattr(_deep, name) is not Callback
    }
except ImportError:
    CALLBACKS = {}

CALLBACK_NUMBERS = [
    (name, param, bad)
    for name, cls in CALLBACKS.items()
    for param, p in inspect.signature(cls).parameters.items()
    if isinstance(p.default, (int, float)) and not isinstance(p.default, bool)
    for bad in (True, -1, float("nan"), float("inf"))
]


@pytest.mark.parametrize("name, param, bad", CALLBACK_NUMBERS, ids=lambda v: str(v))
def test_callbacks_refuse_bad_numbers(name, param, bad, tmp_path):
    required = {"path": tmp_path / "model.pt"} if name == "Checkpoint" else {}
    with pytest.raises(ValueError, match=param):
        CALLBACKS[name](**required, **{param: bad})


# ---------------------------------------------------------------- integer parameters (case 8)
INTEGER_PARAMS = [
    (name, param)
    for name, cls in all_estimators()
    for param, constraints in cls._parameter_constraints.items()
    if _takes_integers(constraints)
]


@pytest.mark.parametrize("name, param", INTEGER_PARAMS, ids=lambda v: str(v))
def test_boolean_for_an_integer_parameter_is_refused(name, param):
    cls = dict(all_estimators())[name]
    est = cls() if name not in HASHERS else small(cls)
    est.set_params(**{param: True})
    X = np.random.default_rng(0).uniform(size=(30, 6))
    if name == "HammingRetriever":
        X = (X > 0.5).astype(np.uint8)
    elif "Features" in name:
        X = np.zeros((2, 3, 32, 32), dtype=np.float32)
    with pytest.raises(ValueError, match=f"'{param}' parameter .* (must be an integer|Got True)"):
        est.fit(X)


# ---------------------------------------------------------------- float32 range (case 3)
@pytest.mark.parametrize("name", sorted(DEEP))
def test_deep_hashers_refuse_values_beyond_float32(name):
    X = np.random.default_rng(0).normal(size=(60, 5))
    y = np.arange(60) % 3  # the unsupervised ones ignore it
    with pytest.raises(ValueError, match="X holds values up to .*e\\+39, beyond float32"):
        small(DEEP[name]).fit(X * 1e39, y)
    est = small(DEEP[name]).fit(X, y)
    with pytest.raises(ValueError, match="X holds values up to .*e\\+39"):
        est.transform(X[:3] * 1e39)


def test_non_finite_code_scores_are_an_error(monkeypatch):
    est = small(DEEP["IDRAEHasher"]).fit(np.random.default_rng(0).normal(size=(60, 5)))
    monkeypatch.setattr(type(est), "_encode", lambda self, batch: batch[:, :4] * np.inf)
    with pytest.raises(ValueError, match="non-finite code scores.*Scale X as the training"):
        est.transform(np.ones((3, 5)))


# ---------------------------------------------------------------- extreme scales (case 8)
@pytest.mark.parametrize("name", ["ITQHasher", "SpectralHasher"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_linear_hashers_give_the_same_codes_at_any_scale(name, scale):
    X = np.random.default_rng(0).normal(size=(300, 20))
    est = small(HASHERS[name], n_bits=8)
    expected = clone(est).fit(X).transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(clone(est).fit(X * scale).transform(X * scale), expected)


def test_spectral_hashing_refuses_constant_data():
    with pytest.raises(ValueError, match="SpectralHasher needs X with some spread"):
        skhash.SpectralHasher(n_bits=4).fit(np.ones((10, 3)))


# ---------------------------------------------------------------- SSDH pairs (case 4)
def test_ssdh_warns_when_no_pair_is_labelled_and_handles_large_inputs():
    X = np.random.default_rng(0).uniform(size=(200, 20))
    with pytest.warns(UserWarning, match="no pair of the 200 sampled rows is labelled"):
        small(DEEP["SSDHHasher"]).set_params(alpha=50).fit(X)
    large = small(DEEP["SSDHHasher"]).fit(X * 1e20)  # squares beyond float32: still labels pairs
    assert large.history_[0]["similar_pairs"] > 0 and large.history_[0]["loss"] > 0


# ---------------------------------------------------------------- divergence (case 5)
@pytest.mark.parametrize("name", ["AEHasher", "WGANAEHasher"])
def test_diverging_learning_rate_is_an_error(name):
    X = load_digits().data[:600] / 16
    est = DEEP[name](n_bits=16, init="random", batch_size=128, max_epochs=5, lr=1e6)
    with pytest.raises(FloatingPointError, match="lr=1000000.0; try 10x smaller"):
        est.set_params(random_state=0, device="cpu").fit(X)


def test_exploding_but_finite_loss_is_an_error(monkeypatch):
    est = small(DEEP["AEHasher"]).set_params(max_epochs=3)
    original = type(est)._loss
    calls = {"n": 0}

    def exploding(self, batch):
        terms = original(self, batch)
        calls["n"] += 1
        if calls["n"] > 2:
            terms["loss"] = terms["loss"] * 1e12
        return terms

    monkeypatch.setattr(type(est), "_loss", exploding)
    with pytest.raises(FloatingPointError, match="exploded"):
        est.fit(np.random.default_rng(0).normal(size=(64, 5)))


def test_collapsed_codes_warn():
    X = load_digits().data  # unscaled 0-16 pixels, x16: every row gets one code
    with pytest.warns(ConvergenceWarning, match="the codes are degenerate .*share one code"):
        DEEP["SGHHasher"](n_bits=16, random_state=0, device="cpu").fit(X * 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        DEEP["SGHHasher"](n_bits=16, random_state=0, device="cpu").fit(X / 16)


# ---------------------------------------------------------------- labels (cases 1, 2, 10)
@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_ravel_column_vector_labels(name, codes):
    db, y = codes
    metric = METRICS[name]
    expected = metric(db[:10], db, y[:10], y)
    with pytest.warns(DataConversionWarning, match="column-vector y_query"):
        got = metric(db[:10], db, y[:10, None], y)
    np.testing.assert_equal(got, expected)


def test_retriever_score_ravels_column_vector_labels(codes):
    db, y = codes
    expected = HammingRetriever(backend="numpy").fit(db, y).score(db[:10], y[:10])
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        retriever = HammingRetriever(backend="numpy").fit(db, y[:, None])
    assert retriever.score(db[:10], y[:10]) == expected


@pytest.mark.parametrize("name", sorted(METRICS))
@pytest.mark.parametrize(
    "labels, match",
    [
        ("mixed_between", "Mix of label input types: y_query holds strings"),
        ("mixed_within", "Mix of label input types .* in y_db"),
        ("nan", "y_db contains NaN or infinite labels"),
    ],
)
def test_metrics_refuse_bad_labels(name, labels, match, codes):
    db, y = codes
    y_query, y_db = y[:10], y.astype(float)
    if labels == "mixed_between":
        y_query = y_query.astype(str)
    elif labels == "mixed_within":
        y_db = np.array([*y[:-1].tolist(), "a"], dtype=object)
    else:
        y_db[3] = np.nan
    with pytest.raises(ValueError, match=match):
        METRICS[name](db[:10], db, y_query, y_db)


def test_retriever_refuses_nan_labels_at_fit(codes):
    db, y = codes
    with pytest.raises(ValueError, match="y contains NaN"):
        HammingRetriever().fit(db, np.where(y == 1, np.nan, y))


# ---------------------------------------------------------------- zero queries, 0 bits (6, 8)
@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_refuse_zero_queries(name, codes):
    db, y = codes
    with pytest.raises(ValueError, match="query_codes holds no codes"):
        METRICS[name](db[:0], db, y[:0], y)


CODE_FUNCTIONS = {
    "check_codes": skhash.check_codes,
    "pack_codes": skhash.pack_codes,
    "to_bit_strings": skhash.to_bit_strings,
    "hamming_distances": skhash.hamming_distances,
    **{
        name: lambda c, m=m: m(c, c, np.zeros(len(c)), np.zeros(len(c)))
        for name, m in METRICS.items()
    },
}


@pytest.mark.parametrize("name", sorted(CODE_FUNCTIONS))
def test_zero_bit_codes_are_refused(name):
    with pytest.raises(ValueError, match="0 bits per row"):
        CODE_FUNCTIONS[name](np.zeros((3, 0), dtype=np.uint8))


# ---------------------------------------------------------------- n_jobs and scorers (case 10)
@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_refuse_n_jobs_zero_whatever_the_size(name, codes):
    db, y = codes
    with pytest.raises(ValueError, match="'n_jobs' parameter of "):
        METRICS[name](db[:1], db[:2], y[:1], y[:2], n_jobs=0)


def test_retriever_refuses_n_jobs_zero_at_fit(codes):
    with pytest.raises(ValueError, match="'n_jobs' parameter of HammingRetriever"):
        HammingRetriever(n_jobs=0).fit(codes[0])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: skhash.metrics.map_scorer(at=0), "'at' parameter of mean_average_precision"),
        (lambda: skhash.metrics.precision_scorer(k=0), "'k' parameter of precision_at_k"),
        (
            lambda: skhash.metrics.make_retrieval_scorer("map", ties="x"),
            "'ties' parameter of mean_average_precision",
        ),
    ],
)
def test_scorer_options_are_checked_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_valid_scorer_gives_a_finite_grid_search_score():
    X = np.random.default_rng(0).normal(size=(60, 8))
    y = (X[:, 0] > 0).astype(int)
    search = GridSearchCV(
        skhash.LSHHasher(random_state=0),
        {"n_bits": [4, 8]},
        scoring=skhash.metrics.map_scorer(at=1000),
        cv=2,
    ).fit(X, y)
    assert np.isfinite(search.best_score_)


# ---------------------------------------------------------------- torch device (case 9)
@pytest.mark.parametrize("device, match", [("tpu", "not a torch device"), ("cuda", "no CUDA")])
def test_torch_search_backend_resolves_its_device(device, match, codes):
    pytest.importorskip("torch")
    if device == "cuda":
        import torch

        if torch.cuda.is_available():
            pytest.skip("CUDA is available")
    with pytest.raises(ValueError, match=f"device='{device}'.*{match}"):
        HammingRetriever(backend="torch", device=device).fit(codes[0])


# ---------------------------------------------------------------- code files (case 7)
def _header_claiming(n_bits, row_bytes, path):
    dtype = np.dtype([(f"skhash:n_bits={n_bits}:bitorder=little", np.uint8, (row_bytes,))])
    np.save(path, np.zeros(3, dtype=dtype))


@pytest.mark.parametrize("mmap_mode", [None, "r"])
@pytest.mark.parametrize(
    "content", ["empty", "random bytes", "57 bits on 8-byte rows", "truncated"]
)
def test_load_codes_refuses_damaged_files(content, mmap_mode, tmp_path, codes):
    path = tmp_path / "codes.npy"
    if content == "empty":
        path.write_bytes(b"")
    elif content == "random bytes":
        path.write_bytes(np.random.default_rng(0).bytes(500))
    elif content == "57 bits on 8-byte rows":
        _header_claiming(57, 7, path)
    else:
        save_codes(path, codes[0])
        path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="is not a code file written by skhash.save_codes") as e:
        load_codes(path, mmap_mode=mmap_mode)
    assert "allow_pickle" not in str(e.value)


def test_save_codes_names_the_file_it_writes(tmp_path, codes):
    assert save_codes(tmp_path / "bare", codes[0]) == os.fspath(tmp_path / "bare.npy")
    assert np.array_equal(load_codes(tmp_path / "bare.npy").unpack(), codes[0])
    with pytest.raises(ValueError, match="not a .npz archive"):
        save_codes(tmp_path / "codes.npz", codes[0])


@pytest.mark.parametrize("name", ["IDRAEHasher", "GreedyHashHasher", "BiHalfHasher"])
def test_deep_hashers_warn_on_unscaled_pixels(name):
    X = load_digits().data[:200] * 16  # 0-256, like raw 0-255 pixels
    with pytest.warns(UserWarning, match=r"X holds values up to 256, as raw pixels .* / 255"):
        small(DEEP[name]).fit(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*as raw pixels")
        small(DEEP[name]).fit(X / 256)


# --- crashes and silent answers of the audit ------------------------------------------------


def test_a_million_threads_are_clipped_to_the_cores(codes):
    """SSDHHasher(n_jobs=10**6) and the faiss backend with n_jobs=10**6 crashed the process."""
    from skhash.utils._threads import limit_threads, thread_count

    assert thread_count(10**6) == os.cpu_count() and thread_count(None) == 1
    with limit_threads(10**6, torch=True) as n_threads:
        assert n_threads == os.cpu_count()
    db, _ = codes
    retriever = skhash.HammingRetriever(backend="faiss", n_jobs=10**6, n_neighbors=3).fit(db)
    np.testing.assert_array_equal(
        retriever.kneighbors(db[:5])[1],
        skhash.HammingRetriever(backend="numpy", n_neighbors=3).fit(db).kneighbors(db[:5])[1],
    )
    X = np.random.default_rng(0).normal(size=(64, 6))
    skhash.SSDHHasher(n_bits=4, n_jobs=10**6, max_epochs=1, device="cpu", random_state=0).fit(X)


def test_concurrent_transforms_restore_the_callers_thread_settings():
    from concurrent.futures import ThreadPoolExecutor

    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    X = np.random.default_rng(0).normal(size=(300, 20))
    hashers = [skhash.ITQHasher(n_bits=8, random_state=0).fit(X)] + [
        skhash.AEHasher(n_bits=8, max_epochs=1, device="cpu", random_state=0).fit(X)
    ]
    before_torch = torch.get_num_threads()
    with threadpool_limits(limits=2):
        torch.set_num_threads(2)
        try:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda i: hashers[i % 2].transform(X), range(40)))
            blas = {info["num_threads"] for info in threadpool_info()}
            assert blas == {2} and torch.get_num_threads() == 2
        finally:
            torch.set_num_threads(before_torch)


@pytest.mark.parametrize("factory", ["BHNSW0", "BIVF0", "BMultiHash0x16", "BMultiHash2x0"])
def test_faiss_factories_with_nothing_in_them_are_refused(factory, codes):
    pytest.importorskip("faiss")
    with pytest.raises(ValueError, match="at least"):
        skhash.to_faiss_index(codes[0], factory)


def test_a_protocol_and_a_count_of_queries_are_not_both_taken():
    y = np.repeat(np.arange(3), 50)
    with pytest.raises(ValueError, match="either protocol='cifar10-features' or n_queries"):
        skhash.datasets.query_database_split(y, n_queries=5, protocol="cifar10-features")


def test_one_colour_image_is_not_a_batch_of_grayscale_images():
    from skhash.features._base import check_images

    image = np.zeros((32, 32, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match=r"one \(height, width, 3\) colour image.*X\[None\]"):
        check_images(image)
    assert check_images(image[None])[1] == "nhwc"
    assert check_images(np.zeros((5, 32, 32), dtype=np.uint8))[1] == "nhw"


def test_numpy_integers_are_neighbour_counts_on_every_backend(codes):
    db, _ = codes
    for backend in ("numpy", "faiss"):
        retriever = skhash.HammingRetriever(backend=backend, n_neighbors=np.int64(4)).fit(db)
        assert retriever.kneighbors(db[:2], n_neighbors=np.int32(3))[1].shape == (2, 3)
        assert retriever.kneighbors(db[:2])[1].shape == (2, 4)


def test_nearly_constant_bits_and_few_distinct_codes_are_degenerate():
    """The audit's unwarned cases: GreedyHash with ~45% nearly constant bits, SGH with 7-11
    always-zero bits on CNN features, a database of few distinct codes."""
    from skhash.deep._base import _degenerate_codes

    rng = np.random.default_rng(0)
    healthy = rng.random((2048, 64)) < 0.5
    assert _degenerate_codes(healthy, 64) == []
    nearly = healthy.copy()
    nearly[:, :10] = rng.random((2048, 10)) < 0.02  # 10 of 64 bits nearly always 0
    assert _degenerate_codes(nearly, 64) == [
        "10 of the 64 bits are nearly constant (one value in more than 95% of the rows)"
    ]
    assert _degenerate_codes(nearly[:, 5:], 59) == []  # 5 bits: below an eighth
    few = healthy[rng.integers(0, 40, 2048)]  # 40 distinct codes
    assert _degenerate_codes(few, 64) == ["only 40 distinct codes for 2048 training rows"]
    assert _degenerate_codes(rng.random((2048, 4)) < 0.5, 4) == []  # 16 codes is all of them
