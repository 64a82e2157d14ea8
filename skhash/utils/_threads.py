"""Thread control of BLAS and torch inside ``fit`` and ``transform``."""

from contextlib import contextmanager

from joblib import effective_n_jobs
from threadpoolctl import threadpool_limits

from ._validation import check_n_jobs

__all__ = ["limit_threads"]


@contextmanager
def limit_threads(n_jobs, *, torch=False):
    """Run the block with ``n_jobs`` BLAS/OpenMP threads (and torch threads), then restore.

    ``None`` means one thread: on a shared 2-core machine more threads than free cores made
    a deep fit 10-40x slower, not faster. ``-1`` uses every core.

    Parameters
    ----------
    n_jobs : int or None
        Number of threads, as joblib reads it.
    torch : bool, default=False
        Also set ``torch.set_num_threads`` (and restore it after).
    """
    n_threads = effective_n_jobs(check_n_jobs(n_jobs))
    with threadpool_limits(limits=n_threads):
        if not torch:
            yield n_threads
            return
        import torch as torch_module

        before = torch_module.get_num_threads()
        torch_module.set_num_threads(n_threads)
        try:
            yield n_threads
        finally:
            torch_module.set_num_threads(before)
