"""Column sampling based discrete supervised hashing (Kang, Li and Zhou)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._labels import SupervisedHasherMixin, pairwise_similarity
from ._sdh import ridge_regression

__all__ = ["COSDISHHasher", "maximise_binary_quadratic"]


def maximise_binary_quadratic(Q, g, b):
    """Local maximum of ``b^T Q b + g^T b`` over ``b`` in ``{-1, 1}^n`` (``Q`` symmetric,
    zero diagonal), from ``b``: single flips that raise the value, the best first, until
    none does."""
    b = b.copy()
    field = Q @ b
    while True:
        gains = -4 * b * field - 2 * g * b  # change of the value when b_i flips
        best = int(np.argmax(gains))
        if gains[best] <= 1e-12:
            return b
        field -= 2 * b[best] * Q[:, best]
        b[best] = -b[best]


def _balanced_similarity(Y, rest, sampled):
    """The sampled columns of ``S`` for the other rows and for the sampled rows: 1 for pairs
    sharing a label, ``-r`` otherwise, with ``r`` the ratio of similar to dissimilar pairs
    in the columns (the released code's ``r = sum(S) / sum(1 - S)``), so that both kinds
    weigh the same in total."""
    S_rest = pairwise_similarity(Y[rest], Y[sampled])
    S_sampled = pairwise_similarity(Y[sampled], Y[sampled])
    similar = (S_rest > 0).sum() + (S_sampled > 0).sum()
    dissimilar = S_rest.size + S_sampled.size - similar
    ratio = similar / dissimilar if dissimilar else 1.0
    return [np.where(S > 0, 1.0, -ratio) for S in (S_rest, S_sampled)]


class COSDISHHasher(SupervisedHasherMixin, BaseHasher):
    """Column sampling based discrete supervised hashing.

    Learns training codes ``B`` in ``{-1, 1}`` whose inner products approach ``n_bits * S``
    (``S = 1`` for pairs sharing a label; ``-r`` otherwise, ``r`` the ratio of similar to
    dissimilar pairs, so that both kinds weigh the same) without relaxation: every
    iteration samples ``n_sampled`` columns of ``S`` and alternates, ``n_alternations``
    times, the codes of the sampled rows (a binary quadratic problem per bit) with the
    codes of the others, which then have a closed form, ``sign(S B_sampled)``. Hash
    functions are a ridge regression of the codes on the standardised features (Kang, Li &
    Zhou, AAAI 2016, with the released code's schedule: 10 iterations of 3 alternations,
    ``n_bits`` sampled columns).

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits.
    n_iter : int, default=10
        Column-sampling iterations (the released 10).
    n_alternations : int, default=3
        Alternations per iteration (the released 3).
    n_sampled : int or None, default=None
        Columns sampled per iteration; ``None`` samples ``n_bits`` (the released choice).
    regularization : float, default=1.0
        Ridge of the hash functions (the released 1).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial codes and of the sampled columns.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    scale_ : ndarray of shape (n_features,)
        Training standard deviation (1 where a feature is constant).
    coef_ : ndarray of shape (n_features, n_bits)
        Hash functions on the standardised features.
    classes_ : ndarray
        Class labels (column indices for a multi-label indicator ``y``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SDHHasher : discrete codes read by a linear classifier.
    KSHHasher : pairwise labels with kernel hash functions.

    References
    ----------
    W.-C. Kang, W.-J. Li, Z.-H. Zhou, "Column sampling based discrete supervised hashing",
    AAAI 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import COSDISHHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 300)
    >>> X = rng.normal(size=(300, 20)) + y[:, None]
    >>> COSDISHHasher(n_bits=8, random_state=0).fit(X, y).transform(X[:2]).shape
    (2, 8)
    """

    _short_name = "COSDISH"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "n_alternations": [Interval(Integral, 1, None, closed="left")],
        "n_sampled": [Interval(Integral, 1, None, closed="left"), None],
        "regularization": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        n_iter=10,
        n_alternations=3,
        n_sampled=None,
        regularization=1.0,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.n_iter = n_iter
        self.n_alternations = n_alternations
        self.n_sampled = n_sampled
        self.regularization = regularization
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Learn the training codes from ``(X, y)`` and regress them on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multi-label indicator matrix.

        Returns
        -------
        self : COSDISHHasher
            Fitted hasher.
        """
        X, Y = self._validate_X_y(X, y)
        rng = check_random_state(self.random_state)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        standardised = ((X - self.mean_) / self.scale_).astype(np.float64)
        B = self._training_codes(Y, rng)
        coef = ridge_regression(standardised, B, self.regularization)
        self.coef_ = coef.astype(X.dtype, copy=False)
        return self

    def _training_codes(self, Y, rng):
        n, q = Y.shape[0], self.n_bits
        B = np.where(rng.standard_normal((n, q)) > 0, 1.0, -1.0)
        n_sampled = min(self.n_sampled or q, n)
        for _ in range(self.n_iter):
            sampled = rng.choice(n, size=n_sampled, replace=False)
            rest = np.setdiff1d(np.arange(n), sampled)
            S_rest, S_sampled = _balanced_similarity(Y, rest, sampled)
            for _ in range(self.n_alternations):
                B[sampled] = self._sampled_codes(B, sampled, rest, S_rest, S_sampled)
                votes = S_rest @ B[sampled]
                B[rest] = np.where(np.abs(votes) < 1e-5, B[rest], np.sign(votes))
        return B

    def _sampled_codes(self, B, sampled, rest, S_rest, S_sampled):
        """Bit by bit, the sampled rows' codes maximising their fit to ``q S``."""
        q = self.n_bits
        codes = B[sampled].copy()
        B_rest = B[rest]  # one copy: the other rows' codes do not change in this step
        for k in range(q):
            others = np.arange(q) != k
            residual_rest = q * S_rest - B_rest[:, others] @ codes[:, others].T
            residual_sampled = q * S_sampled - codes[:, others] @ codes[:, others].T
            np.fill_diagonal(residual_sampled, 0)
            linear = residual_rest.T @ B_rest[:, k]
            codes[:, k] = maximise_binary_quadratic(residual_sampled, linear, codes[:, k])
        return codes

    def _decision_function(self, X):
        return ((X - self.mean_) / self.scale_) @ self.coef_
