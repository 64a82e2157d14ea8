"""Retrieval metrics of binary codes: mAP, precision/recall at k, precision within a radius.

A query ranks the database by Hamming distance. Unless ``ties="expected"``, items at the
same distance come in database order (``ties="stable"``). Relevant means "same class"
for 1-D labels and "shares at least one label" for 2-D indicator matrices.
"""

import warnings
from numbers import Integral

import numpy as np
from scipy.special import gammaln
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ..codes import _kernels
from ..codes._selection import boundary, stable_top
from ..utils._validation import validate_function_params
from ._params import LABELLED_RANKING, POSITIVE_INT, TIES
from ._ranking import RankingProblem, harmonic, relevant_in_top

__all__ = [
    "MAP_PRESETS",
    "mean_average_precision",
    "precision_at_k",
    "recall_at_k",
    "precision_within_radius",
]

_DEFAULTS = {"normalize": "retrieved", "no_relevant": "zero", "ties": "stable"}
# What the published hashing evaluations share: divide by the relevant items retrieved, a
# query without one counts 0. Code that sorts with an unstable quicksort has no
# reproducible tie order; the closest deterministic choice, database order, is used.
_PUBLISHED = _DEFAULTS

#: Conventions of published evaluation code for mAP@R. The six published hashing
#: evaluations that agree are aliases of one convention (``MAP_PRESETS["deephash"] is
#: MAP_PRESETS["idrae"]``).
MAP_PRESETS = {
    "idrae": _PUBLISHED,
    "deephash": _PUBLISHED,
    "greedyhash": _PUBLISHED,
    "cibhash": _PUBLISHED,
    "ssdh": _PUBLISHED,
    "fire": _PUBLISHED,
    "fire_old_eval": {**_PUBLISHED, "no_relevant": "skip"},
    "sklearn": {**_PUBLISHED, "normalize": "relevant"},
}


def _resolve_options(preset, **options):
    """The preset's conventions (the defaults for ``None``), explicit arguments winning."""
    base = _DEFAULTS if preset is None else MAP_PRESETS[preset]
    return {name: base[name] if value is None else value for name, value in options.items()}


def _mean(values, keep):
    """Mean of ``values[keep]``; 0 with an ``UndefinedMetricWarning`` when none is kept."""
    values = values[keep]
    if values.size == 0:
        warnings.warn(
            "No query has a relevant item (or retrieves one), so the mean over the queries "
            "that do is undefined; it is reported as 0.0. Use 'zero' instead of 'skip' to "
            "count such queries as 0.",
            UndefinedMetricWarning,
            stacklevel=3,
        )
        return 0.0
    return float(values.mean())


def _expected_bucket_sums(n, r, start, rel_before, taken, H):
    """Expected sum of precisions at the relevant items among the first ``taken`` of a bucket.

    The bucket holds ``n`` items, ``r`` of them relevant, in a uniformly random order, after
    ``start`` items of which ``rel_before`` are relevant (McSherry & Najork, ECIR 2008).
    """
    n = n.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where(n > 1, (r - 1) / (n - 1), 0.0)
        share = np.where(n > 0, r / n, 0.0)
    a = rel_before + 1.0
    harm = H[start + taken] - H[start]
    return np.where(r > 0, share * (slope * taken + (a - slope * (start + 1)) * harm), 0.0)


def _log_comb(n, k):
    return gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)


def _use_compiled(problem, ties, R):
    """The compiled kernel covers stable ties of 1-D labels (numba installed, not disabled,
    the counters fit: :func:`skhash.codes._kernels.fits`) at every cut-off ``R``."""
    return (
        ties == "stable"
        and not problem.relevance.multilabel
        and _kernels.fits(problem.n_bits, problem.n_db)
        and _kernels.enabled()
    )


def _average_precisions(problem, R, normalize, ties):
    """Per-query AP@R (numerator and normaliser) and whether any relevant item exists."""
    n_query = problem.n_query
    ap = np.zeros(n_query)
    has_relevant = np.zeros(n_query, dtype=bool)
    H = harmonic(problem.n_db) if ties == "expected" else None
    compiled = _use_compiled(problem, ties, R)
    members = _kernels.class_members(problem.relevance.db) if compiled else None

    def run(start, stop):
        if compiled:
            num, retrieved, total_rel = _kernels.stable_average_precision_sums(
                problem.query_words[start:stop],
                problem.db_words,
                problem.relevance.query[start:stop],
                problem.relevance.db,
                problem.n_bits,
                R,
                problem.exclude_self,
                offset=start,
                members=members,
            )
        elif ties == "stable" and 2 * R > problem.n_db:
            # Most of the ranking is needed: no counts, one stable sort per row.
            dist, rel = problem.block(start, stop, counts=False)
            total_rel = rel.sum(axis=1)
            num, retrieved = _stable_numerators_by_sorting(dist, rel, R)
        elif ties == "stable":
            dist, rel, hist, hist_rel = problem.block(start, stop)
            total_rel = hist_rel.sum(axis=1)
            _, idx = stable_top(dist, R, problem.n_buckets, hist)
            n_rows = stop - start
            offsets = np.arange(n_rows)[:, None] * rel.shape[1]
            ranked = rel.ravel()[idx + offsets]
            rows, pos = np.divmod(np.flatnonzero(ranked), R)
            retrieved = np.bincount(rows, minlength=n_rows)
            first = np.concatenate([[0], np.cumsum(retrieved)[:-1]])
            hits = np.arange(1, len(rows) + 1) - first[rows]
            num = np.bincount(rows, weights=hits / (pos + 1.0), minlength=n_rows)
        else:
            dist, rel, hist, hist_rel = problem.block(start, stop)
            total_rel = hist_rel.sum(axis=1)
            num, retrieved = _expected_numerators(hist, hist_rel, R, normalize, H)
        if normalize == "retrieved":
            norm = retrieved
            has_relevant[start:stop] = retrieved > 0
        else:
            norm = total_rel if normalize == "relevant" else np.minimum(total_rel, R)
            has_relevant[start:stop] = total_rel > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            ap[start:stop] = np.where(norm > 0, num / norm, 0.0)

    # The compiled kernel keeps no per-pair temporaries: one block per thread, so that its
    # groups of eight queries of a label are as many as they can be.
    problem.for_each_block(run, bytes_per_pair=0 if compiled else None)
    return ap, has_relevant


def _stable_numerators_by_sorting(dist, rel, R):
    """Sum of precisions at the relevant items of the top ``R``, and their number, per row.

    numpy's stable sort of 8/16-bit integers is a radix (counting) sort: linear in the
    row. The ``j``-th relevant item at 0-based rank ``p`` adds ``j / (p + 1)``.
    """
    n_rows = dist.shape[0]
    num = np.zeros(n_rows)
    retrieved = np.zeros(n_rows, dtype=np.int64)
    for i in range(n_rows):
        order = np.argsort(dist[i], kind="stable")[:R]
        pos = np.flatnonzero(rel[i].take(order))
        retrieved[i] = len(pos)
        num[i] = (np.arange(1, len(pos) + 1) / (pos + 1.0)).sum()
    return num, retrieved


def _expected_numerators(hist, hist_rel, R, normalize, H):
    """``ties="expected"``: expected AP numerators, or expected AP when the normaliser is random.

    Returns ``(num, retrieved)``; with ``normalize="retrieved"`` and a random number of
    relevant items in the top ``R``, ``num / retrieved`` is the exact expected AP (the
    hypergeometric law of the boundary bucket is summed out) and ``retrieved`` the maximum
    possible number of relevant items retrieved.
    """
    n_rows, n_buckets = hist.shape
    bucket, before, taken = boundary(hist, R)
    starts = np.cumsum(hist, axis=1) - hist
    rel_before = np.cumsum(hist_rel, axis=1) - hist_rel
    levels = np.arange(n_buckets)[None, :]
    take = np.where(levels < bucket[:, None], hist, 0)
    take = np.where(levels == bucket[:, None], taken[:, None], take)
    sums = _expected_bucket_sums(hist, hist_rel, starts, rel_before, take, H)
    rows = np.arange(n_rows)
    full = np.where(levels < bucket[:, None], sums, 0.0).sum(axis=1)
    num = full + sums[rows, bucket]
    size, r_b = hist[rows, bucket], hist_rel[rows, bucket]
    rel_b_before = rel_before[rows, bucket]
    retrieved = rel_b_before + taken * np.where(size > 0, r_b / np.maximum(size, 1), 0)
    if normalize != "retrieved":
        return num, retrieved
    retrieved = rel_b_before + np.minimum(taken, r_b)
    random = (taken < size) & (r_b > 0) & (r_b < size)
    num = np.where(random, 0.0, num)
    idx = np.flatnonzero(random)
    if len(idx):
        # X relevant among the m taken from the boundary bucket (n items, r relevant) is
        # hypergeometric; sum the AP over its law, one row per query, padded.
        n, r, m = size[idx], r_b[idx], taken[idx]
        low = np.maximum(0, m - (n - r))
        x = low[:, None] + np.arange(int((np.minimum(m, r) - low).max()) + 1)[None, :]
        valid = x <= np.minimum(m, r)[:, None]
        x = np.where(valid, x, low[:, None])
        n_, r_, m_ = n[:, None], r[:, None], m[:, None]
        log_pmf = _log_comb(r_, x) + _log_comb(n_ - r_, m_ - x) - _log_comb(n_, m_)
        pmf = np.where(valid, np.exp(log_pmf), 0.0)
        slope = np.where(m_ > 1, (x - 1) / np.maximum(m_ - 1, 1), 0.0)
        start = starts[idx, bucket[idx]][:, None]
        a = rel_b_before[idx][:, None] + 1.0
        harm = H[start + m_] - H[start]
        part = (x / m_) * (slope * m_ + (a - slope * (start + 1)) * harm)
        norm = rel_b_before[idx][:, None] + x
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = np.where(norm > 0, pmf * (full[idx][:, None] + part) / norm, 0.0)
        # num / retrieved must give the expected AP: scale by the (positive) maximum.
        num[idx] = terms.sum(axis=1) * retrieved[idx]
    return num, retrieved


@validate_function_params(
    {
        **LABELLED_RANKING,
        "at": [POSITIVE_INT, None],
        "normalize": [StrOptions({"retrieved", "relevant", "min"}), None],
        "no_relevant": [StrOptions({"zero", "skip"}), None],
        "ties": [*TIES, None],
        "preset": [StrOptions(set(MAP_PRESETS)), None],
        "average": ["boolean"],
    }
)
def mean_average_precision(
    query_codes,
    db_codes,
    y_query,
    y_db,
    *,
    at=None,
    normalize=None,
    no_relevant=None,
    ties=None,
    preset=None,
    average=True,
    n_jobs=None,
):
    """Mean average precision (mAP, or mAP@R) of Hamming ranking.

    Each query ranks the database by Hamming distance; its average precision is the mean,
    over the relevant items ranked in the top ``at``, of the precision at their rank.
    Computed from per-distance counts in blocks of queries: memory stays bounded and no
    float distance matrix is built.

    Parameters
    ----------
    query_codes : array-like of shape (n_queries, n_bits) or PackedCodes
        0/1 codes of the queries, or packed ones (read as they are, not unpacked).
    db_codes : array-like of shape (n_db, n_bits), PackedCodes or None
        0/1 codes of the database, or packed ones (e.g. a code file memory-mapped by
        :func:`~skhash.load_codes`). ``None`` ranks every query against the other queries
        (leave-one-out; ``y_db`` must then be ``None``).
    y_query : array-like of shape (n_queries,) or (n_queries, n_labels)
        Class labels, or a 0/1 indicator matrix (multi-label: relevant = shares a label).
    y_db : array-like of shape (n_db,) or (n_db, n_labels) or None
        Labels of the database, in the same form as ``y_query``.
    at : int, default=None
        Cut-off ``R`` of mAP@R; ``None`` ranks the whole database (mAP@all).
    normalize : {"retrieved", "relevant", "min"}, default="retrieved"
        Divisor of the sum of precisions: the number of relevant items retrieved in the top
        ``R`` (published hashing code), of all relevant items (scikit-learn's
        :func:`~sklearn.metrics.average_precision_score` truncated at ``R``) or
        ``min(R, n_relevant)``. All three agree for ``at=None``.
    no_relevant : {"zero", "skip"}, default="zero"
        A query with no relevant item (in the top ``R`` for ``normalize="retrieved"``)
        counts as AP 0, or is left out of the mean. With ``ties="expected"`` a query is
        skipped only when no order of the ties retrieves a relevant item.
    ties : {"stable", "expected"}, default="stable"
        ``"stable"``: items at equal distance rank in database order. ``"expected"``: the
        exact expected AP over uniformly random orders inside each distance, computed from
        the counts.
    preset : str, default=None
        Defaults for ``normalize``, ``no_relevant`` and ``ties`` of a published
        evaluation (explicit arguments win), see :data:`MAP_PRESETS`:
        ``"idrae"``, ``"deephash"`` (DeepHash-pytorch), ``"greedyhash"``, ``"cibhash"``,
        ``"ssdh"``, ``"fire"`` (cisip-FIRe's default): relevant retrieved, no-relevant
        queries count 0 (the first four sort with an unstable quicksort; database order is
        used); ``"fire_old_eval"`` (cisip-FIRe's opt-in ``old_eval``): no-relevant queries
        skipped; ``"sklearn"``: normalised by all relevant items, which matches
        :func:`sklearn.metrics.average_precision_score` only for scores without ties (it
        scores a whole group of tied items at once).
        HABIR's mAP is the area under the Hamming-radius precision-recall curve: see
        :func:`hamming_radius_pr_curve`.
    average : bool, default=True
        ``False`` returns the average precision of every query instead of their mean (for
        paired tests between methods); skipped queries are then NaN.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    score : float or ndarray of shape (n_queries,)
        The mean over the queries, or the per-query values when ``average=False``.

    See Also
    --------
    precision_at_k, precision_recall_curve, hamming_radius_pr_curve

    Examples
    --------
    >>> from skhash.metrics import mean_average_precision
    >>> q = [[0, 0, 1, 1]]
    >>> db = [[0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 0]]
    >>> mean_average_precision(q, db, [1], [1, 0, 1])
    1.0
    >>> round(mean_average_precision(q, db, [1], [0, 1, 1]), 4)  # (1/2 + 2/3) / 2
    0.5833
    """
    options = _resolve_options(preset, normalize=normalize, no_relevant=no_relevant, ties=ties)
    problem = RankingProblem(query_codes, db_codes, y_query, y_db, n_jobs=n_jobs)
    R = problem.n_candidates if at is None else min(at, problem.n_candidates)
    ap, has_relevant = _average_precisions(problem, R, options["normalize"], options["ties"])
    keep = has_relevant if options["no_relevant"] == "skip" else slice(None)
    if not average:
        ap = np.asarray(ap, dtype=float).copy()
        if options["no_relevant"] == "skip":
            ap[~has_relevant] = np.nan
        return ap
    return _mean(ap, keep)


def _relevant_counts(problem, k, ties):
    """Relevant items in the top ``k`` and relevant items overall, per query."""
    in_top = np.zeros(problem.n_query)
    total = np.zeros(problem.n_query, dtype=np.int64)

    def run(start, stop):
        dist, rel, hist, hist_rel = problem.block(start, stop)
        in_top[start:stop] = relevant_in_top(dist, rel, hist, hist_rel, k, ties)
        total[start:stop] = hist_rel.sum(axis=1)

    problem.for_each_block(run)
    return in_top, total


@validate_function_params({**LABELLED_RANKING, "k": [POSITIVE_INT], "ties": TIES})
def precision_at_k(query_codes, db_codes, y_query, y_db, *, k=100, ties="stable", n_jobs=None):
    """Mean precision of the ``k`` nearest database items (P@k).

    Parameters
    ----------
    query_codes : array-like of shape (n_queries, n_bits) or PackedCodes
        0/1 codes of the queries, or packed ones (read as they are, not unpacked).
    db_codes : array-like of shape (n_db, n_bits) or None
        0/1 codes of the database; ``None`` ranks each query against the other queries.
    y_query, y_db : array-like
        Class labels (1-D) or 0/1 indicator matrices (2-D), see
        :func:`mean_average_precision`.
    k : int, default=100
        Number of retrieved items; must not exceed the database size.
    ties : {"stable", "expected"}, default="stable"
        Order inside a distance: database order, or the expectation over random orders.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    precision : float

    Examples
    --------
    >>> from skhash.metrics import precision_at_k
    >>> precision_at_k([[0, 1]], [[0, 1], [1, 1], [1, 0]], [0], [0, 1, 0], k=2)
    0.5
    """
    problem = RankingProblem(query_codes, db_codes, y_query, y_db, n_jobs=n_jobs)
    k = _check_k(k, problem)
    in_top, _ = _relevant_counts(problem, k, ties)
    return float(np.mean(in_top / k))


def _check_k(k, problem):
    if k > problem.n_candidates:
        raise ValueError(
            f"k={k} is larger than the {problem.n_candidates} database items that can be "
            f"retrieved; use a smaller k."
        )
    return int(k)


@validate_function_params(
    {
        **LABELLED_RANKING,
        "k": [POSITIVE_INT],
        "ties": TIES,
        "no_relevant": [StrOptions({"zero", "skip"})],
    }
)
def recall_at_k(
    query_codes, db_codes, y_query, y_db, *, k=100, ties="stable", no_relevant="zero", n_jobs=None
):
    """Mean recall of the ``k`` nearest database items (share of relevant items retrieved).

    Parameters
    ----------
    query_codes, db_codes, y_query, y_db :
        See :func:`precision_at_k`.
    k : int, default=100
        Number of retrieved items.
    ties : {"stable", "expected"}, default="stable"
        Order inside a distance.
    no_relevant : {"zero", "skip"}, default="zero"
        Recall of a query without any relevant item: 0, or left out of the mean.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    recall : float

    Examples
    --------
    >>> from skhash.metrics import recall_at_k
    >>> recall_at_k([[0, 1]], [[0, 1], [1, 1], [1, 0]], [0], [0, 1, 0], k=2)
    0.5
    """
    problem = RankingProblem(query_codes, db_codes, y_query, y_db, n_jobs=n_jobs)
    k = _check_k(k, problem)
    in_top, total = _relevant_counts(problem, k, ties)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(total > 0, in_top / total, 0.0)
    return _mean(recall, total > 0 if no_relevant == "skip" else slice(None))


@validate_function_params(
    {
        **LABELLED_RANKING,
        "radius": [Interval(Integral, 0, None, closed="left")],
        "no_retrieved": [StrOptions({"zero", "skip"})],
    }
)
def precision_within_radius(
    query_codes, db_codes, y_query, y_db, *, radius=2, no_retrieved="zero", n_jobs=None
):
    """Mean precision of the database items within Hamming distance ``radius`` (inclusive).

    Parameters
    ----------
    query_codes, db_codes, y_query, y_db :
        See :func:`precision_at_k`.
    radius : int, default=2
        Largest Hamming distance retrieved (``<= radius``), the usual hash-lookup setting.
    no_retrieved : {"zero", "skip"}, default="zero"
        Precision of a query that retrieves nothing: 0, or left out of the mean.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    precision : float

    Examples
    --------
    >>> from skhash.metrics import precision_within_radius
    >>> precision_within_radius([[0, 0, 0]], [[0, 0, 1], [0, 1, 1], [1, 0, 0]], [0],
    ...                         [0, 0, 1], radius=1)
    0.5
    """
    problem = RankingProblem(query_codes, db_codes, y_query, y_db, n_jobs=n_jobs)
    cut = min(int(radius), problem.n_bits) + 1
    retrieved = np.zeros(problem.n_query, dtype=np.int64)
    relevant = np.zeros(problem.n_query, dtype=np.int64)

    def run(start, stop):
        _, _, hist, hist_rel = problem.block(start, stop)
        retrieved[start:stop] = hist[:, :cut].sum(axis=1)
        relevant[start:stop] = hist_rel[:, :cut].sum(axis=1)

    problem.for_each_block(run)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(retrieved > 0, relevant / retrieved, 0.0)
    return _mean(precision, retrieved > 0 if no_retrieved == "skip" else slice(None))
