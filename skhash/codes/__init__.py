"""Binary codes: validation, packing and bit order, Hamming distances, the selection of
the nearest and the blocks they are computed in, code files, and export to faiss and
PostgreSQL. :mod:`skhash.metrics` and :mod:`skhash.neighbors` both build on this package
and on nothing of each other's.

The distances are XOR and popcount on ``uint64`` words in blocks of bounded size (fixed
byte budgets here; the memory-mapped search sizes its blocks from scikit-learn's
``working_memory``); an optional numba kernel (:mod:`skhash.codes._kernels`) serves the
metrics.
"""

from ._bits import check_codes, hamming_distances, pack_codes, unpack_codes
from ._export import to_bit_strings, to_faiss_index
from ._io import PackedCodes, load_codes, save_codes

__all__ = [
    "PackedCodes",
    "check_codes",
    "hamming_distances",
    "load_codes",
    "pack_codes",
    "save_codes",
    "to_bit_strings",
    "to_faiss_index",
    "unpack_codes",
]
