"""Compiled (numba) kernels of the binary codes: XOR + popcount on 64-bit words.

numba is optional: :func:`available` says whether it imports, and every caller keeps its
numpy path, which the tests check equal. The kernels compile on first use and are cached on
disk (``cache=True``), so only a session's first call pays for compilation.
"""

import functools

import numpy as np

__all__ = [
    "available",
    "fits",
    "nearest_neighbours",
    "stable_average_precision_sums",
    "within_radius",
    "word_columns",
]


# Database items per chunk of distances in the search kernels (a few KiB: stays in L1).
_CHUNK = 256


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

    @numba.njit(inline="always")
    def chunk_distances(q_words, i, db_columns, lo, n, out):
        """Distances of query ``i`` to items ``lo:lo + n``; the database is word-major
        (``db_columns[w]`` is word ``w`` of every item), so each loop is one contiguous
        stream that the compiler vectorises (with AVX-512's popcount where there is one)."""
        q = q_words[i, 0]
        for j in range(n):
            out[j] = popcount(q ^ db_columns[0, lo + j])
        for w in range(1, db_columns.shape[0]):
            q = q_words[i, w]
            for j in range(n):
                out[j] += popcount(q ^ db_columns[w, lo + j])

    @numba.njit(inline="always")
    def count_below(dist, n, bound):
        hits = 0
        for j in range(n):
            hits += dist[j] < bound
        return hits

    @numba.njit(cache=True, nogil=True)
    def nearest(q_words, db_columns, k, n_bits, out_dist, out_ind):
        """The ``k`` nearest items of each query in (distance, index) order.

        Items closer than the current ``k``-th distance ``bound`` join a buffer in database
        order; when it fills, it is cut back to the ``k`` first and ``bound`` drops. An item
        at ``bound`` itself comes after the ``k`` kept (its index is larger), so only items
        strictly closer can enter. Distances come a chunk at a time, and a chunk with no
        item under ``bound`` (soon almost all) is skipped after one vectorised count.
        """
        n_query = q_words.shape[0]
        n_db = db_columns.shape[1]
        capacity = max(4 * k, 256)
        buf_d = np.empty(capacity, dtype=np.int64)
        buf_i = np.empty(capacity, dtype=np.int64)
        hist = np.empty(n_bits + 1, dtype=np.int64)
        dist = np.empty(_CHUNK, dtype=np.uint64)
        for i in range(n_query):
            n = 0
            bound = n_bits + 1
            for lo in range(0, n_db, _CHUNK):
                m = min(_CHUNK, n_db - lo)
                chunk_distances(q_words, i, db_columns, lo, m, dist)
                if count_below(dist, m, bound) == 0:
                    continue
                for j in range(m):
                    d = np.int64(dist[j])
                    if d < bound:
                        buf_d[n] = d
                        buf_i[n] = lo + j
                        n += 1
                        if n == capacity:
                            n, bound = keep_first(buf_d, buf_i, n, k, hist)
            n, bound = keep_first(buf_d, buf_i, n, k, hist)
            # Counting sort of the kept items by distance; stable, so ties stay in index order.
            hist[:] = 0
            for m in range(n):
                hist[buf_d[m]] += 1
            place = 0
            for d in range(n_bits + 1):
                c = hist[d]
                hist[d] = place
                place += c
            for m in range(n):
                p = hist[buf_d[m]]
                hist[buf_d[m]] = p + 1
                out_dist[i, p] = buf_d[m]
                out_ind[i, p] = buf_i[m]

    @numba.njit(inline="always")
    def keep_first(buf_d, buf_i, n, k, hist):
        """Cut the buffer (database order) to its ``k`` first items in (distance, index)
        order, kept in database order; return their number and the new bound."""
        if n <= k:
            return n, hist.shape[0]  # fewer than k so far: anything may still enter
        hist[:] = 0
        for m in range(n):
            hist[buf_d[m]] += 1
        below = 0
        kth = 0
        while below + hist[kth] < k:
            below += hist[kth]
            kth += 1
        at_kth = k - below  # items at the k-th distance to keep, the first in index order
        kept = 0
        for m in range(n):
            d = buf_d[m]
            if d < kth or (d == kth and at_kth > 0):
                if d == kth:
                    at_kth -= 1
                buf_d[kept] = d
                buf_i[kept] = buf_i[m]
                kept += 1
        return kept, kth

    @numba.njit(cache=True, nogil=True)
    def within(q_words, db_columns, radius, indptr, out_dist, out_ind):
        """Items within ``radius`` of each query, in index order, as CSR rows from
        ``indptr``; returns the output arrays, grown (doubled) when they fill."""
        n_query = q_words.shape[0]
        n_db = db_columns.shape[1]
        dist = np.empty(_CHUNK, dtype=np.uint64)
        n = 0
        for i in range(n_query):
            for lo in range(0, n_db, _CHUNK):
                m = min(_CHUNK, n_db - lo)
                chunk_distances(q_words, i, db_columns, lo, m, dist)
                hits = count_below(dist, m, radius + 1)
                if hits == 0:
                    continue
                if n + hits > len(out_dist):
                    size = max(2 * len(out_dist), n + hits)
                    grown_dist = np.empty(size, dtype=np.int64)
                    grown_ind = np.empty(size, dtype=np.int64)
                    grown_dist[:n] = out_dist[:n]
                    grown_ind[:n] = out_ind[:n]
                    out_dist, out_ind = grown_dist, grown_ind
                for j in range(m):
                    if dist[j] <= radius:
                        out_dist[n] = dist[j]
                        out_ind[n] = lo + j
                        n += 1
            indptr[i + 1] = n
        return out_dist, out_ind

    return average_precision_sums, nearest, within


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
    _compiled()[0](
        np.ascontiguousarray(query_words, dtype=np.uint64),
        np.ascontiguousarray(db_words, dtype=np.uint64),
        np.ascontiguousarray(query_labels, dtype=np.intp),
        np.ascontiguousarray(db_labels, dtype=np.intp),
        int(n_bits), int(R), bool(exclude_self), int(offset), place_bits, num, retrieved, total,
    )  # fmt: skip
    return num, retrieved, total


def nearest_neighbours(query_words, db_columns, k, n_bits):
    """Compiled exact k-NN of one block of queries: ``(distances, indices)`` of shape
    ``(n_query, k)``, ordered by distance then database index; ``k <= n_db``.

    ``db_columns`` is the database word-major, ``words.T`` made contiguous
    (:func:`word_columns`).
    """
    n_query = len(query_words)
    dist = np.empty((n_query, k), dtype=np.int64)
    ind = np.empty((n_query, k), dtype=np.int64)
    _compiled()[1](
        np.ascontiguousarray(query_words, dtype=np.uint64), db_columns, int(k), int(n_bits),
        dist, ind,
    )  # fmt: skip
    return dist, ind


def within_radius(query_words, db_columns, radius):
    """Compiled radius search of one block of queries: CSR ``(indptr, distances,
    indices)`` of the items at distance ``<= radius``, each row in database order."""
    query_words = np.ascontiguousarray(query_words, dtype=np.uint64)
    indptr = np.zeros(len(query_words) + 1, dtype=np.int64)
    size = 16 * len(query_words) + 1024
    dist, ind = _compiled()[2](
        query_words, db_columns, int(radius), indptr,
        np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64),
    )  # fmt: skip
    return indptr, dist[: indptr[-1]], ind[: indptr[-1]]


def word_columns(words):
    """The database word-major (``(n_words, n_db)``, contiguous): the layout of the search
    kernels."""
    return np.ascontiguousarray(np.asarray(words, dtype=np.uint64).T)
