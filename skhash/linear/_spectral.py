"""Spectral hashing (Weiss, Torralba and Fergus)."""

import numpy as np
from sklearn.base import _fit_context

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._pca import principal_axes

__all__ = ["SpectralHasher"]


class SpectralHasher(BaseHasher):
    """Spectral hashing: thresholded analytic eigenfunctions of a uniform box.

    The data are projected on ``min(n_bits, n_features)`` principal axes (not centred,
    as in the reference code: the box absorbs the offset), each axis is bounded by its
    training range ``[a, b]``, and the 1-D Laplacian eigenfunctions
    ``sin(pi/2 + k pi (x - a) / (b - a))`` of every (axis, mode ``k >= 1``) pair are ranked
    by their eigenvalue ``(k pi / (b - a))^2``; the ``n_bits`` smallest give the bits,
    thresholded at 0. Wide axes contribute several modes, so a code may have more bits
    than there are principal axes.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits per code.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Ignored: spectral hashing is deterministic. Accepted so that
        ``Hasher(n_bits=b, random_state=seed)`` works for every hasher, as in scikit-learn.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Principal axes, ``n_components = min(n_bits, n_features, n_samples)``.
    min_ : ndarray of shape (n_components,)
        Lower end of the bounding box of the projected training data.
    max_ : ndarray of shape (n_components,)
        Upper end of the bounding box.
    modes_ : ndarray of shape (n_bits, n_components)
        Mode ``k`` of each bit on each axis (one non-zero entry per row).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ITQHasher : usually better codes at 32 bits and more.

    References
    ----------
    Y. Weiss, A. Torralba, R. Fergus, "Spectral Hashing", NIPS 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import SpectralHasher
    >>> X = np.random.default_rng(0).normal(size=(100, 8))
    >>> SpectralHasher(n_bits=12).fit_transform(X).shape
    (100, 12)
    """

    _short_name = "SH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the principal axes, the bounding box and the modes from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : SpectralHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        if np.ptp(X, axis=0).max() == 0:
            raise ValueError(
                "SpectralHasher needs X with some spread: every row of X is the same, so "
                "there is no principal axis to hash along."
            )
        n_components = min(self.n_bits, *X.shape)
        self.components_ = principal_axes(X, n_components)
        projected = X @ self.components_.T
        # The box's margin: eps, or eps relative to projections smaller than 1 (tiny inputs).
        eps = np.finfo(X.dtype).eps * np.minimum(1.0, np.abs(projected).max(axis=0))
        self.min_ = projected.min(axis=0) - eps
        self.max_ = projected.max(axis=0) + eps
        spread = self.max_ - self.min_

        # Enough modes per axis that the n_bits smallest eigenvalues are all present.
        max_mode = np.ceil((self.n_bits + 1) * spread / spread.max()).astype(int)
        axis = np.repeat(np.arange(n_components), max_mode)
        mode = np.concatenate([np.arange(1, m + 1) for m in max_mode])
        # (mode pi / spread)^2 up to a constant factor, which keeps the order and neither
        # overflows nor underflows at extreme input scales.
        eigenvalue = (mode / (spread[axis] / spread.max())) ** 2
        order = np.argsort(eigenvalue, kind="stable")
        if len(order) < self.n_bits:
            raise ValueError(
                f"SpectralHasher could only build {len(order)} distinct eigenfunctions "
                f"from these data; use n_bits <= {len(order)}."
            )
        chosen = order[: self.n_bits]
        self.modes_ = np.zeros((self.n_bits, n_components), dtype=int)
        self.modes_[np.arange(self.n_bits), axis[chosen]] = mode[chosen]
        return self

    def _decision_function(self, X):
        projected = X @ self.components_.T - self.min_
        # Each bit has one axis with a non-zero mode: the product over axes is one sine. Only
        # those axes are divided by: a constant axis (zero spread) carries no bit.
        axis = np.argmax(self.modes_, axis=1)
        modes = self.modes_[np.arange(self.n_bits), axis]
        omegas = (modes * (np.pi / (self.max_ - self.min_)[axis])).astype(projected.dtype)
        return np.sin(np.pi / 2 + projected[:, axis] * omegas)
