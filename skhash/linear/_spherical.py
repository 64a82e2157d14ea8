"""Spherical hashing (Heo, Lee, He, Chang and Yoon)."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._blocks import squared_distances

__all__ = ["SphericalHasher", "balanced_radii", "sphere_forces"]

# Each centre starts at the mean of this many random training points (the released code).
_POINTS_PER_CENTRE = 5


def balanced_radii(sq_distances):
    """Radii that put half the rows (``n // 2``) strictly inside every sphere.

    The released code takes the ``n/2``-th smallest distance and counts ``d <= r``; the
    midpoint between it and the next one counts the same points with ``d < r``, which
    makes the code ``r - d > 0`` and leaves no training point on a boundary.
    """
    n = sq_distances.shape[0]
    half = max(n // 2, 1)
    if n == 1:
        return np.sqrt(sq_distances[0]) * 2 + 1
    parted = np.partition(sq_distances, (half - 1, half), axis=0)
    inner, outer = np.sqrt(parted[half - 1]), np.sqrt(parted[half])
    return (inner + outer) / 2


def _overlaps(sq_distances, radii):
    inside = (sq_distances < radii**2).astype(np.float32)
    return (inside.T @ inside).astype(np.float64)


def sphere_forces(centres, overlaps, n_samples):
    """The update of every centre: each pair pushes apart (or pulls together) in
    proportion to how far its shared count is from a quarter of the data."""
    quarter = n_samples / 4
    weights = 0.5 * (overlaps - quarter) / quarter
    np.fill_diagonal(weights, 0)
    return (weights.sum(axis=1)[:, None] * centres - weights @ centres) / centres.shape[0]


def _pair_statistics(overlaps, quarter):
    """Mean absolute deviation of the pairwise overlaps from their target ``n/4``, and
    their standard deviation, over the pairs ``i < j`` (0 and 0 for a single sphere)."""
    upper = overlaps[np.triu_indices(overlaps.shape[0], k=1)]
    if not upper.size:
        return 0.0, 0.0
    return float(np.abs(upper - quarter).mean()), float(upper.std())


class SphericalHasher(BaseHasher):
    """Spherical hashing: bit ``j`` says whether a point lies inside hypersphere ``j``.

    Every sphere holds half of the training data (its radius is the median distance to
    its centre), and the centres move, by pairwise forces, until every pair of spheres
    shares about a quarter of the data: the bits are balanced and nearly independent.
    The loop stops when the mean deviation of the pairwise overlaps from ``n/4`` is at
    most 10% of ``n/4`` and their standard deviation at most 15% (Heo et al. 2012,
    Algorithm 1, as the released code implements it).

    Codes are compared with the ordinary Hamming distance; the paper's "spherical
    Hamming distance" (differing bits over common one-bits) is not used.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits (spheres). May exceed the number of features.
    max_iter : int, default=100
        Most centre updates; the released code loops until convergence without a limit.
        A fit that stops here warns with a :class:`~sklearn.exceptions.ConvergenceWarning`.
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial centres (each the mean of 5 random training points).

    Attributes
    ----------
    centres_ : ndarray of shape (n_bits, n_features)
        Sphere centres.
    radii_ : ndarray of shape (n_bits,)
        Sphere radii.
    n_iter_ : int
        Number of centre updates made.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    PCAHasher : hyperplanes along the principal axes.

    References
    ----------
    J.-P. Heo, Y. Lee, J. He, S.-F. Chang, S.-E. Yoon, "Spherical hashing", CVPR 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import SphericalHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 10))
    >>> codes = SphericalHasher(n_bits=8, random_state=0).fit_transform(X)
    >>> codes.mean(axis=0)  # every sphere holds half the training data
    array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    """

    _short_name = "SpH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, n_bits=32, *, max_iter=100, n_jobs=None, random_state=None):
        self.n_bits = n_bits
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Place the spheres on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : SphericalHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state)
        size = min(_POINTS_PER_CENTRE, X.shape[0])
        starts = [rng.permutation(X.shape[0])[:size] for _ in range(self.n_bits)]
        centres = np.stack([X[rows].mean(axis=0) for rows in starts]).astype(np.float64)
        self.centres_, self.radii_, self.n_iter_ = self._place_spheres(X, centres)
        return self

    def _place_spheres(self, X, centres):
        """Move ``centres`` until the overlaps are balanced: (centres, radii, n_iter)."""
        n = X.shape[0]
        quarter = n / 4

        def statistics(centres):
            sq_distances = squared_distances(X, centres.astype(X.dtype))
            radii = balanced_radii(sq_distances)
            overlaps = _overlaps(sq_distances, radii)
            return radii, overlaps, *_pair_statistics(overlaps, quarter)

        radii, overlaps, _, _ = statistics(centres)
        for iteration in range(1, self.max_iter + 1):
            centres = centres + sphere_forces(centres, overlaps, n)
            radii, overlaps, deviation, spread = statistics(centres)
            if deviation <= 0.1 * quarter and spread <= 0.15 * quarter:
                return centres.astype(X.dtype), radii.astype(X.dtype), iteration
        if self.max_iter > 0:
            warnings.warn(
                f"SphericalHasher stopped after max_iter={self.max_iter} centre updates "
                f"before the sphere overlaps were balanced (mean deviation "
                f"{deviation / quarter:.0%} of n/4, spread {spread / quarter:.0%}; the "
                f"targets are 10% and 15%). Increase max_iter.",
                ConvergenceWarning,
            )
        return centres.astype(X.dtype), radii.astype(X.dtype), self.max_iter

    def _decision_function(self, X):
        return self.radii_ - np.sqrt(squared_distances(X, self.centres_))
