"""Circulant binary embedding (Yu, Kumar, Gong and Chang)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseHasher, with_threads
from ..utils import N_JOBS_CONSTRAINT
from ._blocks import row_blocks

__all__ = ["CBEHasher", "learn_circulant"]

# The released learning loop stops once an iteration lowers the objective by at most this.
_TOLERANCE = 0.1


def _circulant_product(X, fft_r):
    """``X R^T`` for the circulant ``R`` of ``r``: one FFT per row, ``O(d log d)``."""
    return np.fft.irfft(np.fft.rfft(X, axis=1) * fft_r[: X.shape[1] // 2 + 1], X.shape[1])


def _signs(projections, n_bits):
    B = np.where(projections >= 0, 1.0, -1.0)
    B[:, n_bits:] = 0
    return B


def _real_roots(coefficients):
    roots = np.roots(coefficients)
    return np.real(roots[np.abs(np.imag(roots)) < 1e-9])


def _minimise_modulus(weight, linear, orthogonality):
    """The ``s >= 0`` minimising ``weight s^2 - linear s + 2 lambda (s^2 - 1)^2``: the one
    positive root of ``8 lambda s^3 + (2 weight - 8 lambda) s - linear``."""
    return np.array(
        [
            max(_real_roots([8 * orthogonality, 0.0, 2 * w - 8 * orthogonality, -c]).max(), 0.0)
            for w, c in zip(weight, linear, strict=True)
        ]
    )


def _update_frequencies(fft_X, B, fft_r, energy, orthogonality):
    """The released ``optimize_R``: each pair of conjugate frequencies of ``r`` minimises
    its own quartic in closed form (the released code runs ``fminunc`` on each)."""
    d = B.shape[1]
    fft_B = np.fft.fft(B, axis=1)
    h = -2 * np.sum(fft_X.real * fft_B.real + fft_X.imag * fft_B.imag, axis=0) / d
    g = 2 * np.sum(fft_X.imag * fft_B.real - fft_X.real * fft_B.imag, axis=0) / d
    fft_r = fft_r.copy()
    # Frequency 0 is real: m r^2 + h r + lambda (r^2 - 1)^2, its global minimum.
    roots = _real_roots([4 * orthogonality, 0.0, 2 * energy[0] - 4 * orthogonality, h[0]])
    values = energy[0] * roots**2 + h[0] * roots + orthogonality * (roots**2 - 1) ** 2
    fft_r[0] = roots[np.argmin(values)]
    pairs = np.arange(1, (d + 2) // 2)
    mirror = d - pairs
    weight = energy[pairs] + energy[mirror]
    linear_re, linear_im = h[pairs] + h[mirror], g[pairs] - g[mirror]
    norm = np.hypot(linear_re, linear_im)
    modulus = _minimise_modulus(weight, norm, orthogonality)
    with np.errstate(invalid="ignore", divide="ignore"):
        direction = np.where(norm > 0, -(linear_re + 1j * linear_im) / norm, 1.0)
    fft_r[pairs] = modulus * direction
    fft_r[mirror] = np.conj(fft_r[pairs])
    objective = (
        np.sum(np.abs(fft_r) ** 2 * energy)
        + fft_r.real @ h
        + fft_r.imag @ g
        + np.sum(np.abs(fft_B) ** 2) / d
        + orthogonality * np.sum((np.abs(fft_r) ** 2 - 1) ** 2)
    )
    return fft_r, float(objective)


def learn_circulant(X, r, n_bits, orthogonality, max_iter):
    """The released CBE-opt loop on sign-flipped training rows ``X``, from ``r``.

    Alternates the codes ``B = sign(X R^T)`` (bits past ``n_bits`` zeroed) and the
    frequencies of ``r``, minimising ``||B - X R^T||^2 + lambda ||R R^T - I||^2`` in the
    Fourier domain, until an iteration gains at most 0.1 or ``max_iter`` is passed.
    Returns the learned ``r`` and the number of iterations.
    """
    d = X.shape[1]
    fft_X = np.fft.fft(X, axis=1)
    energy = np.sum(np.abs(fft_X) ** 2, axis=0) / d
    fft_r = np.fft.fft(r)
    B = _signs(_circulant_product(X, fft_r), n_bits)
    gain, objective, iteration = np.inf, np.inf, 0
    while gain > _TOLERANCE and iteration <= max_iter:
        fft_r, new_objective = _update_frequencies(fft_X, B, fft_r, energy, orthogonality)
        B = _signs(_circulant_product(X, fft_r), n_bits)
        gain, objective = objective - new_objective, new_objective
        iteration += 1
    return np.real(np.fft.ifft(fft_r)), iteration


class CBEHasher(BaseHasher):
    """Circulant binary embedding: sign of a circulant projection, computed by FFT.

    A circulant ``d x d`` matrix ``R`` (every row a shift of one vector ``r``) projects
    the centred data with random sign flips ``D``; bit ``j`` is the sign of
    ``(R D (x - mean))_j``. The product costs ``O(d log d)`` instead of ``O(d n_bits)``
    and ``R`` stores ``d`` numbers instead of ``d n_bits``: for very high-dimensional data
    the only practical projection (Yu et al. 2014). ``method="random"`` draws ``r``
    (randomized CBE, a fast LSH: ``n_bits`` random outputs are kept);
    ``method="learned"`` learns it on up to ``max_samples`` training rows by alternating
    codes and Fourier-domain updates (CBE-opt: the first ``n_bits`` outputs). For
    ``n_bits > n_features`` the data are padded with zeros.

    Parameters
    ----------
    n_bits : int, default=32
        Number of bits per code.
    method : {"random", "learned"}, default="random"
        Randomized CBE or CBE-opt.
    orthogonality : float, default=1.0
        Weight ``lambda`` of the near-orthogonality term of CBE-opt (the released 1).
    max_iter : int, default=500
        Most CBE-opt iterations (the released 500; it stops earlier when an iteration
        gains at most 0.1).
    max_samples : int, default=5000
        Training rows CBE-opt learns on, drawn at random (the released demo's 5000).
    n_jobs : int, default=None
        BLAS threads in ``fit`` and ``transform`` (set with threadpoolctl, the caller's
        setting restored after). ``None`` means 1, ``-1`` all cores.
    random_state : int, RandomState instance or None, default=None
        Seed of ``r``, the sign flips, the kept outputs and the learning rows.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Training mean.
    circulant_ : ndarray of shape (n_dims,)
        The vector ``r`` (``n_dims = max(n_features, n_bits)``).
    signs_ : ndarray of shape (n_dims,)
        The random sign flips ``D``.
    bits_ : ndarray of shape (n_bits,)
        The outputs kept as bits.
    n_iter_ : int
        CBE-opt iterations run (``method="learned"`` only).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LSHHasher : a dense Gaussian projection, ``O(d n_bits)`` per sample.

    References
    ----------
    F. X. Yu, S. Kumar, Y. Gong, S.-F. Chang, "Circulant binary embedding", ICML 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import CBEHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 64))
    >>> CBEHasher(n_bits=32, random_state=0).fit_transform(X).shape
    (200, 32)
    """

    _short_name = "CBE"

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "method": [StrOptions({"random", "learned"})],
        "orthogonality": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "max_samples": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": N_JOBS_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_bits=32,
        *,
        method="random",
        orthogonality=1.0,
        max_iter=500,
        max_samples=5000,
        n_jobs=None,
        random_state=None,
    ):
        self.n_bits = n_bits
        self.method = method
        self.orthogonality = orthogonality
        self.max_iter = max_iter
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    @with_threads
    def fit(self, X, y=None):
        """Draw (and, for ``method="learned"``, learn) the circulant projection.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : None
            Ignored.

        Returns
        -------
        self : CBEHasher
            Fitted hasher.
        """
        X = self._validate_X(X, reset=True)
        rng = check_random_state(self.random_state)
        n_dims = max(X.shape[1], self.n_bits)
        self.mean_ = X.mean(axis=0)
        r = rng.standard_normal(n_dims)
        self.signs_ = np.where(rng.standard_normal(n_dims) > 0, 1.0, -1.0)
        if self.method == "random":
            self.bits_ = rng.permutation(n_dims)[: self.n_bits]
        else:
            rows = rng.permutation(X.shape[0])[: self.max_samples]
            flipped = self._flipped(X[rows])
            r, self.n_iter_ = learn_circulant(
                flipped, r, self.n_bits, self.orthogonality, self.max_iter
            )
            self.bits_ = np.arange(self.n_bits)
        self.circulant_ = r
        return self

    def _flipped(self, X):
        """Centred rows, zero-padded to ``n_dims`` and sign-flipped, in float64."""
        flipped = np.zeros((X.shape[0], self.signs_.shape[0]))
        flipped[:, : X.shape[1]] = X - self.mean_
        return flipped * self.signs_

    def _decision_function(self, X):
        fft_r = np.fft.rfft(self.circulant_)
        out = np.empty((X.shape[0], self.n_bits), dtype=X.dtype)
        for rows in row_blocks(X.shape[0], 6 * self.signs_.shape[0] * 8):
            out[rows] = _circulant_product(self._flipped(X[rows]), fft_r)[:, self.bits_]
        return out
