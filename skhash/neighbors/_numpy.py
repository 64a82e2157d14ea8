"""The numpy backend: the database in memory, word-major, scanned by the compiled kernels
(or numpy without numba)."""

import numpy as np

from ..codes._bits import n_words, words_into_columns
from ._scan import ColumnScan
from ._search import SearchBackend

__all__ = ["NumpySearch"]


class NumpySearch(ColumnScan, SearchBackend):
    """XOR and popcount on packed ``uint64`` words, blocked, threaded: the compiled kernels
    of :mod:`skhash.codes._kernels` when numba is installed, else numpy
    (:func:`numpy.bitwise_count`), with identical results.

    The database is held once, word-major (``(n_words, n)``: word ``w`` of every code in
    one contiguous row, the layout a scan streams), in a buffer with room for
    ``reserve`` more codes, so that :meth:`add` copies nothing old while the room lasts.
    """

    name = "numpy"

    def __init__(self, packed, n_jobs=None, reserve=0):
        self.n_bits, self.bitorder, self.n_jobs = packed.n_bits, packed.bitorder, n_jobs
        self.n_db = 0
        self._columns = np.empty((n_words(self.n_bits), len(packed) + reserve), np.uint64)
        self.add(packed)

    @property
    def columns(self):
        """The buffer of word-major words; codes ``0:n_db`` are the database."""
        return self._columns

    def add(self, packed):
        """Append codes, into the reserved room while it lasts (else a buffer twice as
        large: amortised O(1) a code)."""
        need = self.n_db + len(packed)
        if need > self._columns.shape[1]:
            grown = np.empty((self._columns.shape[0], max(2 * self.n_db, need)), np.uint64)
            grown[:, : self.n_db] = self._columns[:, : self.n_db]
            self._columns = grown
        words_into_columns(packed.packed, self._columns, self.n_db)
        self.n_db = need

    def database_words(self):
        return np.ascontiguousarray(self._columns[:, : self.n_db].T)

    def _column_blocks(self, db_step):
        for first in range(0, self.n_db, db_step):
            yield self._columns, first, min(first + db_step, self.n_db), 0

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_columns"] = np.ascontiguousarray(self._columns[:, : self.n_db])  # no room
        return state
