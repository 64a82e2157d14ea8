"""Isotropic hashing (Kong and Li)."""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._pca import check_n_bits_within, pca_solver, power_of_two_scale, random_rotation

__all__ = ["IsotropicHasher", "isotropic_rotation"]


def isotropic_rotation(variances, rotation, n_iter):
    """Lift and projection: an orthogonal ``Q`` with ``diag(Q^T diag(variances) Q)`` equal
    to the mean variance, starting from ``rotation``.

    Alternates the two projections of Kong & Li (2012, Sec. 3.1): onto the matrices with
    the mean on their diagonal (replace the diagonal), and onto the matrices with the
    spectrum ``variances`` (keep the eigenvectors, put back the variances in the same
    order). Returns ``Q`` such that the projections ``V Q`` of data with principal
    variances ``variances`` have (nearly) equal variances.
    """
    target = float(np.mean(variances))
    spectrum = np.sort(variances)
    order = np.argsort(variances)  # projection order of the principal axes, ascending
    covariance = rotation.T @ np.diag(variances) @ rotation
    for _ in range(n_iter):
        lifted = covariance.copy()
        np.fill_diagonal(lifted, target)
        _, eigenvectors = np.linalg.eigh(lifted)  # ascending, as ``spectrum``
        covariance = (eigenvectors * spectrum) @ eigenvectors.T
        rotation = np.empty_like(eigenvectors)
        rotation[order] = eigenvectors.T  # covariance = rotation.T diag(variances) rotation
    return rotation


class IsotropicHasher(BaseHasher):
    """Isotropic hashing: PCA, then the rotation that gives every bit the same variance.

    PCA puts most variance in the first bits; one bit per principal axis then wastes the
    code on the low-variance ones. Isotropic hashing finds an orthogonal ``Q`` such that
    the rotated projections ``(x - mean) V Q`` all have the mean variance, by lift and
    projection (Kong & Li 2012), and thresholds them at 0.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits; at most ``min(n_samples, n_features)``.
    n_iter : int, default=100
        Lift-and-projection iterations (the released code's 100).
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
    explained_variance_ : ndarray of shape (n_bits,)
        Variance along each principal axis.
    rotation_ : ndarray of shape (n_bits, n_bits)
        The learned orthogonal rotation.
    projected_variance_ : ndarray of shape (n_bits,)
        Training variance of each bit's projection (all near the mean of
        ``explained_variance_`` once converged).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    PCAHasher : the principal components without a rotation.
    ITQHasher : the rotation that minimises the quantisation loss.

    References
    ----------
    W. Kong, W.-J. Li, "Isotropic hashing", NIPS 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import IsotropicHasher
    >>> X = np.random.default_rng(0).normal(size=(300, 12)) * np.arange(1, 13)
    >>> iso = IsotropicHasher(n_bits=4, random_state=0).fit(X)
    >>> bool(np.ptp(iso.projected_variance_) < 1e-6 * iso.projected_variance_.mean())
    True
    """

    _short_name = "IsoH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, n_iter=100, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.n_iter = n_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the principal axes and the isotropic rotation from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : IsotropicHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        check_n_bits_within(
            self,
            X,
            min(X.shape),
            "min(n_samples, n_features)",
            "Use fewer bits, or SphericalHasher / SKLSHHasher, which can give more bits "
            "than features.",
        )
        rng = check_random_state(self.random_state)
        self.mean_ = X.mean(axis=0)
        centred = X - self.mean_
        scale = power_of_two_scale(centred)
        pca = PCA(n_components=self.n_bits, svd_solver=pca_solver(centred))
        pca.fit(centred / scale)
        self.components_ = pca.components_.astype(X.dtype, copy=False)
        self.explained_variance_ = pca.explained_variance_ * scale**2
        start = random_rotation(self.n_bits, rng)
        rotation = isotropic_rotation(pca.explained_variance_, start, self.n_iter)
        self.rotation_ = rotation.astype(X.dtype, copy=False)
        self.projected_variance_ = np.einsum(
            "ij,i,ij->j", rotation, self.explained_variance_, rotation
        )
        return self

    def _decision_function(self, X):
        return ((X - self.mean_) @ self.components_.T) @ self.rotation_
