"""Export binary codes to other search engines: faiss indexes and PostgreSQL bit strings."""

import numpy as np

from ._bits import check_codes, pack_codes
from ._io import PackedCodes

__all__ = ["to_bit_strings", "to_faiss_index"]

_ROWS_PER_ADD = 1 << 20


def to_faiss_index(codes):
    """A faiss ``IndexBinaryFlat`` holding ``codes``, for exact Hamming search in faiss.

    Codes are packed in faiss's (little-endian) bit order and padded with zero bits to a
    whole number of bytes, which changes no distance. Search it with queries packed the
    same way, ``index.search(pack_codes(queries, bitorder="little"), k)``: distances are
    those of :class:`~skhash.HammingRetriever`, and so are the neighbours once ordered by
    (distance, index) (faiss keeps the lowest indices among ties but does not order them).

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bits) or PackedCodes
        0/1 codes, or packed codes (e.g. memory-mapped by :func:`~skhash.load_codes`),
        added block by block.

    Returns
    -------
    index : faiss.IndexBinaryFlat
        Index of dimension ``8 * ceil(n_bits / 8)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import pack_codes, to_faiss_index
    >>> index = to_faiss_index([[0, 0, 1], [1, 1, 1]])
    >>> dist, ind = index.search(pack_codes([[0, 1, 1]], bitorder="little"), 2)
    >>> dist.tolist(), ind.tolist()
    ([[1, 1]], [[0, 1]])
    """
    try:
        import faiss
    except ImportError as exc:
        raise ImportError(
            "to_faiss_index needs faiss; install the faiss extra: pip install 'skhash[faiss]'."
        ) from exc
    if not isinstance(codes, PackedCodes):
        codes = PackedCodes.from_codes(codes, bitorder="little")
    index = faiss.IndexBinaryFlat(8 * codes.packed.shape[1])
    for start in range(0, len(codes), _ROWS_PER_ADD):
        block = codes.packed[start : start + _ROWS_PER_ADD]
        if codes.bitorder != "little":
            block = pack_codes(codes.unpack(start, start + _ROWS_PER_ADD), "little")
        index.add(np.ascontiguousarray(block))
    return index


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
