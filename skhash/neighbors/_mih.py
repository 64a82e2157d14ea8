"""Exact multi-index hashing (Norouzi, Punjani & Fleet, TPAMI 2014) over the numpy backend.

The codes are cut into ``m`` substrings of about ``log2(n)`` bits each; one table per
substring lists the codes by the substring's value. A code within Hamming distance ``r``
of a query has a substring within ``r // m`` of the query's (pigeonhole), so a search
looks up the values near the query's substrings, from distance 0 up, and checks the codes
it meets in full; it stops as soon as the ``k``-th distance is certain. Results are those
of the brute-force scan, ties by database index. It wins when the neighbours are near
(clustered codes); on random codes, whose ``k``-th distance is about a quarter of the
bits, it would look at most of the database, and ``algorithm="auto"`` scans instead.
"""

import math

import numpy as np

from ..codes._bits import distance_dtype
from ..codes._selection import sort_csr
from ..utils._threads import thread_count
from ._numpy import NumpySearch
from ._packed import PackedSearch
from ._scan import nearest_in_block, within_in_block
from ._search import SearchBackend, run_blocks

__all__ = ["MIHSearch", "default_substrings"]

# Longest substring: its table has 2**length + 1 offsets (int64: 256 MiB at 25 bits).
MAX_SUBSTRING_BITS = 25
# Codes added without a rebuild of the tables, at least (and at least an eighth of them).
_MIN_TAIL_REBUILD = 2**16
# Queries of the sample on which algorithm="auto" measures MIH's work.
_AUTO_SAMPLE = 16
# A code MIH looks at costs about this many codes of a scan (random access and checks
# against a vectorised stream: 100-1000x, more as the database outgrows the caches).
_LOOK_COST = 400


def default_substrings(n_db, n_bits):
    """Substrings of about ``log2(n_db)`` bits (the paper's choice), at most
    :data:`MAX_SUBSTRING_BITS` and at least one bit each."""
    per_substring = min(MAX_SUBSTRING_BITS, max(1.0, math.log2(max(n_db, 2))))
    return min(n_bits, max(1, round(n_bits / per_substring)))


def _index_dtype(n):
    return np.int32 if n < 2**31 else np.int64


def _kernels():
    from . import _mih_kernels

    return _mih_kernels


class MIHSearch(SearchBackend):
    """Multi-index hashing over the numpy backend's words (its one copy of the database),
    or, ``in_place``, over the words of a memory-mapped file where they are.

    ``mode="mih"`` always searches the tables; ``mode="auto"`` first measures, on a few
    queries of each call, how many codes MIH looks at, and scans instead when that costs
    more than a scan.
    """

    name = "numpy"

    def __init__(self, packed, n_jobs=None, n_substrings=None, mode="mih", in_place=False):
        if in_place:  # a memory-mapped file, read where it is (and nothing can be added)
            self.scan = PackedSearch(packed, n_jobs)
        else:  # with room for the tail of added codes that the tables hold back (see add)
            reserve = max(len(packed) // 8, _MIN_TAIL_REBUILD)
            self.scan = NumpySearch(packed, n_jobs, reserve=reserve)
        self.n_bits, self.bitorder = packed.n_bits, packed.bitorder
        self.n_jobs = n_jobs
        self.mode = mode
        # The substrings cover the bit positions the code occupies in its words: its first
        # n_bits in little order, whole bytes in big order (the last byte's bits sit at its
        # top); padding is zero on both sides, so it adds no distance.
        span = self.n_bits if self.bitorder == "little" else 8 * -(-self.n_bits // 8)
        m = n_substrings or default_substrings(len(packed), span)
        lengths = np.full(m, span // m, dtype=np.int64)
        lengths[: span % m] += 1
        if lengths.max() > MAX_SUBSTRING_BITS:
            raise ValueError(
                f"n_substrings={m} gives substrings of {lengths.max()} bits for "
                f"{self.n_bits}-bit codes; use at least {-(-span // MAX_SUBSTRING_BITS)}."
            )
        self.lengths = lengths
        self.starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.bases = np.concatenate([[0], np.cumsum(2**lengths + 1)[:-1]]).astype(np.int64)
        self._build()

    @property
    def n_substrings(self):
        return len(self.lengths)

    def _build(self):
        kernels = _kernels()
        columns, n = self.scan.columns, self.scan.n_db
        self.n_indexed = n
        self.offsets = np.empty(int(np.sum(2**self.lengths + 1)), dtype=np.int64)
        self.ids = np.empty(self.n_substrings * n, dtype=_index_dtype(n))
        for j, (start, length) in enumerate(zip(self.starts, self.lengths, strict=True)):
            table = slice(self.bases[j], self.bases[j] + 2**length + 1)
            kernels.build_table(
                columns, n, start, length, self.offsets[table], self.ids[j * n : (j + 1) * n]
            )

    def database_words(self):
        return self.scan.database_words()

    def database_packed(self):
        return self.scan.database_packed()

    def add(self, packed):
        """Append codes. They join an unindexed tail, which every query scans (their
        indices are the largest, so merging keeps ties in index order); the tables are
        rebuilt once the tail reaches an eighth of the indexed codes (at least 2**16), so a
        partial_fit costs O(new codes) and the rebuilds O(1) per code over time."""
        self.scan.add(packed)
        tail = self.scan.n_db - self.n_indexed
        if tail >= max(self.n_indexed // 8, _MIN_TAIL_REBUILD):
            self._build()

    def _tables(self):
        """The kernels' tables: the indexed codes (not the tail), substrings and buckets."""
        columns = self.scan.columns
        return (
            columns,
            self.n_indexed,
            self.starts,
            self.lengths,
            self.bases,
            self.offsets,
            self.ids,
        )

    @property
    def _budget(self):
        """Work (table lookups and codes looked at) after which a query is scanned instead."""
        return max(1024, self.scan.n_db // _LOOK_COST)

    def _map(self, func, q_words):
        """``func(start, stop)`` over blocks of queries, in threads (the kernels release
        the GIL)."""
        step = max(1, -(-len(q_words) // (4 * thread_count(self.n_jobs))))  # balanced work
        blocks = [(s, min(s + step, len(q_words))) for s in range(0, len(q_words), step)]
        return run_blocks(func, blocks, self.n_jobs)

    def _mih_wins(self, q_words, run):
        """Whether MIH searches this call: always with ``mode="mih"``; with ``"auto"`` when,
        on a sample of the queries, it gives up on few and looks at few codes.
        ``run(words, looked)`` searches the sample with the kernel."""
        if self.mode == "mih":
            return True
        sample = q_words[:: max(1, len(q_words) // _AUTO_SAMPLE)][:_AUTO_SAMPLE]
        looked = np.zeros(len(sample), dtype=np.int64)
        run(sample, looked)
        cost = _LOOK_COST * np.mean(np.where(looked < 0, self._budget, looked))
        return np.mean(looked < 0) <= 0.25 and cost < self.scan.n_db

    def _knn(self, q_words, k, looked):
        """The kernel's k-NN of ``q_words`` (rows it gave up on are left unfilled)."""
        dist = np.empty((len(q_words), k), dtype=np.int64)
        ind = np.empty((len(q_words), k), dtype=np.int64)
        _kernels().knn(q_words, self._tables(), k, self.n_bits, self._budget, dist, ind, looked)
        return dist, ind

    def _within(self, q_words, radius, looked):
        return _kernels().within(q_words, self._tables(), radius, self.n_bits, self._budget, looked)

    def _with_tail_neighbours(self, q_words, dist, ind, k):
        """The ``k`` nearest among the tables' and the tail's, by (distance, index)."""
        tail_k = min(k, self.scan.n_db - self.n_indexed)
        n = self.scan.n_db
        tail_dist, tail_ind = nearest_in_block(
            q_words, self.scan.columns, self.n_indexed, n, tail_k, self.n_bits
        )
        keys = np.hstack([dist * n + ind, tail_dist.astype(np.int64) * n + tail_ind])
        keys = np.sort(keys, axis=1)[:, :k]
        return keys // n, keys % n

    def kneighbors(self, q_words, k):
        if len(q_words) == 0 or not self._mih_wins(
            q_words, lambda words, looked: self._knn(words, k, looked)
        ):
            return self.scan.kneighbors(q_words, k)
        looked = np.zeros(len(q_words), dtype=np.int64)
        k_indexed = min(k, self.n_indexed)
        parts = self._map(lambda a, b: self._knn(q_words[a:b], k_indexed, looked[a:b]), q_words)
        dist = np.vstack([p[0] for p in parts])
        ind = np.vstack([p[1] for p in parts])
        if self.scan.n_db > self.n_indexed:
            dist, ind = self._with_tail_neighbours(q_words, dist, ind, k)
        given_up = np.flatnonzero(looked < 0)
        if len(given_up):  # far neighbours: scanned
            dist[given_up], ind[given_up] = self.scan.kneighbors(q_words[given_up], k)
        return dist.astype(distance_dtype(q_words.shape[1])), ind.astype(np.intp)

    def radius_neighbors(self, q_words, radius, sort=True):
        radius = min(radius, self.n_bits)
        if len(q_words) == 0 or not self._mih_wins(
            q_words, lambda words, looked: self._within(words, radius, looked)
        ):
            return self.scan.radius_neighbors(q_words, radius, sort=sort)
        looked = np.zeros(len(q_words), dtype=np.int64)

        def search(start, stop):
            rows, dist, ind = self._within(q_words[start:stop], radius, looked[start:stop])
            return rows + start, dist, ind

        parts = self._map(search, q_words)
        if self.scan.n_db > self.n_indexed:
            rows, dist, ind = within_in_block(
                q_words, self.scan.columns, self.n_indexed, self.scan.n_db, radius
            )
            keep = ~np.isin(rows, np.flatnonzero(looked < 0))  # those are scanned whole
            parts.append((rows[keep], dist[keep], ind[keep]))
        given_up = np.flatnonzero(looked < 0)
        if len(given_up):  # a far-reaching radius: scanned
            indptr, dist, ind = self.scan.radius_neighbors(q_words[given_up], radius, sort=False)
            parts.append(
                (given_up[np.repeat(np.arange(len(given_up)), np.diff(indptr))], dist, ind)
            )
        rows = np.concatenate([p[0] for p in parts]).astype(np.intp)
        dist = np.concatenate([p[1] for p in parts]).astype(distance_dtype(q_words.shape[1]))
        ind = np.concatenate([p[2] for p in parts]).astype(np.intp)
        return sort_csr(rows, dist, ind, len(q_words), by_distance=sort)
