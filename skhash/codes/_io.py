"""Packed binary codes on disk: ``.npy`` files that memory-map.

A code file is a standard ``.npy`` file holding one structured field of
``ceil(n_bits / 8)`` bytes per row, named ``skhash:n_bits=<n>:bitorder=<order>``, so it
carries its number of bits and bit order, plain :func:`numpy.load` reads it, and
``mmap_mode`` maps it without reading it.
"""

import mmap
import os
import re
import zlib

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..utils._dask import is_dask_array
from ..utils._files import atomic_file, reserve_space
from ..utils._validation import validate_function_params
from ._bits import (
    BITORDER,
    check_bitorder,
    check_codes,
    check_packed,
    pack_codes,
    packed_to_words,
    unpack_codes,
)

__all__ = ["PackedCodes", "load_codes", "save_codes"]

_FIELD = re.compile(r"^skhash:n_bits=(\d+):bitorder=(little|big)(?::crc32=([0-9a-f]{8}))?$")


class PackedCodes:
    """Packed binary codes with their number of bits and bit order.

    The form :func:`load_codes` returns and :class:`~skhash.HammingRetriever` fits on
    without unpacking: a memory-mapped database is searched block by block.

    Parameters
    ----------
    packed : ndarray of shape (n_samples, ceil(n_bits / 8)), dtype uint8
        Packed codes (a :class:`numpy.memmap` stays one).
    n_bits : int
        Bits per code.
    bitorder : {"little", "big"}, default="little"
        Bit order of ``packed`` (see :func:`skhash.pack_codes`).

    Attributes
    ----------
    shape : tuple
        ``(n_samples, n_bits)``, the shape of the unpacked codes.

    Examples
    --------
    >>> from skhash import PackedCodes, pack_codes
    >>> codes = PackedCodes(pack_codes([[1, 0, 1]]), n_bits=3)
    >>> codes.shape, codes.unpack()
    ((1, 3), array([[1, 0, 1]], dtype=uint8))
    """

    def __init__(self, packed, n_bits, bitorder="little"):
        self.bitorder = check_bitorder(bitorder)
        if not isinstance(packed, np.memmap):
            packed = check_packed(packed, n_bits=n_bits)
        else:
            check_packed(packed[:0], n_bits=n_bits)
        self.packed = packed
        self.n_bits = int(n_bits)

    @classmethod
    def from_codes(cls, codes, bitorder="little"):
        """Pack 0/1 codes of shape ``(n_samples, n_bits)``."""
        codes = check_codes(codes)  # then packed without a second check
        return cls(np.packbits(codes, axis=1, bitorder=bitorder), codes.shape[1], bitorder)

    @property
    def shape(self):
        return (len(self.packed), self.n_bits)

    def __len__(self):
        return len(self.packed)

    def unpack(self, start=None, stop=None):
        """0/1 codes of rows ``start:stop`` (all rows by default), in memory."""
        return unpack_codes(self.packed[start:stop], self.n_bits, self.bitorder)

    def in_bitorder(self, bitorder):
        """These codes packed in ``bitorder``: themselves when they already are, else
        repacked in memory."""
        if bitorder == self.bitorder:
            return self
        return PackedCodes.from_codes(self.unpack(), bitorder)

    def __repr__(self):
        kind = "memory-mapped " if isinstance(self.packed, np.memmap) else ""
        return (
            f"PackedCodes({kind}{len(self)} codes, n_bits={self.n_bits}, "
            f"bitorder={self.bitorder!r})"
        )

    def __reduce__(self):
        # A memory map pickles by reference (for joblib/dask workers on the same file
        # system), not by copying a file that may be larger than memory.
        packed = self.packed
        # Only the map itself (its base is the mmap) knows its true offset and shape.
        if isinstance(packed, np.memmap) and isinstance(packed.base, mmap.mmap):
            args = (packed.filename, packed.offset, packed.shape, self.n_bits, self.bitorder)
            return (_reopen, args)
        return (PackedCodes, (np.asarray(packed), self.n_bits, self.bitorder))


def code_words(codes, *, name, n_bits=None, bitorder="little"):
    """``(words, n_bits)``: 0/1 codes or :class:`PackedCodes` as rows of ``uint64`` words
    with the bits in ``bitorder`` (packed codes in that order are read as they are, never
    unpacked; distances need both sides in one order)."""
    if isinstance(codes, PackedCodes):
        if n_bits is not None and codes.n_bits != n_bits:
            raise ValueError(f"{name} has {codes.n_bits} bits per row but {n_bits} were expected.")
        # Repacked only in the rare call that mixes two orders.
        return packed_to_words(codes.in_bitorder(bitorder).packed), codes.n_bits
    codes = check_codes(codes, n_bits=n_bits, name=name)
    return packed_to_words(np.packbits(codes, axis=1, bitorder=bitorder)), codes.shape[1]


def _reopen(filename, offset, shape, n_bits, bitorder):
    packed = np.memmap(filename, dtype=np.uint8, mode="r", offset=offset, shape=shape)
    return PackedCodes(packed, n_bits, bitorder)


@validate_function_params(
    {"path": [str, os.PathLike], "codes": ["array-like"], "bitorder": [*BITORDER, None]}
)
def save_codes(path, codes, *, bitorder=None):
    """Save binary codes, packed, to a ``.npy`` file that :func:`load_codes` can map.

    The file is written whole or not at all: to a temporary file in the same folder,
    synced to disk, then renamed over ``path``. A kill or Ctrl-C at any moment leaves the
    old file or the new one; a full disk raises ``OSError`` and leaves the old file. A
    retriever that has the old file memory-mapped keeps searching the old codes. The
    file carries a CRC32 of its codes, which :func:`load_codes` checks.

    Parameters
    ----------
    path : str or path-like
        Destination ``.npy`` file; ``".npy"`` is appended to a name without an
        extension, as :func:`numpy.save` does. A ``.npz`` name and a folder are refused.
    codes : array-like of shape (n_samples, n_bits), dask array or PackedCodes
        0/1 codes. A dask array (e.g. ``hasher.transform(dask_X)``) is computed chunk by
        chunk and each chunk written into the file, so codes larger than memory can be
        saved. :class:`PackedCodes` are copied block by block.
    bitorder : {"little", "big"}, default=None
        Bit order of the packed bytes: ``"little"`` is faiss's, ``"big"``
        :func:`numpy.packbits`'s and PostgreSQL's. ``None``: ``"little"``, or for
        :class:`PackedCodes` their own (another one repacks them).

    Returns
    -------
    path : str
        The file written.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skhash import load_codes, save_codes
    >>> codes = np.array([[1, 0, 1], [0, 1, 1]], dtype=np.uint8)
    >>> path = os.path.join(tempfile.mkdtemp(), "codes.npy")
    >>> save_codes(path, codes) == path
    True
    >>> load_codes(path, mmap_mode="r").unpack()
    array([[1, 0, 1],
           [0, 1, 1]], dtype=uint8)
    """
    path = _code_file_path(path)
    if isinstance(codes, PackedCodes):
        bitorder = bitorder or codes.bitorder
        n_bits = codes.n_bits
    elif is_dask_array(codes):
        if codes.ndim != 2 or np.isnan(codes.shape[0]):
            raise ValueError(
                f"codes must be a 2-D dask array with known chunk sizes, got shape "
                f"{codes.shape}; call codes.compute_chunk_sizes() first."
            )
        n_bits = codes.shape[1]
    else:
        codes = check_codes(codes)
        n_bits = codes.shape[1]
    bitorder = bitorder or "little"
    n_rows, n_bytes = int(codes.shape[0]), -(-n_bits // 8)
    with atomic_file(path) as file:
        np.lib.format.write_array_header_1_0(file, _header(n_rows, n_bits, bitorder, 0))
        offset = file.tell()
        reserve_space(file, offset + n_rows * n_bytes)
        if is_dask_array(codes):
            file.flush()
            checksum = _store_dask(codes, file.name, offset, (n_rows, n_bytes), bitorder)
        else:
            checksum = 0
            for block in _packed_blocks(codes, bitorder, n_bytes):
                checksum = zlib.crc32(block, checksum)
                file.write(block.tobytes())
        file.seek(0)
        np.lib.format.write_array_header_1_0(file, _header(n_rows, n_bits, bitorder, checksum))
        if file.tell() != offset:  # the checksum has a fixed width: this cannot move
            raise RuntimeError("the code file header changed length")
    return path


def _code_file_path(path):
    path = os.fspath(path)
    root, extension = os.path.splitext(path)
    if not os.path.basename(path) or os.path.isdir(path):
        raise ValueError(
            f"path={path!r} names a folder: give the name of the code file, e.g. "
            f"{os.path.join(path, 'codes.npy')!r}."
        )
    if extension.lower() == ".npz":
        raise ValueError(
            f"path={path!r}: a code file is a .npy file, not a .npz archive; use {root}.npy."
        )
    return path if extension else path + ".npy"


def _header(n_rows, n_bits, bitorder, checksum):
    field = f"skhash:n_bits={n_bits}:bitorder={bitorder}:crc32={checksum:08x}"
    dtype = np.dtype([(field, np.uint8, (-(-n_bits // 8),))])
    return {
        "descr": np.lib.format.dtype_to_descr(dtype),
        "fortran_order": False,
        "shape": (n_rows,),
    }


# Rows packed and written per block: bounded memory whatever the number of codes.
_WRITE_BLOCK_BYTES = 2**26


def _packed_blocks(codes, bitorder, n_bytes):
    """The packed bytes of ``codes`` (0/1 array or PackedCodes) in ``bitorder``, by blocks."""
    step = max(1, _WRITE_BLOCK_BYTES // max(n_bytes, codes.shape[1]))
    for start in range(0, len(codes), step):
        if isinstance(codes, PackedCodes) and codes.bitorder == bitorder:
            yield np.ascontiguousarray(codes.packed[start : start + step])
        elif isinstance(codes, PackedCodes):
            yield pack_codes(codes.unpack(start, start + step), bitorder)
        else:
            yield pack_codes(codes[start : start + step], bitorder)


def _store_dask(codes, filename, offset, shape, bitorder):
    """Compute and write a dask array's packed chunks into ``filename``; their CRC32."""
    import dask.array as da

    packed = codes.map_blocks(
        _pack_block,
        bitorder,
        chunks=(codes.chunks[0], (shape[1],)),
        dtype=np.uint8,
        meta=np.empty((0, shape[1]), dtype=np.uint8),
    )
    da.store(packed.rechunk({1: -1}), _RowWriter(filename, offset, shape), lock=False)
    return _payload_checksum(np.memmap(filename, np.uint8, "r", offset=offset, shape=shape))


def _payload_checksum(packed):
    """CRC32 of the packed rows, read a block at a time (a memory map is not loaded whole)."""
    checksum = 0
    step = max(1, _WRITE_BLOCK_BYTES // max(packed.shape[1], 1))
    for start in range(0, len(packed), step):
        checksum = zlib.crc32(np.ascontiguousarray(packed[start : start + step]), checksum)
    return checksum


def _pack_block(block, bitorder):
    return pack_codes(block, bitorder)


class _RowWriter:
    """Write-only target for :func:`dask.array.store` that reopens the file on each write,
    so that it pickles to dask workers by path."""

    def __init__(self, filename, offset, shape):
        self.filename, self.offset, self.shape = filename, offset, shape

    def __setitem__(self, key, value):
        out = np.memmap(
            self.filename, dtype=np.uint8, mode="r+", offset=self.offset, shape=self.shape
        )
        out[key] = value
        out.flush()


@validate_function_params(
    {
        "path": [str, os.PathLike],
        "mmap_mode": [StrOptions({"r", "c"}), None],
        "verify": ["boolean"],
    }
)
def load_codes(path, mmap_mode=None, *, verify=True):
    """Load codes saved by :func:`save_codes`, packed, optionally memory-mapped.

    Parameters
    ----------
    path : str or path-like
        File written by :func:`save_codes`.
    mmap_mode : {None, "r", "c"}, default=None
        As in :func:`numpy.load`: ``"r"`` maps the file read-only, so a database larger
        than memory can be fitted by :class:`~skhash.HammingRetriever` and searched block
        by block; ``"c"`` maps it copy-on-write (changes stay in memory). The writable
        modes are refused: loading never changes a code file (``"w+"`` would truncate it).
    verify : bool, default=True
        Check the codes against the CRC32 that :func:`save_codes` stored in the file: a
        damaged file is a ``ValueError``, never codes that load silently wrong. It reads
        the whole file once (about a second per GB); ``verify=False`` skips it, e.g. to
        memory-map a huge file that was checked before. Files written before checksums
        existed load unchecked.

    Returns
    -------
    codes : PackedCodes
        Packed codes with their ``n_bits`` and ``bitorder``; ``codes.unpack()`` gives the
        0/1 array.
    """
    filename = os.fspath(path)
    not_ours = f"{filename!r} is not a code file written by skhash.save_codes"
    try:
        data = np.load(filename, mmap_mode=mmap_mode, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(
            f"{not_ours}: it is empty, truncated or not a .npy file ({type(exc).__name__})."
        ) from None
    names = getattr(data.dtype, "names", None) or ()
    match = _FIELD.match(names[0]) if len(names) == 1 else None
    if match is None or data.ndim != 1:
        raise ValueError(
            f"{not_ours} (its dtype is {data.dtype}). Wrap a plain array of packed bytes "
            f"with PackedCodes(packed, n_bits, bitorder) instead."
        )
    n_bits, bitorder, checksum = int(match.group(1)), match.group(2), match.group(3)
    n_bytes = -(-n_bits // 8)
    row_bytes = data.dtype.itemsize
    if n_bits < 1 or row_bytes != n_bytes:
        raise ValueError(
            f"{not_ours}, or it is damaged: its header says n_bits={n_bits}, which needs "
            f"{n_bytes} byte(s) per row, but its rows hold {row_bytes}."
        )
    if isinstance(data, np.memmap):
        packed = np.memmap(
            filename,
            dtype=np.uint8,
            mode=mmap_mode,
            offset=data.offset,
            shape=(len(data), n_bytes),
        )
    else:
        packed = np.ascontiguousarray(data[names[0]]).reshape(len(data), n_bytes)
    if verify and checksum is not None and _payload_checksum(packed) != int(checksum, 16):
        raise ValueError(
            f"{filename!r} is damaged: its codes do not match the CRC32 stored when it was "
            f"saved ({checksum}). Restore it, or save the codes again; verify=False loads "
            f"it as it is."
        )
    return PackedCodes(packed, n_bits, bitorder)
