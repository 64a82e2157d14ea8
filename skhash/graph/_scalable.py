"""Scalable graph hashing (Jiang and Li), not stochastic generative hashing."""

from numbers import Integral, Real

import numpy as np
import scipy.linalg
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..linear._blocks import centred_gaussian_kernel, gaussian_kernel, row_blocks
from ..utils import N_JOBS_CONSTRAINT

__all__ = ["ScalableGraphHasher", "sequential_graph_projections"]

# Ridge added to the kernel Gram matrix (the released code's gamma).
_RIDGE = 1e-6


def kernel_similarity_products(K, X, rho):
    """``K^T P`` and ``K^T Q``, with ``P Q^T`` the released code's approximation of the
    whole graph ``2 exp(-||x - y||^2 / rho) - 1`` (data of norm at most 1).

    ``P`` and ``Q`` (``n_samples x (n_features + 2)``) differ only in the sign of their
    last column; they are built a block of rows at a time and never held whole.
    """
    alpha = np.sqrt(2 * (np.e - np.exp(-1)) / rho)
    KP = np.zeros((K.shape[1], X.shape[1] + 2))
    for rows in row_blocks(X.shape[0], 3 * (X.shape[1] + 2) * 8):
        block = X[rows].astype(np.float64)
        decay = np.exp(-np.einsum("ij,ij->i", block, block) / rho)[:, None]
        P = np.hstack([alpha * block * decay, np.sqrt(np.e + np.exp(-1)) * decay])
        KP[:, :-1] += K[rows].T @ P
        KP[:, -1] += K[rows].sum(axis=0)
    KQ = KP.copy()
    KQ[:, -1] *= -1
    return KP, KQ


def sequential_graph_projections(K, KP, KQ, n_bits, order):
    """The released sequential learning of the projections ``W`` (``n_kernels x n_bits``).

    Each bit is the top generalised eigenvector of the residual graph ``K^T (P Q^T) K``
    against ``K^T K``; the residual then loses that bit's contribution. One more pass in
    ``order`` relearns each bit against the others (Jiang & Li 2015, Algorithm 1).
    """
    residual = n_bits * (KP @ KQ.T)
    residual = (residual + residual.T) / 2  # P Q^T is symmetric: remove rounding
    gram = K.T @ K + _RIDGE * np.eye(K.shape[1])
    last = K.shape[1] - 1

    def top_direction(residual):
        _, vector = scipy.linalg.eigh(residual, gram, subset_by_index=[last, last])
        return vector[:, 0]

    def contribution(w):
        v = K.T @ np.sign(K @ w)
        return np.outer(v, v)

    W = np.empty((K.shape[1], n_bits))
    for bit in range(n_bits):
        W[:, bit] = top_direction(residual)
        residual -= contribution(W[:, bit])
    for bit in order:
        residual += contribution(W[:, bit])
        W[:, bit] = top_direction(residual)
        residual -= contribution(W[:, bit])
    return W


class ScalableGraphHasher(BaseHasher):
    """Scalable graph hashing: the whole Gaussian graph, approximated through features.

    The pairwise similarity ``2 exp(-||x - y||^2 / rho) - 1`` of all training pairs is
    written as ``P Q^T`` with explicit features (a Taylor approximation, valid for data
    of norm at most 1), so the graph is never built. Bits are signs of kernel features
    ``K(x)`` (a Gaussian kernel on ``n_bases`` random training points, centred), learned
    one after the other: each is the top generalised eigenvector of what the previous
    bits left of the graph (Jiang & Li 2015). The data are centred and scaled so that
    the largest training norm is 1, as the released code asks of its input.

    This is *not* :class:`~skhash.SGHHasher`, stochastic generative hashing, which
    shares the abbreviation SGH.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits; at most ``n_bases``.
    n_bases : int, default=300
        Random training points of the kernel features (the released code's 300).
    rho : float, default=2.0
        Width of the approximated Gaussian similarity (the released code's 2).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the bases and of the order of the refining pass.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    scale_ : float
        Largest norm of the centred training data (the data are divided by it).
    bases_ : ndarray of shape (n_bases, n_features)
        Kernel bases (scaled training points).
    bandwidth_ : float
        Mean squared distance of the training data to the bases (the kernel's width).
    kernel_mean_ : ndarray of shape (n_bases,)
        Training mean of the kernel features.
    projection_ : ndarray of shape (n_bases, n_bits)
        Learned projections of the kernel features.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AGHHasher : a low-rank graph through anchors.

    References
    ----------
    Q.-Y. Jiang, W.-J. Li, "Scalable graph hashing with feature transformation",
    IJCAI 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import ScalableGraphHasher
    >>> X = np.random.default_rng(0).normal(size=(400, 10))
    >>> ScalableGraphHasher(n_bits=8, n_bases=50, random_state=0).fit_transform(X).shape
    (400, 8)
    """

    _short_name = "ScalableGraph"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_bases": [Interval(Integral, 1, None, closed="left")],
        "rho": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, n_bases=300, rho=2.0, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.n_bases = n_bases
        self.rho = rho
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the kernel features and the projections from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : ScalableGraphHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        n_bases = min(self.n_bases, X.shape[0])
        if self.n_bits > n_bases:
            raise ValueError(
                f"ScalableGraphHasher needs n_bits <= n_bases = {n_bases} (at most "
                f"n_samples={X.shape[0]}); got n_bits={self.n_bits}. Use more bases or "
                f"fewer bits."
            )
        rng = check_random_state(self.random_state)
        self.mean_ = X.mean(axis=0)
        centred = X - self.mean_
        norm = float(np.sqrt(np.einsum("ij,ij->i", centred, centred).max()))
        self.scale_ = norm if norm > 0 else 1.0
        centred /= centred.dtype.type(self.scale_)
        bases = rng.permutation(X.shape[0])[:n_bases]
        order = rng.permutation(self.n_bits)
        return self._fit_bases(centred, centred[bases], order)

    def _fit_bases(self, scaled, bases, order):
        self.bases_ = bases
        K, self.bandwidth_, self.kernel_mean_ = centred_gaussian_kernel(scaled, bases)
        KP, KQ = kernel_similarity_products(K, scaled, self.rho)
        self.projection_ = sequential_graph_projections(K, KP, KQ, self.n_bits, order)
        return self

    def _decision_function(self, X):
        scaled = (X - self.mean_) / X.dtype.type(self.scale_)
        K = gaussian_kernel(scaled, self.bases_, 2 * self.bandwidth_) - self.kernel_mean_
        return (K @ self.projection_).astype(X.dtype, copy=False)
