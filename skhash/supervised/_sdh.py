"""Supervised discrete hashing (Shen, Shen, Liu and Shen)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseHasher, with_threads
from ..linear._blocks import squared_distances
from ..utils import N_JOBS_CONSTRAINT
from ._labels import SupervisedHasherMixin

__all__ = ["SDHHasher", "discrete_codes", "ridge_regression", "supervised_discrete_hashing"]


def ridge_regression(A, B, regularization):
    """The released ``RRC``: ``W`` minimising ``||B - A W||^2 + lambda ||W||^2``."""
    if A.shape[0] < A.shape[1]:
        return A.T @ np.linalg.solve(A @ A.T + regularization * np.eye(A.shape[0]), B)
    return np.linalg.solve(A.T @ A + regularization * np.eye(A.shape[1]), A.T @ B)


def discrete_codes(B, Q, W, max_sweeps=10):
    """Discrete cyclic coordinate descent for ``B`` (the paper's Eq. 13): each bit column
    in turn is ``sign(Q_k - B_{-k} W_{-k} W_k^T)``, for up to ``max_sweeps`` sweeps or until
    the codes change by less than ``1e-6`` of their norm."""
    B = B.copy()
    for _ in range(max_sweeps):
        previous = B.copy()
        for k in range(B.shape[1]):
            others = np.arange(B.shape[1]) != k
            B[:, k] = np.sign(Q[:, k] - B[:, others] @ (W[others] @ W[k]))
        if np.linalg.norm(B - previous) < 1e-6 * np.linalg.norm(previous):
            break
    return B


def supervised_discrete_hashing(Phi, Y, B, n_iter, penalty, regularization, label_weight, tol=1e-5):
    """The released ``SDH`` with the L2 loss, from the codes ``B``.

    Alternates the classifier ``W = RRC(B, Y)``, the codes by discrete cyclic coordinate
    descent and the hash projection ``P = RRC(Phi, B)``. Returns ``(P, B, n_iter)``.
    """
    W = ridge_regression(B, Y, label_weight)
    P = ridge_regression(Phi, B, regularization)
    iteration = 0
    while iteration < n_iter:
        iteration += 1
        B = discrete_codes(B, penalty * (Phi @ P) + Y @ W.T, W)
        W = ridge_regression(B, Y, label_weight)
        previous = P
        P = ridge_regression(Phi, B, regularization)
        if np.linalg.norm(B - Phi @ P) < tol * np.linalg.norm(B):
            break
        if np.linalg.norm(P - previous) < tol * np.linalg.norm(previous):
            break
    return P, B, iteration


class SDHHasher(SupervisedHasherMixin, BaseHasher):
    """Supervised discrete hashing: binary codes that a linear classifier reads the labels
    from, learned directly in ``{-1, 1}``.

    Samples are described by Gaussian kernel features on ``n_anchors`` random training
    points (plus a constant). SDH minimises ``||Y - B W||^2 + lambda ||W||^2 + nu ||B -
    Phi P||^2`` over the codes ``B``, the classifier ``W`` and the hash projection ``P``,
    keeping ``B`` binary: each bit column is solved exactly in turn (discrete cyclic
    coordinate descent, no relaxation), and new samples are hashed by
    ``sign(Phi(x) P)`` (Shen, Shen, Liu & Shen, CVPR 2015; the released L2-loss code).

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits.
    n_anchors : int, default=1000
        Anchors of the kernel features (the released 1000); at most ``n_samples``.
    bandwidth : float or "auto", default="auto"
        Width ``sigma`` of the kernel ``exp(-||x - a||^2 / (2 sigma^2))``. The released
        demo fixes 0.4 for its normalised features and leaves, commented out, the mean
        distance to the nearest anchor; ``"auto"`` takes that mean over the samples that
        are not anchors.
    n_iter : int, default=5
        Outer iterations (the released 5).
    penalty : float, default=1e-5
        ``nu``, weight of the fit of the codes by the projection (the released 1e-5).
    regularization : float, default=0.01
        Ridge of the hash projection (the released 0.01).
    label_weight : float, default=1.0
        Ridge ``lambda`` of the classifier (the released 1).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the anchors and of the initial codes.

    Attributes
    ----------
    anchors_ : ndarray of shape (n_anchors, n_features)
        Anchor points.
    bandwidth_ : float
        Kernel width used.
    projection_ : ndarray of shape (n_anchors + 1, n_bits)
        Hash projection of the kernel features.
    n_iter_ : int
        Outer iterations run.
    classes_ : ndarray
        Class labels (column indices for a multi-label indicator ``y``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    KSHHasher : kernel hashing from pairwise labels.
    CCAITQHasher : a linear supervised embedding, then ITQ.

    References
    ----------
    F. Shen, C. Shen, W. Liu, H. T. Shen, "Supervised discrete hashing", CVPR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import SDHHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 300)
    >>> X = rng.normal(size=(300, 20)) + y[:, None]
    >>> SDHHasher(n_bits=8, n_anchors=50, random_state=0).fit(X, y).transform(X[:2]).shape
    (2, 8)
    """

    _short_name = "SDH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_anchors": [Interval(Integral, 1, None, closed="left")],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "penalty": [Interval(Real, 0, None, closed="left")],
        "regularization": [Interval(Real, 0, None, closed="neither")],
        "label_weight": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        n_anchors=1000,
        bandwidth="auto",
        n_iter=5,
        penalty=1e-5,
        regularization=0.01,
        label_weight=1.0,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.n_anchors = n_anchors
        self.bandwidth = bandwidth
        self.n_iter = n_iter
        self.penalty = penalty
        self.regularization = regularization
        self.label_weight = label_weight
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the codes, the classifier and the hash projection from ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multi-label indicator matrix.

        Returns
        -------
        self : SDHHasher
            Fitted hasher.
        """
        X, Y = self._validate_X_y(X, y)
        rng = check_random_state(self.random_state)
        rows = rng.permutation(X.shape[0])[: min(self.n_anchors, X.shape[0])]
        self.anchors_ = X[rows]
        sq_distances = squared_distances(X, self.anchors_).astype(np.float64)
        if self.bandwidth == "auto":
            nearest = np.delete(sq_distances, rows, axis=0).min(axis=1)
            bandwidth = float(np.sqrt(nearest).mean()) if nearest.size else 0.0
            self.bandwidth_ = bandwidth if bandwidth > 0 else 1.0
        else:
            self.bandwidth_ = float(self.bandwidth)
        B = np.sign(rng.standard_normal((X.shape[0], self.n_bits)))
        self.projection_, _, self.n_iter_ = supervised_discrete_hashing(
            self._features(sq_distances),
            Y,
            B,
            self.n_iter,
            self.penalty,
            self.regularization,
            self.label_weight,
        )
        return self

    def _features(self, sq_distances):
        """The kernel features, and a constant, from squared distances to the anchors."""
        kernel = np.exp(sq_distances / -(2 * self.bandwidth_**2))
        return np.hstack([kernel, np.ones((len(kernel), 1))])

    def _decision_function(self, X):
        sq_distances = squared_distances(X, self.anchors_).astype(np.float64)
        return (self._features(sq_distances) @ self.projection_).astype(X.dtype, copy=False)
