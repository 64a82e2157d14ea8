"""The numba kernels behind :mod:`skhash.codes._kernels`, compiled on first use and cached
on disk. Importing this module imports numba: :mod:`skhash.codes._kernels` does so only when
a kernel is first called."""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

# Database items per chunk of distances in the search kernels (a few KiB: stays in L1).
_CHUNK = 256


@intrinsic
def popcount(typingctx, x):
    def codegen(context, builder, signature, args):
        ctpop = builder.module.declare_intrinsic("llvm.ctpop", [ir.IntType(64)])
        return builder.call(ctpop, args)

    return types.uint64(types.uint64), codegen


@intrinsic
def prefetch(typingctx, array, row, column):
    """Ask the CPU to bring ``array[row, column]`` into its caches (no effect on results)."""

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        index = [
            context.cast(builder, value, typ, types.intp)
            for value, typ in zip(args[1:], signature.args[1:], strict=True)
        ]
        pointer = cgutils.get_item_pointer2(
            context,
            builder,
            data.data,
            cgutils.unpack_tuple(builder, data.shape, 2),
            cgutils.unpack_tuple(builder, data.strides, 2),
            array_type.layout,
            index,
        )
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        function_type = ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32])
        fetch = cgutils.get_or_insert_function(builder.module, function_type, "llvm.prefetch.p0")
        # A read, kept in every cache level, of data.
        builder.call(fetch, [builder.bitcast(pointer, byte_pointer), int32(0), int32(3), int32(1)])
        return context.get_dummy_value()

    return types.void(array, row, column), codegen


@numba.njit(cache=True, nogil=True)
def count_group_one_word(
    count, found, queries, q_words, db_words, members, lo, hi, own, last, relevant_one, size
):
    """The counting of :func:`average_precision_sums` for ``size`` queries sharing their
    relevant items ``members[lo:hi]``, codes of one word (up to 64 bits). ``size`` is a
    compile-time constant, so that the loops over the queries unroll and their words stay
    in registers. Returns the number of notes."""
    numba.literally(size)
    q = np.empty(size, dtype=np.uint64)
    owner = np.empty(size, dtype=np.int64)
    for t in range(size):
        q[t] = q_words[queries[t], 0]
        owner[t] = own[queries[t]]
    previous = 0
    n_noted = 0
    for m in range(lo, hi + 1):
        r = members[m] if m < hi else db_words.shape[0]
        # Unsigned indices: numba checks signed ones for negative values, which cost the
        # run a third of its speed.
        for j in range(np.uint64(previous), np.uint64(r)):  # irrelevant items: counted only
            x = db_words[j, 0]
            for t in range(size):
                count[t, popcount(q[t] ^ x)] += 1
        if m == hi:
            break
        x = db_words[np.uint64(r), 0]
        for t in range(size):
            note(count, found, t, popcount(q[t] ^ x), r == owner[t], n_noted, last, relevant_one)
        n_noted += 1
        previous = r + 1
    return n_noted


@numba.njit(cache=True, nogil=True)
def count_group_words(
    count, found, queries, q_words, db_words, members, lo, hi, own, last, relevant_one, size
):
    """:func:`count_group_one_word` for codes of several words: the group's query words
    word-major, so that each database word meets all the group's queries in one
    vectorised step."""
    numba.literally(size)
    n_words = q_words.shape[1]
    q = np.empty(n_words * size, dtype=np.uint64)
    owner = np.empty(size, dtype=np.int64)
    for t in range(size):
        for w in range(n_words):
            q[w * size + t] = q_words[queries[t], w]
        owner[t] = own[queries[t]]
    dist = np.empty(size, dtype=np.uint64)
    previous = 0
    n_noted = 0
    for m in range(lo, hi + 1):
        r = members[m] if m < hi else db_words.shape[0]
        for j in range(np.uint64(previous), np.uint64(r)):  # irrelevant items: counted only
            distances(q, db_words, j, dist, size)
            for t in range(size):
                count[t, dist[t]] += 1
        if m == hi:
            break
        distances(q, db_words, np.uint64(r), dist, size)
        for t in range(size):
            note(count, found, t, dist[t], r == owner[t], n_noted, last, relevant_one)
        n_noted += 1
        previous = r + 1
    return n_noted


@numba.njit(inline="always")
def distances(q, db_words, j, out, size):
    """Hamming distances between database item ``j`` and the group's ``size`` queries
    ``q`` (word-major: word ``w`` of query ``t`` at ``w * size + t``)."""
    x = db_words[j, 0]
    for t in range(size):
        out[t] = popcount(q[t] ^ x)
    for w in range(1, db_words.shape[1]):
        x = db_words[j, w]
        for t in range(size):
            out[t] += popcount(q[w * size + t] ^ x)


@numba.njit(cache=True, nogil=True)
def count_group(
    count, found, queries, q_words, db_words, members, lo, hi, own, last, relevant_one, size
):
    """:func:`count_group_one_word` or :func:`count_group_words`, as the codes need."""
    numba.literally(size)
    if q_words.shape[1] == 1:
        return count_group_one_word(
            count,
            found,
            queries,
            q_words,
            db_words,
            members,
            lo,
            hi,
            own,
            last,
            relevant_one,
            size,
        )
    return count_group_words(
        count, found, queries, q_words, db_words, members, lo, hi, own, last, relevant_one, size
    )


@numba.njit(inline="always")
def note(count, found, t, d, is_own, n_noted, last, relevant_one):
    """A relevant item at distance ``d`` of query ``t``: note its place (-1: the query's
    own item, counted last and not relevant)."""
    if is_own:
        count[t, last] += 1
        found[t, n_noted] = -1
    else:
        before = count[t, d]
        count[t, d] = before + 1 + relevant_one
        found[t, n_noted] = before


@numba.njit(cache=True, nogil=True)
def average_precision_sums(
    q_words,
    db_words,
    groups,
    members,
    member_lo,
    member_hi,
    self_index,
    n_bits,
    R,
    place_bits,
    num,
    retrieved,
    total,
):
    """Per query: sum of precisions at the relevant items of the top ``R`` (stable ties:
    distance, then database index), their number, and the number of relevant items.

    Queries come in groups sharing a label (the rows of ``groups``: 8, 4 or 1 queries,
    :data:`skhash.codes._kernels.GROUP_SIZES`), so that they share their relevant items:
    the database items of that label, in database order
    (``members[member_lo[i]:member_hi[i]]`` for query ``i``).
    One pass over the database counts, per query, the items at each distance; the runs of
    irrelevant items between two relevant ones are only counted (the group's queries at
    once, no branch), and at a relevant item each query notes the counter as it finds it:
    the item's place among those at its distance, as items come in database order. One
    int64 holds a distance's counter: items in the low ``place_bits``, relevant items in
    the next ``place_bits``, the distance above them. Ranks follow once the counters'
    prefix sums give where each distance starts. ``self_index[i] >= 0`` is query ``i``'s
    own database item, which is never retrieved (leave-one-out): it is counted last and not
    relevant.
    """
    n_buckets = n_bits + 2  # the last bucket holds the query itself (leave-one-out)
    place_mask = (np.int64(1) << place_bits) - 1
    relevant_one = np.int64(1) << place_bits
    distance_shift = 2 * place_bits
    size = groups.shape[1]
    count = np.empty((size, n_buckets), dtype=np.int64)
    most = 0  # relevant items of the largest label: the notes of one group
    for i in groups.ravel():
        most = max(most, member_hi[i] - member_lo[i])
    found = np.empty((size, most), dtype=np.int64)
    start = np.empty(n_buckets, dtype=np.int64)
    start_rel = np.empty(n_buckets, dtype=np.int64)
    for group in range(groups.shape[0]):
        queries = groups[group]
        for t in range(size):
            for d in range(n_buckets):
                count[t, d] = np.int64(d) << distance_shift
        lo, hi = member_lo[queries[0]], member_hi[queries[0]]
        # One call per size, each with its constant: a size given as a literal from Python
        # does not reach count_group as a constant, and its loops ran 1.8x slower.
        if size == 8:
            n_noted = count_group(
                count,
                found,
                queries,
                q_words,
                db_words,
                members,
                lo,
                hi,
                self_index,
                n_bits + 1,
                relevant_one,
                8,
            )
        elif size == 4:
            n_noted = count_group(
                count,
                found,
                queries,
                q_words,
                db_words,
                members,
                lo,
                hi,
                self_index,
                n_bits + 1,
                relevant_one,
                4,
            )
        elif size == 1:
            n_noted = count_group(
                count,
                found,
                queries,
                q_words,
                db_words,
                members,
                lo,
                hi,
                self_index,
                n_bits + 1,
                relevant_one,
                1,
            )
        else:
            raise ValueError("groups of 8, 4 or 1 queries")
        for t in range(size):
            i = queries[t]
            items = 0
            relevant = 0
            for d in range(n_buckets):
                start[d] = items
                start_rel[d] = relevant
                items += count[t, d] & place_mask
                relevant += (count[t, d] >> place_bits) & place_mask
            total[i] = relevant
            s = 0.0
            hits = 0
            for m in range(n_noted):
                noted = found[t, m]
                if noted < 0:
                    continue
                d = np.uint64(noted >> distance_shift)
                rank = start[d] + (noted & place_mask)
                if rank < R:
                    s += (start_rel[d] + ((noted >> place_bits) & place_mask) + 1) / (rank + 1)
                    hits += 1
            num[i] = s
            retrieved[i] = hits


@numba.njit(inline="always")
def chunk_distances(q_words, i, db_columns, lo, n, out):
    """Distances of query ``i`` to items ``lo:lo + n``; the database is word-major
    (``db_columns[w]`` is word ``w`` of every item), so each loop is one contiguous
    stream that the compiler vectorises (with AVX-512's popcount where there is one)."""
    start = np.uint64(lo)  # unsigned: numba checks a signed index for negative values
    q = q_words[i, 0]
    for j in range(np.uint64(n)):
        out[j] = popcount(q ^ db_columns[0, start + j])
    for w in range(1, db_columns.shape[0]):
        q = q_words[i, w]
        for j in range(np.uint64(n)):
            out[j] += popcount(q ^ db_columns[w, start + j])


@numba.njit(inline="always")
def count_below(dist, n, bound):
    hits = 0
    for j in range(n):
        hits += dist[j] < bound
    return hits


@numba.njit(cache=True, nogil=True)
def nearest(q_words, db_columns, first, end, k, n_bits, out_dist, out_ind):
    """The ``k`` nearest of items ``first:end`` (columns of the word-major database) of
    each query in (distance, index) order, indices counted from 0.

    Items closer than the current ``k``-th distance ``bound`` join a buffer in database
    order; when it fills, it is cut back to the ``k`` first and ``bound`` drops. An item
    at ``bound`` itself comes after the ``k`` kept (its index is larger), so only items
    strictly closer can enter. Distances come a chunk at a time, and a chunk with no
    item under ``bound`` (soon almost all) is skipped after one vectorised count.
    """
    n_query = q_words.shape[0]
    capacity = max(4 * k, 256)
    buf_d = np.empty(capacity, dtype=np.int64)
    buf_i = np.empty(capacity, dtype=np.int64)
    hist = np.empty(n_bits + 1, dtype=np.int64)
    dist = np.empty(_CHUNK, dtype=np.uint64)
    for i in range(n_query):
        n = 0
        bound = n_bits + 1
        for lo in range(first, end, _CHUNK):
            m = min(_CHUNK, end - lo)
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
def within(q_words, db_columns, first, end, radius, indptr, out_dist, out_ind):
    """Items ``first:end`` within ``radius`` of each query, in index order, as CSR rows
    from ``indptr``; returns the output arrays, grown (doubled) when they fill."""
    n_query = q_words.shape[0]
    dist = np.empty(_CHUNK, dtype=np.uint64)
    n = 0
    for i in range(n_query):
        for lo in range(first, end, _CHUNK):
            m = min(_CHUNK, end - lo)
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
