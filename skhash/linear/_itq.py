"""Iterative quantization (Gong et al.)."""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._blocks import row_blocks
from ._pca import (
    BLOCK_BYTES,
    centred_principal_axes,
    check_n_bits_within,
    power_of_two_scale,
    principal_axes,
    random_rotation,
)

__all__ = ["ITQHasher", "itq_rotation"]


# Rows of V per block of the rotation updates (V @ R, its signs and B^T V stay in L2 cache).
_ROTATION_BLOCK_BYTES = 256 * 2**10


def itq_rotation(V, n_iter, rng):
    """The orthogonal ``R`` that makes ``sign(V R)`` fit ``V R`` best (Gong et al.).

    Starts from a random rotation and alternates ``B = sign(V R)`` with the orthogonal
    Procrustes solution for ``R``, ``n_iter`` times. The products run in float32 (twice
    as fast as float64, and the rotation only orders signs); each Procrustes step is
    solved in float64. ``R`` has ``V``'s dtype.
    """
    V32 = V.astype(np.float32, copy=False)
    rotation = random_rotation(V.shape[1], rng, np.float64)
    # Blocks of rows that stay in cache: B = sign(V R) and B^T V are made block by block.
    blocks = list(row_blocks(V.shape[0], V.shape[1] * 4, max_bytes=_ROTATION_BLOCK_BYTES))
    for _ in range(n_iter):
        rotation32 = rotation.astype(np.float32)
        cross = np.zeros((V.shape[1], V.shape[1]))
        for rows in blocks:
            signs = V32[rows] @ rotation32
            np.copysign(np.float32(1), signs, out=signs)  # +1 where >= +0, else -1
            cross += signs.T @ V32[rows]
        u, _, vt = np.linalg.svd(cross)
        rotation = (u @ vt).T
    return rotation.astype(V.dtype, copy=False)


class ITQHasher(BaseHasher):
    """Iterative quantization: PCA, then the rotation that best fits the binary hypercube.

    The data are centred and projected on their ``n_bits`` leading principal components
    ``V``; starting from a random orthogonal matrix, ``n_iter`` alternations of
    ``B = sign(V R)`` and the orthogonal Procrustes solution for ``R`` minimise the
    quantization loss ``||B - V R||_F`` (Gong et al., Algorithm of Sec. 2.3).

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits; at most ``min(n_samples, n_features)``.
    n_iter : int, default=50
        Number of rotation updates (the published 50; Gong's ``ITQ.m`` makes 51, one
        more after its loop).
    normalize : bool, default=False
        L2-normalise every centred row before the PCA, the preprocessing of faiss
        ``ITQTransform``. It does not reproduce faiss's ITQ: faiss's rotation loop, from
        the same start, barely lowers the quantisation loss (on MNIST at 16 bits 11.45 to
        11.15, where this loop reaches 9.59), so faiss scores lower (mAP 0.357 against
        0.414). Gong's reference code does not normalise and scores higher on MNIST
        pixels.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial random rotation.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    components_ : ndarray of shape (n_bits, n_features)
        Leading principal axes.
    rotation_ : ndarray of shape (n_bits, n_bits)
        Learned orthogonal rotation.
    n_iter_ : int
        Number of iterations run.
    quantization_loss_ : float
        Final ``||B - V R||_F^2 / n_samples``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LSHHasher : data-independent random projections.
    SpectralHasher : PCA with analytic Laplacian eigenfunctions.

    References
    ----------
    Y. Gong, S. Lazebnik, A. Gordo, F. Perronnin, "Iterative quantization: a Procrustean
    approach to learning binary codes for large-scale image retrieval", TPAMI 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import ITQHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 32))
    >>> itq = ITQHasher(n_bits=16, random_state=0).fit(X)
    >>> itq.transform(X[:2]).shape
    (2, 16)
    """

    _non_finite_propagates = True
    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_jobs": N_JOBS_CONSTRAINT,
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "normalize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, n_iter=50, normalize=False, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.n_jobs = n_jobs
        self.n_iter = n_iter
        self.normalize = normalize
        self.random_state = random_state

    def _centre(self, X):
        X = X - self.mean_
        if self.normalize:
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            X /= np.where(norms > 0, norms, 1)
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the principal axes and the rotation from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : ITQHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        check_n_bits_within(
            self,
            X,
            min(X.shape),
            "min(n_samples, n_features)",
            "Use fewer bits, or SpectralHasher / LSHHasher, which can give more bits than "
            "features.",
        )
        rng = check_random_state(self.random_state)
        # One exact power-of-two scale for the PCA and for the rotation, which does not
        # depend on the scale of V: neither overflows nor underflows at any input scale.
        if self.normalize:
            self.mean_ = X.mean(axis=0)
            X = self._centre(X)
            scale = power_of_two_scale(X)
            self.components_ = principal_axes(X, self.n_bits, scale=scale)
        else:  # no centred copy of X: the PCA and V are computed a block at a time
            self.mean_, self.components_, scale = centred_principal_axes(X, self.n_bits)
        V = self._scaled_projections(X, scale)
        self.rotation_ = itq_rotation(V, self.n_iter, rng)
        self.n_iter_ = self.n_iter
        with np.errstate(over="ignore"):  # inputs near 1e200 have a loss beyond float range
            projected = (V * V.dtype.type(scale)) @ self.rotation_
            self.quantization_loss_ = float(
                np.sum((np.where(projected >= 0, 1.0, -1.0) - projected) ** 2) / X.shape[0]
            )
        return self

    def _scaled_projections(self, X, scale):
        """``V = (centred X) @ components_.T / scale``; ``X`` is centred already when
        ``normalize``, else it is centred a block of rows at a time."""
        if self.normalize:
            return (X @ self.components_.T) / X.dtype.type(scale)
        V = np.empty((X.shape[0], self.n_bits), dtype=X.dtype)
        scaled_axes = self.components_.T / X.dtype.type(scale)  # exact: a power of two
        for rows in row_blocks(X.shape[0], X.shape[1] * X.itemsize, max_bytes=BLOCK_BYTES):
            V[rows] = (X[rows] - self.mean_) @ scaled_axes
        return V

    def _decision_function(self, X):
        if self.normalize:
            return (self._centre(X) @ self.components_.T) @ self.rotation_
        # One product, in X's dtype: X @ P - mean @ P with P = components.T @ rotation.
        projection = (self.components_.T @ self.rotation_).astype(X.dtype, copy=False)
        return X @ projection - (self.mean_ @ projection).astype(X.dtype, copy=False)
