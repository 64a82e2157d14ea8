"""Compiled (numba) kernels of the binary codes: XOR + popcount on 64-bit words.

numba is optional: :func:`available` says whether it imports, and every caller keeps its
numpy path, which the tests check equal. The kernels compile on first use and are cached on
disk (``cache=True``), so only a session's first call pays for compilation.
"""

import functools

import numpy as np

__all__ = ["available", "stable_average_precision_sums"]


@functools.cache
def available():
    """Whether numba imports (the compiled kernels can run)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _compiled():
    import numba
    from llvmlite import ir
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def popcount(typingctx, x):
        def codegen(context, builder, signature, args):
            ctpop = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
            return builder.call(ctpop, args)

        return types.uint64(types.uint64), codegen

    @numba.njit(inline="always")
    def distance(q_words, i, db_words, j, n_words):
        d = popcount(q_words[i, 0] ^ db_words[j, 0])
        for w in range(1, n_words):
            d += popcount(q_words[i, w] ^ db_words[j, w])
        return d

    @numba.njit(cache=True, nogil=True)
    def average_precision_sums(
        q_words,
        db_words,
        q_labels,
        db_labels,
        n_bits,
        R,
        exclude_self,
        offset,
        num,
        retrieved,
        total,
    ):
        """Per query: sum of precisions at the relevant items of the top ``R`` (stable ties:
        distance, then database index), their number, and the number of relevant items.

        Two passes over the database per query: keys ``2 * distance + relevant`` and their
        histogram, then the items in database order, whose ranks follow from the histogram's
        prefix sums and the items already seen at their distance.
        """
        n_query, n_words = q_words.shape
        n_db = db_words.shape[0]
        n_buckets = n_bits + 2  # the last bucket holds the query itself (leave-one-out)
        keys = np.empty(n_db, dtype=np.uint16)
        hist = np.empty(2 * n_buckets, dtype=np.int64)
        start = np.empty(n_buckets, dtype=np.int64)
        start_rel = np.empty(n_buckets, dtype=np.int64)
        seen = np.empty(n_buckets, dtype=np.int64)
        seen_rel = np.empty(n_buckets, dtype=np.int64)
        for i in range(n_query):
            hist[:] = 0
            label = q_labels[i]
            for j in range(n_db):
                key = 2 * distance(q_words, i, db_words, j, n_words)
                if db_labels[j] == label:
                    key += 1
                keys[j] = key
                hist[key] += 1
            if exclude_self:  # query i is database item offset + i
                hist[keys[offset + i]] -= 1
                keys[offset + i] = 2 * (n_bits + 1)
                hist[keys[offset + i]] += 1
            items = 0
            relevant = 0
            for d in range(n_buckets):
                start[d] = items
                start_rel[d] = relevant
                items += hist[2 * d] + hist[2 * d + 1]
                relevant += hist[2 * d + 1]
            total[i] = relevant
            if relevant == 0:
                continue
            # next_rank[d]: 0-based rank of the next item at distance d, in database order.
            for d in range(n_buckets):
                seen[d] = start[d]
                seen_rel[d] = start_rel[d]
            s = 0.0
            hits = 0
            for j in range(n_db):
                key = keys[j]
                d = key >> 1
                rank = seen[d]
                seen[d] = rank + 1
                if key & 1:
                    if rank < R:
                        seen_rel[d] += 1
                        s += seen_rel[d] / (rank + 1)
                        hits += 1
            num[i] = s
            retrieved[i] = hits

    return average_precision_sums


def stable_average_precision_sums(
    query_words, db_words, query_labels, db_labels, n_bits, R, exclude_self, offset=0
):
    """Compiled AP@R numerators with stable ties, for one block of queries.

    The kernel releases the GIL, so callers run blocks in threads (as
    :meth:`skhash.metrics._ranking.RankingProblem.for_each_block` does).

    Parameters
    ----------
    query_words, db_words : ndarray of uint64, shape (n, n_words)
        Codes as 64-bit words (:func:`skhash.codes._bits.codes_to_words`).
    query_labels, db_labels : ndarray of intp
        Class labels as integer codes (relevant = equal).
    n_bits : int
    R : int
        Cut-off of the ranking.
    exclude_self : bool
        Leave-one-out: query ``i`` of the block is database item ``offset + i`` and is never
        retrieved.
    offset : int, default=0
        Index of the block's first query.

    Returns
    -------
    num, retrieved, total : ndarrays of shape (n_query,)
        Sum of precisions at the relevant items of the top ``R``, their number, and the
        number of relevant items of each query.
    """
    n_query = len(query_words)
    num = np.zeros(n_query)
    retrieved = np.zeros(n_query, dtype=np.int64)
    total = np.zeros(n_query, dtype=np.int64)
    _compiled()(
        np.ascontiguousarray(query_words, dtype=np.uint64),
        np.ascontiguousarray(db_words, dtype=np.uint64),
        np.ascontiguousarray(query_labels, dtype=np.intp),
        np.ascontiguousarray(db_labels, dtype=np.intp),
        int(n_bits), int(R), bool(exclude_self), int(offset), num, retrieved, total,
    )  # fmt: skip
    return num, retrieved, total
