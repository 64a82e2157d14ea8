"""Files written whole or not at all: a temporary file beside the target, renamed over it."""

import contextlib
import errno
import os
import tempfile

__all__ = ["atomic_file", "reserve_space"]


@contextlib.contextmanager
def atomic_file(path):
    """A binary file to write ``path`` through; it replaces ``path`` only when complete.

    The data go to a temporary file in the same folder, which is flushed, synced to disk
    and renamed over ``path`` when the block ends without an error. A kill at any moment
    leaves the old file or the new one, whole; an error (a full disk, Ctrl-C) removes the
    temporary file and leaves the old one. A process that has the old file open or
    memory-mapped keeps reading the old contents. The yielded file's ``name`` is the
    temporary path (for writers that reopen it, e.g. dask workers).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    os.close(descriptor)
    try:
        os.chmod(temporary, _permissions(path))
        with open(temporary, "r+b") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
        _sync_folder(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def reserve_space(file, size):
    """Allocate ``size`` bytes of ``file`` on disk now, so that a full disk is an
    ``OSError`` here and not a crash (SIGBUS) when a memory map writes into a hole later.
    A file system that cannot preallocate is left as it is."""
    if not hasattr(os, "posix_fallocate") or size == 0:
        return
    try:
        os.posix_fallocate(file.fileno(), 0, size)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOTSUP", -1)):
            return
        raise


def _permissions(path):
    """The mode of the file being replaced, else what a new file would get (umask)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
