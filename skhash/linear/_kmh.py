"""K-means hashing (He, Wen and Sun)."""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._blocks import squared_distances
from ._pca import check_n_bits_within, power_of_two_scale

__all__ = [
    "KMeansHasher",
    "affinity_preserving_kmeans",
    "balanced_partition",
    "update_codeword",
]


def balanced_partition(variances, n_subspaces):
    """Principal axes dealt into ``n_subspaces`` equal groups with balanced products of
    variances (the released ``balanced_partition``, from optimized product quantization):
    each axis, largest first, goes to the open group with the smallest sum of logs."""
    size = len(variances) // n_subspaces
    logs = np.log(np.maximum(variances, 0) + 1e-20)
    logs = logs - logs.min() + 1
    groups = [[] for _ in range(n_subspaces)]
    sums = np.zeros(n_subspaces)
    current = 0
    for axis, value in enumerate(logs):
        groups[current].append(axis)
        sums[current] += value
        if len(groups[current]) == size:
            sums[current] = np.inf
        current = int(np.argmin(sums))
    return np.concatenate(groups)


def index_bits(n_bits):
    """``(2**n_bits, n_bits)`` table: row ``i`` holds the bits of ``i``, lowest first."""
    return (np.arange(2**n_bits)[:, None] >> np.arange(n_bits)) & 1


def update_codeword(j, sums, counts, centres, targets, n, weight, max_steps=10):
    """Codeword ``j`` minimising Eq. (8) of the paper with the others fixed.

    The objective is the quantisation error ``(n_j ||c||^2 - 2 s_j . c) / n`` plus
    ``2 lambda n_j / n^2 sum_i n_i (||c - c_i|| - t_ij)^2``. Each step minimises its
    majorisation (SMACOF's: ``||c - c_i||`` is replaced by the projection of ``c`` on the
    sphere of radius ``t_ij`` around ``c_i`` seen from the current point), a quadratic with
    a closed-form minimum, so the steps never increase the objective. The released code
    minimises fully with ``fminunc``; at most ``max_steps`` steps per update cost a tenth of
    the time and, over the outer iterations, reach as low an objective.
    """
    if counts[j] == 0:
        return centres[j]
    others = np.flatnonzero((counts > 0) & (np.arange(len(counts)) != j))
    coupling = 2 * weight * counts[j] / n**2 * counts[others]
    quadratic = counts[j] / n + coupling.sum()
    centre = centres[j].copy()
    for _ in range(max_steps):
        offsets = centre - centres[others]
        lengths = np.sqrt(np.einsum("ij,ij->i", offsets, offsets))
        with np.errstate(invalid="ignore", divide="ignore"):
            pulls = np.where(lengths[:, None] > 0, offsets / lengths[:, None], 0)
        anchors = centres[others] + targets[others, j][:, None] * pulls
        updated = (sums[j] / n + coupling @ anchors) / quadratic
        step = np.abs(updated - centre).max()
        centre = updated
        if step <= 1e-10 * (np.abs(centre).max() + 1e-300):
            break
    return centre


def affinity_preserving_kmeans(X, n_bits, n_iter, weight, dtype=np.float64):
    """The released ``affinity_preserving_KM`` on one subspace: ``2**n_bits`` codewords
    whose distances follow ``scale * 2 * sqrt(Hamming distance)`` of their indices.

    Starts from PCA hashing (the corners of a hypercube on the leading ``n_bits`` axes,
    scaled to the data), then alternates assignment and a sequential update of every
    codeword (:func:`update_codeword`); the assignments run in ``dtype``. Returns the
    codewords in the input space, ``(2**n_bits, n_dims)``.
    """
    n = X.shape[0]
    mean = X.mean(axis=0)
    centred = X - mean
    _, axes = np.linalg.eigh(centred.T @ centred / n)
    axes = axes[:, ::-1]
    rotated = centred @ axes
    leading = rotated[:, :n_bits]
    scale = float(np.abs(leading).mean()) if leading.size else 1.0
    corners = (2 * index_bits(n_bits)[:, ::-1] - 1) * scale
    centres = np.zeros((2**n_bits, X.shape[1]))
    centres[:, :n_bits] = corners
    targets = np.sqrt(squared_distances(corners, corners))
    # The assignment in the data's own precision (float32 features stay float32); the
    # codeword updates in float64.
    assigned = rotated.astype(dtype, copy=False)
    for _ in range(n_iter):
        codewords = centres.astype(dtype)
        scores = assigned @ (-2 * codewords.T)
        scores += np.einsum("ij,ij->i", codewords, codewords)  # ||x||^2 does not change argmin
        nearest = scores.argmin(axis=1)
        members = sp.csr_matrix((np.ones(n), (nearest, np.arange(n))), shape=(len(centres), n))
        counts = np.asarray(members.sum(axis=1)).ravel()
        sums = members @ rotated
        for j in range(len(centres)):
            centres[j] = update_codeword(j, sums, counts, centres, targets, n, weight)
    return centres @ axes.T + mean


class KMeansHasher(BaseHasher):
    """K-means hashing: k-means codewords whose distances mimic the Hamming distances of
    their indices.

    The centred data are rotated onto their principal axes, which are dealt into
    ``n_bits / bits_per_subspace`` subspaces of balanced variance. In every subspace,
    affinity-preserving k-means learns ``2**bits_per_subspace`` codewords: the usual
    quantisation error plus ``affinity_weight`` times the error between the codewords'
    Euclidean distances and ``s * 2 * sqrt(h)`` for ``h`` the Hamming distance of their
    indices (He, Wen & Sun 2013). A sample's code is the index of its nearest codeword in
    each subspace, so Hamming distances approximate the data's Euclidean distances.

    ``decision_function`` gives, per bit, the squared distance to the nearest codeword
    whose index has that bit 0 minus the distance to the nearest with the bit 1: positive
    exactly when the nearest codeword has the bit set.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits: a multiple of ``bits_per_subspace``, at most
        ``min(n_samples, n_features)``.
    bits_per_subspace : int, default=4
        Bits per subspace, ``b`` (the paper's recommendation for 64 and 128 bits;
        ``2**b`` codewords each).
    n_iter : int, default=50
        Alternations of assignment and codeword update (the released 50).
    affinity_weight : float, default=10.0
        Weight ``lambda`` of the affinity error (the released 10).
    max_samples : int or None, default=50_000
        Train on at most this many random rows; ``None`` uses them all, as the released
        demo does. The codeword updates cost the same whatever the rows; the assignments
        grow with them (on 200,000 x 1280 features, all rows take 6x ITQ's fit time, 50,000
        rows 2.5x).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the training rows when there are more than ``max_samples``; the fit is
        otherwise deterministic.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    components_ : ndarray of shape (n_dims, n_features)
        Principal axes, in subspace order (``n_dims`` a multiple of the subspaces).
    codewords_ : list of ndarray of shape (2**bits_per_subspace, subspace_dims)
        Codewords of each subspace.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    PCAHasher : the initialisation of every subspace.

    References
    ----------
    K. He, F. Wen, J. Sun, "K-means hashing: an affinity-preserving quantization method
    for learning binary compact codes", CVPR 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import KMeansHasher
    >>> X = np.random.default_rng(0).normal(size=(300, 16))
    >>> KMeansHasher(n_bits=8, n_iter=5).fit_transform(X).shape
    (300, 8)
    """

    _short_name = "KMH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "bits_per_subspace": [Interval(Integral, 1, 8, closed="both")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "affinity_weight": [Interval(Real, 0, None, closed="left")],
        "max_samples": [Interval(Integral, 2, None, closed="left"), None],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        bits_per_subspace=4,
        n_iter=50,
        affinity_weight=10.0,
        max_samples=50_000,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.bits_per_subspace = bits_per_subspace
        self.n_iter = n_iter
        self.affinity_weight = affinity_weight
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the subspaces and their codewords from ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : KMeansHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        if self.n_bits % self.bits_per_subspace:
            raise ValueError(
                f"KMeansHasher needs n_bits to be a multiple of bits_per_subspace; got "
                f"n_bits={self.n_bits}, bits_per_subspace={self.bits_per_subspace}. "
                f"Choose n_bits = {self.bits_per_subspace} * (number of subspaces)."
            )
        check_n_bits_within(
            self,
            X,
            min(X.shape),
            "min(n_samples, n_features)",
            "Use fewer bits, or SphericalHasher, which can give more bits than features.",
        )
        if self.max_samples is not None and self.max_samples < X.shape[0]:
            rng = check_random_state(self.random_state)
            X = X[np.sort(rng.permutation(X.shape[0])[: self.max_samples])]
        self.mean_ = X.mean(axis=0)
        centred = X - self.mean_
        n_subspaces = self.n_bits // self.bits_per_subspace
        n_dims = min(X.shape) // n_subspaces * n_subspaces
        scale = power_of_two_scale(centred)
        variances, axes = np.linalg.eigh((centred / scale).T @ (centred / scale))
        variances, axes = variances[::-1][:n_dims], axes[:, ::-1][:, :n_dims]
        order = balanced_partition(variances, n_subspaces)
        self.components_ = axes[:, order].T.astype(X.dtype, copy=False)
        rotated = centred @ self.components_.T
        self.codewords_ = [
            affinity_preserving_kmeans(
                part.astype(np.float64),
                self.bits_per_subspace,
                self.n_iter,
                self.affinity_weight,
                X.dtype,
            ).astype(X.dtype)
            for part in np.split(rotated, n_subspaces, axis=1)
        ]
        return self

    def _decision_function(self, X):
        rotated = (X - self.mean_) @ self.components_.T
        table = index_bits(self.bits_per_subspace).astype(bool)
        margins = []
        for part, codewords in zip(
            np.split(rotated, len(self.codewords_), axis=1), self.codewords_, strict=True
        ):
            distances = squared_distances(part, codewords)
            for bit in range(self.bits_per_subspace):
                ones = distances[:, table[:, bit]].min(axis=1)
                zeros = distances[:, ~table[:, bit]].min(axis=1)
                margins.append(zeros - ones)
        return np.stack(margins, axis=1)
