"""Counting machinery shared by the retrieval metrics and the Hamming retriever.

Every quantity is derived, per block of queries, from integer Hamming distances: the
number of database items and of relevant items at each distance (``n_bits + 1``
buckets), plus the positions inside one distance bucket when the stable
(distance, database index) order matters. No float ``n_query x n_db`` matrix is made and
no comparison sort of a whole row is run.
"""

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs

from .._bits import check_codes, codes_to_words, hamming_block, packed_to_words
from ..utils import check_labels, check_n_jobs, check_same_label_kind

# Upper estimate of the bytes of temporaries per (query, database item) pair while a
# block is processed (distances, relevance, histogram keys, selection masks, sort order).
_BYTES_PER_PAIR = 24
_MAX_BLOCK_BYTES = 24 * 2**20  # small blocks stay in cache: ~2x faster than 128 MiB


def rows_per_block(n_db, max_block_bytes=_MAX_BLOCK_BYTES, bytes_per_pair=_BYTES_PER_PAIR):
    """Number of queries per block so that the temporaries stay near ``max_block_bytes``."""
    return int(max(1, min(2048, max_block_bytes // (bytes_per_pair * max(1, n_db)))))


class Relevance:
    """Relevance of database items to queries: same class, or at least one shared label."""

    def __init__(self, y_query, y_db, n_query, n_db):
        y_query = check_labels(y_query, n_query, "y_query")
        y_db = check_labels(y_db, n_db, "y_db")
        if y_query.ndim == 1 and y_db.ndim == 1:
            check_same_label_kind(("y_query", y_query), ("y_db", y_db))
        if y_query.ndim != y_db.ndim:
            raise ValueError(
                f"y_query is {y_query.ndim}-D but y_db is {y_db.ndim}-D: give both as class "
                f"labels or both as indicator matrices."
            )
        self.multilabel = y_query.ndim == 2
        if self.multilabel:
            if y_query.shape[1] != y_db.shape[1]:
                raise ValueError(
                    f"y_query has {y_query.shape[1]} label columns but y_db has {y_db.shape[1]}."
                )
            both = np.vstack([y_query, y_db]).astype(bool).astype(np.uint8)
            words = packed_to_words(np.packbits(both, axis=1, bitorder="little"))
            self.query, self.db = words[:n_query], words[n_query:]
        else:
            _, codes = np.unique(np.concatenate([y_query, y_db]), return_inverse=True)
            codes = codes.astype(np.intp)
            self.query, self.db = codes[:n_query], codes[n_query:]

    def block(self, start, stop):
        """Boolean relevance of every database item to queries ``start:stop``."""
        if not self.multilabel:
            return self.db[None, :] == self.query[start:stop, None]
        q = self.query[start:stop]
        rel = np.zeros((len(q), len(self.db)), dtype=bool)
        for w in range(q.shape[1]):
            rel |= (q[:, w, None] & self.db[None, :, w]) != 0
        return rel

    def totals(self):
        """Number of relevant database items of each query."""
        out = np.empty(len(self.query), dtype=np.int64)
        step = rows_per_block(len(self.db), bytes_per_pair=2)
        for start in range(0, len(self.query), step):
            stop = min(start + step, len(self.query))
            out[start:stop] = self.block(start, stop).sum(axis=1)
        return out


class RankingProblem:
    """Queries, database and labels, validated, with blocked access to distances.

    ``db_codes=None`` ranks every query against the other queries (leave-one-out): the
    query itself goes to an extra bucket ``n_bits + 1`` that is never retrieved.
    """

    def __init__(self, query_codes, db_codes, y_query=None, y_db=None, *, labels=True, n_jobs=None):
        self.n_jobs = check_n_jobs(n_jobs)
        query_codes = check_codes(query_codes, name="query_codes")
        if query_codes.shape[0] == 0:
            raise ValueError(
                "query_codes holds no codes: a retrieval metric averages over queries, give "
                "at least one."
            )
        self.exclude_self = db_codes is None
        if self.exclude_self:
            if y_db is not None:
                raise ValueError("y_db must be None when db_codes is None (leave-one-out).")
            db_codes, y_db = query_codes, y_query
        else:
            db_codes = check_codes(db_codes, n_bits=query_codes.shape[1], name="db_codes")
        self.n_query, self.n_bits = query_codes.shape
        self.n_db = db_codes.shape[0]
        self.n_candidates = self.n_db - self.exclude_self
        if self.n_candidates < 1:
            raise ValueError(
                "The database is empty: leave-one-out ranking needs at least 2 codes."
                if self.exclude_self
                else "db_codes must hold at least one code."
            )
        self.n_buckets = self.n_bits + 1 + self.exclude_self
        self.query_words = codes_to_words(query_codes)
        self.db_words = codes_to_words(db_codes)
        self.relevance = Relevance(y_query, y_db, self.n_query, self.n_db) if labels else None

    def distances(self, start, stop):
        dist = hamming_block(self.query_words[start:stop], self.db_words)
        if self.exclude_self:
            rows = np.arange(stop - start)
            dist[rows, start + rows] = self.n_bits + 1
        return dist

    def block(self, start, stop, counts=True):
        """Distances, relevance and (with ``counts``) their per-bucket counts."""
        dist = self.distances(start, stop)
        rel = self.relevance.block(start, stop)
        if self.exclude_self:
            rows = np.arange(stop - start)
            rel[rows, start + rows] = False
        if not counts:
            return dist, rel
        hist, hist_rel = bucket_counts(dist, self.n_buckets, rel)
        return dist, rel, hist, hist_rel

    def block_bounds(self, bytes_per_pair=_BYTES_PER_PAIR):
        n_threads = effective_n_jobs(self.n_jobs)
        step = rows_per_block(self.n_db, max(_MAX_BLOCK_BYTES // n_threads, 1), bytes_per_pair)
        step = max(1, min(step, -(-self.n_query // n_threads)))
        return [(s, min(s + step, self.n_query)) for s in range(0, self.n_query, step)]

    def for_each_block(self, func):
        """Call ``func(start, stop)`` on every block of queries, in ``n_jobs`` threads.

        ``func`` writes its results into disjoint slices of preallocated arrays; numpy
        releases the GIL in the distance and counting kernels.
        """
        blocks = self.block_bounds()
        if effective_n_jobs(self.n_jobs) == 1 or len(blocks) == 1:
            for start, stop in blocks:
                func(start, stop)
        else:
            Parallel(n_jobs=self.n_jobs, require="sharedmem")(
                delayed(func)(start, stop) for start, stop in blocks
            )


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


def relevant_in_top(dist, rel, hist, hist_rel, k, ties):
    """Number of relevant items among the ``k`` first of each row (expected for ties)."""
    bucket, _, taken = boundary(hist, k)
    rows = np.arange(hist.shape[0])
    cum_rel = np.cumsum(hist_rel, axis=1)
    before_rel = cum_rel[rows, bucket] - hist_rel[rows, bucket]
    size = hist[rows, bucket]
    if ties == "expected":
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(size > 0, hist_rel[rows, bucket] / size, 0.0)
        return before_rel + taken * share
    partial = (taken < size) & (taken > 0)
    count = before_rel + np.where(taken > 0, hist_rel[rows, bucket], 0)
    if partial.any():
        idx = np.flatnonzero(partial)
        mask = first_in_bucket(dist[idx], bucket[idx], taken[idx])
        count[idx] = before_rel[idx] + (mask & rel[idx]).sum(axis=1)
    return count


def harmonic(n):
    """``H[i] = 1 + 1/2 + ... + 1/i`` for ``i = 0..n``."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n + 1))])
