"""Global configuration of skhash, in the style of :func:`sklearn.set_config`."""

import threading
from contextlib import contextmanager
from numbers import Integral

__all__ = ["config_context", "get_config", "set_config"]

_DEFAULTS = {
    "dask_fit": "raise",
    "dask_fit_n_samples": 100_000,
    "dask_fit_random_state": 0,
    "compiled_kernels": True,
}
_local = threading.local()


def _config():
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config():
    """Current values of the configuration set with :func:`set_config`.

    Returns
    -------
    config : dict
        Keys are the parameter names of :func:`set_config`.

    Examples
    --------
    >>> import skhash
    >>> skhash.get_config()["dask_fit"]
    'raise'
    """
    return dict(_config())


def set_config(
    dask_fit=None, dask_fit_n_samples=None, dask_fit_random_state=None, compiled_kernels=None
):
    """Set skhash's global configuration (per thread, like scikit-learn's).

    Parameters
    ----------
    dask_fit : {"raise", "sample"}, default=None
        What ``fit`` does with a :class:`dask.array.Array`. ``"raise"`` (the initial
        value): a ``TypeError`` asks for an in-memory sample, so that no estimator reads a
        larger-than-memory array by accident. ``"sample"``: fit on
        ``dask_fit_n_samples`` rows drawn uniformly without replacement (all rows when
        there are fewer). ``None`` leaves the value unchanged.
    dask_fit_n_samples : int, default=None
        Number of rows of the sample (initially 100 000).
    compiled_kernels : bool, default=None
        Use the compiled (numba) kernels where they exist and numba is installed (the
        initial ``True``); ``False`` runs the numpy code paths, which give the same results.
    dask_fit_random_state : int, default=None
        Seed of the row sample (initially 0), so that fits are reproducible.

    See Also
    --------
    config_context : the same settings for a ``with`` block.

    Examples
    --------
    >>> import skhash
    >>> skhash.set_config(dask_fit="sample")
    >>> skhash.set_config(dask_fit="raise")
    """
    config = _config()
    if compiled_kernels is not None:
        if not isinstance(compiled_kernels, bool):
            raise ValueError(f"compiled_kernels must be True or False, got {compiled_kernels!r}.")
        config["compiled_kernels"] = compiled_kernels
    if dask_fit is not None:
        if dask_fit not in ("raise", "sample"):
            raise ValueError(f"dask_fit must be 'raise' or 'sample', got {dask_fit!r}.")
        config["dask_fit"] = dask_fit
    for name, value in [
        ("dask_fit_n_samples", dask_fit_n_samples),
        ("dask_fit_random_state", dask_fit_random_state),
    ]:
        if value is None:
            continue
        low = 2 if name == "dask_fit_n_samples" else 0
        if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
        config[name] = int(value)


@contextmanager
def config_context(**params):
    """Context manager for :func:`set_config`; the previous values come back on exit.

    Examples
    --------
    >>> import skhash
    >>> with skhash.config_context(dask_fit="sample", dask_fit_n_samples=10_000):
    ...     skhash.get_config()["dask_fit_n_samples"]
    10000
    """
    before = get_config()
    set_config(**params)
    try:
        yield
    finally:
        _config().update(before)
