"""The compiled (numba) kernels give exactly the numpy paths' results."""

import itertools

import numpy as np
import pytest
import sklearn

import skhash
from skhash.codes import _kernels
from skhash.metrics import mean_average_precision

pytest.importorskip("numba", reason="numba not installed: the numpy paths are used")

# 30 queries: seven groups of four and a group of two; 100 bits span two words.
CASES = list(
    itertools.product(
        [8, 64, 100], [50, 700], [None, 30, 300, 600], ["retrieved", "relevant", "min"]
    )
)


@pytest.mark.parametrize("n_bits, n_db, at, normalize", CASES)
@pytest.mark.parametrize("leave_one_out", [False, True])
def test_compiled_average_precision_equals_numpy(n_bits, n_db, at, normalize, leave_one_out):
    rng = np.random.default_rng(n_bits + n_db)
    q, db = rng.integers(0, 2, (30, n_bits)), rng.integers(0, 2, (n_db, n_bits))
    y_q, y_db = rng.integers(0, 4, 30), rng.integers(0, 4, n_db)
    if leave_one_out:
        db = y_db = None
    kwargs = dict(at=at, normalize=normalize, average=False)
    assert _kernels.available()
    compiled = mean_average_precision(q, db, y_q, y_db, **kwargs, n_jobs=2)
    with skhash.config_context(compiled_kernels=False):
        reference = mean_average_precision(q, db, y_q, y_db, **kwargs)
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=1e-15)


def test_compiled_kernels_can_be_switched_off():
    assert skhash.get_config()["compiled_kernels"] is True
    with skhash.config_context(compiled_kernels=False):
        assert skhash.get_config()["compiled_kernels"] is False
    with pytest.raises(ValueError, match="compiled_kernels must be True or False"):
        skhash.set_config(compiled_kernels="yes")


def test_counters_fit_one_int64_or_the_numpy_path_takes_over(monkeypatch):
    assert _kernels.fits(64, 60_000) and _kernels.fits(256, 2**26 - 1)
    assert not _kernels.fits(256, 2**27) and not _kernels.fits(100_000, 2**26)
    with pytest.raises(ValueError, match="do not fit"):
        _kernels.stable_average_precision_sums(
            np.zeros((1, 1), np.uint64), np.zeros((2, 1), np.uint64), [0], [0, 0], 2**60, 2, False
        )
    rng = np.random.default_rng(0)
    q, db = rng.integers(0, 2, (9, 16)), rng.integers(0, 2, (40, 16))
    y_q, y_db = rng.integers(0, 3, 9), rng.integers(0, 3, 40)
    compiled = mean_average_precision(q, db, y_q, y_db, average=False)
    monkeypatch.setattr(_kernels, "fits", lambda n_bits, n_db: False)
    calls = []
    monkeypatch.setattr(_kernels, "stable_average_precision_sums", lambda *a, **k: calls.append(1))
    np.testing.assert_allclose(mean_average_precision(q, db, y_q, y_db, average=False), compiled)
    assert not calls


@pytest.mark.parametrize("n_bits", [8, 64, 100, 256])
@pytest.mark.parametrize("n_db", [5, 700, 3000])
def test_compiled_search_equals_numpy(n_bits, n_db):
    """k-NN and radius search: the same neighbours in the same order (distance, then index),
    with heavy ties (8 bits), a database smaller than one chunk and ragged chunks."""
    from skhash import HammingRetriever

    rng = np.random.default_rng(n_bits * n_db)
    db = rng.integers(0, 2, (n_db, n_bits))
    q = np.vstack([rng.integers(0, 2, (13, n_bits)), db[:3]])  # exact matches too
    in_memory = HammingRetriever(backend="numpy").fit(db)
    packed = HammingRetriever(backend="numpy").fit(
        skhash.PackedCodes(skhash.pack_codes(db), n_bits)
    )  # searched block by block
    radius = n_bits // 2 - 2
    results = {}
    for compiled, retriever in [(True, in_memory), (True, packed), (False, in_memory)]:
        with (
            skhash.config_context(compiled_kernels=compiled),
            sklearn.config_context(working_memory=0.05),
        ):
            results[compiled, retriever is packed] = [
                *(retriever.kneighbors(q, n_neighbors=k) for k in sorted({1, min(10, n_db), n_db})),
                retriever.radius_neighbors(q, radius=radius),
                retriever.radius_neighbors(q, radius=radius, sort_results=True),
            ]
    reference = results[False, False]
    for ours in (results[True, False], results[True, True]):
        check_equal(ours, reference)
    dist, ind = results[True, False][0]
    assert (ind[-3:, 0] == [0, 1, 2]).all() or n_bits == 8  # each copy finds itself


def check_equal(ours, reference):
    for results, expected in zip(ours, reference, strict=True):
        for a, b in zip(results, expected, strict=True):
            if a.dtype == object:  # radius results: one array per query
                assert all(
                    np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip(a, b, strict=True)
                )
            else:
                np.testing.assert_array_equal(a, b)
                assert a.dtype == b.dtype


@pytest.mark.parametrize("n_query", [1, 5, 9])
def test_compiled_average_precision_with_labels_missing_from_the_database(n_query):
    """Queries grouped by label, a label the database lacks, groups of 1 to 4."""
    rng = np.random.default_rng(n_query)
    q, db = rng.integers(0, 2, (n_query, 32)), rng.integers(0, 2, (300, 32))
    y_q, y_db = rng.integers(0, 3, n_query), rng.integers(0, 2, 300)  # no 2 in the database
    y_q[0] = 2
    kwargs = dict(average=False, no_relevant="zero")
    compiled = mean_average_precision(q, db, y_q, y_db, **kwargs)
    with skhash.config_context(compiled_kernels=False):
        reference = mean_average_precision(q, db, y_q, y_db, **kwargs)
    np.testing.assert_allclose(compiled, reference, rtol=1e-12, atol=1e-15)
    assert compiled[0] == 0


@pytest.mark.parametrize("seed", range(4))
def test_compiled_equals_numpy_on_random_shapes(seed):
    """Odd code lengths, tiny databases, k up to the whole database, any radius."""
    from skhash import HammingRetriever

    rng = np.random.default_rng(seed)
    for _ in range(10):
        n_bits, n_db, n_q = int(rng.integers(1, 200)), int(rng.integers(1, 400)), 7
        db, q = rng.integers(0, 2, (n_db, n_bits)), rng.integers(0, 2, (n_q, n_bits))
        q[: min(n_q, n_db)] = db[: min(n_q, n_db)]  # exact matches and heavy ties
        k, radius = int(rng.integers(1, n_db + 1)), int(rng.integers(0, n_bits + 2))
        y_db, y_q = rng.integers(0, 4, n_db), rng.integers(0, 5, n_q)
        retriever = HammingRetriever(backend="numpy").fit(db)
        results = {}
        for compiled in (True, False):
            with skhash.config_context(compiled_kernels=compiled):
                results[compiled] = [
                    retriever.kneighbors(q, k),
                    retriever.radius_neighbors(q, radius, sort_results=True),
                    (mean_average_precision(q, db, y_q, y_db, average=False),),
                    (mean_average_precision(q, db, y_q, y_db, at=k, average=False),),
                ]
        check_equal(results[True][:2], results[False][:2])
        for ours, reference in zip(results[True][2:], results[False][2:], strict=True):
            np.testing.assert_allclose(ours[0], reference[0], rtol=1e-12, atol=1e-15)


def test_queries_are_grouped_by_label_eight_four_and_one_at_a_time():
    labels = np.array([3] * 13 + [1] * 4 + [2] * 2 + [5] + [1] * 5)
    groups = _kernels._label_groups(labels)
    assert [g.shape[1] for g in groups] == [8, 4, 1]
    assert [len(g) for g in groups] == [2, 1, 5]  # 13 = 8 + 4 + 1, 9 = 8 + 1, 2, 1
    queries = np.concatenate([g.ravel() for g in groups])
    np.testing.assert_array_equal(np.sort(queries), np.arange(len(labels)))  # each once
    for g in groups:
        assert (labels[g] == labels[g[:, :1]]).all()  # a group shares its label
