"""HammingRetriever: every backend against a brute-force stable argsort."""

import pickle

import numpy as np
import pytest
from reference_metrics import reference_distances
from scipy.sparse import issparse
from sklearn.cluster import DBSCAN
from sklearn.manifold import Isomap

from skhash import HammingRetriever, LSHHasher
from skhash.neighbors._backends import faiss_available

BACKENDS = ["numpy", "torch"] + (["faiss"] if faiss_available() else [])
requires_faiss = pytest.mark.skipif(not faiss_available(), reason="faiss-cpu not installed")
try:
    import torch  # noqa: F401

    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def backend_param(name):
    marks = []
    if name == "torch" and not HAVE_TORCH:
        marks.append(pytest.mark.skip(reason="torch not installed"))
    return pytest.param(name, marks=marks)


ALL_BACKENDS = [backend_param(b) for b in BACKENDS]


def brute_kneighbors(q, db, k):
    dist = reference_distances(q, db)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(dist, order, axis=1), order


def brute_radius(q, db, radius):
    dist = reference_distances(q, db)
    out = []
    for row in dist:
        ind = np.flatnonzero(row <= radius)
        ind = ind[np.argsort(row[ind], kind="stable")]
        out.append((row[ind], ind))
    return out


def random_codes(rng, n, n_bits, p_one=0.5):
    return (rng.random((n, n_bits)) < p_one).astype(np.uint8)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_kneighbors_and_radius_match_brute_force_on_many_random_cases(backend):
    rng = np.random.default_rng(0)
    n_cases = 1000 if backend != "torch" else 150
    for _ in range(n_cases):
        n_bits = int(rng.integers(1, 140))
        n_db = int(rng.integers(1, 80))
        p_one = float(rng.choice([0.5, 0.9, 0.02]))  # heavy ties for skewed bits
        db = random_codes(rng, n_db, n_bits, p_one)
        q = random_codes(rng, int(rng.integers(1, 6)), n_bits, p_one)
        k = int(rng.integers(1, n_db + 1))
        retriever = HammingRetriever(n_neighbors=k, backend=backend).fit(db)
        dist, ind = retriever.kneighbors(q)
        ref_dist, ref_ind = brute_kneighbors(q, db, k)
        np.testing.assert_array_equal(ind, ref_ind)
        np.testing.assert_array_equal(dist, ref_dist)
        radius = int(rng.integers(0, n_bits + 2))
        rdist, rind = retriever.radius_neighbors(q, radius=radius)
        for got_d, got_i, (want_d, want_i) in zip(
            rdist, rind, brute_radius(q, db, radius), strict=True
        ):
            np.testing.assert_array_equal(got_i, want_i)
            np.testing.assert_array_equal(got_d, want_d)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("n_bits", [7, 64, 65, 256])
@pytest.mark.parametrize("k", [3, 250])
def test_larger_database_with_ties(backend, n_bits, k):
    rng = np.random.default_rng(n_bits)
    # few distinct codes: many exact duplicates, so the tie order is exercised
    base = random_codes(rng, 30, n_bits)
    db = base[rng.integers(0, 30, 3000)]
    q = base[rng.integers(0, 30, 40)] ^ random_codes(rng, 40, n_bits, 0.05)
    retriever = HammingRetriever(n_neighbors=k, backend=backend, n_jobs=2).fit(db)
    dist, ind = retriever.kneighbors(q)
    ref_dist, ref_ind = brute_kneighbors(q, db, k)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_array_equal(dist, ref_dist)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_x_none_excludes_self(backend):
    rng = np.random.default_rng(1)
    db = random_codes(rng, 200, 6)  # 64 possible codes: duplicates at distance 0
    retriever = HammingRetriever(n_neighbors=5, backend=backend).fit(db)
    dist, ind = retriever.kneighbors()
    full = reference_distances(db, db)
    np.fill_diagonal(full, 10**6)
    order = np.argsort(full, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(ind, order)
    np.testing.assert_array_equal(dist, np.take_along_axis(full, order, axis=1))
    assert not (ind == np.arange(200)[:, None]).any()
    _, rind = retriever.radius_neighbors(radius=1)
    for i, row in enumerate(rind):
        want = np.flatnonzero(full[i] <= 1)
        want = want[np.argsort(full[i][want], kind="stable")]
        np.testing.assert_array_equal(row, want)


def test_backends_agree_and_auto():
    rng = np.random.default_rng(2)
    db, q = random_codes(rng, 500, 33), random_codes(rng, 20, 33)
    results = [HammingRetriever(n_neighbors=40, backend=b).fit(db).kneighbors(q) for b in BACKENDS]
    for dist, ind in results[1:]:
        np.testing.assert_array_equal(ind, results[0][1])
        np.testing.assert_array_equal(dist, results[0][0])
    import skhash
    from skhash.codes import _kernels

    expected = "numpy" if _kernels.enabled() or not faiss_available() else "faiss"
    assert HammingRetriever().fit(db).backend_ == expected
    with skhash.config_context(compiled_kernels=False):  # numpy alone is slower than faiss
        expected = "faiss" if faiss_available() else "numpy"
        assert HammingRetriever().fit(db).backend_ == expected


def test_radius_sort_results_false_gives_index_order():
    rng = np.random.default_rng(3)
    db, q = random_codes(rng, 300, 10), random_codes(rng, 5, 10)
    retriever = HammingRetriever(radius=3, backend="numpy").fit(db)
    dist, ind = retriever.radius_neighbors(q, sort_results=False)
    full = reference_distances(q, db)
    for i in range(len(q)):
        np.testing.assert_array_equal(ind[i], np.flatnonzero(full[i] <= 3))
        np.testing.assert_array_equal(dist[i], full[i][full[i] <= 3])


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize("bitorder", ["little", "big"])
def test_packed_input(bitorder, backend):
    rng = np.random.default_rng(4)
    db, q = random_codes(rng, 100, 24), random_codes(rng, 7, 24)
    db[50:60] = db[0]  # ties
    packed_db = np.packbits(db, axis=1, bitorder=bitorder)
    packed_q = np.packbits(q, axis=1, bitorder=bitorder)
    options = dict(n_neighbors=9, backend=backend, device="cpu")
    a = HammingRetriever(bitorder=bitorder, **options).fit(packed_db[:80])
    a.partial_fit(packed_db[80:])
    b = HammingRetriever(**options).fit(db)
    np.testing.assert_array_equal(a.codes_, db)
    for X, Y in [(packed_q, q), (None, None)]:
        np.testing.assert_array_equal(a.kneighbors(X)[1], b.kneighbors(Y)[1])
        for got, want in zip(a.radius_neighbors(X, 9)[1], b.radius_neighbors(Y, 9)[1], strict=True):
            np.testing.assert_array_equal(got, want)
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.kneighbors(packed_q)[1], b.kneighbors(q)[1])
    with pytest.raises(ValueError, match="must hold packed uint8 bytes"):
        a.kneighbors(packed_q.astype(np.int64))


@pytest.mark.parametrize("bitorder", ["little", "big"])
def test_packed_codes_stay_packed_in_fit(bitorder):
    """fit of packed bytes holds them once as words (no 0/1 codes, 8x their size, and no
    second copy): at most 1.5x their size in extra memory."""
    import tracemalloc

    packed = np.random.default_rng(0).integers(0, 256, (200_000, 16), dtype=np.uint8)
    retriever = HammingRetriever(bitorder=bitorder, backend="numpy", algorithm="brute")
    tracemalloc.start()
    retriever.fit(packed)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= 1.5 * packed.nbytes, peak / packed.nbytes
    dist, ind = retriever.kneighbors(packed[:3], n_neighbors=1)
    np.testing.assert_array_equal(ind[:, 0], [0, 1, 2])


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("n_bits", [12, 64, 130])
def test_database_in_memory_searched_in_blocks_equals_one_block(compiled, n_bits):
    import sklearn

    import skhash

    rng = np.random.default_rng(n_bits)
    db = random_codes(rng, 900, n_bits)
    db[500:560] = db[0]  # ties across blocks
    queries = np.vstack([random_codes(rng, 30, n_bits), db[:3]])
    with skhash.config_context(compiled_kernels=compiled):
        whole = HammingRetriever(n_neighbors=40, backend="numpy", n_jobs=2).fit(db)
        expected_k = whole.kneighbors(queries)
        expected_r = whole.radius_neighbors(queries, radius=n_bits // 3)
        with sklearn.config_context(working_memory=0.01):
            assert -(-len(db) // whole._index._plan(len(queries))[1]) >= 3  # blocks
            got_k = whole.kneighbors(queries)
            got_r = whole.radius_neighbors(queries, radius=n_bits // 3)
    want_d, want_i = brute_kneighbors(queries, db, 40)
    for dist, ind in (expected_k, got_k):
        np.testing.assert_array_equal(ind, want_i)
        np.testing.assert_array_equal(dist, want_d)
    for d, i, want in zip(*got_r, brute_radius(queries, db, n_bits // 3), strict=True):
        np.testing.assert_array_equal(i, want[1])
        np.testing.assert_array_equal(d, want[0])
    for a, b in zip(expected_r[1], got_r[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_graphs_work_as_precomputed_input():
    rng = np.random.default_rng(5)
    centers = random_codes(rng, 3, 32)
    labels = rng.integers(0, 3, 120)
    db = centers[labels] ^ random_codes(rng, 120, 32, 0.03)
    retriever = HammingRetriever(n_neighbors=8, radius=4, backend="numpy").fit(db)
    graph = retriever.kneighbors_graph(mode="distance")
    assert issparse(graph) and graph.format == "csr" and graph.shape == (120, 120)
    assert graph.nnz == 120 * 8 and graph.diagonal().sum() == 0
    dist, ind = retriever.kneighbors()
    np.testing.assert_array_equal(graph.indices.reshape(120, 8), ind)
    rgraph = retriever.radius_neighbors_graph(mode="distance")
    full = reference_distances(db, db)
    np.fill_diagonal(full, 99)
    assert rgraph.nnz == (full <= 4).sum()
    np.testing.assert_array_equal(rgraph.toarray()[full <= 4], full[full <= 4])
    clusters = DBSCAN(eps=4, min_samples=3, metric="precomputed").fit_predict(rgraph)
    # DBSCAN on the graph recovers the three planted clusters
    for c in range(3):
        assert len(set(clusters[labels == c])) == 1
    assert len(set(clusters)) == 3
    # like KNeighborsTransformer: query the database itself, one extra neighbour (self)
    one_cluster = centers[0] ^ random_codes(rng, 80, 32, 0.15)
    single = HammingRetriever(backend="numpy").fit(one_cluster)
    self_graph = single.kneighbors_graph(one_cluster, n_neighbors=11, mode="distance")
    embedding = Isomap(n_neighbors=10, metric="precomputed").fit_transform(self_graph)
    assert embedding.shape == (80, 2) and np.isfinite(embedding).all()
    conn = retriever.kneighbors_graph(q := db[:5], n_neighbors=3)
    assert conn.shape == (5, 120) and set(conn.data) == {1.0}
    assert q.shape == (5, 32)


def test_with_hasher_and_pickle():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 10))
    retriever = HammingRetriever(
        LSHHasher(n_bits=16, random_state=0), n_neighbors=5, backend="numpy"
    ).fit(X)
    codes = LSHHasher(n_bits=16, random_state=0).fit(X).transform(X)
    np.testing.assert_array_equal(retriever.codes_, codes)
    ref = HammingRetriever(n_neighbors=5, backend="numpy").fit(codes)
    np.testing.assert_array_equal(retriever.kneighbors(X[:10])[1], ref.kneighbors(codes[:10])[1])
    for backend in BACKENDS:
        fitted = HammingRetriever(n_neighbors=5, backend=backend).fit(codes)
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(
            restored.kneighbors(codes[:10])[1], fitted.kneighbors(codes[:10])[1]
        )


def test_errors():
    db = np.zeros((5, 8), dtype=np.uint8)
    with pytest.raises(ValueError, match="X must hold only 0 and 1"):
        HammingRetriever().fit(np.full((5, 8), 2))
    with pytest.raises(ValueError, match="X must have an integer or boolean dtype"):
        HammingRetriever().fit(np.random.default_rng(0).normal(size=(5, 8)))
    fitted = HammingRetriever(backend="numpy").fit(db)
    with pytest.raises(ValueError, match="X has 9 features, but HammingRetriever is expecting 8"):
        fitted.kneighbors(np.zeros((2, 9), dtype=np.uint8), n_neighbors=2)
    with pytest.raises(ValueError, match="n_neighbors=6 is larger than the 5 database codes"):
        fitted.kneighbors(db, n_neighbors=6)
    with pytest.raises(ValueError, match=r"larger than the 4 database codes .*excludes each"):
        fitted.kneighbors(n_neighbors=5)
    with pytest.raises(ValueError, match="radius must be a non-negative integer"):
        fitted.radius_neighbors(db, radius=-1)
    with pytest.raises(ValueError, match="'radius' parameter of HammingRetriever must be"):
        HammingRetriever(radius=-1).fit(db)
    with pytest.raises(ValueError, match="y has .* labels but there are"):
        HammingRetriever().fit(db, np.zeros(4))
    with pytest.raises(ValueError, match="fitted without labels"):
        fitted.score(db, np.zeros(5))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HammingRetriever().kneighbors(db)


def test_import_loads_no_optional_dependency():
    import subprocess
    import sys

    code = (
        "import sys, skhash, skhash.metrics, skhash.neighbors; "
        "print(sorted(m for m in ('torch', 'faiss', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("backend, extra", [("faiss", "faiss"), ("torch", "torch")])
def test_missing_optional_backend_names_the_extra(monkeypatch, backend, extra):
    import sys

    monkeypatch.setitem(sys.modules, backend, None)
    with pytest.raises(ImportError, match=rf"skhash\[{extra}\]"):
        HammingRetriever(backend=backend).fit(np.zeros((3, 8), dtype=np.uint8))
    if backend == "faiss":  # "auto" falls back to numpy
        assert HammingRetriever().fit(np.zeros((3, 8), dtype=np.uint8)).backend_ == "numpy"


def test_graphs_feed_isomap_and_tsne_with_one_extra_neighbour():
    from sklearn.manifold import TSNE, Isomap

    codes = np.random.default_rng(0).integers(0, 2, (120, 32))
    retriever = HammingRetriever(backend="numpy").fit(codes)
    graph = retriever.kneighbors_graph(n_neighbors=11, mode="distance").astype(float)
    assert Isomap(n_neighbors=10, metric="precomputed").fit_transform(graph).shape == (120, 2)
    short = retriever.kneighbors_graph(n_neighbors=10, mode="distance").astype(float)
    with pytest.raises(ValueError, match="11 neighbors per samples are required"):
        Isomap(n_neighbors=10, metric="precomputed").fit(short)
    tsne_graph = retriever.kneighbors_graph(n_neighbors=int(3 * 5 + 1) + 1, mode="distance")
    embedding = TSNE(perplexity=5, metric="precomputed", init="random", random_state=0)
    assert embedding.fit_transform(tsne_graph.astype(float)).shape == (120, 2)


@pytest.mark.parametrize("backend", ["numpy", "faiss", "torch"])
def test_distances_are_signed_so_differences_do_not_wrap(backend):
    if backend != "numpy":
        pytest.importorskip(backend)
    codes = np.random.default_rng(0).integers(0, 2, (50, 16))
    retriever = HammingRetriever(n_neighbors=3, backend=backend).fit(codes)
    dist, _ = retriever.kneighbors(codes[:5])
    assert dist.dtype == np.int16 and (dist[:, 0] - dist[:, 2] <= 0).all()
    radius_dist, _ = retriever.radius_neighbors(codes[:5], radius=4)
    assert all(d.dtype == np.int16 for d in radius_dist)


def test_torch_backend_pickled_on_cuda_unpickles_on_cpu_with_a_warning():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    codes = np.random.default_rng(0).integers(0, 2, (40, 24))
    retriever = HammingRetriever(n_neighbors=3, backend="torch", device="cpu").fit(codes)
    search = retriever._index
    state = search.__getstate__()
    state["device"] = "cuda:0"  # as pickled on a CUDA machine
    restored = type(search).__new__(type(search))
    with pytest.warns(UserWarning, match="backend='torch'.*fitted on cuda:0.*using the CPU"):
        restored.__setstate__(state)
    assert restored.device == torch.device("cpu")
    words = retriever._query_words(codes[:5])
    np.testing.assert_array_equal(restored.kneighbors(words, 3)[1], search.kneighbors(words, 3)[1])


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_database_is_held_once_as_packed_words(backend):
    assert not hasattr(HammingRetriever(), "codes_")
    codes = np.random.default_rng(0).integers(0, 2, (2000, 64), dtype=np.uint8)
    retriever = HammingRetriever(backend=backend, device="cpu").fit(codes)
    assert "codes_" not in vars(retriever)  # derived from the backend's packed copy
    np.testing.assert_array_equal(retriever.codes_, codes)
    # 8 bytes a code when packed, against 64 as 0/1 bytes
    assert len(pickle.dumps(retriever)) < 2 * 8 * len(codes)
    dist, ind = retriever.kneighbors(n_neighbors=3)  # X=None searches the database itself
    assert (ind != np.arange(len(codes))[:, None]).all()


def test_every_search_backend_implements_the_one_interface():
    from skhash.neighbors._backends import BACKENDS
    from skhash.neighbors._packed import PackedSearch
    from skhash.neighbors._search import SearchBackend

    for backend in [*BACKENDS.values(), PackedSearch]:
        assert issubclass(backend, SearchBackend) and not backend.__abstractmethods__


# --- a living index: partial_fit ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "faiss", "torch"])
@pytest.mark.parametrize("n_bits", [13, 64, 130])
def test_partial_fit_equals_a_fit_on_everything(backend, n_bits):
    if backend != "numpy":
        pytest.importorskip(backend)
    rng = np.random.default_rng(n_bits)
    codes = (rng.random((400, n_bits)) < 0.5).astype(np.uint8)
    codes[350:] = codes[:50]  # ties between old and new items
    y = rng.integers(0, 4, 400)
    options = dict(backend=backend, n_neighbors=9, radius=n_bits // 3, device="cpu")
    whole = HammingRetriever(**options).fit(codes, y)
    grown = HammingRetriever(**options).partial_fit(codes[:120], y[:120])  # fits
    grown.partial_fit(codes[120:300], y[120:300]).partial_fit(codes[300:], y[300:])
    assert grown.n_samples_fit_ == 400
    for retriever in (grown, pickle.loads(pickle.dumps(grown))):
        for X in (codes[:40], None):
            expected, got = whole.kneighbors(X), retriever.kneighbors(X)
            np.testing.assert_array_equal(got[0], expected[0])
            np.testing.assert_array_equal(got[1], expected[1])
            assert (
                retriever.radius_neighbors_graph(X, mode="distance")
                != whole.radius_neighbors_graph(X, mode="distance")
            ).nnz == 0
        assert retriever.score(codes[:50], y[:50]) == whole.score(codes[:50], y[:50])
        np.testing.assert_array_equal(retriever.codes_, codes)


def test_partial_fit_hashes_new_items_with_the_fitted_hasher():
    X = np.random.default_rng(0).normal(size=(300, 10))
    grown = HammingRetriever(LSHHasher(n_bits=16, random_state=0)).fit(X[:200])
    hasher = grown.hasher_
    grown.partial_fit(X[200:])
    assert grown.hasher_ is hasher  # not refitted
    np.testing.assert_array_equal(grown.codes_, hasher.transform(X))


def test_partial_fit_refuses_what_does_not_fit_the_database(tmp_path):
    from skhash import PackedCodes, load_codes, save_codes

    codes = (np.random.default_rng(0).random((50, 8)) < 0.5).astype(np.uint8)
    labelled = HammingRetriever().fit(codes, np.arange(50) % 2)
    with pytest.raises(ValueError, match="give y for the new items"):
        labelled.partial_fit(codes[:3])
    with pytest.raises(ValueError, match="y has 2 labels but there are 3"):
        labelled.partial_fit(codes[:3], [0, 1])
    with pytest.raises(ValueError, match="labels_ holds"):
        labelled.partial_fit(codes[:3], ["a", "b", "c"])
    with pytest.raises(ValueError, match="fitted without labels"):
        HammingRetriever().fit(codes).partial_fit(codes[:3], [0, 1, 0])
    with pytest.raises(ValueError, match="8 features"):
        HammingRetriever().fit(codes).partial_fit(np.zeros((3, 9), dtype=np.uint8))
    wide = PackedCodes.from_codes(np.zeros((3, 9), dtype=np.uint8))
    with pytest.raises(ValueError, match="X has codes of 9 bits; the database's have 8"):
        HammingRetriever().fit(codes).partial_fit(wide)
    assert labelled.n_samples_fit_ == 50 and len(labelled.labels_) == 50
    mapped = load_codes(save_codes(tmp_path / "c.npy", codes), mmap_mode="r")
    with pytest.raises(ValueError, match="cannot grow in place"):
        HammingRetriever().fit(mapped).partial_fit(codes[:3])


def test_partial_fit_takes_packed_codes_of_either_bit_order():
    from skhash import PackedCodes

    rng = np.random.default_rng(8)
    codes = random_codes(rng, 300, 21)
    whole = HammingRetriever(n_neighbors=6, backend="numpy").fit(codes)
    grown = HammingRetriever(n_neighbors=6, backend="numpy").fit(codes[:200])
    big = PackedCodes.from_codes(codes[200:250], "big")
    assert big.in_bitorder("big") is big
    np.testing.assert_array_equal(big.in_bitorder("little").unpack(), codes[200:250])
    grown.partial_fit(big).partial_fit(PackedCodes.from_codes(codes[250:], "little"))
    np.testing.assert_array_equal(grown.kneighbors(codes[:30])[1], whole.kneighbors(codes[:30])[1])
