"""Binary codes: validation, packing, and blocked Hamming distances.

Codes in the public API are ``uint8`` arrays of 0/1 of shape ``(n_samples, n_bits)``.
The packed form is ``uint8[n_samples, ceil(n_bits / 8)]`` with an explicit bit order:
``"little"`` is the layout of faiss ``IndexBinary*``, ``"big"`` the one of
:func:`numpy.packbits` and of PostgreSQL bit strings. Distances are computed on packed
``uint64`` words with XOR and :func:`numpy.bitwise_count`, in blocks so that the working
memory stays bounded whatever the sizes.
"""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._validation import check_positive_int, validate_function_params

__all__ = [
    "check_codes",
    "pack_codes",
    "unpack_codes",
    "hamming_distances",
    "iter_hamming_distances",
]

BITORDERS = ("little", "big")

# Working memory of one distance block (bytes of the uint64 XOR buffer); the blocks of
# queries handed out by ``iter_hamming_distances`` are sized from ``max_block_bytes``.
_DB_BLOCK = 65_536
_CACHE_BYTES = 4 * 2**20
_DEFAULT_MAX_BLOCK_BYTES = 64 * 2**20


#: Parameter constraints of the public functions of :mod:`skhash.codes`.
BITORDER = [StrOptions({"little", "big"})]
N_BITS = [Interval(Integral, 1, None, closed="left")]


def check_bitorder(bitorder):
    """Return ``bitorder`` if it is ``"little"`` or ``"big"``, else raise ``ValueError``."""
    if not isinstance(bitorder, str) or bitorder not in BITORDERS:
        raise ValueError(
            f"bitorder must be 'little' (faiss layout) or 'big' (numpy.packbits layout), "
            f"got {bitorder!r}."
        )
    return bitorder


@validate_function_params({"codes": ["array-like"], "n_bits": [*N_BITS, None], "name": [str]})
def check_codes(codes, *, n_bits=None, name="codes"):
    """Validate binary codes and return them as a C-contiguous ``uint8`` 0/1 array.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bits)
        Integer or boolean array holding only 0 and 1.
    n_bits : int, default=None
        Expected number of bits (columns); ``None`` accepts any.
    name : str, default="codes"
        Name used in error messages.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_bits), dtype uint8

    Raises
    ------
    ValueError
        If the array is not 2-D, not of an integer or boolean dtype, holds values other
        than 0 and 1, has no column (0-bit codes) or the wrong number of columns.

    Examples
    --------
    >>> from skhash import check_codes
    >>> check_codes([[0, 1, 1], [1, 0, 0]])
    array([[0, 1, 1],
           [1, 0, 0]], dtype=uint8)
    """
    if hasattr(codes, "__array__") or isinstance(codes, list | tuple):
        codes = np.asarray(codes)
    else:
        raise TypeError(f"{name} must be an array of 0/1 codes, got {type(codes).__name__}.")
    if codes.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_bits), got {codes.ndim} "
            f"dimension(s) with shape {codes.shape}. Reshape a single code with "
            f"code.reshape(1, -1)."
        )
    if codes.dtype != np.bool_ and not np.issubdtype(codes.dtype, np.integer):
        raise ValueError(
            f"{name} must have an integer or boolean dtype holding 0/1, got dtype "
            f"{codes.dtype}. Hashers return uint8 codes; threshold real values yourself, "
            f"e.g. (values > 0).astype(np.uint8)."
        )
    if codes.dtype != np.bool_ and codes.size and (codes.min() < 0 or codes.max() > 1):
        low, high = codes.min(), codes.max()
        hint = "Codes in {-1, +1} convert with (codes > 0).astype(np.uint8)."
        if codes.dtype == np.uint8 and high > 1:
            hint = (
                "uint8 values above 1 look like packed bytes (8 bits each): unpack them with "
                "skhash.unpack_codes(codes, n_bits, bitorder=...), or give the retriever "
                "HammingRetriever(bitorder='little' or 'big') or a skhash.PackedCodes."
            )
        raise ValueError(f"{name} must hold only 0 and 1, found values in [{low}, {high}]. {hint}")
    if codes.shape[1] == 0:
        raise ValueError(
            f"{name} has 0 bits per row (shape {codes.shape}): codes need at least one bit."
        )
    if n_bits is not None and codes.shape[1] != n_bits:
        raise ValueError(f"{name} has {codes.shape[1]} bits per row but {n_bits} were expected.")
    return np.ascontiguousarray(codes, dtype=np.uint8)


@validate_function_params({"codes": ["array-like"], "bitorder": BITORDER})
def pack_codes(codes, bitorder="little"):
    """Pack 0/1 codes into bytes, 8 bits per byte.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bits)
        Binary codes (integer or boolean, values 0 and 1).
    bitorder : {"little", "big"}, default="little"
        ``"little"``: bit ``j`` of a code goes to bit ``j % 8`` of byte ``j // 8`` (faiss
        ``IndexBinary*``). ``"big"``: most significant bit first (:func:`numpy.packbits`,
        PostgreSQL bit strings).

    Returns
    -------
    packed : ndarray of shape (n_samples, ceil(n_bits / 8)), dtype uint8

    Examples
    --------
    >>> from skhash import pack_codes
    >>> pack_codes([[1, 0, 0, 0, 0, 0, 0, 0, 1]])
    array([[1, 1]], dtype=uint8)
    >>> pack_codes([[1, 0, 0, 0, 0, 0, 0, 0, 1]], bitorder="big")
    array([[128, 128]], dtype=uint8)
    """
    codes = check_codes(codes)
    return np.packbits(codes, axis=1, bitorder=bitorder)


@validate_function_params({"packed": ["array-like"], "n_bits": N_BITS, "bitorder": BITORDER})
def unpack_codes(packed, n_bits, bitorder="little"):
    """Unpack bytes made by :func:`pack_codes` back into 0/1 codes.

    Parameters
    ----------
    packed : array-like of shape (n_samples, ceil(n_bits / 8)), dtype uint8
        Packed codes.
    n_bits : int
        Number of bits per code.
    bitorder : {"little", "big"}, default="little"
        Bit order used when packing.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_bits), dtype uint8

    Examples
    --------
    >>> from skhash import pack_codes, unpack_codes
    >>> unpack_codes(pack_codes([[1, 0, 1]]), n_bits=3)
    array([[1, 0, 1]], dtype=uint8)
    """
    packed = check_packed(packed, n_bits=n_bits)
    return np.unpackbits(packed, axis=1, count=n_bits, bitorder=bitorder)


def check_packed(packed, *, n_bits, name="packed"):
    """Validate packed codes: 2-D ``uint8`` with ``ceil(n_bits / 8)`` bytes per row."""
    check_positive_int(n_bits, "n_bits")
    packed = np.asarray(packed)
    if packed.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of packed codes, got shape {packed.shape}.")
    if packed.dtype != np.uint8:
        raise ValueError(
            f"{name} must have dtype uint8 (bytes made by pack_codes), got {packed.dtype}."
        )
    n_bytes = -(-n_bits // 8)
    if packed.shape[1] != n_bytes:
        raise ValueError(
            f"{name} has {packed.shape[1]} bytes per row but n_bits={n_bits} needs {n_bytes}."
        )
    return np.ascontiguousarray(packed)


def packed_to_words(packed):
    """View packed codes as ``uint64`` words, zero-padding each row to a multiple of 8 bytes.

    Hamming distances do not depend on the bit order as long as both sides share it.
    """
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    n, n_bytes = packed.shape
    n_words = max(1, -(-n_bytes // 8))
    if n_bytes != 8 * n_words:
        padded = np.zeros((n, 8 * n_words), dtype=np.uint8)
        padded[:, :n_bytes] = packed
        packed = padded
    return packed.view(np.uint64)


def codes_to_words(codes):
    """Validated 0/1 codes to ``uint64`` words (little bit order)."""
    return packed_to_words(np.packbits(codes, axis=1, bitorder="little"))


def n_words(n_bits):
    """``uint64`` words of a code of ``n_bits`` bits."""
    return max(1, -(-int(n_bits) // 64))


def words_into_columns(packed, columns, first=0, block_rows=2**16):
    """Write packed codes (bytes, any bit order) as ``uint64`` words into the word-major
    ``columns[:, first:first + len(packed)]``, a block of rows at a time: the temporaries
    stay small however many codes (a memory-mapped file is read once, in order)."""
    for start in range(0, len(packed), block_rows):
        stop = min(start + block_rows, len(packed))
        columns[:, first + start : first + stop] = packed_to_words(packed[start:stop]).T


def distance_dtype(n_words):
    """Smallest unsigned integer dtype that holds a distance between ``n_words`` words.

    The compact type of the internal kernels; results given to users are
    :func:`result_distance_dtype`."""
    return np.uint8 if 64 * n_words <= np.iinfo(np.uint8).max else np.uint16


def result_distance_dtype(n_bits):
    """Signed dtype of the distances skhash returns: ``d1 - d2`` must not wrap around."""
    return np.int16 if n_bits <= np.iinfo(np.int16).max else np.int32


def hamming_block(query_words, db_words, out=None):
    """Hamming distances between every query and every database row (one block), the
    database given as rows of ``uint64`` words (:func:`hamming_columns` does the work)."""
    # Word-major: no copy for codes of one word.
    return hamming_columns(query_words, np.ascontiguousarray(db_words.T), 0, len(db_words), out)


def hamming_columns(query_words, db_columns, first, end, out=None):
    """Hamming distances between every query and database items ``first:end`` of a
    word-major database (``db_columns[w]`` is word ``w`` of every item).

    The database is walked in slices sized so that the ``uint64`` XOR buffer of one slice
    (``len(query_words) x step`` words, about 4 MiB) stays in cache: a buffer of 65,536
    columns per query row is several times slower.
    """
    n_query, n_words = query_words.shape
    n_db = end - first
    dtype = distance_dtype(n_words)
    if out is None:
        out = np.empty((n_query, n_db), dtype=dtype)
    step = int(min(_DB_BLOCK, max(1024, _CACHE_BYTES // (8 * max(n_query, 1)))))
    step = min(step, max(n_db, 1))
    xor = np.empty((n_query, step), dtype=np.uint64)
    if n_words > 1:  # distances summed in a contiguous buffer
        total = np.empty((n_query, step), dtype=dtype)
        count = np.empty((n_query, step), dtype=np.uint8)
    for start in range(0, n_db, step):
        stop = min(start + step, n_db)
        width = stop - start
        items = slice(first + start, first + stop)
        buf = xor[:, :width]
        if n_words == 1:
            np.bitwise_xor(query_words[:, 0, None], db_columns[0, None, items], out=buf)
            np.bitwise_count(buf, out=out[:, start:stop], casting="unsafe")
            continue
        acc, cnt = total[:, :width], count[:, :width]
        for word in range(n_words):
            np.bitwise_xor(query_words[:, word, None], db_columns[word, None, items], out=buf)
            if word == 0:
                np.bitwise_count(buf, out=acc, casting="unsafe")
            else:
                np.bitwise_count(buf, out=cnt)
                np.add(acc, cnt, out=acc, casting="unsafe")
        out[:, start:stop] = acc
    return out


def query_block_size(n_db, n_words=1, max_block_bytes=_DEFAULT_MAX_BLOCK_BYTES):
    """Number of queries per block so that one distance block stays near ``max_block_bytes``."""
    itemsize = np.dtype(distance_dtype(n_words)).itemsize
    per_query = max(1, n_db) * itemsize + min(_DB_BLOCK, max(1, n_db)) * 9
    return int(max(1, min(4096, max_block_bytes // per_query)))


def iter_hamming_distances(query_words, db_words, *, max_block_bytes=_DEFAULT_MAX_BLOCK_BYTES):
    """Yield ``(start, stop, distances)`` for consecutive blocks of queries.

    ``distances`` has shape ``(stop - start, n_db)`` and an unsigned integer dtype; each
    block is computed from scratch, so memory stays near ``max_block_bytes`` however large
    the request.

    Parameters
    ----------
    query_words, db_words : ndarray of uint64
        Codes as made by :func:`packed_to_words`, with the same number of words.
    max_block_bytes : int
        Approximate size in bytes of one yielded block plus its working buffers.
    """
    n_query = query_words.shape[0]
    n_words = query_words.shape[1]
    if db_words.shape[1] != n_words:
        raise ValueError(
            f"queries have {n_words} words per code but the database has {db_words.shape[1]}."
        )
    size = query_block_size(db_words.shape[0], n_words, max_block_bytes)
    for start in range(0, n_query, size):
        stop = min(start + size, n_query)
        yield start, stop, hamming_block(query_words[start:stop], db_words)


@validate_function_params({"codes_a": ["array-like"], "codes_b": ["array-like", None]})
def hamming_distances(codes_a, codes_b=None):
    """Pairwise Hamming distances between two sets of 0/1 codes.

    Parameters
    ----------
    codes_a : array-like of shape (n_a, n_bits)
        Binary codes.
    codes_b : array-like of shape (n_b, n_bits), default=None
        Binary codes; ``None`` means ``codes_a``.

    Returns
    -------
    distances : ndarray of shape (n_a, n_b)
        Integer counts of differing bits, ``int16`` (signed, so that differences of
        distances do not wrap around).

    See Also
    --------
    skhash.neighbors.HammingRetriever : nearest neighbours without the full matrix.

    Examples
    --------
    >>> from skhash import hamming_distances
    >>> hamming_distances([[0, 1, 1], [1, 1, 1]], [[0, 0, 0]])
    array([[2],
           [3]], dtype=int16)
    """
    codes_a = check_codes(codes_a, name="codes_a")
    codes_b = (
        codes_a
        if codes_b is None
        else check_codes(codes_b, n_bits=codes_a.shape[1], name="codes_b")
    )
    words_a = codes_to_words(codes_a)
    words_b = codes_to_words(codes_b)
    out = np.empty((len(words_a), len(words_b)), dtype=result_distance_dtype(codes_a.shape[1]))
    for start, stop, block in iter_hamming_distances(words_a, words_b):
        out[start:stop] = block
    return out
