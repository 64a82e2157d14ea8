"""The principal axes shared by the PCA-based hashers (ITQ, spectral hashing)."""

import numpy as np
from sklearn.decomposition import PCA

__all__ = ["principal_axes"]


def _pca_solver(X):
    """Exact PCA solver for ``X``: the covariance eigendecomposition when samples outnumber
    features (much faster than a full SVD and just as exact), a full SVD otherwise."""
    return "covariance_eigh" if X.shape[0] >= X.shape[1] else "full"


def power_of_two_scale(X):
    """A power of two near the largest magnitude of ``X`` (1 for an all-zero ``X``).

    Dividing by it is exact in floating point, so it changes no projection's sign, and it
    keeps the covariance of inputs near 1e200 (overflow) or 1e-200 (underflow) in range.
    """
    # max(X.max(), -X.min()) is max |X| without an |X| copy of the whole array.
    peak = max(float(X.max()), -float(X.min())) if X.size else 0.0
    if not np.isfinite(peak) or peak == 0:
        return 1.0
    return float(2.0 ** np.round(np.log2(peak)))


def principal_axes(X, n_components, scale=None):
    """The ``n_components`` leading principal axes of ``X``, rows of unit norm.

    The fit runs on ``X`` divided by :func:`power_of_two_scale` (or ``scale``, when the
    caller has it already), which gives the same axes for ordinary inputs and keeps extreme
    scales from overflowing or underflowing.
    """
    scale = power_of_two_scale(X) if scale is None else scale
    X_scaled = X / X.dtype.type(scale) if scale != 1.0 else X
    solver = _pca_solver(X_scaled)
    return PCA(n_components=n_components, svd_solver=solver).fit(X_scaled).components_
