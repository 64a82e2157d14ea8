"""Retrieval metrics against a slow stable-argsort reference and scikit-learn."""

import itertools

import numpy as np
import pytest
from reference_metrics import (
    reference_average_precisions,
    reference_distances,
    reference_map,
    reference_precision_at_k,
    reference_ranking,
)
from sklearn.metrics import average_precision_score

from skhash.metrics import (
    MAP_PRESETS,
    mean_average_precision,
    precision_at_k,
    precision_within_radius,
    recall_at_k,
)


def random_problem(seed, n_query=20, n_db=150, n_bits=16, n_classes=4, multilabel=False, p_one=0.5):
    rng = np.random.default_rng(seed)
    q = (rng.random((n_query, n_bits)) < p_one).astype(np.uint8)
    db = (rng.random((n_db, n_bits)) < p_one).astype(np.uint8)
    if multilabel:
        yq = (rng.random((n_query, n_classes)) < 0.3).astype(np.uint8)
        ydb = (rng.random((n_db, n_classes)) < 0.3).astype(np.uint8)
    else:
        yq = rng.integers(0, n_classes, n_query)
        ydb = rng.integers(0, n_classes, n_db)
    return q, db, yq, ydb


CASES = [
    dict(seed=s, n_bits=b, multilabel=m, p_one=p)
    for s, (b, m, p) in enumerate(
        itertools.product([1, 3, 8, 13, 64, 65, 130, 300], [False, True], [0.5, 0.9])
    )
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['n_bits']}b-ml{c['multilabel']:d}")
def test_map_and_precision_match_stable_reference(case):
    q, db, yq, ydb = random_problem(**case)
    for at in [None, 1, 7, 50, 149, 150, 1000]:
        assert mean_average_precision(q, db, yq, ydb, at=at) == pytest.approx(
            reference_map(q, db, yq, ydb, at=at), abs=1e-12
        )
        for normalize in ["relevant", "min"]:
            expected = reference_average_precisions(q, db, yq, ydb, at, normalize).mean()
            assert mean_average_precision(
                q, db, yq, ydb, at=at, normalize=normalize
            ) == pytest.approx(expected, abs=1e-12)
    ranked = reference_ranking(q, db, yq, ydb)
    total = ranked.sum(axis=1)
    for k in [1, 2, 10, 77, 150]:
        assert precision_at_k(q, db, yq, ydb, k=k) == pytest.approx(
            reference_precision_at_k(q, db, yq, ydb, k), abs=1e-12
        )
        recall = np.where(total > 0, ranked[:, :k].sum(axis=1) / np.maximum(total, 1), 0)
        assert recall_at_k(q, db, yq, ydb, k=k) == pytest.approx(recall.mean(), abs=1e-12)


def test_many_random_cases_against_reference():
    rng = np.random.default_rng(42)
    for seed in range(300):
        n_bits = int(rng.integers(1, 40))
        n_db = int(rng.integers(1, 60))
        q, db, yq, ydb = random_problem(
            seed,
            n_query=int(rng.integers(1, 8)),
            n_db=n_db,
            n_bits=n_bits,
            n_classes=int(rng.integers(1, 5)),
            p_one=float(rng.uniform(0.1, 0.9)),
        )
        at = int(rng.integers(1, n_db + 1))
        assert mean_average_precision(q, db, yq, ydb, at=at) == pytest.approx(
            reference_map(q, db, yq, ydb, at=at), abs=1e-12
        )
        assert precision_at_k(q, db, yq, ydb, k=at) == pytest.approx(
            reference_precision_at_k(q, db, yq, ydb, at), abs=1e-12
        )


def test_map_at_all_equals_sklearn_average_precision_with_index_tie_break():
    q, db, yq, ydb = random_problem(3, n_query=15, n_db=200, n_bits=12)
    dist = reference_distances(q, db)
    # Break ties by database index, as ties="stable" does.
    scores = -(dist * len(db) + np.arange(len(db)))
    aps = [average_precision_score(ydb == yq[i], scores[i]) for i in range(len(q))]
    assert mean_average_precision(q, db, yq, ydb) == pytest.approx(np.mean(aps), abs=1e-12)
    assert mean_average_precision(q, db, yq, ydb, preset="sklearn") == pytest.approx(
        np.mean(aps), abs=1e-12
    )
    per_query = mean_average_precision(q, db, yq, ydb, average=False)
    np.testing.assert_allclose(per_query, aps, atol=1e-12)


def test_per_query_average_precision_marks_skipped_queries():
    q = np.array([[0, 0], [1, 1]])
    db = np.array([[0, 0], [0, 1], [1, 1]])
    per_query = mean_average_precision(q, db, [0, 5], [0, 1, 0], average=False, no_relevant="skip")
    assert per_query[0] == pytest.approx((1 + 2 / 3) / 2) and np.isnan(per_query[1])
    assert mean_average_precision(q, db, [0, 5], [0, 1, 0], no_relevant="skip") == per_query[0]


def test_map_at_r_normalized_by_relevant_equals_truncated_sklearn_definition():
    q, db, yq, ydb = random_problem(4, n_query=10, n_db=120, n_bits=10)
    dist = reference_distances(q, db)
    scores = -(dist * len(db) + np.arange(len(db)))
    R = 30
    aps = []
    for i in range(len(q)):
        order = np.argsort(-scores[i], kind="stable")[:R]
        rel = ydb[order] == yq[i]
        total = (ydb == yq[i]).sum()
        precisions = np.cumsum(rel)[rel] / (np.flatnonzero(rel) + 1)
        aps.append(precisions.sum() / total if total else 0.0)
    assert mean_average_precision(q, db, yq, ydb, at=R, normalize="relevant") == pytest.approx(
        np.mean(aps), abs=1e-12
    )


def brute_force_expected(q, db, yq, ydb, at, normalize, metric):
    """Average a stable-order metric over every permutation of a tiny database."""
    values = []
    for perm in itertools.permutations(range(len(db))):
        perm = np.array(perm)
        values.append(metric(q, db[perm], yq, ydb[perm], at, normalize))
    return np.mean(values, axis=0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("normalize", ["retrieved", "relevant", "min"])
def test_expected_ties_equal_average_over_all_orders(seed, normalize):
    rng = np.random.default_rng(seed)
    n_db = 6
    q, db, yq, ydb = random_problem(seed, n_query=4, n_db=n_db, n_bits=3, n_classes=2)
    at = int(rng.integers(1, n_db + 1))
    per_query = brute_force_expected(
        q,
        db,
        yq,
        ydb,
        at,
        normalize,
        lambda q, db, yq, ydb, at, norm: reference_average_precisions(q, db, yq, ydb, at, norm),
    )
    assert mean_average_precision(
        q, db, yq, ydb, at=at, normalize=normalize, ties="expected"
    ) == pytest.approx(per_query.mean(), abs=1e-12)
    for no_relevant in ["skip"]:
        if normalize != "retrieved":
            total = (yq[:, None] == ydb[None, :]).sum(axis=1)
            expected = per_query[total > 0].mean() if (total > 0).any() else 0.0
            assert mean_average_precision(
                q,
                db,
                yq,
                ydb,
                at=at,
                normalize=normalize,
                ties="expected",
                no_relevant=no_relevant,
            ) == pytest.approx(expected, abs=1e-12)
    precision = brute_force_expected(
        q,
        db,
        yq,
        ydb,
        at,
        normalize,
        lambda q, db, yq, ydb, at, norm: reference_precision_at_k(q, db, yq, ydb, at),
    )
    assert precision_at_k(q, db, yq, ydb, k=at, ties="expected") == pytest.approx(
        precision, abs=1e-12
    )


def test_expected_ties_on_larger_problem_is_between_orders():
    q, db, yq, ydb = random_problem(8, n_query=30, n_db=400, n_bits=6)
    stable = mean_average_precision(q, db, yq, ydb, at=100)
    expected = mean_average_precision(q, db, yq, ydb, at=100, ties="expected")
    rng = np.random.default_rng(0)
    sampled = []
    for _ in range(200):
        perm = rng.permutation(len(db))
        sampled.append(mean_average_precision(q, db[perm], yq, ydb[perm], at=100))
    assert expected == pytest.approx(np.mean(sampled), abs=4 * np.std(sampled) / np.sqrt(200))
    assert stable != expected


def test_multilabel_relevance_is_shared_label():
    q = np.array([[0, 0], [1, 1]])
    db = np.array([[0, 0], [0, 1], [1, 1]])
    yq = np.array([[1, 0, 0], [0, 0, 1]])
    ydb = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    # query 0: ranking 0 (rel), 1, 2 -> AP 1; query 1: ranking 2 (rel), 1, 0 -> AP 1
    assert mean_average_precision(q, db, yq, ydb) == 1.0
    assert precision_at_k(q, db, yq, ydb, k=2) == 0.5
    # string labels work for 1-D labels
    assert mean_average_precision(q, db, ["a", "b"], ["a", "c", "b"]) == 1.0


def test_precision_within_radius():
    q, db, yq, ydb = random_problem(5, n_query=25, n_db=300, n_bits=8)
    dist = reference_distances(q, db)
    rel = yq[:, None] == ydb[None, :]
    for radius in [0, 1, 2, 5, 8, 20]:
        within = dist <= radius
        n = within.sum(axis=1)
        precision = np.where(n > 0, (within & rel).sum(axis=1) / np.maximum(n, 1), 0.0)
        assert precision_within_radius(q, db, yq, ydb, radius=radius) == pytest.approx(
            precision.mean(), abs=1e-12
        )
        skipped = precision[n > 0].mean() if (n > 0).any() else 0.0
        assert precision_within_radius(
            q, db, yq, ydb, radius=radius, no_retrieved="skip"
        ) == pytest.approx(skipped, abs=1e-12)


def test_leave_one_out_ranks_against_the_others():
    q, _, yq, _ = random_problem(6, n_query=40, n_bits=10)
    expected = []
    for i in range(len(q)):
        others = np.delete(np.arange(len(q)), i)
        expected.append(reference_map(q[[i]], q[others], yq[[i]], yq[others]))
    assert mean_average_precision(q, None, yq, None) == pytest.approx(np.mean(expected))
    expected = [
        reference_precision_at_k(q[[i]], np.delete(q, i, axis=0), yq[[i]], np.delete(yq, i), 5)
        for i in range(len(q))
    ]
    assert precision_at_k(q, None, yq, None, k=5) == pytest.approx(np.mean(expected))


def test_no_relevant_zero_or_skip():
    q = np.array([[0, 0], [1, 1]])
    db = np.array([[0, 0], [0, 1]])
    yq, ydb = np.array([0, 5]), np.array([0, 1])
    assert mean_average_precision(q, db, yq, ydb) == 0.5
    assert mean_average_precision(q, db, yq, ydb, no_relevant="skip") == 1.0
    # cisip-FIRe's default counts a query with no relevant item in the top R as 0; only its
    # opt-in old_eval skips it.
    assert mean_average_precision(q, db, yq, ydb, at=1, preset="fire") == 0.5
    assert mean_average_precision(q, db, yq, ydb, at=1, preset="fire_old_eval") == 1.0
    assert recall_at_k(q, db, yq, ydb, k=1, no_relevant="skip") == 1.0


def test_presets_cover_reference_sources():
    assert {"idrae", "deephash", "ssdh", "fire", "fire_old_eval", "sklearn"} <= set(MAP_PRESETS)
    q, db, yq, ydb = random_problem(7, n_bits=8)
    assert mean_average_precision(q, db, yq, ydb, at=20, preset="sklearn") == pytest.approx(
        reference_average_precisions(q, db, yq, ydb, 20, "relevant").mean()
    )
    # explicit arguments override the preset
    assert mean_average_precision(
        q, db, yq, ydb, at=20, preset="sklearn", normalize="retrieved"
    ) == pytest.approx(reference_map(q, db, yq, ydb, at=20))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(y_db=np.zeros(4)), "y_db has 4 labels but there are 5 codes"),
        (dict(y_query=np.zeros((2, 3))), "y_query is 2-D but y_db is 1-D"),
        (dict(db_codes=np.full((5, 6), 2)), "db_codes must hold only 0 and 1"),
        (dict(db_codes=np.zeros((5, 7), dtype=int)), "db_codes has 7 bits per row but 6"),
        (dict(query_codes=np.zeros((2, 6))), "query_codes must have an integer or boolean"),
        (dict(at=0), "'at' parameter of mean_average_precision must be an int"),
        (dict(ties="random"), "'ties' parameter of mean_average_precision must be a str among"),
        (dict(normalize="all"), "'normalize' parameter of mean_average_precision must be a str"),
        (dict(preset="matlab"), "'preset' parameter of mean_average_precision must be a str"),
    ],
)
def test_map_errors(kwargs, message):
    args = dict(
        query_codes=np.zeros((2, 6), dtype=np.uint8),
        db_codes=np.zeros((5, 6), dtype=np.uint8),
        y_query=np.zeros(2),
        y_db=np.zeros(5),
    )
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        mean_average_precision(**args)


def test_precision_errors():
    q, db = np.zeros((2, 4), dtype=np.uint8), np.zeros((5, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match="k=6 is larger than the 5 database items"):
        precision_at_k(q, db, [0, 0], [0] * 5, k=6)
    with pytest.raises(ValueError, match="'k' parameter of precision_at_k must be an int"):
        precision_at_k(q, db, [0, 0], [0] * 5, k=0)
    with pytest.raises(ValueError, match="'radius' parameter of precision_within_radius"):
        precision_within_radius(q, db, [0, 0], [0] * 5, radius=-1)
    with pytest.raises(ValueError, match="2-D, so it must be a 0/1 label indicator"):
        precision_at_k(q, db, [[0, 2], [1, 0]], [[0, 1]] * 5, k=1)


def test_threads_and_blocks_do_not_change_results(monkeypatch):
    from skhash.metrics import _ranking

    q, db, yq, ydb = random_problem(9, n_query=300, n_db=400, n_bits=20)
    expected = reference_map(q, db, yq, ydb, at=30)
    # tiny blocks: many blocks of few queries, run in two threads
    monkeypatch.setattr(_ranking, "MAX_BLOCK_BYTES", 400 * 24 * 7)
    for n_jobs in [None, 2]:
        assert mean_average_precision(q, db, yq, ydb, at=30, n_jobs=n_jobs) == pytest.approx(
            expected, abs=1e-12
        )
        assert mean_average_precision(
            q, db, yq, ydb, ties="expected", n_jobs=n_jobs
        ) == pytest.approx(mean_average_precision(q, db, yq, ydb, ties="expected"))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda q, db, y: mean_average_precision(q, db, y, y, average="no"), "average"),
        (lambda q, db, y: mean_average_precision(q, db, y, y, at=True), "at"),
        (lambda q, db, y: precision_at_k(q, db, y, y, k=2.0), "k"),
        (lambda q, db, y: recall_at_k(q, db, y, y, no_relevant="none"), "no_relevant"),
        (lambda q, db, y: recall_at_k(q, db, y, y, n_jobs=0), "n_jobs"),
    ],
)
def test_metric_parameters_are_validated_by_name(call, name):
    codes = np.eye(4, dtype=np.uint8)
    with pytest.raises(ValueError, match=f"'{name}' parameter of "):
        call(codes, codes, np.arange(4) % 2)


def test_skipping_every_query_warns_instead_of_a_silent_zero():
    from sklearn.exceptions import UndefinedMetricWarning

    codes = np.eye(4, dtype=np.uint8)
    y_query, y_db = np.zeros(4), np.ones(4)  # no query has a relevant item
    with pytest.warns(UndefinedMetricWarning, match="No query has a relevant item"):
        assert mean_average_precision(codes, codes, y_query, y_db, no_relevant="skip") == 0.0
    with pytest.warns(UndefinedMetricWarning):
        recall_at_k(codes, codes, y_query, y_db, k=2, no_relevant="skip")


def test_identical_published_presets_are_one_convention():
    same = ["idrae", "deephash", "greedyhash", "cibhash", "ssdh", "fire"]
    assert all(MAP_PRESETS[name] is MAP_PRESETS["idrae"] for name in same)
    assert MAP_PRESETS["fire_old_eval"]["no_relevant"] == "skip"
    assert MAP_PRESETS["sklearn"]["normalize"] == "relevant"


def test_british_spellings_are_deprecated_aliases():
    from skhash import metrics

    codes = np.eye(6, dtype=np.uint8)
    X = np.eye(6)
    with pytest.warns(FutureWarning, match="now spelt neighbor_recall"):
        old = metrics.neighbour_recall(codes, None, X, k=1, at=2)
    assert old == metrics.neighbor_recall(codes, None, X, k=1, at=2)
    with pytest.warns(FutureWarning, match="now spelt neighbor_recall_scorer"):
        metrics.neighbour_recall_scorer(k=1, at=2)


@pytest.mark.parametrize("query_order", ["little", "big", None])
@pytest.mark.parametrize("db_order", ["little", "big", None])
def test_metrics_take_packed_codes_as_they_are(query_order, db_order):
    from skhash import PackedCodes
    from skhash.metrics import precision_within_radius, recall_at_k

    rng = np.random.default_rng(3)
    q, db = rng.integers(0, 2, (30, 13)), rng.integers(0, 2, (300, 13))
    y_q, y_db = rng.integers(0, 4, 30), rng.integers(0, 4, 300)

    def packed(codes, order):
        return codes if order is None else PackedCodes.from_codes(codes, order)

    Q, D = packed(q, query_order), packed(db, db_order)
    for metric, kwargs in [
        (mean_average_precision, {}),
        (mean_average_precision, {"at": 50, "ties": "expected"}),
        (precision_at_k, {"k": 9}),
        (recall_at_k, {"k": 9}),
        (precision_within_radius, {"radius": 4}),
    ]:
        assert metric(Q, D, y_q, y_db, **kwargs) == metric(q, db, y_q, y_db, **kwargs)
    assert mean_average_precision(Q, None, y_q, None) == mean_average_precision(q, None, y_q, None)
    with pytest.raises(ValueError, match="db_codes has 16 bits per row but 13"):
        mean_average_precision(Q, PackedCodes.from_codes(db[:, :8].repeat(2, 1)), y_q, y_db)
