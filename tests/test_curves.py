"""Precision-recall curves and their display."""

import sys

import numpy as np
import pytest
from reference_metrics import reference_distances, reference_ranking
from test_metrics import random_problem

from skhash.metrics import (
    RetrievalPRDisplay,
    hamming_radius_pr_curve,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)


@pytest.mark.parametrize("multilabel", [False, True])
def test_rank_curve_matches_reference(multilabel):
    q, db, yq, ydb = random_problem(0, n_query=30, n_db=200, n_bits=9, multilabel=multilabel)
    ranked = reference_ranking(q, db, yq, ydb)
    hits = np.cumsum(ranked, axis=1)
    total = ranked.sum(axis=1)
    precision, recall, ranks = precision_recall_curve(q, db, yq, ydb)
    assert ranks[0] == 1 and ranks[-1] == 200 and np.all(np.diff(ranks) > 0)
    np.testing.assert_allclose(precision, (hits[:, ranks - 1] / ranks).mean(axis=0))
    found = hits[:, ranks - 1]
    expected_recall = np.where(total[:, None] > 0, found / np.maximum(total, 1)[:, None], 0)
    np.testing.assert_allclose(recall, expected_recall.mean(axis=0))
    assert recall[-1] == pytest.approx(np.mean(total > 0))


def test_rank_curve_expected_ties_matches_precision_at_k():
    q, db, yq, ydb = random_problem(1, n_query=20, n_db=100, n_bits=5)
    precision, _, ranks = precision_recall_curve(q, db, yq, ydb, ranks=[1, 5, 50], ties="expected")
    for p, k in zip(precision, ranks, strict=True):
        assert p == pytest.approx(precision_at_k(q, db, yq, ydb, k=int(k), ties="expected"))
    with pytest.raises(ValueError, match="ranks must be a 1-D array of integers"):
        precision_recall_curve(q, db, yq, ydb, ranks=[0, 3])


@pytest.mark.parametrize("average", ["macro", "micro"])
@pytest.mark.parametrize("no_retrieved", ["skip", "zero"])
def test_radius_curve_matches_brute_force(average, no_retrieved):
    q, db, yq, ydb = random_problem(2, n_query=25, n_db=150, n_bits=12)
    dist = reference_distances(q, db)
    rel = yq[:, None] == ydb[None, :]
    precision, recall, radii = hamming_radius_pr_curve(
        q, db, yq, ydb, average=average, no_retrieved=no_retrieved
    )
    np.testing.assert_array_equal(radii, np.arange(13))
    for r in radii:
        within = dist <= r
        n, hits = within.sum(axis=1), (within & rel).sum(axis=1)
        if average == "micro":
            want_p = hits.sum() / n.sum() if n.sum() else 0.0
            want_r = hits.sum() / rel.sum()
        else:
            per_query = np.where(n > 0, hits / np.maximum(n, 1), 0.0)
            if no_retrieved == "skip":
                want_p = per_query[n > 0].mean() if (n > 0).any() else 0.0
            else:
                want_p = per_query.mean()
            want_r = (hits / rel.sum(axis=1)).mean()
        assert precision[r] == pytest.approx(want_p)
        assert recall[r] == pytest.approx(want_r)
    assert recall[-1] == pytest.approx(1.0)


def test_display(monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    q, db, yq, ydb = random_problem(3, n_query=20, n_db=100, n_bits=8)
    display = RetrievalPRDisplay.from_codes(q, db, yq, ydb, name="LSH")
    np.testing.assert_allclose(display.line_.get_ydata(), display.precision)
    assert display.ax_.get_xlabel() == "Recall"
    assert display.ax_.get_legend().get_texts()[0].get_text() == "LSH"
    radius = RetrievalPRDisplay.from_codes(q, db, yq, ydb, kind="radius", ax=display.ax_)
    assert radius.ax_ is display.ax_ and len(display.ax_.lines) == 2
    plt.close("all")
    full = RetrievalPRDisplay.from_codes(q, db, yq, ydb, ranks=np.arange(1, 101), plot=False)
    assert not hasattr(full, "line_")
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"skhash\[plot\]"):
        full.plot()
    with pytest.raises(ValueError, match="kind must be 'rank' or 'radius'"):
        RetrievalPRDisplay.from_codes(q, db, yq, ydb, kind="roc")
    assert mean_average_precision(q, db, yq, ydb) > 0
