"""Locality-sensitive binary codes from shift-invariant kernels (Raginsky & Lazebnik)."""

from numbers import Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._blocks import squared_distances

__all__ = ["SKLSHHasher", "neighbour_distance_scale"]

# The baselines' protocol: the mean distance of 100 sampled points to their 50th nearest
# training point is the unit of distance ("the target distance is 1").
_SCALE_SAMPLES = 100
_SCALE_NEIGHBOUR = 50


def neighbour_distance_scale(X, rng):
    """Mean Euclidean distance of up to 100 random rows of ``X`` to their 50th nearest row
    of ``X`` (themselves included, as the baselines' ``construct_data.m`` counts)."""
    sample = rng.choice(X.shape[0], size=min(_SCALE_SAMPLES, X.shape[0]), replace=False)
    rank = min(_SCALE_NEIGHBOUR, X.shape[0]) - 1
    distances = squared_distances(X[sample], X)
    kth = np.partition(distances, rank, axis=1)[:, rank]
    return float(np.mean(np.sqrt(kth)))


class SKLSHHasher(BaseHasher):
    """Shift-invariant kernel LSH: thresholded random Fourier features of an RBF kernel.

    Bit ``j`` is ``sign(cos(w_j . x + b_j) + t_j)`` with ``w_j ~ N(0, gamma I)``,
    ``b_j ~ U[0, 2 pi)`` and ``t_j ~ U[-1, 1]``, so that the expected Hamming distance is
    a function of the Gaussian kernel ``exp(-gamma ||x - y||^2 / 2)`` (Raginsky &
    Lazebnik 2009, the ``RF_train``/``RF_compress`` baseline code). It needs no training
    beyond the bandwidth and is weak at short codes by design: the codes approach the
    kernel only with many bits.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits per code. May exceed the number of features.
    gamma : float or "auto", default="auto"
        Bandwidth of the Gaussian kernel. ``"auto"`` follows the baselines' protocol,
        which scales the data so that the mean distance of a point to its 50th nearest
        neighbour is 1 and then uses ``gamma=1``: here
        ``gamma = 1 / d50**2``, ``d50`` measured on 100 random training rows.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the random features (and of the rows that measure ``d50``).

    Attributes
    ----------
    gamma_ : float
        Kernel bandwidth used.
    components_ : ndarray of shape (n_features, n_bits)
        Random frequencies ``w_j``.
    offsets_ : ndarray of shape (n_bits,)
        Random phases ``b_j``.
    thresholds_ : ndarray of shape (n_bits,)
        Random thresholds ``t_j``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LSHHasher : random hyperplanes, for the angle between samples.

    References
    ----------
    M. Raginsky, S. Lazebnik, "Locality-sensitive binary codes from shift-invariant
    kernels", NIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import SKLSHHasher
    >>> X = np.random.default_rng(0).normal(size=(100, 20))
    >>> SKLSHHasher(n_bits=64, random_state=0).fit_transform(X).shape
    (100, 64)
    """

    _short_name = "SKLSH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, gamma="auto", n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.gamma = gamma
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Measure the bandwidth (``gamma="auto"``) and draw the random features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : SKLSHHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state)
        if self.gamma == "auto":
            scale = neighbour_distance_scale(X, rng)
            self.gamma_ = 1.0 / scale**2 if scale > 0 else 1.0
        else:
            self.gamma_ = float(self.gamma)
        frequencies = rng.standard_normal((X.shape[1], self.n_bits)) * np.sqrt(self.gamma_)
        self.components_ = frequencies.astype(X.dtype, copy=False)
        self.offsets_ = (rng.uniform(size=self.n_bits) * 2 * np.pi).astype(X.dtype)
        self.thresholds_ = (rng.uniform(size=self.n_bits) * 2 - 1).astype(X.dtype)
        return self

    def _decision_function(self, X):
        return np.cos(X @ self.components_ + self.offsets_) + self.thresholds_
