"""Compiled (numba) kernels of the binary codes: XOR + popcount on 64-bit words.

numba is optional: :func:`available` says whether it imports, and every caller keeps its
numpy path, which the tests check equal. The kernels compile on first use and are cached on
disk (``cache=True``), so only a session's first call pays for compilation.
"""

import functools

import numpy as np

__all__ = [
    "available",
    "class_members",
    "enabled",
    "fits",
    "nearest_neighbours",
    "stable_average_precision_sums",
    "within_radius",
]


@functools.cache
def available():
    """Whether numba imports (the compiled kernels can run)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def enabled():
    """Whether the compiled kernels run: numba installed, and not switched off with
    ``skhash.set_config(compiled_kernels=False)``."""
    from .._config import get_config

    return get_config()["compiled_kernels"] and available()


def fits(n_bits, n_db):
    """Whether a distance's counters fit one int64: two counts of up to ``n_db`` items and
    the distance (up to ``n_bits + 1``) -- 256-bit codes over 2^26 items, for one."""
    return 2 * max(1, int(n_db).bit_length()) + int(n_bits + 1).bit_length() <= 63


# Queries per group of the mAP kernel, by label: eight share each database word as long as
# a label has eight left (more gained nothing on x86-64), then four, then one, so that no
# query is counted twice.
GROUP_SIZES = (8, 4, 1)


@functools.cache
def _compiled():
    from . import _numba_kernels as kernels

    return kernels.average_precision_sums, kernels.nearest, kernels.within


def class_members(db_labels):
    """Database indices grouped by label, in database order within a label, and the labels
    in that order: the relevant items of every class label, computed once per database."""
    db_labels = np.asarray(db_labels)
    order = np.argsort(db_labels, kind="stable")
    return order, db_labels[order]


def _label_groups(query_labels):
    """The queries grouped by label for the kernel: each label's queries eight at a time,
    then four, then one (:data:`GROUP_SIZES`), so that no query is counted twice; one
    ``(n_groups, size)`` array per size."""
    by_label = np.argsort(query_labels, kind="stable")
    labels = np.asarray(query_labels)[by_label]
    new_run = np.r_[True, labels[1:] != labels[:-1]]
    run_start = np.flatnonzero(new_run)
    run = np.cumsum(new_run) - 1
    place = np.arange(len(labels)) - run_start[run]
    left = np.diff(np.r_[run_start, len(labels)])[run]  # queries of the label, all ungrouped
    done = np.zeros_like(left)
    groups = []
    for size in GROUP_SIZES:
        whole = (left - done) // size * size
        groups.append(by_label[(place >= done) & (place < done + whole)].reshape(-1, size))
        done = done + whole
    return groups


def stable_average_precision_sums(
    query_words,
    db_words,
    query_labels,
    db_labels,
    n_bits,
    R,
    exclude_self,
    offset=0,
    members=None,
):
    """Compiled AP@R numerators with stable ties, for one block of queries.

    The kernel releases the GIL, so callers run blocks in threads (as
    :meth:`skhash.metrics._ranking.RankingProblem.for_each_block` does).

    Parameters
    ----------
    query_words, db_words : ndarray of uint64, shape (n, n_words)
        Codes as 64-bit words (:func:`skhash.codes._bits.codes_to_words`).
    query_labels, db_labels : ndarray of int
        Class labels as integer codes (relevant = equal).
    n_bits : int
    R : int
        Cut-off of the ranking.
    exclude_self : bool
        Leave-one-out: query ``i`` of the block is database item ``offset + i`` and is never
        retrieved.
    offset : int, default=0
        Index of the block's first query.
    members : tuple, default=None
        :func:`class_members` of ``db_labels``, to compute once for many blocks.

    Returns
    -------
    num, retrieved, total : ndarrays of shape (n_query,)
        Sum of precisions at the relevant items of the top ``R``, their number, and the
        number of relevant items of each query.
    """
    n_query = len(query_words)
    place_bits = max(1, int(len(db_words)).bit_length())
    if not fits(n_bits, len(db_words)):
        raise ValueError(f"{n_bits} bits x {len(db_words)} items do not fit the kernel's counters")
    order, sorted_labels = class_members(db_labels) if members is None else members
    query_labels = np.asarray(query_labels)
    member_lo = np.searchsorted(sorted_labels, query_labels, side="left").astype(np.int64)
    member_hi = np.searchsorted(sorted_labels, query_labels, side="right").astype(np.int64)
    own = np.arange(offset, offset + n_query) if exclude_self else np.full(n_query, -1)
    num = np.zeros(n_query)
    retrieved = np.zeros(n_query, dtype=np.int64)
    total = np.zeros(n_query, dtype=np.int64)
    q_words = np.ascontiguousarray(query_words, dtype=np.uint64)
    db_words = np.ascontiguousarray(db_words, dtype=np.uint64)
    order, own = order.astype(np.int64), own.astype(np.int64)
    for groups in _label_groups(query_labels):
        if len(groups):
            _compiled()[0](
                q_words,
                db_words,
                groups,
                order,
                member_lo,
                member_hi,
                own,
                int(n_bits),
                int(R),
                place_bits,
                num,
                retrieved,
                total,
            )
    return num, retrieved, total


def nearest_neighbours(query_words, db_columns, first, end, k, n_bits):
    """Compiled exact k-NN of one block of queries among database items ``first:end``:
    ``(distances, indices)`` of shape ``(n_query, k)``, ordered by distance then database
    index; ``k <= end - first``.

    ``db_columns`` is the database word-major (``(n_words, n)``, C-contiguous: word ``w``
    of every item in one row), the layout in which a scan streams.
    """
    n_query = len(query_words)
    dist = np.empty((n_query, k), dtype=np.int64)
    ind = np.empty((n_query, k), dtype=np.int64)
    _compiled()[1](
        np.ascontiguousarray(query_words, dtype=np.uint64),
        db_columns,
        int(first),
        int(end),
        int(k),
        int(n_bits),
        dist,
        ind,
    )
    return dist, ind


def within_radius(query_words, db_columns, first, end, radius):
    """Compiled radius search of one block of queries among database items ``first:end``:
    CSR ``(indptr, distances, indices)`` of the items at distance ``<= radius``, each row
    in database order."""
    query_words = np.ascontiguousarray(query_words, dtype=np.uint64)
    indptr = np.zeros(len(query_words) + 1, dtype=np.int64)
    size = 16 * len(query_words) + 1024
    dist, ind = _compiled()[2](
        query_words,
        db_columns,
        int(first),
        int(end),
        int(radius),
        indptr,
        np.empty(size, dtype=np.int64),
        np.empty(size, dtype=np.int64),
    )
    return indptr, dist[: indptr[-1]], ind[: indptr[-1]]
