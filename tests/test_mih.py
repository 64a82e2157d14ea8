"""Exact multi-index hashing (algorithm="mih"): always the brute-force results."""

import pickle

import numpy as np
import pytest

from skhash import HammingRetriever, load_codes, save_codes

pytest.importorskip("numba")


def clustered(rng, n, n_bits, n_centres=20, flip=1 / 16):
    centres = (rng.random((n_centres, n_bits)) < 0.5).astype(np.uint8)
    noise = (rng.random((n, n_bits)) < flip).astype(np.uint8)
    return centres[rng.integers(0, n_centres, n)] ^ noise


def assert_same_search(a, b, queries, k, radius):
    for X in (queries, None):
        da, ia = a.kneighbors(X, n_neighbors=k)
        db, ib = b.kneighbors(X, n_neighbors=k)
        np.testing.assert_array_equal(ia, ib)
        np.testing.assert_array_equal(da, db)
        ga = a.radius_neighbors_graph(X, radius=radius, mode="distance", sort_results=True)
        gb = b.radius_neighbors_graph(X, radius=radius, mode="distance", sort_results=True)
        np.testing.assert_array_equal(ga.indptr, gb.indptr)
        np.testing.assert_array_equal(ga.indices, gb.indices)
        np.testing.assert_array_equal(ga.data, gb.data)


@pytest.mark.parametrize("n_bits", [7, 33, 64, 65, 130])
@pytest.mark.parametrize("kind", ["clustered", "random"])
@pytest.mark.parametrize("n_substrings", [None, 3])
def test_mih_equals_brute_force(n_bits, kind, n_substrings):
    rng = np.random.default_rng(n_bits)
    make = clustered if kind == "clustered" else lambda r, n, b: r.random((n, b)) < 0.5
    codes = np.asarray(make(rng, 600, n_bits), dtype=np.uint8)
    codes[500:] = codes[:100]  # exact duplicates: ties by index
    queries = np.asarray(make(rng, 40, n_bits), dtype=np.uint8)
    if n_substrings and -(-n_bits // n_substrings) > 25:
        n_substrings = -(-n_bits // 25)
    brute = HammingRetriever(algorithm="brute", backend="numpy").fit(codes)
    mih = HammingRetriever(algorithm="mih", n_substrings=n_substrings).fit(codes)
    assert mih.algorithm_ == "mih" and brute.algorithm_ == "brute"
    for k, radius in [(1, 0), (10, 2), (100, max(1, n_bits // 8)), (599, 4)]:
        assert_same_search(mih, brute, queries, k, radius)


@pytest.mark.parametrize("rebuild_from", [2**16, 500])
def test_mih_after_partial_fit_and_pickling_and_in_auto_mode(monkeypatch, rebuild_from):
    """Added codes are scanned as a tail, and indexed once the tail is large enough."""
    from skhash.neighbors import _base, _mih

    monkeypatch.setattr(_mih, "_MIN_TAIL_REBUILD", rebuild_from)
    rng = np.random.default_rng(0)
    codes, queries = clustered(rng, 900, 64), clustered(rng, 30, 64)
    brute = HammingRetriever(algorithm="brute", backend="numpy").fit(codes)
    grown = HammingRetriever(algorithm="mih").fit(codes[:300])
    grown.partial_fit(codes[300:700]).partial_fit(codes[700:])
    assert grown._index.n_indexed == (300 if rebuild_from > 900 else 900)
    for mih in (grown, pickle.loads(pickle.dumps(grown))):
        assert_same_search(mih, brute, queries, 10, 3)
        assert_same_search(mih, brute, queries, 850, 40)
    monkeypatch.setattr(_base, "_MIH_AUTO_MIN_DB", 100)
    auto = HammingRetriever().fit(codes)
    assert auto.algorithm_ == "mih"
    assert_same_search(auto, brute, queries, 10, 3)
    random = (rng.random((900, 64)) < 0.5).astype(np.uint8)
    auto_random = HammingRetriever().fit(random)  # MIH would look at everything: scans
    assert_same_search(auto_random, HammingRetriever(algorithm="brute").fit(random), queries, 5, 9)
    assert HammingRetriever().fit(codes[:50]).algorithm_ == "brute"  # small: no tables


def test_mih_empty_results_and_far_queries():
    rng = np.random.default_rng(1)
    codes = np.zeros((200, 40), dtype=np.uint8)
    codes[100:] = 1
    far = np.zeros((3, 40), dtype=np.uint8)
    far[:, ::2] = 1  # 20 bits from every code
    mih = HammingRetriever(algorithm="mih").fit(codes)
    brute = HammingRetriever(algorithm="brute", backend="numpy").fit(codes)
    assert mih.radius_neighbors_graph(far, radius=19).nnz == 0
    assert_same_search(mih, brute, far, 150, 20)
    assert_same_search(mih, brute, clustered(rng, 5, 40), 199, 40)


def test_mih_refuses_what_it_cannot_do(tmp_path):
    codes = (np.random.default_rng(0).random((50, 64)) < 0.5).astype(np.uint8)
    with pytest.raises(ValueError, match="algorithm='mih' searches with the numpy backend"):
        HammingRetriever(algorithm="mih", backend="faiss").fit(codes)
    odd = load_codes(save_codes(tmp_path / "c.npy", codes[:, :40]), mmap_mode="r")
    refused = HammingRetriever(algorithm="mih")
    with pytest.raises(ValueError, match="whole 64-bit words; these have 40 bits"):
        refused.fit(odd)
    assert not hasattr(refused, "packed_codes_")  # nothing half-fitted
    assert HammingRetriever().fit(odd).algorithm_ == "brute"
    with pytest.raises(ValueError, match="use at least 3"):
        HammingRetriever(algorithm="mih", n_substrings=2).fit(codes)
    with pytest.raises(ValueError, match="'n_substrings' parameter"):
        HammingRetriever(algorithm="mih", n_substrings=0).fit(codes)


def test_mih_without_compiled_kernels_is_a_clear_error():
    import skhash

    codes = np.zeros((10, 8), dtype=np.uint8)
    with skhash.config_context(compiled_kernels=False):
        with pytest.raises(ValueError, match="needs the compiled kernels"):
            HammingRetriever(algorithm="mih").fit(codes)
        assert HammingRetriever().fit(codes).algorithm_ == "brute"


def test_a_retriever_loads_memory_mapped_with_its_tables(tmp_path):
    """joblib.load(mmap_mode="r") maps the database words and the MIH tables from the
    file instead of reading them into memory; search and partial_fit work on the maps."""
    joblib = pytest.importorskip("joblib")
    rng = np.random.default_rng(5)
    codes = (rng.random((3000, 40)) < 0.5).astype(np.uint8)
    codes[1500:1600] = codes[0]  # ties
    fitted = HammingRetriever(algorithm="mih", n_neighbors=7).fit(codes)
    joblib.dump(fitted, tmp_path / "retriever.joblib")
    mapped = joblib.load(tmp_path / "retriever.joblib", mmap_mode="r")
    index = mapped._index
    for array in (index.scan.columns, index.ids, index.offsets):
        assert isinstance(array, np.memmap) and not array.flags.writeable
    queries = codes[:50] ^ (rng.random((50, 40)) < 0.05)
    np.testing.assert_array_equal(mapped.kneighbors(queries)[1], fitted.kneighbors(queries)[1])
    for got, want in zip(
        mapped.radius_neighbors(queries, 6)[1], fitted.radius_neighbors(queries, 6)[1], strict=True
    ):
        np.testing.assert_array_equal(got, want)
    mapped.partial_fit(codes[:20])
    fitted.partial_fit(codes[:20])
    np.testing.assert_array_equal(mapped.kneighbors(queries)[1], fitted.kneighbors(queries)[1])


@pytest.mark.parametrize("n_bits", [60, 64, 128])
@pytest.mark.parametrize("bitorder", ["little", "big"])
def test_mih_searches_a_memory_mapped_file_in_place(tmp_path, n_bits, bitorder):
    """algorithm="mih" on a memory-mapped code file builds its tables from the file and
    checks candidates in it (a view of its words: the codes are not read into memory)."""
    rng = np.random.default_rng(n_bits)
    codes = clustered(rng, 3000, n_bits)
    codes[2000:2100] = codes[0]  # ties
    queries = clustered(rng, 40, n_bits)
    path = save_codes(tmp_path / "db.npy", codes, bitorder=bitorder)
    mapped = HammingRetriever(algorithm="mih", n_neighbors=9).fit(load_codes(path, "r"))
    assert mapped.algorithm_ == "mih" and isinstance(mapped._index.scan.codes.packed, np.memmap)
    assert np.shares_memory(mapped._index.scan.columns, mapped.packed_codes_.packed)
    brute = HammingRetriever(algorithm="brute", backend="numpy").fit(codes)
    assert_same_search(mapped, brute, queries, k=9, radius=n_bits // 8)
    restored = pickle.loads(pickle.dumps(mapped))
    tables = mapped._index.offsets.nbytes + mapped._index.ids.nbytes
    assert len(pickle.dumps(mapped)) < tables + 2000  # the file by reference, and the tables
    np.testing.assert_array_equal(restored.kneighbors(queries)[1], brute.kneighbors(queries, 9)[1])
    with pytest.raises(ValueError, match="cannot grow in place"):
        mapped.partial_fit(codes[:5])
