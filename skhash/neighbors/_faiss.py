"""The faiss backend: ``IndexBinaryFlat``, which holds the database (its one copy)."""

from contextlib import contextmanager

import numpy as np

from ..codes._bits import distance_dtype, n_words, packed_to_words
from ..codes._selection import sort_csr
from ..utils import import_optional
from ..utils._threads import thread_count
from ._search import SearchBackend

__all__ = ["FaissSearch", "faiss_available"]


def _import_faiss():
    return import_optional("faiss", extra="faiss", purpose="backend='faiss'")


def faiss_available():
    try:
        _import_faiss()
    except ImportError:
        return False
    return True


class FaissSearch(SearchBackend):
    """faiss ``IndexBinaryFlat`` with the (distance, index) order and an inclusive radius.

    faiss counts differing bits over whole bytes, in any bit order: the packed bytes go in
    as they are. Its radius is exclusive, so radius ``r`` is asked as ``r + 1``; ties are
    put in database order afterwards.
    """

    name = "faiss"

    def __init__(self, packed, n_jobs=None):
        faiss = _import_faiss()
        self.n_jobs = n_jobs
        self.n_bits, self.bitorder = packed.n_bits, packed.bitorder
        self.n_bytes = packed.packed.shape[1]
        self.index = faiss.IndexBinaryFlat(8 * self.n_bytes)
        self.add(packed)

    @contextmanager
    def _threads(self):
        """Run faiss with ``n_jobs`` OpenMP threads (spinning idle threads cost a lot on
        small requests), then restore its setting."""
        faiss = _import_faiss()
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(thread_count(self.n_jobs))
        try:
            yield
        finally:
            faiss.omp_set_num_threads(before)

    def _query_bytes(self, query_words):
        return np.ascontiguousarray(query_words.view(np.uint8)[:, : self.n_bytes])

    def kneighbors(self, query_words, k):
        with self._threads():
            dist, ind = self.index.search(self._query_bytes(query_words), k)
        # faiss's heaps keep the lowest indices among ties but do not order them.
        if k > 1:
            order = np.lexsort((ind, dist), axis=1)
            dist = np.take_along_axis(dist, order, axis=1)
            ind = np.take_along_axis(ind, order, axis=1)
        dtype = distance_dtype(n_words(self.n_bits))
        return dist.astype(dtype), ind.astype(np.intp, copy=False)

    def radius_neighbors(self, query_words, radius, sort=True):
        radius = min(radius, self.n_bits)
        with self._threads():
            lims, dist, ind = self.index.range_search(self._query_bytes(query_words), radius + 1)
        rows = np.repeat(np.arange(len(query_words)), np.diff(lims.astype(np.intp)))
        dist = dist.astype(distance_dtype(n_words(self.n_bits)))
        return sort_csr(rows, dist, ind.astype(np.intp), len(query_words), by_distance=sort)

    def database_words(self):
        faiss = _import_faiss()
        packed = faiss.vector_to_array(self.index.xb).reshape(-1, self.n_bytes)
        return packed_to_words(packed)

    def add(self, packed):
        self.index.add(np.ascontiguousarray(packed.packed))

    def __getstate__(self):
        return {
            "n_bits": self.n_bits,
            "bitorder": self.bitorder,
            "n_jobs": self.n_jobs,
            "packed": self.database_words().view(np.uint8)[:, : self.n_bytes].copy(),
        }

    def __setstate__(self, state):
        from ..codes._io import PackedCodes

        packed = PackedCodes(state["packed"], state["n_bits"], state.get("bitorder", "little"))
        self.__init__(packed, n_jobs=state["n_jobs"])
