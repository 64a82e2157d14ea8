"""Precision-recall curves of Hamming ranking: by rank cut-off and by Hamming radius."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..codes._selection import stable_top
from ..utils._validation import validate_function_params
from ._params import LABELLED_RANKING, TIES
from ._ranking import RankingProblem, relevant_in_top

__all__ = ["hamming_radius_pr_curve", "precision_recall_curve"]


def _check_ranks(ranks, n_candidates):
    if ranks is None:
        ranks = np.geomspace(1, n_candidates, num=min(n_candidates, 100))
        return np.unique(np.round(ranks).astype(np.intp))
    ranks = np.asarray(ranks)
    if (
        ranks.ndim != 1
        or ranks.size == 0
        or not np.issubdtype(ranks.dtype, np.integer)
        or ranks.min() < 1
        or ranks.max() > n_candidates
    ):
        raise ValueError(
            f"ranks must be a 1-D array of integers between 1 and the {n_candidates} "
            f"retrievable database items, got {ranks!r}."
        )
    return np.unique(ranks).astype(np.intp)


@validate_function_params({**LABELLED_RANKING, "ranks": ["array-like", None], "ties": TIES})
def precision_recall_curve(
    query_codes, db_codes, y_query, y_db, *, ranks=None, ties="stable", n_jobs=None
):
    """Mean precision and recall of the top ``k`` items, for a range of cut-offs ``k``.

    Parameters
    ----------
    query_codes, db_codes, y_query, y_db :
        See :func:`mean_average_precision` (``db_codes=None``: leave-one-out).
    ranks : array-like of int, default=None
        Cut-offs ``k``; ``None`` uses up to 100 log-spaced values from 1 to the
        database size.
    ties : {"stable", "expected"}, default="stable"
        Order inside a distance.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    precision : ndarray of shape (n_ranks,)
        Mean precision at each cut-off.
    recall : ndarray of shape (n_ranks,)
        Mean recall at each cut-off (queries without any relevant item count 0).
    ranks : ndarray of shape (n_ranks,)
        The cut-offs, increasing.

    Examples
    --------
    >>> from skhash.metrics import precision_recall_curve
    >>> precision, recall, ranks = precision_recall_curve(
    ...     [[0, 1]], [[0, 1], [1, 1], [1, 0]], [0], [0, 1, 0])
    >>> precision, recall, ranks
    (array([1.        , 0.5       , 0.66666667]), array([0.5, 0.5, 1. ]), array([1, 2, 3]))
    """
    problem = RankingProblem(query_codes, db_codes, y_query, y_db, n_jobs=n_jobs)
    ranks = _check_ranks(ranks, problem.n_candidates)
    hits = np.zeros((problem.n_query, len(ranks)))
    total = np.zeros(problem.n_query, dtype=np.int64)

    def run(start, stop):
        dist, rel, hist, hist_rel = problem.block(start, stop)
        total[start:stop] = hist_rel.sum(axis=1)
        if ties == "stable":
            _, idx = stable_top(dist, int(ranks[-1]), problem.n_buckets, hist)
            found = np.cumsum(np.take_along_axis(rel, idx, axis=1), axis=1, dtype=np.int32)
            hits[start:stop] = found[:, ranks - 1]
        else:
            for j, k in enumerate(ranks):
                hits[start:stop, j] = relevant_in_top(dist, rel, hist, hist_rel, k, ties)

    problem.for_each_block(run)
    precision = (hits / ranks).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(total[:, None] > 0, hits / total[:, None], 0.0).mean(axis=0)
    return precision, recall, ranks


@validate_function_params(
    {
        **LABELLED_RANKING,
        "average": [StrOptions({"macro", "micro"})],
        "no_retrieved": [StrOptions({"skip", "zero"})],
    }
)
def hamming_radius_pr_curve(
    query_codes, db_codes, y_query, y_db, *, average="macro", no_retrieved="skip", n_jobs=None
):
    """Precision and recall of hash lookup: everything within Hamming radius ``r``.

    The curve of hash-lookup evaluation (the HABIR benchmark's): for each radius
    ``r = 0 .. n_bits``, the database items at distance ``<= r`` are retrieved. Ties play
    no role. DeepHash-pytorch's ``pr_curve`` is rank based, not radius based: it is
    :func:`precision_recall_curve` with ``ranks=``.

    Parameters
    ----------
    query_codes, db_codes, y_query, y_db :
        See :func:`mean_average_precision`.
    average : {"macro", "micro"}, default="macro"
        ``"macro"``: mean over queries of the per-query precision and recall.
        ``"micro"``: pooled counts over all queries.
    no_retrieved : {"skip", "zero"}, default="skip"
        For ``"macro"``, a query that retrieves nothing within ``r`` is left out of the
        mean precision at ``r``, or counts as precision 0.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    precision : ndarray of shape (n_bits + 1,)
        Precision at each radius (0 where no query retrieves anything, with ``"skip"``).
    recall : ndarray of shape (n_bits + 1,)
        Recall at each radius.
    radii : ndarray of shape (n_bits + 1,)
        ``0 .. n_bits``.

    Examples
    --------
    >>> from skhash.metrics import hamming_radius_pr_curve
    >>> precision, recall, radii = hamming_radius_pr_curve(
    ...     [[0, 1]], [[0, 1], [1, 1], [1, 0]], [0], [0, 1, 0])
    >>> precision, recall, radii
    (array([1.        , 0.5       , 0.66666667]), array([0.5, 0.5, 1. ]), array([0, 1, 2]))
    """
    problem = RankingProblem(query_codes, db_codes, y_query, y_db, n_jobs=n_jobs)
    n_radii = problem.n_bits + 1
    retrieved = np.zeros((problem.n_query, n_radii), dtype=np.int64)
    relevant = np.zeros((problem.n_query, n_radii), dtype=np.int64)
    total = np.zeros(problem.n_query, dtype=np.int64)

    def run(start, stop):
        _, _, hist, hist_rel = problem.block(start, stop)
        retrieved[start:stop] = np.cumsum(hist[:, :n_radii], axis=1)
        relevant[start:stop] = np.cumsum(hist_rel[:, :n_radii], axis=1)
        total[start:stop] = hist_rel.sum(axis=1)

    problem.for_each_block(run)
    radii = np.arange(n_radii)
    with np.errstate(invalid="ignore", divide="ignore"):
        if average == "micro":
            pooled = retrieved.sum(axis=0)
            precision = np.where(pooled > 0, relevant.sum(axis=0) / pooled, 0.0)
            recall = relevant.sum(axis=0) / max(total.sum(), 1)
            return precision, recall, radii
        per_query = np.where(retrieved > 0, relevant / retrieved, 0.0)
        if no_retrieved == "skip":
            counted = (retrieved > 0).sum(axis=0)
            precision = np.where(counted > 0, per_query.sum(axis=0) / counted, 0.0)
        else:
            precision = per_query.mean(axis=0)
        recall = np.where(total[:, None] > 0, relevant / total[:, None], 0.0).mean(axis=0)
    return precision, recall, radii
