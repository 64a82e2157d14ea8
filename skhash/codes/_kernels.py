"""Compiled (numba) kernels of the binary codes: XOR + popcount on 64-bit words.

numba is optional: :func:`available` says whether it imports, and every caller keeps its
numpy path, which the tests check equal. The kernels compile on first use and are cached on
disk (``cache=True``), so only a session's first call pays for compilation.
"""

import functools

import numpy as np

__all__ = ["available", "fits", "stable_average_precision_sums"]


@functools.cache
def available():
    """Whether numba imports (the compiled kernels can run)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def fits(n_bits, n_db):
    """Whether a distance's counters fit one int64: two counts of up to ``n_db`` items and
    the distance (up to ``n_bits + 1``) -- 256-bit codes over 2^26 items, for one."""
    return 2 * max(1, int(n_db).bit_length()) + int(n_bits + 1).bit_length() <= 63


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

    @numba.njit(inline="always")
    def tally(count, found, t, d, relevant, n_found, relevant_one):
        """Count an item at distance ``d`` for query ``t`` of the group; note the counter
        as it was (the item's place) in ``found``, kept only if the item is relevant."""
        before = count[t, d]
        count[t, d] = before + 1 + relevant * relevant_one
        found[t, n_found] = before  # written for every item to stay branch-free
        return n_found + relevant

    @numba.njit(inline="always")
    def tally_one(q_words, first, t, db_words, j, n_words, q_labels, db_labels, count, found,
                  n_found, relevant_one):  # fmt: skip
        d = distance(q_words, first + t, db_words, j, n_words)
        relevant = np.int64(db_labels[j] == q_labels[first + t])
        n_found[t] = tally(count, found, t, d, relevant, n_found[t], relevant_one)

    @numba.njit(inline="always")
    def tally_range(q_words, first, group, db_words, lo, hi, q_labels, db_labels, count,
                    found, n_found, relevant_one):  # fmt: skip
        """Tally database items ``lo:hi`` for the ``group`` queries from ``first`` on."""
        n_words = q_words.shape[1]
        if group < 4:
            for t in range(group):
                for j in range(lo, hi):
                    tally_one(q_words, first, t, db_words, j, n_words, q_labels, db_labels,
                              count, found, n_found, relevant_one)  # fmt: skip
            return
        # Four queries at once: each database word and label is loaded once, and the four
        # counters give the processor four independent chains of work.
        l0, l1, l2, l3 = (
            q_labels[first],
            q_labels[first + 1],
            q_labels[first + 2],
            q_labels[first + 3],
        )
        n0, n1, n2, n3 = n_found[0], n_found[1], n_found[2], n_found[3]
        for j in range(lo, hi):
            label = db_labels[j]
            x = db_words[j, 0]
            d0 = popcount(q_words[first, 0] ^ x)
            d1 = popcount(q_words[first + 1, 0] ^ x)
            d2 = popcount(q_words[first + 2, 0] ^ x)
            d3 = popcount(q_words[first + 3, 0] ^ x)
            for w in range(1, n_words):
                x = db_words[j, w]
                d0 += popcount(q_words[first, w] ^ x)
                d1 += popcount(q_words[first + 1, w] ^ x)
                d2 += popcount(q_words[first + 2, w] ^ x)
                d3 += popcount(q_words[first + 3, w] ^ x)
            n0 = tally(count, found, 0, d0, np.int64(label == l0), n0, relevant_one)
            n1 = tally(count, found, 1, d1, np.int64(label == l1), n1, relevant_one)
            n2 = tally(count, found, 2, d2, np.int64(label == l2), n2, relevant_one)
            n3 = tally(count, found, 3, d3, np.int64(label == l3), n3, relevant_one)
        n_found[0], n_found[1], n_found[2], n_found[3] = n0, n1, n2, n3

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
        place_bits,
        num,
        retrieved,
        total,
    ):
        """Per query: sum of precisions at the relevant items of the top ``R`` (stable ties:
        distance, then database index), their number, and the number of relevant items.

        One pass over the database counts, per query, the items at each distance; as items
        come in database order, a counter's value when an item arrives is the item's place
        among the items at its distance. One int64 holds a distance's counter: items in the
        low ``place_bits``, relevant items in the next ``place_bits``, the distance above
        them, so that the relevant items' notes are one number each. Their ranks follow once
        the counters' prefix sums give where each distance starts.
        """
        n_query, n_words = q_words.shape
        n_db = db_words.shape[0]
        n_buckets = n_bits + 2  # the last bucket holds the query itself (leave-one-out)
        place_mask = (np.int64(1) << place_bits) - 1
        relevant_one = np.int64(1) << place_bits
        distance_shift = 2 * place_bits
        count = np.empty((4, n_buckets), dtype=np.int64)
        found = np.empty((4, n_db + 1), dtype=np.int64)
        n_found = np.zeros(4, dtype=np.int64)
        start = np.empty(n_buckets, dtype=np.int64)
        start_rel = np.empty(n_buckets, dtype=np.int64)
        for first in range(0, n_query, 4):
            group = min(4, n_query - first)
            for t in range(group):
                n_found[t] = 0
                for d in range(n_buckets):
                    count[t, d] = np.int64(d) << distance_shift
            if exclude_self:  # the group's queries are database items own:own + group
                own = offset + first
                tally_range(q_words, first, group, db_words, 0, own, q_labels, db_labels,
                            count, found, n_found, relevant_one)  # fmt: skip
                for t in range(group):
                    for j in range(own, own + group):
                        if j == own + t:  # the query itself: ranked last, never relevant
                            count[t, n_bits + 1] += 1
                        else:
                            tally_one(q_words, first, t, db_words, j, n_words, q_labels,
                                      db_labels, count, found, n_found, relevant_one)  # fmt: skip
                tally_range(q_words, first, group, db_words, own + group, n_db, q_labels,
                            db_labels, count, found, n_found, relevant_one)  # fmt: skip
            else:
                tally_range(q_words, first, group, db_words, 0, n_db, q_labels, db_labels,
                            count, found, n_found, relevant_one)  # fmt: skip
            for t in range(group):
                items = 0
                relevant = 0
                for d in range(n_buckets):
                    start[d] = items
                    start_rel[d] = relevant
                    items += count[t, d] & place_mask
                    relevant += (count[t, d] >> place_bits) & place_mask
                total[first + t] = relevant
                s = 0.0
                hits = 0
                for m in range(n_found[t]):
                    note = found[t, m]
                    d = note >> distance_shift
                    rank = start[d] + (note & place_mask)
                    if rank < R:
                        s += (start_rel[d] + ((note >> place_bits) & place_mask) + 1) / (rank + 1)
                        hits += 1
                num[first + t] = s
                retrieved[first + t] = hits

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
    place_bits = max(1, int(len(db_words)).bit_length())
    if not fits(n_bits, len(db_words)):
        raise ValueError(f"{n_bits} bits x {len(db_words)} items do not fit the kernel's counters")
    num = np.zeros(n_query)
    retrieved = np.zeros(n_query, dtype=np.int64)
    total = np.zeros(n_query, dtype=np.int64)
    _compiled()(
        np.ascontiguousarray(query_words, dtype=np.uint64),
        np.ascontiguousarray(db_words, dtype=np.uint64),
        np.ascontiguousarray(query_labels, dtype=np.intp),
        np.ascontiguousarray(db_labels, dtype=np.intp),
        int(n_bits), int(R), bool(exclude_self), int(offset), place_bits, num, retrieved, total,
    )  # fmt: skip
    return num, retrieved, total
