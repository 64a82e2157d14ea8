"""Export binary codes to other search engines: faiss indexes and PostgreSQL bit strings."""

import os
import re

import numpy as np

from ..utils import import_optional
from ..utils._validation import validate_function_params
from ._bits import N_BITS, check_codes, pack_codes
from ._io import PackedCodes, load_codes

__all__ = ["to_bit_strings", "to_faiss_index"]

_ROWS_PER_ADD = 1 << 20


@validate_function_params(
    {
        "codes": ["array-like", str, os.PathLike],
        "index": [str],
        "nprobe": [*N_BITS, None],
        "ef_search": [*N_BITS, None],
        "n_train": N_BITS,
    }
)
def to_faiss_index(codes, index="BFlat", *, nprobe=None, ef_search=None, n_train=100_000):
    """A faiss binary index holding ``codes``: exact (``"BFlat"``) or approximate search.

    Codes are packed in faiss's (little-endian) bit order and padded with zero bits to a
    whole number of bytes, which changes no distance. Search it with queries packed the
    same way, ``index.search(pack_codes(queries, bitorder="little"), k)``. With the default
    ``IndexBinaryFlat`` distances are those of :class:`~skhash.HammingRetriever`, and so are
    the neighbours once ordered by (distance, index) (faiss keeps the lowest indices among
    ties but does not order them). The other indexes trade recall for speed on very large
    databases: ``benchmarks/bench_faiss_indexes.py`` measures both against exact search.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bits), PackedCodes, or path
        0/1 codes, packed codes (e.g. memory-mapped by :func:`~skhash.load_codes`), or the
        path of a code file written by :func:`~skhash.save_codes` (memory-mapped), added
        block by block.
    index : str, default="BFlat"
        A faiss binary index factory string: ``"BFlat"`` (exact), ``"BIVF1024"``
        (inverted file over 1024 Hamming k-means cells; trained on ``n_train`` rows),
        ``"BHNSW32"`` (graph of 32 links per node); or ``"BMultiHash4x16"``, multi-index
        hashing with 4 tables of 16-bit keys (``IndexBinaryMultiHash``: exact within its
        Hamming radius).
    nprobe : int, default=None
        Cells visited per query by an IVF index (faiss's default is 1); more is slower and
        finds more true neighbours.
    ef_search : int, default=None
        Candidate list size of an HNSW search (faiss's default is 16).
    n_train : int, default=100_000
        Rows (the first ones) an index that needs training (IVF) is trained on.

    Returns
    -------
    index : faiss.IndexBinary
        The filled index, of dimension ``8 * ceil(n_bits / 8)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import pack_codes, to_faiss_index
    >>> index = to_faiss_index([[0, 0, 1], [1, 1, 1]])
    >>> dist, ind = index.search(pack_codes([[0, 1, 1]], bitorder="little"), 2)
    >>> dist.tolist(), ind.tolist()
    ([[1, 1]], [[0, 1]])
    >>> codes = np.random.default_rng(0).integers(0, 2, (2000, 64))
    >>> ivf = to_faiss_index(codes, "BIVF16", nprobe=4)
    >>> type(ivf).__name__, ivf.ntotal, ivf.nprobe
    ('IndexBinaryIVF', 2000, 4)
    """
    faiss = import_optional("faiss", extra="faiss", purpose="to_faiss_index")
    if isinstance(codes, str | os.PathLike):
        codes = load_codes(codes, mmap_mode="r")
    elif not isinstance(codes, PackedCodes):
        codes = PackedCodes.from_codes(codes, bitorder="little")
    faiss_index = _make_faiss_index(faiss, index, 8 * codes.packed.shape[1])

    def little_endian(start, stop):
        block = codes.packed[start:stop]
        if codes.bitorder != "little":
            block = pack_codes(codes.unpack(start, stop), "little")
        return np.ascontiguousarray(block)

    if not faiss_index.is_trained:
        faiss_index.train(little_endian(0, min(n_train, len(codes))))
    for start in range(0, len(codes), _ROWS_PER_ADD):
        faiss_index.add(little_endian(start, start + _ROWS_PER_ADD))
    for name, value, owner in (
        ("nprobe", nprobe, faiss_index),
        ("efSearch", ef_search, getattr(faiss_index, "hnsw", None)),
    ):
        if value is None:
            continue
        if owner is None or not hasattr(owner, name):
            raise ValueError(
                f"{'nprobe' if name == 'nprobe' else 'ef_search'} applies to "
                f"{'IVF' if name == 'nprobe' else 'HNSW'} indexes, not to index={index!r}."
            )
        setattr(owner, name, int(value))
    return faiss_index


_MULTIHASH = re.compile(r"^BMultiHash(\d+)x(\d+)$")
_SIZED = re.compile(r"(IVF|HNSW)(\d+)")
_SIZE_NAMES = {"IVF": "inverted lists (cells)", "HNSW": "links per node"}


def _make_faiss_index(faiss, index, n_dims):
    if not isinstance(index, str):
        raise TypeError(f"index must be a faiss binary factory string, got {index!r}.")
    for kind, count in _SIZED.findall(index):
        if int(count) < 1:  # faiss accepts some of these and aborts the process later
            raise ValueError(
                f"index={index!r} asks for {count} {_SIZE_NAMES[kind]}: use at least 1."
            )
    match = _MULTIHASH.match(index)
    if match:
        n_tables, key_bits = int(match.group(1)), int(match.group(2))
        if n_tables < 1 or key_bits < 1:
            raise ValueError(
                f"index={index!r} needs at least one table of at least one bit, e.g. "
                f"'BMultiHash4x16'."
            )
        if n_tables * key_bits > n_dims:
            raise ValueError(
                f"index={index!r} needs {n_tables * key_bits} bits but the codes have "
                f"{n_dims} (padded to whole bytes)."
            )
        return faiss.IndexBinaryMultiHash(n_dims, n_tables, key_bits)
    try:
        return faiss.index_binary_factory(n_dims, index)
    except RuntimeError as exc:
        raise ValueError(
            f"index={index!r} is not a faiss binary index factory string; use e.g. 'BFlat', "
            f"'BIVF1024', 'BHNSW32' or 'BMultiHash4x16'."
        ) from exc


@validate_function_params({"codes": ["array-like"]})
def to_bit_strings(codes):
    """Codes as strings of ``'0'``/``'1'``, the text form of PostgreSQL ``bit(n)`` values.

    Bit ``j`` of a code is character ``j`` of its string. Cast a string to ``bit(n)``
    in SQL (a parameter ``%s::bit(64)``, ``COPY`` into a ``bit(64)`` column, or the
    literal ``B'0101...'``); the Hamming distance between two values is
    ``bit_count(a # b)`` (PostgreSQL 14 or later), so the 10 nearest neighbours of a
    query, in :class:`~skhash.HammingRetriever`'s order, are::

        SELECT id, bit_count(code # %s::bit(64)) AS distance
        FROM items ORDER BY distance, id LIMIT 10

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bits) or PackedCodes
        0/1 codes.

    Returns
    -------
    strings : ndarray of shape (n_samples,), dtype str
        One string of ``n_bits`` characters per code.

    Examples
    --------
    >>> from skhash import to_bit_strings
    >>> to_bit_strings([[0, 1, 1], [1, 0, 0]])
    array(['011', '100'], dtype='<U3')
    """
    codes = codes.unpack() if isinstance(codes, PackedCodes) else check_codes(codes)
    n_bits = codes.shape[1]
    chars = np.ascontiguousarray(codes + np.uint8(ord("0")))
    return chars.view(f"S{n_bits}").ravel().astype(f"U{n_bits}")
