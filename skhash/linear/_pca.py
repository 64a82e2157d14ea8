"""The principal axes shared by the PCA-based hashers (ITQ, spectral hashing)."""

import numpy as np
from sklearn.decomposition import PCA

__all__ = ["check_n_bits_within", "pca_solver", "principal_axes", "random_rotation"]


def pca_solver(X):
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
    solver = pca_solver(X_scaled)
    return PCA(n_components=n_components, svd_solver=solver).fit(X_scaled).components_


def check_n_bits_within(hasher, X, max_bits, limit, fix):
    """Raise a ``ValueError`` naming ``n_bits``, the data's shape and ``fix`` when the
    hasher's ``n_bits`` exceeds ``max_bits`` (described by ``limit``)."""
    if hasher.n_bits > max_bits:
        raise ValueError(
            f"{type(hasher).__name__} needs n_bits <= {limit} = {max_bits}; got "
            f"n_bits={hasher.n_bits} with n_samples={X.shape[0]}, n_features={X.shape[1]}. "
            f"{fix}"
        )


def random_rotation(n, rng, dtype=np.float64):
    """A random ``n x n`` orthogonal matrix: the left singular vectors of a Gaussian
    matrix, as Gong's ``ITQ.m`` and the PCA-RR baseline draw it."""
    rotation, _, _ = np.linalg.svd(rng.standard_normal((n, n)))
    return rotation.astype(dtype, copy=False)
