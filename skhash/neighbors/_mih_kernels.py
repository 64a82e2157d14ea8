"""numba kernels of multi-index hashing (imported only when MIH runs; importing imports numba).

The database is word-major ``uint64`` words (``columns[w, i]`` is word ``w`` of code
``i``, the numpy backend's one copy); queries are rows of words. A code is cut into
``m`` disjoint substrings; table ``j`` lists the
database indices by the value of substring ``j`` (compact: indices sorted by value, then
by index, and ``2**length + 1`` offsets).
"""

import numba
import numpy as np

from ..codes._numba_kernels import popcount, prefetch

_ONE = np.uint64(1)
# Candidates ahead whose code is fetched from memory while one is checked.
_AHEAD = 8


@numba.njit(inline="always")
def substring(columns, code, start, length):
    """Bits ``start .. start + length - 1`` (``length <= 32``) of code ``code`` of
    word-major words (queries too, as ``q_words.T``)."""
    w = start >> 6
    offset = start & 63
    value = columns[w, code] >> np.uint64(offset)
    if offset + length > 64:
        value |= columns[w + 1, code] << np.uint64(64 - offset)
    return value & ((_ONE << np.uint64(length)) - _ONE)


@numba.njit(cache=True, nogil=True)
def build_table(columns, n, start, length, offsets, ids):
    """Fill ``offsets`` (``2**length + 1``) and ``ids`` (``n``) of one substring's table
    of the codes ``0:n``."""
    keys = np.empty(n, dtype=np.int64)
    offsets[:] = 0
    for i in range(n):
        key = np.int64(substring(columns, i, start, length))
        keys[i] = key
        offsets[key + 1] += 1
    for key in range(1, offsets.shape[0]):
        offsets[key] += offsets[key - 1]
    place = offsets[:-1].copy()
    for i in range(n):  # in index order: each bucket lists its indices increasing
        ids[place[keys[i]]] = i
        place[keys[i]] += 1


@numba.njit(inline="always")
def _next_mask(mask):
    """The next larger integer with as many set bits (Gosper's hack)."""
    lowest = mask & -mask
    ripple = mask + lowest
    return (((ripple ^ mask) >> 2) // lowest) | ripple


@numba.njit(nogil=True)
def _probe(tables, j, s, keys, found, hist, cap):
    """Add the codes whose substring ``j`` is at distance exactly ``s`` from the query's,
    unless an earlier probe found them: (distance of substring ``t``, ``t``) is smallest,
    in that order, at (``s``, ``j``). Returns the work done: codes looked at, plus one
    per table lookup. Codes further than ``cap`` are left out."""
    columns, n, starts, lengths, bases, offsets, ids = tables
    m = starts.shape[0]
    length = lengths[j]
    if s > length:
        return 0
    looked = 0
    mask = (np.int64(1) << s) - 1
    limit = np.int64(1) << length
    while mask < limit:
        looked += 1
        key = keys[j] ^ mask
        end = offsets[bases[j] + key + 1]
        for p in range(offsets[bases[j] + key], end):
            x = ids[j * n + p]
            if p + _AHEAD < end:  # the code checked a few steps on: its words are in cache by then
                for w in range(columns.shape[0]):
                    prefetch(columns, w, ids[j * n + p + _AHEAD])
            looked += 1
            total = 0
            first = True
            for t in range(m):
                value = substring(columns, x, starts[t], lengths[t])
                d = np.int64(popcount(np.uint64(keys[t]) ^ value))
                total += d
                if d < s or (d == s and t < j):
                    first = False
                    break
            if first and total <= cap:
                found.append((total, np.int64(x)))
                hist[total] += 1
        if s == 0:
            break
        mask = _next_mask(mask)
    return looked


@numba.njit(inline="always")
def _query_keys(q_words, i, starts, lengths, keys):
    for t in range(starts.shape[0]):
        keys[t] = np.int64(substring(q_words.T, i, starts[t], lengths[t]))


@numba.njit(inline="always")
def _probe_until(tables, keys, found, hist, limit, k, budget):
    """Probe the query's substrings at ``s = 0, 1, ...``, substring by substring, adding
    the codes within ``limit`` to ``found``, until every code within ``limit`` is found,
    or (``k > 0``) ``k`` found codes lie within the radius covered so far. After
    substring ``j`` at ``s`` every code within ``s * m + j`` has been found (pigeonhole:
    a code not found has its first ``j + 1`` substrings at ``s + 1`` or more and the others
    at ``s`` or more). Returns the work done, or -1 once it passes ``budget``."""
    m = keys.shape[0]
    looked = 0
    s = 0
    while True:
        for j in range(m):
            looked += _probe(tables, j, s, keys, found, hist, limit)
            covered = min(s * m + j, limit)
            if covered >= limit:
                return looked
            if k > 0:
                within = 0
                for d in range(covered + 1):
                    within += hist[d]
                if within >= k:
                    return looked
            if looked > budget:
                return -1
        s += 1


@numba.njit(cache=True, nogil=True)
def knn(q_words, tables, k, n_bits, budget, out_dist, out_ind, looked):
    """The ``k`` nearest codes of each query, by (distance, index), exactly.

    ``tables`` is ``(columns, n, starts, lengths, bases, offsets, ids)``, ``n`` the codes
    indexed. The search (:func:`_probe_until`) stops when ``k`` found codes lie within the
    radius covered: every code up to the ``k``-th distance is then in hand, ties included.
    A query whose work passes ``budget`` (far neighbours: a scan is cheaper) is given up,
    its ``looked`` set to -1, for the caller to scan.
    """
    _, n, starts, lengths, _, _, _ = tables
    keys = np.empty(starts.shape[0], dtype=np.int64)
    hist = np.zeros(n_bits + 1, dtype=np.int64)
    for i in range(q_words.shape[0]):
        _query_keys(q_words, i, starts, lengths, keys)
        hist[:] = 0
        found = [(np.int64(0), np.int64(0)) for _ in range(0)]
        looked[i] = _probe_until(tables, keys, found, hist, n_bits, k, budget)
        if looked[i] < 0:
            continue
        order = np.empty(len(found), dtype=np.int64)
        for p in range(len(found)):
            order[p] = found[p][0] * n + found[p][1]
        order.sort()
        for p in range(k):
            out_dist[i, p] = order[p] // n
            out_ind[i, p] = order[p] % n


@numba.njit(cache=True, nogil=True)
def within(q_words, tables, radius, n_bits, budget, looked):
    """``(rows, distances, indices)`` of every code within ``radius`` of each query; a
    query whose work passes ``budget`` is given up (``looked`` -1), for the caller to scan."""
    _, _, starts, lengths, _, _, _ = tables
    keys = np.empty(starts.shape[0], dtype=np.int64)
    hist = np.zeros(n_bits + 1, dtype=np.int64)
    rows = [np.int64(0) for _ in range(0)]
    dist = [np.int64(0) for _ in range(0)]
    ind = [np.int64(0) for _ in range(0)]
    for i in range(q_words.shape[0]):
        _query_keys(q_words, i, starts, lengths, keys)
        found = [(np.int64(0), np.int64(0)) for _ in range(0)]
        looked[i] = _probe_until(tables, keys, found, hist, radius, 0, budget)
        if looked[i] < 0:
            continue
        for p in range(len(found)):  # all within the radius (the probes' cap)
            rows.append(np.int64(i))
            dist.append(found[p][0])
            ind.append(found[p][1])
    as_array = np.array
    return as_array(rows, np.int64), as_array(dist, np.int64), as_array(ind, np.int64)
