"""The interface every search backend of :class:`~skhash.HammingRetriever` implements, and
the one block sizer they share.

A backend holds the database once, as packed ``uint64`` words, and is searched with
queries given as words in the same layout (:func:`skhash.codes._bits.packed_to_words` of
codes packed in the database's bit order): nothing on the search path unpacks to 0/1.
"""

import abc

import numpy as np
from joblib import Parallel, delayed
from sklearn import get_config

from ..codes._io import PackedCodes
from ..codes._selection import sort_csr
from ..utils._threads import thread_count

__all__ = ["SearchBackend", "block_plan", "concat_csr", "run_blocks"]


class SearchBackend(abc.ABC):
    """An exact Hamming search over a database of codes, held once and packed.

    Every backend returns exactly the same neighbours in the same order: by distance, then
    by database index; radius search is inclusive. It is built from a
    :class:`~skhash.PackedCodes` (bytes in either bit order: distances do not depend on
    the order of the bits as long as queries share it) and pickles with its database.
    """

    #: The name ``HammingRetriever.backend_`` reports.
    name: str
    #: Bits per code and the bit order of the packed bytes the database was built from.
    n_bits: int
    bitorder: str

    @abc.abstractmethod
    def kneighbors(self, query_words, k):
        """``(distances, indices)``, each of shape ``(n_queries, k)``, of the ``k`` nearest
        database codes of each query (``uint64`` words); ``k`` is at most the database
        size."""

    @abc.abstractmethod
    def radius_neighbors(self, query_words, radius, sort=True):
        """``(indptr, distances, indices)`` in CSR layout of the database codes within
        ``radius`` of each query, by (distance, index) when ``sort``, else by index."""

    @abc.abstractmethod
    def database_words(self):
        """The database as rows of ``uint64`` words (queries in the search's layout)."""

    @abc.abstractmethod
    def add(self, packed):
        """Append :class:`~skhash.PackedCodes` (in the database's bit order): they get
        the next indices, and every search then equals one on a backend built from the
        whole database."""

    def database_packed(self):
        """The database as :class:`~skhash.PackedCodes`: the bytes of the words, in the
        database's bit order."""
        words = self.database_words()
        packed = words.view(np.uint8)[:, : -(-self.n_bits // 8)]
        return PackedCodes(packed, self.n_bits, self.bitorder)

    def database_codes(self):
        """The database as 0/1 codes, unpacked from the backend's words."""
        return self.database_packed().unpack()


def block_plan(n_query, n_db, *, pair_bytes, row_bytes=0, n_threads=1):
    """``(query_step, db_step)``: blocks of queries and of database items whose
    temporaries fit scikit-learn's ``working_memory`` (MiB, shared by ``n_threads``).

    ``pair_bytes`` are the temporaries of one (query, item) pair, ``row_bytes`` those of
    one database item of a block (a copy of it, when the database is read from a file).
    Database blocks are as long as the budget allows with a few queries (the whole
    database when it fits: fewer merges), then queries fill what is left, at most a
    thread's share of them so that every thread works.
    """
    budget = max(1, int(get_config()["working_memory"] * 2**20) // max(1, n_threads))
    q_share = max(1, -(-n_query // max(1, n_threads)))
    q_few = min(q_share, 64)
    db_step = int(max(1, min(n_db, budget // (pair_bytes * q_few + row_bytes))))
    room = max(0, budget - row_bytes * db_step)
    q_step = int(max(1, min(q_share, room // (pair_bytes * db_step))))
    return q_step, db_step


def run_blocks(func, blocks, n_jobs, parallel=None):
    """``[func(*block) for block in blocks]``, in ``n_jobs`` threads sharing the results
    (the search kernels release the GIL); ``parallel``: a joblib ``Parallel`` to reuse."""
    n_threads = thread_count(n_jobs) if len(blocks) > 1 else 1
    if n_threads == 1:
        return [func(*block) for block in blocks]
    # Threads, even inside a task of joblib's dask backend, whose workers would not share.
    parallel = parallel or Parallel(n_jobs=n_threads, require="sharedmem")
    return parallel(delayed(func)(*block) for block in blocks)


def concat_csr(parts, n_rows, *, sort, index_ordered=False):
    """``(rows, distances, indices)`` parts to one CSR result (see
    :func:`skhash.codes._selection.sort_csr`)."""
    if parts:
        rows = np.concatenate([p[0] for p in parts]).astype(np.intp, copy=False)
        dist = np.concatenate([p[1] for p in parts])
        ind = np.concatenate([p[2] for p in parts]).astype(np.intp, copy=False)
    else:
        rows = ind = np.empty(0, dtype=np.intp)
        dist = np.empty(0, dtype=np.uint8)
    return sort_csr(rows, dist, ind, n_rows, index_ordered=index_ordered, by_distance=sort)
