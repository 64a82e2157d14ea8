"""Dask arrays: lazy row-wise application of fitted estimators, and fit-time samples.

Nothing here imports dask unless the caller already holds a dask array, so skhash works
without the ``dask`` extra.
"""

import sys

import numpy as np

from .._config import get_config

__all__ = ["is_dask_array", "map_row_blocks", "fit_sample"]


def is_dask_array(X):
    """Whether ``X`` is a :class:`dask.array.Array` (without importing dask)."""
    dask_array = sys.modules.get("dask.array")
    return dask_array is not None and isinstance(X, dask_array.Array)


def map_row_blocks(func, X, *, n_columns=None, dtype=None):
    """Lazily apply ``func`` to each chunk of rows of the dask array ``X``.

    ``func`` maps an in-memory block of rows (all the other axes of ``X`` in one chunk) to
    a 2-D array with one row per input row. Nothing is computed: the result is a dask
    array with ``X``'s row chunks. When ``n_columns`` or ``dtype`` is not given, ``func``
    is called once on a single row of zeros to find them, which also raises at once any
    error of shape or dtype ``func`` would raise on every chunk. ``func`` (a bound method
    of a fitted estimator, say) enters the graph once, whatever the number of chunks.

    This is the one helper behind the dask support of every hasher's
    ``decision_function``/``transform``, of the feature extractors and of
    :class:`~skhash.HammingRetriever`; use it in a new ``transform`` as::

        if is_dask_array(X):
            return map_row_blocks(self.transform, X)

    Parameters
    ----------
    func : callable
        Function of one in-memory block of rows.
    X : dask.array.Array of shape (n_samples, ...)
        Input, chunked along its first axis.
    n_columns : int, default=None
        Number of columns of the output (``None``: found by the probe call).
    dtype : dtype, default=None
        Output dtype (``None``: found by the probe call).

    Returns
    -------
    out : dask.array.Array of shape (n_samples, n_columns)
    """
    import dask
    import dask.array as da

    if X.ndim < 2:
        raise ValueError(
            f"Expected a 2-D array of shape (n_samples, n_features), got a {X.ndim}-D dask "
            f"array of shape {X.shape}. Reshape a single sample with X.reshape(1, -1)."
        )
    if n_columns is None or dtype is None:
        probe = np.asarray(func(np.zeros((1, *X.shape[1:]), dtype=X.dtype)))
        n_columns, dtype = probe.shape[1], probe.dtype
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})
    # A delayed function is one task that every chunk depends on: a large fitted object
    # is not copied into each task (nor hashed, with pure=False).
    shared = dask.delayed(func, pure=False)
    return da.map_blocks(
        _apply,
        X,
        shared,
        chunks=(X.chunks[0], (n_columns,)),
        drop_axis=list(range(2, X.ndim)) or None,
        dtype=dtype,
        meta=np.empty((0, n_columns), dtype=dtype),
    )


def _apply(block, func):
    return func(block)


def fit_sample(X, y=None):
    """The in-memory ``(X, y)`` that ``fit`` uses for a dask array ``X`` (see ``set_config``).

    With ``dask_fit="sample"``, the same seeded rows are taken from ``X`` and from ``y``
    (a numpy or dask array, or ``None``); with ``"raise"``, a ``TypeError`` says what to do.
    A supervised ``fit`` calls ``X, y = fit_sample(X, y)`` before validating.
    """
    config = get_config()
    if config["dask_fit"] != "sample":
        raise TypeError(
            f"fit got a dask array of shape {X.shape}: skhash does not read a whole dask "
            f"array to fit. Fit on an in-memory sample, e.g. fit(X[:100_000].compute()), "
            f"or let fit draw a random sample with "
            f"skhash.set_config(dask_fit='sample', dask_fit_n_samples=100_000) (or the "
            f"skhash.config_context with-block); transform accepts the dask array."
        )
    n_rows = X.shape[0]
    if np.isnan(n_rows):
        raise ValueError(
            "Cannot sample a dask array with unknown chunk sizes: call "
            "X.compute_chunk_sizes() first."
        )
    if y is not None and len(y) != n_rows:
        raise ValueError(f"y has {len(y)} rows but X has {n_rows}: give one label per row.")
    n_samples = config["dask_fit_n_samples"]
    rows = slice(None)
    if n_rows > n_samples:
        rng = np.random.default_rng(config["dask_fit_random_state"])
        rows = np.sort(rng.choice(n_rows, size=n_samples, replace=False))
    X = X[rows].compute()
    if y is not None:
        y = y[rows]
        y = y.compute() if is_dask_array(y) else y
    return X, y
