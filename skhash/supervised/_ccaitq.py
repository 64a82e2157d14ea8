"""CCA-ITQ: iterative quantization of the canonical correlation embedding (Gong et al.)."""

from numbers import Integral, Real

import numpy as np
import scipy.linalg
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..linear._itq import itq_rotation
from ..linear._pca import check_n_bits_within
from ..utils import N_JOBS_CONSTRAINT
from ._labels import SupervisedHasherMixin

__all__ = ["CCAITQHasher", "cca_directions"]


def cca_directions(X, Y, regularization):
    """Canonical directions of centred ``X`` against ``Y`` and their correlations.

    Gong's ``cca.m``: with ``Cxx = R^T R`` (regularised), the eigenvectors of
    ``R^-T Cxy Cyy^-1 Cyx R^-1`` mapped back by ``R^-1``; correlations in decreasing order.
    Returns ``(directions (n_features, n_features), correlations (n_features,))``.
    """
    n = X.shape[0]
    Yc = Y - Y.mean(axis=0)
    Cxx = X.T @ X / (n - 1) + regularization * np.eye(X.shape[1])
    Cxy = X.T @ Yc / (n - 1)
    Cyy = Yc.T @ Yc / (n - 1) + regularization * np.eye(Y.shape[1])
    R = scipy.linalg.cholesky(Cxx)  # upper: Cxx = R^T R
    left = scipy.linalg.solve_triangular(R, Cxy, trans="T")  # R^-T Cxy
    Z = left @ np.linalg.solve(Cyy, left.T)
    eigenvalues, vectors = np.linalg.eigh((Z + Z.T) / 2)
    order = np.argsort(eigenvalues)[::-1]
    correlations = np.sqrt(np.clip(eigenvalues[order], 0, None))
    directions = scipy.linalg.solve_triangular(R, vectors[:, order])
    return directions, correlations


class CCAITQHasher(SupervisedHasherMixin, BaseHasher):
    """CCA-ITQ: canonical correlation analysis against the labels, then ITQ.

    The centred data are projected on their ``n_bits`` leading canonical directions with
    the label matrix, each scaled by its canonical correlation, and ITQ's rotation turns
    the projections towards the corners of the hypercube (Gong, Lazebnik, Gordo &
    Perronnin, TPAMI 2013, Sec. 5). With ``c`` classes only ``c - 1`` directions carry
    correlation; the rest are scaled to nearly zero and the rotation spreads the label
    information over all the bits.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits; at most ``n_features``.
    regularization : float, default=1e-4
        Ridge added to both covariances (the released ``cca.m``'s 0.0001).
    n_iter : int, default=50
        ITQ rotation updates.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of ITQ's initial rotation.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    components_ : ndarray of shape (n_features, n_bits)
        Canonical directions scaled by their correlations.
    correlations_ : ndarray of shape (n_bits,)
        Canonical correlations of the kept directions.
    rotation_ : ndarray of shape (n_bits, n_bits)
        ITQ rotation.
    classes_ : ndarray
        Class labels (column indices for a multi-label indicator ``y``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ITQHasher : the unsupervised version, on principal components.
    SDHHasher : discrete supervised codes on kernel features.

    References
    ----------
    Y. Gong, S. Lazebnik, A. Gordo, F. Perronnin, "Iterative quantization: a Procrustean
    approach to learning binary codes for large-scale image retrieval", TPAMI 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import CCAITQHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 300)
    >>> X = rng.normal(size=(300, 20)) + y[:, None]
    >>> CCAITQHasher(n_bits=8, random_state=0).fit(X, y).transform(X[:2]).shape
    (2, 8)
    """

    _short_name = "CCA-ITQ"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "regularization": [Interval(Real, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self, n_bits=32, *, regularization=1e-4, n_iter=50, n_jobs=None, random_state=None
    ):
        self.n_bits = n_bits
        self.regularization = regularization
        self.n_iter = n_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the canonical directions from ``(X, y)`` and the rotation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multi-label indicator matrix.

        Returns
        -------
        self : CCAITQHasher
            Fitted hasher.
        """
        X, Y = self._validate_X_y(X, y)
        check_n_bits_within(self, X, X.shape[1], "n_features", "Use fewer bits than features.")
        self.mean_ = X.mean(axis=0)
        centred = (X - self.mean_).astype(np.float64)
        directions, correlations = cca_directions(centred, Y, self.regularization)
        self.correlations_ = correlations[: self.n_bits]
        components = directions[:, : self.n_bits] * self.correlations_
        V = centred @ components
        self.rotation_ = itq_rotation(V, self.n_iter, check_random_state(self.random_state))
        self.components_ = components.astype(X.dtype)
        self.rotation_ = self.rotation_.astype(X.dtype)
        return self

    def _decision_function(self, X):
        return ((X - self.mean_) @ self.components_) @ self.rotation_
