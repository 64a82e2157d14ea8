"""Dask arrays through hashers and the retriever: lazy, chunk by chunk, same results."""

import pickle

import numpy as np
import pytest

import skhash
from skhash import HammingRetriever, ITQHasher, LSHHasher, SpectralHasher, load_codes, save_codes

da = pytest.importorskip("dask.array", reason="dask not installed: pip install 'skhash[dask]'")
dask = pytest.importorskip("dask")

HASHERS = [
    LSHHasher(n_bits=12, random_state=0),
    SpectralHasher(n_bits=8),
    ITQHasher(n_bits=10, random_state=0),
]


class CountingScheduler:
    """A dask scheduler that records how many graphs it is asked to compute."""

    def __init__(self):
        self.calls = 0

    def __call__(self, dsk, keys, **kwargs):
        self.calls += 1
        return dask.get(dsk, keys, **kwargs)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(500, 16)), rng.normal(size=(230, 16))


@pytest.mark.parametrize("hasher", HASHERS, ids=lambda h: type(h).__name__)
def test_transform_of_dask_array_is_lazy_and_equal_chunk_by_chunk(hasher, data):
    X, Q = data
    hasher = hasher.fit(X)
    dQ = da.from_array(Q, chunks=(64, 5))  # feature chunks get merged per row block
    scheduler = CountingScheduler()
    with dask.config.set(scheduler=scheduler):
        codes = hasher.transform(dQ)
        values = hasher.decision_function(dQ)
        assert scheduler.calls == 0
    assert isinstance(codes, da.Array) and isinstance(values, da.Array)
    assert codes.dtype == np.uint8 and codes.shape == (230, hasher.n_bits)
    assert codes.chunks == ((64, 64, 64, 38), (hasher.n_bits,))
    np.testing.assert_array_equal(codes.compute(), hasher.transform(Q))
    np.testing.assert_allclose(values.compute(), hasher.decision_function(Q))
    assert values.dtype == hasher.decision_function(Q).dtype


def test_fitted_hasher_enters_the_graph_once():
    X = np.random.default_rng(0).normal(size=(50, 2000))
    hasher = LSHHasher(n_bits=64, random_state=0).fit(X)  # 1 MB of projections
    codes = hasher.transform(da.zeros((400, 2000), chunks=(20, 2000)))
    size = len(pickle.dumps(dict(codes.__dask_graph__())))
    assert size < 1.5 * len(pickle.dumps(hasher))  # not once per chunk (20 chunks)


def test_transform_checks_features_before_computing(data):
    X, _ = data
    hasher = LSHHasher(n_bits=8, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        hasher.transform(da.zeros((10, 3), chunks=5))
    with pytest.raises(ValueError, match="2-D"):
        hasher.transform(da.zeros(10, chunks=5))


def test_fit_on_dask_array_raises_by_default_and_says_what_to_do(data):
    X, _ = data
    with pytest.raises(TypeError, match=r"in-memory sample.*dask_fit='sample'"):
        ITQHasher(n_bits=4).fit(da.from_array(X, chunks=100))


def test_fit_on_dask_array_samples_rows_when_configured(data):
    X, _ = data
    dX = da.from_array(X, chunks=100)
    with skhash.config_context(dask_fit="sample", dask_fit_n_samples=200, dask_fit_random_state=3):
        fitted = LSHHasher(n_bits=8, random_state=0).fit(dX)
    assert skhash.get_config()["dask_fit"] == "raise"
    rows = np.sort(np.random.default_rng(3).choice(500, size=200, replace=False))
    np.testing.assert_allclose(fitted.mean_, X[rows].mean(axis=0))
    # Fewer rows than the sample size: every row.
    with skhash.config_context(dask_fit="sample"):
        whole = LSHHasher(n_bits=8, random_state=0).fit(dX)
        codes = LSHHasher(n_bits=8, random_state=0).fit_transform(dX)
    np.testing.assert_allclose(whole.mean_, X.mean(axis=0))
    assert isinstance(codes, da.Array)
    np.testing.assert_array_equal(codes.compute(), whole.transform(X))


def test_set_config_validates():
    with pytest.raises(ValueError, match="dask_fit must be 'raise' or 'sample'"):
        skhash.set_config(dask_fit="all")
    with pytest.raises(ValueError, match="dask_fit_n_samples must be an integer >= 2"):
        skhash.set_config(dask_fit_n_samples=1)


@pytest.mark.parametrize(
    "hasher", ["passthrough", LSHHasher(n_bits=24, random_state=0)], ids=["codes", "hasher"]
)
def test_retriever_answers_dask_queries_lazily(hasher, data):
    X, Q = data
    if hasher == "passthrough":
        X, Q = (X > 0).astype(np.uint8), (Q > 0).astype(np.uint8)
    retriever = HammingRetriever(hasher, n_neighbors=7, radius=6).fit(X)
    dQ = da.from_array(Q, chunks=50)
    scheduler = CountingScheduler()
    with dask.config.set(scheduler=scheduler):
        dist, ind = retriever.kneighbors(dQ)
        only_ind = retriever.kneighbors(dQ, n_neighbors=3, return_distance=False)
        r_dist, r_ind = retriever.radius_neighbors(dQ)
        assert scheduler.calls == 0
        dist, ind, only_ind, r_dist, r_ind = dask.compute(dist, ind, only_ind, r_dist, r_ind)
        assert scheduler.calls == 1
    ref_dist, ref_ind = retriever.kneighbors(Q)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_array_equal(dist, ref_dist)
    assert dist.dtype == ref_dist.dtype
    np.testing.assert_array_equal(only_ind, ref_ind[:, :3])
    ref_r_dist, ref_r_ind = retriever.radius_neighbors(Q)
    assert r_ind.dtype == object and len(r_ind) == len(Q)
    for a, b, c, d in zip(r_dist, ref_r_dist, r_ind, ref_r_ind, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(c, d)
    with pytest.raises(ValueError, match="features"):
        retriever.kneighbors(da.zeros((5, X.shape[1] + 1), chunks=5))


def test_dask_codes_saved_chunk_by_chunk_and_searched_from_the_file(tmp_path, data):
    X, Q = data
    hasher = ITQHasher(n_bits=16, random_state=0).fit(X)
    save_codes(tmp_path / "db.npy", hasher.transform(da.from_array(X, chunks=64)), bitorder="big")
    db = load_codes(tmp_path / "db.npy", mmap_mode="r")
    np.testing.assert_array_equal(db.unpack(), hasher.transform(X))
    retriever = HammingRetriever(n_neighbors=5).fit(db)
    in_memory = HammingRetriever(hasher, n_neighbors=5).fit(X)
    ind = retriever.kneighbors(
        hasher.transform(da.from_array(Q, chunks=100)), return_distance=False
    )
    np.testing.assert_array_equal(ind.compute(), in_memory.kneighbors(Q)[1])


def test_fit_sample_takes_the_same_rows_of_y(data):
    from skhash.utils._dask import fit_sample

    X, _ = data
    y = np.arange(len(X))
    with skhash.config_context(dask_fit="sample", dask_fit_n_samples=50):
        for labels in (y, da.from_array(y, chunks=128)):
            X_sample, y_sample = fit_sample(da.from_array(X, chunks=100), labels)
            np.testing.assert_array_equal(X_sample, X[y_sample])
            assert len(np.unique(y_sample)) == 50
        with pytest.raises(ValueError, match="y has 3 rows but X has 500"):
            fit_sample(da.from_array(X, chunks=100), y[:3])


def test_sharded_kneighbors_equals_the_retriever_on_the_whole_database():
    """Shards searched one task each, merged by (distance, index): the retriever's result,
    ties included, whatever the chunks (uneven, smaller than k, empty)."""
    from skhash.neighbors import sharded_kneighbors

    rng = np.random.default_rng(0)
    codes = (rng.random((700, 20)) < 0.5).astype(np.uint8)
    codes[400:] = codes[:300]  # duplicates across shards
    queries = codes[:25] ^ (rng.random((25, 20)) < 0.1).astype(np.uint8)
    whole = HammingRetriever(backend="numpy").fit(codes)
    for chunks in [(700,), (3, 97, 0, 300, 300), (100,) * 7]:
        database = da.from_array(codes, chunks=(chunks, 20))
        for k in (1, 10, 50):
            dist, ind = sharded_kneighbors(queries, database, n_neighbors=k)
            expected = whole.kneighbors(queries, n_neighbors=k)
            np.testing.assert_array_equal(ind, expected[1])
            np.testing.assert_array_equal(dist, expected[0])
    with pytest.raises(ValueError, match="chunked by rows only"):
        sharded_kneighbors(queries, da.from_array(codes, chunks=(100, 10)))
    with pytest.raises(ValueError, match="between 1 and the 700|must be between"):
        sharded_kneighbors(queries, da.from_array(codes, chunks=100), n_neighbors=701)
