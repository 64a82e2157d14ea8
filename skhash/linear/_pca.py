"""The principal axes shared by the PCA-based hashers (ITQ, spectral hashing)."""

import numpy as np
from scipy.linalg import eigh, get_blas_funcs
from sklearn.decomposition import PCA

from ._blocks import row_blocks

__all__ = [
    "centred_principal_axes",
    "check_n_bits_within",
    "pca_solver",
    "principal_axes",
    "random_rotation",
]


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
    return _power_of_two(max(float(X.max()), -float(X.min())) if X.size else 0.0)


def _power_of_two(peak):
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


# Rows of the blocks of centred_principal_axes: a bounded temporary, cache-friendly products.
BLOCK_BYTES = 32 * 2**20


def centred_principal_axes(X, n_components):
    """``(mean, components, scale)`` of ``X`` without a centred copy of it.

    ``components`` are the ``n_components`` leading principal axes (rows of unit norm, of
    ``X``'s dtype, signs as scikit-learn's PCA gives them) and ``scale`` the
    :func:`power_of_two_scale` of the centred data. When samples outnumber features the
    covariance is summed over blocks of rows (``working_memory``), each centred and
    scaled on its own, so the extra memory is a block, not a copy of ``X``.
    """
    mean = X.mean(axis=0)
    if X.shape[0] < X.shape[1]:
        centred = X - mean
        scale = power_of_two_scale(centred)
        return mean, principal_axes(centred, n_components, scale), scale
    # max |x - mean| per column is at the column's largest or smallest value: no copy.
    scale = _power_of_two(
        max(float((X.max(axis=0) - mean).max()), float((mean - X.min(axis=0)).max()))
    )
    # Only the upper triangle of each block's X^T X (BLAS syrk: half the work of a product).
    syrk = get_blas_funcs("syrk", (X,))
    covariance = np.zeros((X.shape[1], X.shape[1]))
    for rows in row_blocks(X.shape[0], X.shape[1] * X.itemsize, max_bytes=BLOCK_BYTES):
        block = X[rows] - mean
        block /= block.dtype.type(scale)
        covariance += syrk(1.0, block.T)  # block.T is Fortran-ordered: no copy
    # Only the leading eigenvectors (LAPACK syevr on a subset: 2-3x faster than all of them).
    n_features = X.shape[1]
    _, eigenvectors = eigh(
        covariance, lower=False, subset_by_index=[n_features - n_components, n_features - 1]
    )
    components = np.ascontiguousarray(eigenvectors[:, ::-1].T)
    # scikit-learn's svd_flip(u_based_decision=False): the largest entry of each axis > 0.
    largest = components[np.arange(n_components), np.abs(components).argmax(axis=1)]
    components *= np.where(largest < 0, -1.0, 1.0)[:, None]
    return mean, components.astype(X.dtype, copy=False), scale


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
