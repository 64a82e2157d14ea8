"""Thread control of BLAS and torch inside ``fit`` and ``transform``."""

import os
import threading
from contextlib import contextmanager

from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits

from ._validation import check_n_jobs

__all__ = ["limit_threads", "thread_count"]


def thread_count(n_jobs):
    """Threads for ``n_jobs`` as joblib reads it (``None``: 1, ``-1``: every core), at most
    the number of cores: a million threads crashed faiss and torch."""
    return max(1, min(effective_n_jobs(check_n_jobs(n_jobs)), os.cpu_count() or 1))


# The thread settings are process-wide: concurrent limit_threads blocks (transforms in
# threads) share one saved original, restored when the last of them ends.
_LOCK = threading.Lock()
_active = {"blas": 0, "torch": 0}
_saved = {}


@contextmanager
def limit_threads(n_jobs, *, torch=False):
    """Run the block with ``n_jobs`` BLAS/OpenMP threads (and torch threads), then restore.

    ``None`` means one thread: on a shared 2-core machine more threads than free cores made
    a deep fit 10-40x slower, not faster. ``-1`` uses every core; more than the cores are
    clipped to them. Blocks running at once in several threads restore the caller's
    settings when the last one ends.

    Parameters
    ----------
    n_jobs : int or None
        Number of threads, as joblib reads it.
    torch : bool, default=False
        Also set ``torch.set_num_threads`` (and restore it after).
    """
    n_threads = thread_count(n_jobs)
    # torch first: limiting OpenMP for BLAS also changes torch's count, so torch's is read
    # before and restored after (the reverse order).
    kinds = ("torch", "blas") if torch else ("blas",)
    with _LOCK:
        for kind in kinds:
            _enter(kind, n_threads)
    try:
        yield n_threads
    finally:
        with _LOCK:
            for kind in reversed(kinds):
                _leave(kind)


def _enter(kind, n_threads):
    if kind == "blas":
        limiter = threadpool_limits(limits=n_threads)  # sets them now
        if _active["blas"] == 0:
            _saved["blas"] = limiter  # it remembers the caller's limits
    else:
        import torch

        if _active["torch"] == 0:
            _saved["torch"] = torch.get_num_threads()
        torch.set_num_threads(n_threads)
    _active[kind] += 1


def _leave(kind):
    _active[kind] -= 1
    if _active[kind]:
        return
    saved = _saved.pop(kind)
    if kind == "blas":
        saved.restore_original_limits()
    else:
        import torch

        torch.set_num_threads(saved)
