"""Sign random projections (locality-sensitive hashing for the angle)."""

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT

__all__ = ["LSHHasher"]


class LSHHasher(BaseHasher):
    """Sign of Gaussian random projections of the centred data.

    Each bit is ``sign(w_j . (x - mean))`` with ``w_j ~ N(0, I)`` (Charikar 2002), so the
    Hamming distance estimates the angle between centred samples. Unlike faiss
    ``IndexLSH``, the data are centred by default, which gives markedly better codes.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits per code. May exceed the number of features.
    center : bool, default=True
        Subtract the training mean before projecting.
    threshold : {"zero", "median"}, default="zero"
        ``"median"`` thresholds each projection at its training median, so every bit is
        balanced on the training data.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the projection matrix.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean (zeros when ``center=False``).
    components_ : ndarray of shape (n_features, n_bits)
        Gaussian projection matrix.
    thresholds_ : ndarray of shape (n_bits,)
        Per-bit thresholds on the projections (zeros for ``threshold="zero"``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ITQHasher : learns a rotation that makes the signs far more informative.

    References
    ----------
    M. S. Charikar, "Similarity estimation techniques from rounding algorithms", STOC 2002.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import LSHHasher
    >>> X = np.random.default_rng(0).normal(size=(100, 20))
    >>> codes = LSHHasher(n_bits=16, random_state=0).fit_transform(X)
    >>> codes.shape, codes.dtype
    ((100, 16), dtype('uint8'))
    """

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_jobs": N_JOBS_CONSTRAINT,
        "center": ["boolean"],
        "threshold": [StrOptions({"zero", "median"})],
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, center=True, threshold="zero", n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.n_jobs = n_jobs
        self.center = center
        self.threshold = threshold
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Draw the projections and learn the mean (and thresholds) from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : LSHHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state)
        self.mean_ = X.mean(axis=0) if self.center else np.zeros(X.shape[1], dtype=X.dtype)
        self.components_ = rng.standard_normal((X.shape[1], self.n_bits)).astype(
            X.dtype, copy=False
        )
        self.thresholds_ = np.zeros(self.n_bits, dtype=X.dtype)
        if self.threshold == "median":
            self.thresholds_ = np.median(self._project(X), axis=0)
        return self

    def _project(self, X):
        return (X - self.mean_) @ self.components_

    def _decision_function(self, X):
        return self._project(X) - self.thresholds_
