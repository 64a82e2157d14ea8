"""Search of packed codes block by block over the database, for memory-mapped files.

The numpy backend holds the database in memory; here it stays where it is (a
:class:`numpy.memmap` from ``load_codes(path, mmap_mode="r")`` is read one block at a
time, each block made word-major for the scan) and the best ``k`` of each query are
merged block after block, so the working memory is bounded by scikit-learn's
``working_memory`` setting whatever the size of the database.
"""

import numpy as np

from ..codes._bits import n_words, packed_to_words, words_into_columns
from ._scan import ColumnScan
from ._search import SearchBackend

__all__ = ["PackedSearch"]


class PackedSearch(ColumnScan, SearchBackend):
    """Blocked search of :class:`~skhash.PackedCodes`, with the numpy backend's order.

    Results are those of every other backend: by distance, then database index, with an
    inclusive radius. Blocks are sized from ``sklearn.get_config()["working_memory"]``
    (MiB), which :func:`sklearn.config_context` changes.
    """

    name = "numpy"

    def __init__(self, codes, n_jobs=None):
        self.codes = codes
        self.n_bits, self.bitorder, self.n_jobs = codes.n_bits, codes.bitorder, n_jobs
        # The word-major copy of one block of the database.
        self._block_row_bytes = 8 * n_words(self.n_bits)

    @property
    def n_db(self):
        return len(self.codes)

    @property
    def columns(self):
        """The codes as word-major ``uint64`` words, a view of the file (nothing read): for
        multi-index hashing in place, which reads the codes it checks."""
        packed = self.codes.packed
        if packed.shape[1] % 8:
            raise ValueError(
                f"algorithm='mih' searches a memory-mapped file in place when its codes are "
                f"whole 64-bit words; these have {self.n_bits} bits. Load the codes in "
                f"memory (load_codes(path)) or use algorithm='brute'."
            )
        words = np.asarray(packed).view(np.uint64)
        # One word a code: a row, C-contiguous (the kernels' fastest layout); else a view.
        return words.reshape(1, -1) if words.shape[1] == 1 else words.T

    def database_words(self):
        return packed_to_words(self.codes.packed)

    def database_packed(self):
        return self.codes

    def _column_blocks(self, db_step):
        columns = np.empty((n_words(self.n_bits), min(db_step, self.n_db)), np.uint64)
        for start in range(0, self.n_db, db_step):
            stop = min(start + db_step, self.n_db)
            words_into_columns(self.codes.packed[start:stop], columns)
            yield columns, 0, stop - start, start

    def add(self, packed):
        raise ValueError(
            "A retriever fitted on PackedCodes (e.g. a memory-mapped code file) cannot grow "
            "in place: save the old and new codes together (save_codes) and fit on the "
            "new file, or fit on codes in memory to use partial_fit."
        )
