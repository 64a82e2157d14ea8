"""The brute-force scan over a word-major database, block by block: the search of the
numpy backend (database in memory) and of the memory-mapped one (database on disk).

The compiled kernels (:mod:`skhash.codes._kernels`) stream each word of the database past
the queries; without numba, numpy computes whole blocks of distances
(:func:`~skhash.codes._bits.hamming_columns`) and selects from them. Both give identical
results.
"""

import numpy as np
from joblib import Parallel

from ..codes import _kernels
from ..codes._bits import distance_dtype, hamming_columns
from ..codes._selection import select_within, stable_top
from ..utils._threads import thread_count
from ._search import block_plan, concat_csr, run_blocks

__all__ = ["ColumnScan", "nearest_in_block", "within_in_block"]

# Temporaries of one (query, item) pair of a numpy block: the distances, the XOR word,
# the popcount and the selection of stable_top (mask, sort keys), rounded up. The compiled
# kernels keep none (a chunk of 256 distances a query).
_NUMPY_PAIR_BYTES = 32
_COMPILED_PAIR_BYTES = 1


def nearest_in_block(query_words, columns, first, end, k, n_bits):
    """``(distances, indices)`` of the ``k`` first of items ``first:end`` of a word-major
    database for each query, in (distance, index) order; indices count from 0."""
    if _kernels.enabled():
        dist, ind = _kernels.nearest_neighbours(query_words, columns, first, end, k, n_bits)
        return dist.astype(distance_dtype(query_words.shape[1])), ind.astype(np.intp)
    dist, ind = stable_top(hamming_columns(query_words, columns, first, end), k, n_bits + 1)
    return dist, ind + first


def within_in_block(query_words, columns, first, end, radius):
    """``(rows, distances, indices)`` of the items ``first:end`` within ``radius`` of each
    query, in (row, index) order."""
    if _kernels.enabled():
        indptr, dist, ind = _kernels.within_radius(query_words, columns, first, end, radius)
        rows = np.repeat(np.arange(len(query_words)), np.diff(indptr))
        return rows, dist.astype(distance_dtype(query_words.shape[1])), ind
    dist = hamming_columns(query_words, columns, first, end)
    rows, ind, d = select_within(dist, np.full(len(query_words), radius))
    return rows, d, ind + first


class ColumnScan:
    """``kneighbors`` and ``radius_neighbors`` of a scan, for a backend that hands out its
    database as word-major blocks: ``_column_blocks(db_step)`` yields ``(columns, first,
    end, offset)``, items ``first:end`` of ``columns`` being database items ``offset +
    first`` on. Blocks of queries run in threads (the kernels release the GIL); blocks are
    sized by :func:`~._search.block_plan`."""

    #: Bytes held per database item of a block (a copy read from a file), 0 in memory.
    _block_row_bytes = 0

    def _plan(self, n_query):
        pair_bytes = _COMPILED_PAIR_BYTES if _kernels.enabled() else _NUMPY_PAIR_BYTES
        n_threads = thread_count(self.n_jobs)
        q_step, db_step = block_plan(
            n_query,
            self.n_db,
            pair_bytes=pair_bytes,
            row_bytes=self._block_row_bytes,
            n_threads=n_threads,
        )
        queries = [(s, min(s + q_step, n_query)) for s in range(0, n_query, q_step)]
        return queries, db_step

    def _scan(self, func, n_query):
        """``func(q_start, q_stop, columns, first, end, offset)`` over every pair of blocks,
        database blocks outside; returns the results in that order."""
        query_blocks, db_step = self._plan(n_query)
        n_jobs = thread_count(self.n_jobs) if len(query_blocks) > 1 else 1
        results = []
        with Parallel(n_jobs=n_jobs, require="sharedmem") as parallel:  # one pool for all
            for block in self._column_blocks(db_step):
                blocks = [(qs, qe, *block) for qs, qe in query_blocks]
                results.extend(run_blocks(func, blocks, n_jobs, parallel))
        return query_blocks, results

    def kneighbors(self, query_words, k):
        dtype = distance_dtype(query_words.shape[1])
        best = {}

        def search(qs, qe, columns, first, end, offset):
            d, i = nearest_in_block(
                query_words[qs:qe], columns, first, end, min(k, end - first), self.n_bits
            )
            i += offset
            if qs in best:  # earlier blocks hold lower indices: stable order is index order
                d = np.hstack([best[qs][0], d])
                i = np.hstack([best[qs][1], i])
                d, position = stable_top(d, min(k, d.shape[1]), self.n_bits + 1)
                i = np.take_along_axis(i, position, axis=1)
            best[qs] = d, i

        query_blocks, _ = self._scan(search, len(query_words))
        if not query_blocks:
            return np.empty((0, k), dtype=dtype), np.empty((0, k), dtype=np.intp)
        return (
            np.vstack([best[qs][0] for qs, _ in query_blocks]),
            np.vstack([best[qs][1] for qs, _ in query_blocks]),
        )

    def radius_neighbors(self, query_words, radius, sort=True):
        radius = min(radius, self.n_bits)

        def search(qs, qe, columns, first, end, offset):
            rows, dist, ind = within_in_block(query_words[qs:qe], columns, first, end, radius)
            return rows + qs, dist, ind + offset

        query_blocks, parts = self._scan(search, len(query_words))
        # One database block: the parts come in (row, index) order already.
        one_block = len(parts) == len(query_blocks)
        return concat_csr(parts, len(query_words), sort=sort, index_ordered=one_block)
