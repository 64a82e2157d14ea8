"""Search of packed codes block by block over the database, for memory-mapped files.

The numpy backend holds the database as ``uint64`` words and computes whole rows of
distances; here the database stays where it is (a :class:`numpy.memmap` from
``load_codes(path, mmap_mode="r")`` is read one block at a time) and the best ``k`` of each
query are merged block after block, so the working memory is bounded by scikit-learn's
``working_memory`` setting whatever the size of the database.
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn import get_config

from ..codes import _kernels
from ..codes._bits import distance_dtype, pack_codes, packed_to_words
from ..codes._selection import sort_csr, stable_top
from ..utils._threads import thread_count
from ._backends import database_layout, nearest_in_block, within_in_block
from ._search import SearchBackend

__all__ = ["PackedSearch"]

# Temporaries per (query, database item) pair of a block: distance, XOR word, popcount,
# and the selection of stable_top (mask, sort keys), rounded up.
_BYTES_PER_PAIR = 32
_MAX_QUERIES_PER_BLOCK = 256
_MIN_DB_ROWS_PER_BLOCK = 8192


class PackedSearch(SearchBackend):
    """Blocked search of :class:`~skhash.PackedCodes`, with the numpy backend's order.

    Results are those of every other backend: by distance, then database index, with an
    inclusive radius. Blocks are sized from ``sklearn.get_config()["working_memory"]``
    (MiB), which :func:`sklearn.config_context` changes.
    """

    name = "numpy"

    def __init__(self, codes, n_jobs=None):
        self.codes = codes
        self.n_bits = codes.n_bits
        self.n_jobs = n_jobs

    def database_codes(self):
        """The database as 0/1 codes, unpacked in memory."""
        return self.codes.unpack()

    def _query_words(self, codes):
        return packed_to_words(pack_codes(codes, bitorder=self.codes.bitorder))

    def _blocks(self, n_query):
        """Query blocks and database blocks whose pairs fit the working memory."""
        budget = int(get_config()["working_memory"] * 2**20)
        n_db = len(self.codes)
        n_threads = thread_count(self.n_jobs)
        per_thread = budget // n_threads
        # Long database blocks first (few merges), then as many queries as fit.
        q_step = per_thread // (_BYTES_PER_PAIR * _MIN_DB_ROWS_PER_BLOCK)
        q_step = max(1, min(q_step, _MAX_QUERIES_PER_BLOCK, -(-n_query // n_threads)))
        row_bytes = 8 * max(1, -(-self.codes.packed.shape[1] // 8))
        db_step = per_thread // (_BYTES_PER_PAIR * q_step + row_bytes)
        db_step = int(max(1, min(n_db, db_step)))
        queries = [(s, min(s + q_step, n_query)) for s in range(0, n_query, q_step)]
        return queries, [(s, min(s + db_step, n_db)) for s in range(0, n_db, db_step)]

    def _run(self, func, query_blocks, db_blocks, compiled):
        """``func(q_start, q_stop, db_start, block)`` over every pair of blocks, the database
        block in :func:`~._backends.database_layout`."""
        n_jobs = thread_count(self.n_jobs) if len(query_blocks) > 1 else 1
        # Threads (numpy releases the GIL in its kernels) sharing ``func``'s results, even
        # inside a task of joblib's dask backend, whose workers would not share them.
        with Parallel(n_jobs=n_jobs, require="sharedmem") as parallel:
            for db_start, db_stop in db_blocks:
                words = packed_to_words(self.codes.packed[db_start:db_stop])
                block = database_layout(words, compiled)
                parallel(delayed(func)(qs, qe, db_start, block) for qs, qe in query_blocks)

    def add(self, codes):
        raise ValueError(
            "A retriever fitted on PackedCodes (e.g. a memory-mapped code file) cannot grow "
            "in place: save the old and new codes together (save_codes) and fit on the "
            "new file, or fit on codes in memory to use partial_fit."
        )

    def kneighbors(self, codes, k):
        qwords = self._query_words(codes)
        n_query = len(qwords)
        n_buckets = self.n_bits + 1
        dtype = distance_dtype(qwords.shape[1])
        best_d = np.empty((n_query, 0), dtype=dtype)
        best_i = np.empty((n_query, 0), dtype=np.intp)
        query_blocks, db_blocks = self._blocks(n_query)
        best = {qs: (best_d[qs:qe], best_i[qs:qe]) for qs, qe in query_blocks}

        compiled = _kernels.enabled()

        def search(qs, qe, db_start, block):
            n_block = block.shape[1] if compiled else len(block)
            d, i = nearest_in_block(qwords[qs:qe], block, min(k, n_block), self.n_bits, compiled)
            # Earlier blocks hold lower indices and come first: the stable (distance,
            # position) order of the concatenation is the (distance, index) order.
            d = np.hstack([best[qs][0], d])
            i = np.hstack([best[qs][1], i + db_start])
            d, position = stable_top(d, min(k, d.shape[1]), n_buckets)
            best[qs] = d, np.take_along_axis(i, position, axis=1)

        self._run(search, query_blocks, db_blocks, compiled)
        if not query_blocks:
            return np.empty((0, k), dtype=dtype), np.empty((0, k), dtype=np.intp)
        return (
            np.vstack([best[qs][0] for qs, _ in query_blocks]),
            np.vstack([best[qs][1] for qs, _ in query_blocks]),
        )

    def radius_neighbors(self, codes, radius, sort=True):
        qwords = self._query_words(codes)
        n_query = len(qwords)
        radius = min(radius, self.n_bits)
        parts = []
        compiled = _kernels.enabled()

        def search(qs, qe, db_start, block):
            rows, d, cols = within_in_block(qwords[qs:qe], block, radius, compiled)
            parts.append((rows + qs, d, cols + db_start))

        self._run(search, *self._blocks(n_query), compiled)
        if parts:
            rows, dist, ind = (np.concatenate(p) for p in zip(*parts, strict=True))
        else:
            rows = ind = np.empty(0, dtype=np.intp)
            dist = np.empty(0, dtype=distance_dtype(qwords.shape[1]))
        return sort_csr(rows, dist, ind.astype(np.intp, copy=False), n_query, by_distance=sort)
