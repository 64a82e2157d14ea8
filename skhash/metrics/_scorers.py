"""Scorers ``(estimator, X, y) -> float`` for model selection of hashers and retrievers."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import StrOptions

from ..utils._validation import validate_function_params
from ._neighbors import neighbor_recall
from ._params import POSITIVE_INT
from ._retrieval import (
    mean_average_precision,
    precision_at_k,
    precision_within_radius,
    recall_at_k,
)

__all__ = [
    "make_retrieval_scorer",
    "map_scorer",
    "neighbor_recall_scorer",
    "precision_scorer",
]

_METRICS = {
    "map": mean_average_precision,
    "mean_average_precision": mean_average_precision,
    "precision_at_k": precision_at_k,
    "recall_at_k": recall_at_k,
    "precision_within_radius": precision_within_radius,
}
# Largest database of the construction-time check of a scorer's options.
_MAX_CHECK_ITEMS = 100_000


def _final_retriever(estimator):
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if hasattr(final, "kneighbors") and hasattr(final, "encode"):
        return final
    return None


class _RetrievalScorer:
    """Picklable scorer; see :func:`make_retrieval_scorer`."""

    def __init__(self, metric, kwargs):
        self.metric = metric
        self.kwargs = kwargs

    def __call__(self, estimator, X, y):
        retriever = _final_retriever(estimator)
        if retriever is None:
            # A hasher (or a pipeline ending in one): rank the fold against itself.
            codes = estimator.transform(X)
            return self.metric(codes, None, y, None, **self._fitting(len(codes) - 1))
        if retriever.labels_ is None:
            raise ValueError(
                "The retriever was fitted without labels: fit it with y to score queries "
                "against its database."
            )
        if isinstance(estimator, Pipeline) and len(estimator) > 1:
            X = estimator[:-1].transform(X)
        queries = retriever.encode(X)
        # A memory-mapped database is ranked packed, as it is (the metrics read its words).
        db = retriever.codes_ if retriever.packed_codes_ is None else retriever.packed_codes_
        return self.metric(queries, db, y, retriever.labels_, **self._fitting(len(db)))

    def _fitting(self, n_items):
        """The metric's options, ``k`` cut to the ``n_items`` a query can retrieve in this
        fold, with a warning: GridSearchCV would turn the metric's error into a NaN
        score, and a NaN ``best_score_``."""
        k = self.kwargs.get("k")
        if k is None or k <= n_items:
            return self.kwargs
        warnings.warn(
            f"{self.metric.__name__} with k={k}: a query can retrieve only {n_items} items "
            f"in this fold, so the fold is scored at k={n_items}. Use k <= {n_items} (or "
            f"larger folds) to score every fold at the same k.",
            UserWarning,
            stacklevel=3,
        )
        return {**self.kwargs, "k": n_items}

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return f"make_retrieval_scorer({self.metric.__name__}{args})"


def make_retrieval_scorer(metric, **kwargs):
    """Make a scorer ``(estimator, X, y) -> float`` from a retrieval metric.

    For a hasher, or a pipeline ending in one, every sample of ``X`` is ranked against
    the other samples of ``X`` (leave-one-out inside the fold; nothing is split). For a
    :class:`~skhash.HammingRetriever`, or a pipeline ending in one, the samples of ``X``
    are queries against the database fitted on the training fold.

    Parameters
    ----------
    metric : str or callable
        ``"map"``, ``"precision_at_k"``, ``"recall_at_k"``, ``"precision_within_radius"``
        or a function ``metric(query_codes, db_codes, y_query, y_db, **kwargs)`` of
        :mod:`skhash.metrics` (it must accept ``db_codes=None`` for hashers).
    **kwargs
        Keyword arguments of the metric, e.g. ``at=1000`` or ``k=100``.

    Returns
    -------
    scorer : callable
        Usable as ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV` and
        :func:`~sklearn.model_selection.cross_val_score`. Higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from skhash import LSHHasher
    >>> from skhash.metrics import make_retrieval_scorer
    >>> X = np.random.default_rng(0).normal(size=(60, 8))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> scorer = make_retrieval_scorer("precision_at_k", k=5)
    >>> scores = cross_val_score(LSHHasher(n_bits=8, random_state=0), X, y, cv=3,
    ...                          scoring=scorer)
    >>> scores.shape
    (3,)
    """
    if isinstance(metric, str):
        if metric not in _METRICS:
            raise ValueError(
                f"metric must be one of {sorted(_METRICS)} or a callable, got {metric!r}."
            )
        metric = _METRICS[metric]
    elif not callable(metric):
        raise TypeError(f"metric must be a string or a callable, got {type(metric).__name__}.")
    if metric in _METRICS.values():
        # Bad options (at=0, k=-1, an unknown name) fail here, not as NaN scores inside
        # GridSearchCV: run the metric once on a small problem, large enough for any
        # positive cut-off given.
        cutoffs = [
            v for v in kwargs.values() if isinstance(v, Integral) and not isinstance(v, bool)
        ]
        n_db = 2 + min(max(cutoffs, default=0), _MAX_CHECK_ITEMS)
        db = np.arange(n_db, dtype=np.uint8)[:, None] % 2
        metric(db[:1], db, np.zeros(1), np.arange(n_db) % 2, **kwargs)
    return _RetrievalScorer(metric, kwargs)


def map_scorer(at=None, **metric_kw):
    """Scorer of the mean average precision (mAP@``at``), see :func:`make_retrieval_scorer`.

    Parameters
    ----------
    at : int, default=None
        Cut-off of mAP@R; ``None`` ranks everything.
    **metric_kw
        Further arguments of :func:`mean_average_precision` (``normalize``,
        ``no_relevant``, ``ties``, ``preset``).

    Returns
    -------
    scorer : callable

    Examples
    --------
    >>> from skhash.metrics import map_scorer
    >>> map_scorer(at=1000)
    make_retrieval_scorer(mean_average_precision, at=1000)
    """
    return make_retrieval_scorer(mean_average_precision, at=at, **metric_kw)


def precision_scorer(k=100, **metric_kw):
    """Scorer of the precision of the ``k`` nearest items, see :func:`make_retrieval_scorer`.

    Parameters
    ----------
    k : int, default=100
        Number of retrieved items; must not exceed the fold's database.
    **metric_kw
        Further arguments of :func:`precision_at_k` (``ties``).

    Returns
    -------
    scorer : callable

    Examples
    --------
    >>> from skhash.metrics import precision_scorer
    >>> precision_scorer(10)
    make_retrieval_scorer(precision_at_k, k=10)
    """
    return make_retrieval_scorer(precision_at_k, k=k, **metric_kw)


class _NeighborRecallScorer:
    """Picklable label-free scorer; see :func:`neighbor_recall_scorer`."""

    def __init__(self, kwargs):
        self.kwargs = kwargs

    def __call__(self, estimator, X, y=None):
        if _final_retriever(estimator) is not None:
            raise TypeError(
                "neighbor_recall_scorer scores hashers (or pipelines ending in one): a "
                "retriever keeps only the codes of its database, not its features."
            )
        return neighbor_recall(estimator.transform(X), None, X, None, **self.kwargs)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"neighbor_recall_scorer({args})"


@validate_function_params(
    {"k": [POSITIVE_INT], "at": [POSITIVE_INT], "metric": [StrOptions({"euclidean", "cosine"})]}
)
def neighbor_recall_scorer(k=10, at=100, metric="euclidean"):
    """Label-free scorer: :func:`neighbor_recall` of each fold against itself.

    Every sample of the fold is a query ranked against the rest of the fold; its ``k``
    exact nearest neighbours in the features given to the scorer (``X``, before any step
    of the pipeline) are the ground truth. ``y`` is ignored, so ``GridSearchCV`` can tune a
    hasher on data without labels (``fit(X)``).

    Parameters
    ----------
    k, at, metric :
        See :func:`neighbor_recall`.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skhash import ITQHasher
    >>> from skhash.metrics import neighbor_recall_scorer
    >>> X = np.random.default_rng(0).normal(size=(300, 16))
    >>> search = GridSearchCV(ITQHasher(random_state=0), {"n_bits": [4, 16]},
    ...                       scoring=neighbor_recall_scorer(k=5, at=20), cv=2).fit(X)
    >>> search.best_params_
    {'n_bits': 16}
    """
    return _NeighborRecallScorer({"k": k, "at": at, "metric": metric})
