"""Anchor graph hashing (Liu, Wang, Kumar and Chang)."""

from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..linear._blocks import nearest_centres, random_start_kmeans
from ..utils import N_JOBS_CONSTRAINT

__all__ = ["AGHHasher", "anchor_graph_embedding", "anchor_weights"]


def anchor_weights(X, anchors, n_nearest, bandwidth=None):
    """The truncated similarity ``Z`` of every row to its ``n_nearest`` anchors.

    Gaussian weights ``exp(-d^2 / bandwidth^2)`` of the nearest anchors, normalised to sum
    to one per row, as a CSR matrix of shape ``(n_samples, n_anchors)``. ``bandwidth=None``
    estimates it as the released code does: the mean distance to the ``n_nearest``-th
    anchor. Returns ``(Z, bandwidth)``.
    """
    sq_distances, indices = nearest_centres(X, anchors, n_nearest)
    sq_distances = sq_distances.astype(np.float64)
    if bandwidth is None:
        bandwidth = float(np.mean(np.sqrt(sq_distances[:, -1])))
        bandwidth = bandwidth if bandwidth > 0 else 1.0
    # Relative to each row's nearest anchor: the same weights once normalised, and no row
    # far from every anchor underflows to all zeros.
    weights = np.exp(-(sq_distances - sq_distances[:, :1]) / bandwidth**2)
    weights /= weights.sum(axis=1, keepdims=True)
    n = X.shape[0]
    rows = np.repeat(np.arange(n), n_nearest)
    Z = sp.csr_matrix((weights.ravel(), (rows, indices.ravel())), shape=(n, anchors.shape[0]))
    return Z, bandwidth


def anchor_graph_embedding(Z, n_components):
    """The spectral embedding of the anchor graph ``A = Z diag(1/lambda) Z^T``.

    Returns ``W`` of shape ``(n_anchors, n_components)`` with ``Y = Z W`` the graph
    Laplacian eigenvectors scaled as the released code scales them
    (``diag(lambda^-1/2) V diag(sigma^-1/2)``, with the eigenvalues ``sigma`` strictly
    between 0 and ``1 - 1e-3``: the trivial eigenvectors left out), and the anchors'
    weights ``lambda`` (the column sums of ``Z``).
    """
    column_sums = np.asarray(Z.sum(axis=0)).ravel()
    if np.any(column_sums <= 0):
        raise ValueError(
            "An anchor is nobody's nearest: every anchor needs at least one sample among "
            "whose n_nearest_anchors it is. Use fewer anchors (n_anchors)."
        )
    inv_sqrt = column_sums**-0.5
    gram = (Z.T @ Z).toarray() * inv_sqrt[:, None] * inv_sqrt[None, :]
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    keep = (eigenvalues > 0) & (eigenvalues < 1 - 1e-3)
    eigenvalues, eigenvectors = eigenvalues[keep], eigenvectors[:, keep]
    if eigenvalues.size < n_components:
        raise ValueError(
            f"The anchor graph has {eigenvalues.size} usable eigenvectors, fewer than the "
            f"{n_components} needed: use more anchors (n_anchors) or fewer bits."
        )
    W = inv_sqrt[:, None] * eigenvectors[:, :n_components] * eigenvalues[:n_components] ** -0.5
    return W, column_sums


def _second_layer_thresholds(Y, Z, column_sums):
    """The released two-layer thresholds: for each bit, the offsets of its positive and
    negative parts that make the second bit best fit the graph (Liu et al., Sec. 3.3)."""
    n = Y.shape[0]
    thresholds = np.empty((2, Y.shape[1]))
    for k in range(Y.shape[1]):
        positive = Y[:, k] > 0
        n_pos = int(positive.sum())
        n_neg = n - n_pos
        right = (Z.T @ np.abs(Y[:, k])) / column_sums
        left = np.asarray(Z[positive].sum(axis=0)).ravel()
        s1 = left @ right
        s2 = n_pos - left @ (left / column_sums)
        s3 = Y[positive, k].sum()
        thresholds[0, k] = (2 * s3 + n_neg * (s3 - s1) / s2) / n
        thresholds[1, k] = (n_pos * (s3 - s1) / s2 - 2 * s3) / n
    return thresholds


class AGHHasher(BaseHasher):
    """Anchor graph hashing: spectral hashing on a graph built through a few anchors.

    k-means finds ``n_anchors`` anchors; every sample is linked to its
    ``n_nearest_anchors`` nearest anchors with normalised Gaussian weights ``Z``, and the
    low-rank graph ``Z diag(1/lambda) Z^T`` stands in for the full neighbour graph. Its
    leading non-trivial eigenvectors, computed from an ``n_anchors x n_anchors`` matrix,
    extend to new points through their own anchor weights, and the signs give the bits
    (one-layer AGH). With ``n_layers=2`` each eigenvector gives two bits: its sign, and a
    second threshold on each side learned from the graph (Liu et al. 2011).

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits; even when ``n_layers=2``. At most ``n_anchors - 1`` eigenvectors
        are available.
    n_anchors : int, default=300
        Number of anchors (the paper's 300); at most ``n_samples`` are used.
    n_nearest_anchors : int, default=2
        Anchors each sample is linked to (the paper's ``s = 2``).
    n_layers : {1, 2}, default=1
        One- or two-layer AGH.
    kmeans_iter : int, default=5
        Iterations of the k-means that places the anchors (the released code's 5).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means start.

    Attributes
    ----------
    anchors_ : ndarray of shape (n_anchors_used, n_features)
        Anchor points.
    n_nearest_anchors_ : int
        Anchors each sample is linked to (``n_nearest_anchors``, at most the anchors).
    bandwidth_ : float
        Width of the Gaussian weights.
    projection_ : ndarray of shape (n_anchors, n_eigenvectors)
        Maps anchor weights to the graph eigenvectors.
    thresholds_ : ndarray of shape (2, n_bits // 2) or None
        Second-layer thresholds (``n_layers=2``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SpectralHasher : the analytic eigenfunctions of a box instead of a data graph.
    ScalableGraphHasher : a whole-graph approximation through kernel features.

    References
    ----------
    W. Liu, J. Wang, S. Kumar, S.-F. Chang, "Hashing with graphs", ICML 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import AGHHasher
    >>> X = np.random.default_rng(0).normal(size=(500, 10))
    >>> AGHHasher(n_bits=8, n_anchors=50, random_state=0).fit_transform(X).shape
    (500, 8)
    """

    _short_name = "AGH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_anchors": [Interval(Integral, 2, None, closed="left")],
        "n_nearest_anchors": [Interval(Integral, 1, None, closed="left")],
        "n_layers": [Interval(Integral, 1, 2, closed="both")],
        "kmeans_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        n_anchors=300,
        n_nearest_anchors=2,
        n_layers=1,
        kmeans_iter=5,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.n_anchors = n_anchors
        self.n_nearest_anchors = n_nearest_anchors
        self.n_layers = n_layers
        self.kmeans_iter = kmeans_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Place the anchors and learn the graph eigenvectors from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : AGHHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        if self.n_layers == 2 and self.n_bits % 2:
            raise ValueError(
                f"AGHHasher with n_layers=2 gives two bits per eigenvector: n_bits must be "
                f"even, got n_bits={self.n_bits}."
            )
        if self.n_nearest_anchors > self.n_anchors:
            raise ValueError(
                f"n_nearest_anchors={self.n_nearest_anchors} exceeds "
                f"n_anchors={self.n_anchors}: use at most n_anchors."
            )
        n_anchors = min(self.n_anchors, X.shape[0])
        kmeans = random_start_kmeans(X, n_anchors, self.kmeans_iter, self.random_state)
        return self._fit_anchors(X, kmeans.cluster_centers_.astype(X.dtype))

    def _fit_anchors(self, X, anchors):
        self.anchors_ = anchors
        self.n_nearest_anchors_ = min(self.n_nearest_anchors, len(anchors))
        Z, self.bandwidth_ = anchor_weights(X, anchors, self.n_nearest_anchors_)
        n_eigen = self.n_bits // self.n_layers
        W, column_sums = anchor_graph_embedding(Z, n_eigen)
        self.thresholds_ = None
        if self.n_layers == 2:
            W *= np.sqrt(X.shape[0])
            self.thresholds_ = _second_layer_thresholds(Z @ W, Z, column_sums)
        self.projection_ = W
        return self

    def _decision_function(self, X):
        Z, _ = anchor_weights(X, self.anchors_, self.n_nearest_anchors_, self.bandwidth_)
        Y = Z @ self.projection_
        if self.thresholds_ is not None:
            second = np.where(Y > 0, Y - self.thresholds_[0], -Y + self.thresholds_[1])
            Y = np.hstack([Y, second])
        return Y.astype(X.dtype, copy=False)
