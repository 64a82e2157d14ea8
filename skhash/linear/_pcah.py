"""PCA hashing (PCAH) and PCA with a random rotation (PCA-RR)."""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._pca import check_n_bits_within, power_of_two_scale, principal_axes, random_rotation

__all__ = ["PCAHasher"]


class PCAHasher(BaseHasher):
    """PCA hashing: the signs of the centred data's leading principal components.

    Bit ``j`` is ``sign(v_j . (x - mean))`` with ``v_j`` the ``j``-th principal axis
    (PCAH). With ``rotation="random"`` the ``n_bits`` projections are first turned by a
    random orthogonal matrix (PCA-RR), which spreads the variance over the bits; ITQ
    learns that rotation instead of drawing it (both from Gong & Lazebnik).

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits; at most ``min(n_samples, n_features)``.
    rotation : {None, "random"}, default=None
        ``None`` gives PCAH, ``"random"`` PCA-RR.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the random rotation; PCAH itself is deterministic and ignores it.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    components_ : ndarray of shape (n_bits, n_features)
        Leading principal axes.
    rotation_ : ndarray of shape (n_bits, n_bits)
        The identity (PCAH) or the random orthogonal rotation (PCA-RR).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ITQHasher : learns the rotation that PCA-RR draws at random.
    IsotropicHasher : the rotation that equalises the projected variances.

    References
    ----------
    Y. Gong, S. Lazebnik, "Iterative quantization: a Procrustean approach to learning
    binary codes", CVPR 2011 (PCA-Direct and PCA-RR baselines).

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import PCAHasher
    >>> X = np.random.default_rng(0).normal(size=(100, 20))
    >>> PCAHasher(n_bits=8).fit_transform(X).shape
    (100, 8)
    """

    _short_name = "PCAH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "rotation": [None, StrOptions({"random"})],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, rotation=None, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.rotation = rotation
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the mean, the principal axes (and the random rotation) from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : PCAHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        check_n_bits_within(
            self,
            X,
            min(X.shape),
            "min(n_samples, n_features)",
            "Use fewer bits, or LSHHasher / SKLSHHasher, which can give more bits than features.",
        )
        self.mean_ = X.mean(axis=0)
        centred = X - self.mean_
        self.components_ = principal_axes(centred, self.n_bits, power_of_two_scale(centred))
        if self.rotation == "random":
            rng = check_random_state(self.random_state)
            self.rotation_ = random_rotation(self.n_bits, rng, X.dtype)
        else:
            self.rotation_ = np.eye(self.n_bits, dtype=X.dtype)
        return self

    def _decision_function(self, X):
        return ((X - self.mean_) @ self.components_.T) @ self.rotation_
