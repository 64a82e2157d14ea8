"""Label-free evaluation: how many exact feature-space neighbours the Hamming ranking keeps."""

import functools
import warnings

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_array

from ..codes._selection import stable_top
from ..utils import N_JOBS_CONSTRAINT
from ..utils._validation import validate_function_params
from ._params import POSITIVE_INT
from ._ranking import RankingProblem

__all__ = ["deprecated_alias", "neighbor_recall"]


@validate_function_params(
    {
        "query_codes": ["array-like"],
        "db_codes": ["array-like", None],
        "X_query": ["array-like"],
        "X_db": ["array-like", None],
        "k": [POSITIVE_INT],
        "at": [POSITIVE_INT],
        "metric": [StrOptions({"euclidean", "cosine"})],
        "n_jobs": N_JOBS_CONSTRAINT,
    }
)
def neighbor_recall(
    query_codes, db_codes, X_query, X_db=None, *, k=10, at=100, metric="euclidean", n_jobs=None
):
    """Recall of the exact ``k`` nearest neighbours (in feature space) among the Hamming top ``at``.

    The classic label-free protocol of SGH and of faiss users: for each query, the ``k``
    nearest database items by Euclidean (or cosine) distance of the original features are
    the ground truth, and the score is the fraction of them among the first ``at`` items of
    the Hamming ranking (ties in database order). No labels are needed, so codes can be
    compared and grid-searched on any data.

    Parameters
    ----------
    query_codes : array-like of shape (n_queries, n_bits)
        Codes of the queries.
    db_codes : array-like of shape (n_db, n_bits) or None
        Codes of the database; ``None`` ranks every query against the other queries
        (leave-one-out; then ``X_db`` must be ``None`` too).
    X_query : array-like of shape (n_queries, n_features)
        Features of the queries, the space of the ground-truth neighbours.
    X_db : array-like of shape (n_db, n_features), default=None
        Features of the database.
    k : int, default=10
        Number of exact neighbours of each query.
    at : int, default=100
        Length of the Hamming ranking searched for them (at least ``k`` makes recall 1
        reachable).
    metric : {"euclidean", "cosine"}, default="euclidean"
        Distance of the ground truth.
    n_jobs : int, default=None
        Threads working on blocks of queries; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    recall : float
        Mean over queries of ``|exact k-NN  within Hamming top at| / k``.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import ITQHasher
    >>> from skhash.metrics import neighbor_recall
    >>> X = np.random.default_rng(0).normal(size=(500, 16))
    >>> codes = ITQHasher(n_bits=16, random_state=0).fit(X).transform(X)
    >>> round(neighbor_recall(codes[:50], codes[50:], X[:50], X[50:], k=10, at=50), 3)
    0.654
    """
    problem = RankingProblem(query_codes, db_codes, labels=False, n_jobs=n_jobs)
    leave_one_out = db_codes is None
    if leave_one_out and X_db is not None:
        raise ValueError("X_db must be None when db_codes is None (leave-one-out).")
    X_query = check_array(X_query, dtype=[np.float64, np.float32])
    X_db = X_query if leave_one_out else check_array(X_db, dtype=[np.float64, np.float32])
    for name, X, n in (("X_query", X_query, problem.n_query), ("X_db", X_db, problem.n_db)):
        if len(X) != n:
            raise ValueError(
                f"{name} has {len(X)} rows but there are {n} codes: give one feature row per code."
            )
    if X_query.shape[1] != X_db.shape[1]:
        raise ValueError(f"X_query has {X_query.shape[1]} features but X_db has {X_db.shape[1]}.")
    if k > problem.n_candidates or at > problem.n_candidates:
        raise ValueError(
            f"k={k} and at={at} must not exceed the {problem.n_candidates} database items "
            f"that can be retrieved."
        )
    search = NearestNeighbors(n_neighbors=k + leave_one_out, metric=metric, n_jobs=n_jobs)
    exact = search.fit(X_db).kneighbors(X_query, return_distance=False)
    if leave_one_out:  # drop each query itself (first unless tied with a duplicate)
        own = exact == np.arange(len(exact))[:, None]
        own[~own.any(axis=1), -1] = True
        exact = exact[~own].reshape(len(exact), k)
    found = np.zeros(problem.n_query)

    def run(start, stop):
        _, top = stable_top(problem.distances(start, stop), at, problem.n_buckets)
        hits = (top[:, :, None] == exact[start:stop, None, :]).any(axis=1)
        found[start:stop] = hits.sum(axis=1)

    problem.for_each_block(run)
    return float(np.mean(found / k))


def deprecated_alias(function, old_name):
    """``function`` under its former name, with a ``FutureWarning`` naming the new one."""

    @functools.wraps(function)
    def alias(*args, **kwargs):
        warnings.warn(
            f"{old_name} is deprecated: it is now spelt {function.__name__}, as "
            f"scikit-learn spells neighbors.",
            FutureWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    return alias
