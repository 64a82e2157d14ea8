"""Exact Hamming search backends: numpy (default), faiss and torch.

Every backend returns exactly the same neighbours in the same order: by distance, then by
database index; radius search is inclusive. A backend is built from validated 0/1 codes,
keeps them packed (the retriever's one copy of its database), and implements
:class:`~skhash.neighbors._search.SearchBackend`.
"""

from contextlib import contextmanager

import numpy as np
from joblib import Parallel, delayed

from ..codes import _kernels
from ..codes._bits import (
    codes_to_words,
    distance_dtype,
    hamming_block,
    pack_codes,
    packed_to_words,
    unpack_codes,
)
from ..codes._selection import rows_per_block, select_within, sort_csr, stable_top
from ..utils import import_optional
from ..utils._threads import thread_count
from ..utils._torch import resolve_device, usable_device
from ._search import SearchBackend

__all__ = ["BACKENDS", "make_backend"]

# Temporaries per (query, database item) pair in one numpy search block: the distances,
# bincount keys (intp) and the selection mask, plus the uint64 XOR buffer of hamming_block.
_SEARCH_BYTES_PER_PAIR = 12
_SEARCH_BLOCK_BYTES = 128 * 2**20


def database_layout(words, compiled):
    """A database block as the block searches want it: word-major for the compiled kernels
    (:func:`skhash.codes._kernels.word_columns`), else the ``uint64`` words themselves."""
    return _kernels.word_columns(words) if compiled else words


def nearest_in_block(query_words, block, k, n_bits, compiled):
    """``(distances, indices)`` of the ``k`` first items of a database block for each query,
    in (distance, index) order; ``block`` in :func:`database_layout`."""
    if compiled:
        dist, ind = _kernels.nearest_neighbours(query_words, block, k, n_bits)
        return dist.astype(distance_dtype(query_words.shape[1])), ind.astype(np.intp)
    return stable_top(hamming_block(query_words, block), k, n_bits + 1)


def within_in_block(query_words, block, radius, compiled):
    """``(rows, distances, indices)`` of the block's items within ``radius`` of each query,
    in (row, index) order; ``block`` in :func:`database_layout`."""
    if compiled:
        indptr, dist, ind = _kernels.within_radius(query_words, block, radius)
        rows = np.repeat(np.arange(len(query_words)), np.diff(indptr))
        return rows, dist.astype(distance_dtype(query_words.shape[1])), ind
    dist = hamming_block(query_words, block)
    rows, ind, d = select_within(dist, np.full(len(query_words), radius))
    return rows, d, ind


class NumpySearch(SearchBackend):
    """XOR and popcount on packed ``uint64`` words, blocked, threaded: the compiled kernels
    of :mod:`skhash.codes._kernels` when numba is installed, else numpy
    (:func:`numpy.bitwise_count`), with identical results."""

    name = "numpy"

    def __init__(self, codes, n_jobs=None, reserve=0):
        self.n_bits = codes.shape[1]
        self.n_jobs = n_jobs
        words = codes_to_words(codes)
        if reserve:  # room for ``reserve`` more rows: add() then copies nothing old
            self._buffer = np.empty((len(words) + reserve, words.shape[1]), dtype=np.uint64)
            self._buffer[: len(words)] = words
            words = self._buffer[: len(words)]
        self.words = words

    def database_codes(self):
        """The database as 0/1 codes, unpacked from the words (the backend's one copy)."""
        packed = self.words.view(np.uint8)[:, : -(-self.n_bits // 8)]  # without the padding
        return unpack_codes(packed, self.n_bits, bitorder="little")

    def add(self, codes):
        """Append codes, into the reserved room while it lasts (else a buffer twice as
        large: amortised O(1) a code)."""
        new = codes_to_words(codes)
        n, n_new = len(self.words), len(new)
        buffer = self.__dict__.get("_buffer")
        if buffer is None or len(buffer) < n + n_new:
            buffer = np.empty((max(2 * n, n + n_new), self.words.shape[1]), dtype=np.uint64)
            buffer[:n] = self.words
            self._buffer = buffer
        buffer[n : n + n_new] = new
        self.words = buffer[: n + n_new]
        self.__dict__.pop("_word_columns", None)  # made again at the next search

    def _database(self, compiled):
        """The database in :func:`database_layout` (the word-major copy made once, not
        pickled)."""
        if not compiled:
            return self.words
        if "_word_columns" not in self.__dict__:
            self._word_columns = database_layout(self.words, compiled=True)
        return self._word_columns

    def _blocks(self, n_query):
        step = rows_per_block(len(self.words), _SEARCH_BLOCK_BYTES, _SEARCH_BYTES_PER_PAIR)
        n_threads = thread_count(self.n_jobs)
        # Enough blocks to keep every thread busy.
        step = max(1, min(step, -(-n_query // n_threads)))
        return [(s, min(s + step, n_query)) for s in range(0, n_query, step)]

    def _map(self, func, n_query):
        blocks = self._blocks(n_query)
        if thread_count(self.n_jobs) == 1 or len(blocks) == 1:
            return [func(s, e) for s, e in blocks]
        # numpy releases the GIL in the XOR/popcount/bincount kernels.
        return Parallel(n_jobs=thread_count(self.n_jobs), require="sharedmem")(
            delayed(func)(s, e) for s, e in blocks
        )

    def kneighbors(self, codes, k):
        qwords = codes_to_words(codes)
        dtype = distance_dtype(self.words.shape[1])
        compiled = _kernels.enabled()
        database = self._database(compiled)

        def search(start, stop):
            return nearest_in_block(qwords[start:stop], database, k, self.n_bits, compiled)

        parts = self._map(search, len(qwords))
        if not parts:
            return np.empty((0, k), dtype=dtype), np.empty((0, k), dtype=np.intp)
        return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])

    def radius_neighbors(self, codes, radius, sort=True):
        qwords = codes_to_words(codes)
        radius = min(radius, self.n_bits)
        compiled = _kernels.enabled()
        database = self._database(compiled)

        def search(start, stop):
            rows, dist, ind = within_in_block(qwords[start:stop], database, radius, compiled)
            return rows + start, dist, ind

        parts = self._map(search, len(qwords))
        return _concat_csr(parts, len(qwords), index_ordered=True, sort=sort)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["words"]
        state.pop("_word_columns", None)
        state.pop("_buffer", None)
        state["packed"] = self.words.view(np.uint8)
        return state

    def __setstate__(self, state):
        packed = state.pop("packed")
        self.__dict__.update(state)
        self.words = np.ascontiguousarray(packed).view(np.uint64)


def _concat_csr(parts, n_rows, index_ordered=False, sort=True):
    if parts:
        rows = np.concatenate([p[0] for p in parts])
        dist = np.concatenate([p[1] for p in parts])
        ind = np.concatenate([p[2] for p in parts]).astype(np.intp, copy=False)
    else:
        rows = ind = np.empty(0, dtype=np.intp)
        dist = np.empty(0, dtype=np.uint8)
    return sort_csr(rows, dist, ind, n_rows, index_ordered=index_ordered, by_distance=sort)


class FaissSearch(SearchBackend):
    """faiss ``IndexBinaryFlat`` with the (distance, index) order and an inclusive radius.

    faiss wants whole bytes: codes are packed little-endian (faiss's bit order) and padded
    with zero bits, which leaves distances unchanged. Its radius is exclusive, so radius
    ``r`` is asked as ``r + 1``; ties are put in database order afterwards.
    """

    name = "faiss"

    def __init__(self, codes, n_jobs=None):
        faiss = _import_faiss()
        self.n_jobs = n_jobs
        self.n_bits = codes.shape[1]
        self.packed = pack_codes(codes, bitorder="little")
        self.index = faiss.IndexBinaryFlat(8 * self.packed.shape[1])
        self.index.add(self.packed)

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

    def kneighbors(self, codes, k):
        with self._threads():
            dist, ind = self.index.search(pack_codes(codes, bitorder="little"), k)
        dtype = distance_dtype(-(-self.n_bits // 64))
        # faiss's heaps keep the lowest indices among ties but do not order them.
        order = np.lexsort((ind, dist), axis=1) if k > 1 else None
        if order is not None:
            dist = np.take_along_axis(dist, order, axis=1)
            ind = np.take_along_axis(ind, order, axis=1)
        return dist.astype(dtype), ind.astype(np.intp, copy=False)

    def radius_neighbors(self, codes, radius, sort=True):
        queries = pack_codes(codes, bitorder="little")
        radius = min(radius, self.n_bits)
        with self._threads():
            lims, dist, ind = self.index.range_search(queries, radius + 1)
        rows = np.repeat(np.arange(len(queries)), np.diff(lims.astype(np.intp)))
        dtype = distance_dtype(-(-self.n_bits // 64))
        dist, ind = dist.astype(dtype), ind.astype(np.intp)
        return sort_csr(rows, dist, ind, len(queries), by_distance=sort)

    def database_codes(self):
        return unpack_codes(self.packed, self.n_bits, bitorder="little")

    def add(self, codes):
        packed = pack_codes(codes, bitorder="little")
        self.index.add(packed)
        self.packed = np.concatenate([self.packed, packed])

    def __getstate__(self):
        return {"n_bits": self.n_bits, "packed": self.packed, "n_jobs": self.n_jobs}

    def __setstate__(self, state):
        codes = np.unpackbits(state["packed"], axis=1, count=state["n_bits"], bitorder="little")
        self.__init__(codes, n_jobs=state["n_jobs"])


class TorchSearch(SearchBackend):
    """Distances as one matrix product on a torch device (CUDA, or the CPU).

    Codes become +-1 vectors, whose dot product is ``n_bits - 2 * distance``: a float32
    product of +-1 values is exact for any code length up to 2^24 bits (TF32 too), and a
    GEMM is what a GPU does fastest. The database stays as int64 words on the device and
    is expanded to +-1 one block at a time. The exact (distance, index) order comes from
    ``topk`` on the key ``distance * n_db + index``; ``k`` has no upper limit besides the
    database size.
    """

    name = "torch"
    # Bits of database codes expanded to +-1 at a time, and bytes of one block of results.
    _BLOCK_BITS = 2**22
    _RESULT_BYTES = 64 * 2**20

    def __init__(self, codes, device="auto"):
        _import_torch()  # a clear ImportError when torch is missing
        self.device = resolve_device(device)
        self.n_bits = codes.shape[1]
        self.packed = pack_codes(codes, bitorder="little")
        self.db = self._words(self.packed)
        self.db_step = max(1, self._BLOCK_BITS // self.n_bits)

    @property
    def n_db(self):
        return len(self.packed)

    @property
    def query_step(self):
        # float32 products and int64 keys for each (query, database item) pair of a block
        return max(1, self._RESULT_BYTES // (12 * min(self.db_step, self.n_db)))

    def add(self, codes):
        packed = pack_codes(codes, bitorder="little")
        self.db = self._torch.cat([self.db, self._words(packed)])
        self.packed = np.concatenate([self.packed, packed])

    def _words(self, packed):
        """Packed little-endian bytes as int64 words on the device."""
        words = packed_to_words(packed)
        return self._torch.from_numpy(words.view(np.int64)).to(self.device)

    def _signs(self, words):
        """int64 words -> +-1 float32 codes of shape ``(n, n_bits)``."""
        torch = self._torch
        shifts = torch.arange(64, device=self.device)
        bits = (words[:, :, None] >> shifts) & 1
        signs = bits.reshape(len(words), -1)[:, : self.n_bits].to(torch.float32)
        return signs.mul_(2).sub_(1)

    @property
    def _torch(self):
        return _import_torch()

    def _blocks(self, queries):
        """``(query offset, database offset, distances)`` for every pair of blocks."""
        torch = self._torch
        for start in range(0, self.n_db, self.db_step):
            stop = min(start + self.db_step, self.n_db)
            db_signs = self._signs(self.db[start:stop]).T
            for qs in range(0, len(queries), self.query_step):
                product = self._signs(queries[qs : qs + self.query_step]) @ db_signs
                yield qs, start, ((self.n_bits - product) * 0.5).to(torch.int64)

    def kneighbors(self, codes, k):
        torch = self._torch
        queries = self._words(pack_codes(codes, bitorder="little"))
        best = {}
        for qs, start, dist in self._blocks(queries):
            keys = dist * self.n_db + torch.arange(start, start + dist.shape[1], device=self.device)
            if qs in best:
                keys = torch.cat([best[qs], keys], dim=1)
            best[qs] = torch.topk(keys, min(k, keys.shape[1]), dim=1, largest=False).values
        dtype = distance_dtype(-(-self.n_bits // 64))
        if not best:
            return np.empty((0, k), dtype=dtype), np.empty((0, k), dtype=np.intp)
        keys = torch.cat([best[qs] for qs in sorted(best)]).cpu().numpy()
        return (keys // self.n_db).astype(dtype), (keys % self.n_db).astype(np.intp)

    def radius_neighbors(self, codes, radius, sort=True):
        torch = self._torch
        queries = self._words(pack_codes(codes, bitorder="little"))
        dtype = distance_dtype(-(-self.n_bits // 64))
        parts = []
        for qs, start, dist in self._blocks(queries):
            rows, cols = torch.nonzero(dist <= radius, as_tuple=True)
            parts.append(
                (
                    rows.cpu().numpy() + qs,
                    dist[rows, cols].cpu().numpy().astype(dtype),
                    cols.cpu().numpy() + start,
                )
            )
        return _concat_csr(parts, len(queries), sort=sort)

    def database_codes(self):
        return unpack_codes(self.packed, self.n_bits, bitorder="little")

    def __getstate__(self):
        return {"n_bits": self.n_bits, "packed": self.packed, "device": str(self.device)}

    def __setstate__(self, state):
        codes = np.unpackbits(state["packed"], axis=1, count=state["n_bits"], bitorder="little")
        self.__init__(
            codes, device=usable_device(state["device"], "HammingRetriever(backend='torch')")
        )


def _import_faiss():
    return import_optional("faiss", extra="faiss", purpose="backend='faiss'")


def _import_torch():
    return import_optional("torch", extra="torch", purpose="backend='torch'")


def faiss_available():
    try:
        _import_faiss()
    except ImportError:
        return False
    return True


BACKENDS = {"numpy": NumpySearch, "faiss": FaissSearch, "torch": TorchSearch}


def make_backend(name, codes, *, n_jobs=None, device="auto"):
    """Build the search backend ``name`` (``"auto"``: faiss when installed, else numpy)."""
    if name == "auto":
        name = "faiss" if faiss_available() else "numpy"
    if name == "torch":
        return TorchSearch(codes, device=device)  # the device runs its own threads
    return BACKENDS[name](codes, n_jobs=n_jobs)
