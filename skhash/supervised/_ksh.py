"""Kernel-based supervised hashing (Liu, Wang, Ji, Jiang and Chang)."""

from numbers import Integral

import numpy as np
import scipy.linalg
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..linear._blocks import centred_gaussian_kernel, gaussian_kernel
from ..utils import N_JOBS_CONSTRAINT
from ._labels import SupervisedHasherMixin, pairwise_similarity

__all__ = ["KSHHasher", "optimise_projection"]


def _soft_sign(values):
    return np.tanh(values / 2)  # 2 / (1 + e^-t) - 1, without overflow


def optimise_projection(K, S, start, n_iter):
    """The released ``OptProjectionFast``: Nesterov's accelerated gradient with a
    backtracking step on ``-phi(K a)^T S phi(K a)``, ``phi(t) = 2 / (1 + e^-t) - 1``, from
    ``start``, for at most ``n_iter`` steps (stopping when the cost changes by at most 1%
    of the number of samples)."""
    n = K.shape[0]

    def cost(a):
        y = _soft_sign(K @ a)
        return -y @ (S @ y), y

    previous, current = start.copy(), start.copy()
    costs = [cost(start)[0]] * 2
    deltas = [0.0, 1.0]
    beta = 1.0
    for t in range(n_iter):
        alpha = (deltas[t] - 1) / deltas[t + 1]
        probe = current + alpha * (current - previous)
        value, y = cost(probe)
        gradient = -K.T @ ((S @ y) * (1 - y**2))
        for j in range(51):
            step = 2.0**j * beta
            candidate = probe - gradient / step
            candidate_cost, _ = cost(candidate)
            difference = candidate - probe
            bound = value + gradient @ difference + step * (difference @ difference) / 2
            if candidate_cost <= bound:
                beta = step
                previous, current = current, candidate
                costs.append(candidate_cost)
                break
        else:
            break
        deltas.append((1 + np.sqrt(1 + 4 * deltas[t + 1] ** 2)) / 2)
        if abs(costs[-1] - costs[-2]) / n <= 1e-2:
            break
    return current


def _signs(values):
    return np.where(values > 0, 1.0, -1.0)


def _top_generalised_eigenvector(A, B):
    """The top eigenvector of ``A v = w B v`` as a column; when ``B`` is singular (more
    anchors than labelled samples, where the released ``eig(LM, RM)`` still answers), with
    a ridge of ``1e-10`` of ``B``'s mean diagonal."""
    top = [len(A) - 1] * 2
    try:
        return scipy.linalg.eigh(A, B, subset_by_index=top)[1]
    except np.linalg.LinAlgError:
        ridge = 1e-10 * np.trace(B) / len(B) * np.eye(len(B))
        return scipy.linalg.eigh(A, B + ridge, subset_by_index=top)[1]


class _PairTargets:
    """``n_bits * S`` minus the outer products of the bits learned so far.

    For class labels ``S = 2 Y Y^T - 1 1^T`` is kept as its factors, so that a product
    with it costs ``O(n (n_classes + n_bits))`` instead of ``O(n^2)``; multi-label
    similarity (sharing at least one label) is not low-rank and is kept whole.
    """

    def __init__(self, Y, n_bits):
        n = Y.shape[0]
        if np.all(Y.sum(axis=1) == 1):
            self.factors = [Y, np.ones((n, 1))]
            self.weights = [2.0 * n_bits, -1.0 * n_bits]
            self.dense = None
        else:
            self.factors, self.weights = [], []
            self.dense = n_bits * pairwise_similarity(Y, Y)

    def __matmul__(self, values):
        out = self.dense @ values if self.dense is not None else 0
        for factor, weight in zip(self.factors, self.weights, strict=True):
            out = out + weight * (factor @ (factor.T @ values))
        return out

    def remove(self, codes):
        if self.dense is not None:
            self.dense -= np.outer(codes, codes)
        else:
            self.factors.append(codes[:, None])
            self.weights.append(-1.0)


class KSHHasher(SupervisedHasherMixin, BaseHasher):
    """Kernel-based supervised hashing: code inner products fitted to pairwise labels.

    Samples are described by centred Gaussian kernel features on ``n_anchors`` random
    training points; bit ``k`` is ``sign(a_k . K(x))``. The projections are learned one bit
    after the other so that the codes' inner products approach ``n_bits * S``, with
    ``S = 1`` for pairs sharing a label and ``-1`` otherwise: each bit starts from a
    spectral relaxation (a generalised eigenvector) and is refined by gradient descent on
    a smooth surrogate of the sign, keeping the better of the two (Liu et al., CVPR 2012,
    the released ``KSH_demo``).

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits.
    n_anchors : int, default=300
        Anchors of the kernel features (the released 300); at most ``n_samples``.
    max_labelled : int, default=2000
        Labelled samples the bits are fitted on, drawn at random (the released demo's
        2000); the kernel centring uses every sample. The fit grows linearly with it.
    n_iter : int, default=500
        Most gradient steps per bit (the released 500).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the anchors and of the labelled samples.

    Attributes
    ----------
    anchors_ : ndarray of shape (n_anchors, n_features)
        Anchor points.
    bandwidth_ : float
        Mean squared distance of the samples to the anchors: the kernel is
        ``exp(-||x - a||^2 / (2 bandwidth_))``.
    kernel_mean_ : ndarray of shape (n_anchors,)
        Training mean of the kernel features.
    projection_ : ndarray of shape (n_anchors, n_bits)
        Projection of each bit.
    refined_ : ndarray of shape (n_bits,), dtype bool
        Whether the gradient refinement replaced the spectral start of each bit.
    classes_ : ndarray
        Class labels (column indices for a multi-label indicator ``y``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SDHHasher : discrete codes that a linear classifier reads the labels from.

    References
    ----------
    W. Liu, J. Wang, R. Ji, Y.-G. Jiang, S.-F. Chang, "Supervised hashing with kernels",
    CVPR 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import KSHHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 300)
    >>> X = rng.normal(size=(300, 20)) + y[:, None]
    >>> KSHHasher(n_bits=8, n_anchors=50, random_state=0).fit(X, y).transform(X[:2]).shape
    (2, 8)
    """

    _short_name = "KSH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_anchors": [Interval(Integral, 1, None, closed="left")],
        "max_labelled": [Interval(Integral, 2, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        n_anchors=300,
        max_labelled=2000,
        n_iter=500,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.n_anchors = n_anchors
        self.max_labelled = max_labelled
        self.n_iter = n_iter
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the bits' projections from ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multi-label indicator matrix.

        Returns
        -------
        self : KSHHasher
            Fitted hasher.
        """
        X, Y = self._validate_X_y(X, y)
        rng = check_random_state(self.random_state)
        anchors = X[rng.permutation(X.shape[0])[: min(self.n_anchors, X.shape[0])]]
        labelled = rng.permutation(X.shape[0])[: min(self.max_labelled, X.shape[0])]
        return self._fit_anchors(X, Y, anchors, labelled)

    def _fit_anchors(self, X, Y, anchors, labelled):
        self.anchors_ = anchors
        K, self.bandwidth_, self.kernel_mean_ = centred_gaussian_kernel(X, anchors)
        K = K[labelled]
        n = K.shape[0]
        residual = _PairTargets(Y[labelled], self.n_bits)
        gram = K.T @ K
        A = np.empty((K.shape[1], self.n_bits))
        self.refined_ = np.zeros(self.n_bits, dtype=bool)
        for bit in range(self.n_bits):
            vectors = _top_generalised_eigenvector(K.T @ (residual @ K), gram)
            start = vectors[:, 0] * np.sqrt(n / (vectors[:, 0] @ gram @ vectors[:, 0]))
            refined = optimise_projection(K, residual, start, self.n_iter)
            codes, refined_codes = _signs(K @ start), _signs(K @ refined)
            A[:, bit] = start
            if refined_codes @ (residual @ refined_codes) > codes @ (residual @ codes):
                A[:, bit], codes, self.refined_[bit] = refined, refined_codes, True
            residual.remove(codes)
        self.projection_ = A
        return self

    def _decision_function(self, X):
        K = gaussian_kernel(X, self.anchors_, 2 * self.bandwidth_) - self.kernel_mean_
        return (K @ self.projection_).astype(X.dtype, copy=False)
