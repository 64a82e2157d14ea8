"""Density sensitive hashing (Jin, Li, Lin and Cai)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._blocks import random_start_kmeans, squared_distances

__all__ = ["DSHHasher", "density_sensitive_planes"]


def density_sensitive_planes(centres, cluster_sizes, n_bits, n_neighbours):
    """The ``n_bits`` most balanced median planes between neighbouring k-means groups.

    Every group and its ``n_neighbours`` nearest groups give candidate pairs; the plane
    of a pair ``(i, j)`` is the perpendicular bisector of their centres, and its balance
    is ``min(p, 1 - p) / max(p, 1 - p)`` for ``p`` the share of the data (by group
    sizes) on its positive side. Candidates are taken by distance (ascending) and the most
    balanced kept, earlier ones winning ties, as the released ``DSH_learn``.

    Returns
    -------
    normals : ndarray of shape (n_bits, n_features)
        ``c_i - c_j`` of each chosen pair, ``i > j``.
    intercepts : ndarray of shape (n_bits,)
        ``normal . (c_i + c_j) / 2``: a point is on the positive side past it.
    """
    n_groups = centres.shape[0]
    distances = squared_distances(centres, centres).astype(np.float64)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1, kind="stable")[:, :n_neighbours]
    pairs = {(max(i, j), min(i, j)) for i in range(n_groups) for j in nearest[i] if j != i}
    pairs = sorted(pairs, key=lambda pair: (distances[pair], pair[1], pair[0]))
    if len(pairs) < n_bits:
        raise ValueError(
            f"DSHHasher found {len(pairs)} candidate planes for n_bits={n_bits}: use more "
            f"groups (alpha) or more neighbours (n_neighbours), or fewer bits."
        )
    high, low = np.array(pairs).T
    normals = centres[high] - centres[low]
    intercepts = np.einsum("ij,ij->i", (centres[high] + centres[low]) / 2, normals)
    sides = centres @ normals.T > intercepts  # (n_groups, n_pairs)
    share = cluster_sizes @ sides / cluster_sizes.sum()
    balance = np.minimum(share, 1 - share) / np.maximum(share, 1 - share)
    chosen = np.argsort(-balance, kind="stable")[:n_bits]
    return normals[chosen], intercepts[chosen]


class DSHHasher(BaseHasher):
    """Density sensitive hashing: hyperplanes between neighbouring dense regions.

    A quick k-means (``round(alpha * n_bits)`` groups, ``kmeans_iter`` iterations) finds
    the dense regions; the perpendicular bisectors between each group and its
    ``n_neighbours`` nearest groups are the candidate planes, and the ``n_bits`` that split
    the data most evenly become the bits (Jin et al. 2014). Unlike random hyperplanes,
    every plane runs through a low-density gap between two groups.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits. May exceed the number of features.
    alpha : float, default=1.5
        Groups per bit: k-means finds ``round(alpha * n_bits)`` groups.
    n_neighbours : int, default=3
        Nearest groups of each group whose bisectors are candidates.
    kmeans_iter : int, default=3
        Iterations of the k-means (the released code runs 3).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means start (random training rows).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_groups, n_features)
        The k-means groups' centres.
    normals_ : ndarray of shape (n_bits, n_features)
        Normal of each bit's plane.
    intercepts_ : ndarray of shape (n_bits,)
        Offset of each bit's plane along its normal.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LSHHasher : random hyperplanes through the mean.

    References
    ----------
    Z. Jin, C. Li, Y. Lin, D. Cai, "Density sensitive hashing", IEEE Transactions on
    Cybernetics 44(8), 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import DSHHasher
    >>> X = np.random.default_rng(0).normal(size=(300, 10))
    >>> DSHHasher(n_bits=8, random_state=0).fit_transform(X).shape
    (300, 8)
    """

    _short_name = "DSH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "alpha": [Interval(Real, 1, None, closed="left")],
        "n_neighbours": [Interval(Integral, 1, None, closed="left")],
        "kmeans_iter": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        alpha=1.5,
        n_neighbours=3,
        kmeans_iter=3,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.alpha = alpha
        self.n_neighbours = n_neighbours
        self.kmeans_iter = kmeans_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Find the groups of ``X`` and choose the planes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : DSHHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        n_groups = max(int(round(self.alpha * self.n_bits)), 2)
        if n_groups > X.shape[0]:
            raise ValueError(
                f"DSHHasher needs at least round(alpha * n_bits) = {n_groups} samples for "
                f"its k-means groups; got n_samples={X.shape[0]}. Use fewer bits or a "
                f"smaller alpha."
            )
        kmeans = random_start_kmeans(X, n_groups, self.kmeans_iter, self.random_state)
        self.cluster_centers_ = kmeans.cluster_centers_
        sizes = np.bincount(kmeans.labels_, minlength=n_groups).astype(np.float64)
        normals, intercepts = density_sensitive_planes(
            kmeans.cluster_centers_.astype(np.float64), sizes, self.n_bits, self.n_neighbours
        )
        self.normals_ = normals.astype(X.dtype, copy=False)
        self.intercepts_ = intercepts.astype(X.dtype, copy=False)
        return self

    def _decision_function(self, X):
        return X @ self.normals_.T - self.intercepts_
