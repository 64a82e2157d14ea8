"""Query / database splits of the retrieval literature."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ..utils._validation import check_positive_int

__all__ = ["PROTOCOLS", "labelled_subset", "query_database_split"]

#: Named protocols: queries drawn per class or overall; the database is the rest and is
#: also the training set, as in the IDR-AE paper and its released code.
PROTOCOLS = {
    "idrae-paper": {"n_queries_per_class": 1000},
    "idrae-code": {"n_queries": 10_000},
    "cifar10-features": {"n_queries": 1_000},
}


def query_database_split(
    y, *, n_queries=None, n_queries_per_class=None, protocol=None, random_state=None
):
    """Indices of a stratified query set and of the database (the rest).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    n_queries : int, default=None
        Total number of queries, drawn stratified by class.
    n_queries_per_class : int, default=None
        Number of queries drawn from every class (the IDR-AE paper's CIFAR-10 protocol).
    protocol : str, default=None
        A name of :data:`PROTOCOLS`, instead of the two counts.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    query_index, database_index : ndarray of int
        Disjoint, sorted, covering every sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash.datasets import query_database_split
    >>> y = np.repeat(np.arange(3), 10)
    >>> query, db = query_database_split(y, n_queries_per_class=2, random_state=0)
    >>> len(query), len(db), np.bincount(y[query]).tolist()
    (6, 24, [2, 2, 2])
    """
    if protocol is not None:
        if n_queries is not None or n_queries_per_class is not None:
            raise ValueError(
                f"give either protocol={protocol!r} or n_queries / n_queries_per_class, not "
                f"both: the protocol sets the number of queries."
            )
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {sorted(PROTOCOLS)}, got {protocol!r}.")
        return query_database_split(y, **PROTOCOLS[protocol], random_state=random_state)
    if (n_queries is None) == (n_queries_per_class is None):
        raise ValueError("give exactly one of n_queries and n_queries_per_class.")
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D class labels, got shape {y.shape}.")
    rng = check_random_state(random_state)
    index = np.arange(len(y))
    if n_queries_per_class is not None:
        if not isinstance(n_queries_per_class, Integral) or n_queries_per_class < 1:
            raise ValueError(
                f"n_queries_per_class must be a positive integer, got {n_queries_per_class!r}."
            )
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() <= n_queries_per_class:
            raise ValueError(
                f"class {classes[counts.argmin()]!r} has {counts.min()} samples, not more than "
                f"n_queries_per_class={n_queries_per_class}: no database item would be left."
            )
        query = np.concatenate(
            [rng.choice(index[y == c], n_queries_per_class, replace=False) for c in classes]
        )
    else:
        if not isinstance(n_queries, Integral) or not 1 <= n_queries < len(y):
            raise ValueError(
                f"n_queries must be an integer in [1, {len(y) - 1}], got {n_queries!r}."
            )
        query, _ = train_test_split(index, train_size=n_queries, stratify=y, random_state=rng)
    query = np.sort(query)
    return query, np.setdiff1d(index, query, assume_unique=True)


def labelled_subset(y, n_per_class, *, random_state=None):
    """Sorted indices of ``n_per_class`` random samples of every class.

    The labelled training set of the supervised hashing protocol: on CIFAR-10, 500 images
    per class of the 50,000 training images (SDH, KSH, COSDISH and most deep supervised
    hashing papers).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    n_per_class : int
        Samples drawn from every class.
    random_state : int, RandomState instance or None, default=None
        Seed of the draw.

    Returns
    -------
    index : ndarray of int

    Examples
    --------
    >>> import numpy as np
    >>> from skhash.datasets import labelled_subset
    >>> y = np.repeat(np.arange(3), 10)
    >>> np.bincount(y[labelled_subset(y, 4, random_state=0)]).tolist()
    [4, 4, 4]
    """
    y = np.asarray(y)
    check_positive_int(n_per_class, "n_per_class")
    rng = check_random_state(random_state)
    chosen = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if len(members) < n_per_class:
            raise ValueError(
                f"Class {label.item()!r} has {len(members)} samples, fewer than "
                f"n_per_class={n_per_class}: use a smaller n_per_class."
            )
        chosen.append(rng.choice(members, size=n_per_class, replace=False))
    return np.sort(np.concatenate(chosen))
