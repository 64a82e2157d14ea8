"""The numba kernels behind :mod:`skhash.codes._kernels`, compiled on first use and cached
on disk. Importing this module imports numba: :mod:`skhash.codes._kernels` does so only when
a kernel is first called."""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

# Database items per chunk of distances in the search kernels (a few KiB: stays in L1).
_CHUNK = 256


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
