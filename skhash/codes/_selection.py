"""Selection on integer Hamming distances, shared by the metrics and the retriever.

Per-distance counting (``n_bits + 1`` buckets) instead of comparison sorts: histograms of a
block of distances, the items under a per-row distance threshold, the first ``k`` items of
each row in (distance, index) order, and CSR assembly of radius results.
"""

import numpy as np

__all__ = [
    "boundary",
    "bucket_counts",
    "first_in_bucket",
    "rows_per_block",
    "select_within",
    "sort_csr",
    "stable_top",
]

# Upper estimate of the bytes of temporaries per (query, database item) pair while a
# block is processed (distances, relevance, histogram keys, selection masks, sort order).
BYTES_PER_PAIR = 24
MAX_BLOCK_BYTES = 24 * 2**20  # small blocks stay in cache: ~2x faster than 128 MiB


def rows_per_block(n_db, max_block_bytes=MAX_BLOCK_BYTES, bytes_per_pair=BYTES_PER_PAIR):
    """Number of queries per block so that the temporaries stay near ``max_block_bytes``."""
    return int(max(1, min(2048, max_block_bytes // (bytes_per_pair * max(1, n_db)))))


def bucket_counts(dist, n_buckets, rel=None):
    """Per row, the number of items (and of relevant items) at each distance.

    With ``rel``, one bincount of ``distance + n_buckets * relevant`` gives both.
    """
    n_rows, n_cols = dist.shape
    width = n_buckets
    if rel is not None:
        width = 2 * n_buckets
        if width <= 256:
            keys = rel.view(np.uint8) * np.uint8(n_buckets)  # one fast pass each
            keys += dist
        else:
            keys = rel.astype(np.uint16) * np.uint16(n_buckets)
            keys += dist
        dist = keys
    if n_cols >= 1024:
        # One bincount per long row: no intp key array as large as the block.
        counts = np.empty((n_rows, width), dtype=np.intp)
        for i in range(n_rows):
            counts[i] = np.bincount(dist[i], minlength=width)
    else:
        keys = np.arange(n_rows, dtype=np.intp)[:, None] * width + dist
        counts = np.bincount(keys.ravel(), minlength=n_rows * width).reshape(n_rows, width)
    if rel is None:
        return counts
    hist_rel = counts[:, n_buckets:]
    return counts[:, :n_buckets] + hist_rel, hist_rel


def boundary(hist, k):
    """Bucket holding rank ``k`` (1-based) in each row, items before it, items taken from it.

    ``k`` is an int or an array of one cut-off per row; rank ``k`` lies in bucket ``b``
    when ``sum(hist[:b]) < k <= sum(hist[:b + 1])``.
    """
    k = np.broadcast_to(np.asarray(k, dtype=np.int64), (hist.shape[0],))
    cum = np.cumsum(hist, axis=1)
    bucket = np.minimum((cum < k[:, None]).sum(axis=1), hist.shape[1] - 1)
    rows = np.arange(hist.shape[0])
    before = cum[rows, bucket] - hist[rows, bucket]
    return bucket, before, k - before


def first_in_bucket(dist, bucket, n_taken):
    """Mask of the first ``n_taken[i]`` items (database order) of bucket ``bucket[i]``."""
    in_bucket = dist == bucket[:, None].astype(dist.dtype)
    positions = np.cumsum(in_bucket, axis=1, dtype=np.int32)
    return in_bucket & (positions <= n_taken[:, None])


# Top-k of a row of n items samples every 16th column to find its distance threshold
# when n >= 2 * 16 * k; when k is more than half the row, a full stable sort is cheaper.
_SAMPLE_STEP = 16


def select_within(dist, threshold):
    """Row, column and distance of the items with ``dist[i] <= threshold[i]``, row-major."""
    mask = dist <= threshold[:, None].astype(dist.dtype)
    flat = np.flatnonzero(mask)  # much faster than a 2-D nonzero
    rows, cols = np.divmod(flat, dist.shape[1])
    return rows, cols, dist.ravel()[flat]


def sort_csr(rows, dist, ind, n_rows, *, index_ordered=False, by_distance=True):
    """Order (row, distance, index) triples; return ``indptr`` and the sorted columns.

    ``index_ordered``: the triples already come in (row, index) order, so a stable sort
    on (row, distance) suffices: a radix sort when that key fits 16 bits.
    ``by_distance=False`` orders each row by index only (nothing to do when
    ``index_ordered``).
    """
    indptr = np.zeros(n_rows + 1, dtype=np.intp)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    n_ind = int(ind.max()) + 1 if len(ind) else 1
    if not by_distance:
        if index_ordered:
            return indptr, dist, ind
        order = np.argsort(rows.astype(np.int64) * n_ind + ind)
        return indptr, dist[order], ind[order]
    n_dist = int(dist.max()) + 1 if len(dist) else 1
    if index_ordered and n_rows * n_dist <= 2**16:
        key = rows.astype(np.uint16) * np.uint16(n_dist)
        key += dist.astype(np.uint16, copy=False)
        order = np.argsort(key, kind="stable")
    elif n_rows * n_dist * n_ind < 2**62:
        # One unique int64 key per triple: numpy's (SIMD) sort beats a 3-key lexsort.
        key = (rows.astype(np.int64) * n_dist + dist) * n_ind + ind
        order = np.argsort(key)
    else:
        order = np.lexsort((ind, dist, rows))
    return indptr, dist[order], ind[order]


def stable_top(dist, k, n_buckets, hist=None):
    """Distances and indices of the ``k`` first items of each row in (distance, index) order.

    Counting selection: a per-row distance threshold that keeps at least ``k`` items is
    read off a histogram of distances, then only the items under it are sorted. Without
    ``hist`` and for a small ``k``, the histogram of every 16th column suffices: the
    ``k``-th smallest distance of a subset of the row keeps at least ``k`` items of the
    row. With the exact histogram, only the first items (database order) of the boundary
    bucket are kept, so exactly ``k`` items are sorted. When ``k`` is more than half the
    row, the whole row is ordered by numpy's stable sort, a radix (counting) sort for
    these 8/16-bit distances.
    """
    n_rows, n_cols = dist.shape
    if k == 0:
        return np.empty((n_rows, 0), dtype=dist.dtype), np.empty((n_rows, 0), dtype=np.intp)
    if 2 * k > n_cols:
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(dist, order, axis=1), order
    if hist is None and n_cols >= 2 * _SAMPLE_STEP * k:
        sample = bucket_counts(dist[:, ::_SAMPLE_STEP], n_buckets)
        threshold = (np.cumsum(sample, axis=1) < k).sum(axis=1)
        rows, cols, d = select_within(dist, threshold)
    else:
        if hist is None:
            hist = bucket_counts(dist, n_buckets)
        bucket, _, taken = boundary(hist, k)
        rows, cols, d = select_within(dist, bucket)
        # Of the boundary bucket, keep only its first items in database order.
        at_boundary = d == bucket[rows]
        first = np.zeros(n_rows + 1, dtype=np.intp)
        np.cumsum(np.bincount(rows[at_boundary], minlength=n_rows), out=first[1:])
        position = np.cumsum(at_boundary) - 1 - first[rows]
        keep = ~at_boundary | (position < taken[rows])
        rows, cols, d = rows[keep], cols[keep], d[keep]
    indptr, d, cols = sort_csr(rows, d, cols, n_rows, index_ordered=True)
    if len(cols) != n_rows * k:
        position = np.arange(len(cols)) - np.repeat(indptr[:-1], np.diff(indptr))
        keep = position < k
        d, cols = d[keep], cols[keep]
    return d.reshape(n_rows, k), cols.reshape(n_rows, k)
