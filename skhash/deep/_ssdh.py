"""Semantic Structure-based unsupervised Deep Hashing (Yang et al., IJCAI 2018)."""

import warnings
from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import BaseDeepHasher
from ._docs import doc_filler

__all__ = ["SSDHHasher"]

# Histogram bin width of the cosine distances, as in the released code (100 bins on [0, 1]).
_BIN_WIDTH = 0.01
# Rows of the sample whose distances to the whole sample are computed at once.
_DISTANCE_BLOCK = 1024


def _unit_rows(A):
    """Rows scaled to unit norm; dividing by the largest entry first keeps the squares of
    large float32 values (beyond ~1e19) from overflowing. A zero row stays zero."""
    peak = A.abs().amax(dim=1, keepdim=True)
    return F.normalize(A / torch.where(peak > 0, peak, 1.0), dim=1)


def _cosine_distances(A, B):
    """``1 - cos(a, b)`` for all rows; a zero row is at distance 1 from everything."""
    return 1 - _unit_rows(A) @ _unit_rows(B).T


def _pair_distance_blocks(X):
    """Yield the cosine distances of the pairs ``i < j`` of ``X``, a block of rows at a time."""
    n = X.shape[0]
    for begin in range(0, n - 1, _DISTANCE_BLOCK):
        stop = min(begin + _DISTANCE_BLOCK, n)
        block = _cosine_distances(X[begin:stop], X)
        ones = torch.ones(stop - begin, n, dtype=torch.bool, device=X.device)
        upper = torch.triu(ones, diagonal=begin + 1)
        yield block[upper]


def fit_similarity_thresholds(X, alpha):
    """Thresholds on the cosine distance that split pairs into similar / unknown / dissimilar.

    The distances of all pairs of rows of ``X`` are histogrammed (bin width 0.01); the mode
    ``d0`` (the left edge of the fullest bin) splits them, and each side mirrored about ``d0``
    is fitted with a Gaussian of mean ``d0`` and maximum-likelihood deviation ``sigma``.
    Returns ``(d0, d0 - alpha * sigma_left, d0 + alpha * sigma_right)``. Memory is
    ``O(n * 1024)``: the ``n x n`` matrix is never formed.
    """
    n_bins = int(round(2 / _BIN_WIDTH))
    counts = torch.zeros(n_bins, dtype=torch.float64, device=X.device)
    for distances in _pair_distance_blocks(X):
        counts += torch.histc(distances.double().clamp(0.0, 2.0), bins=n_bins, min=0.0, max=2.0)
    mode = float(torch.argmax(counts)) * _BIN_WIDTH
    squares = torch.zeros(2, dtype=torch.float64, device=X.device)
    sizes = torch.zeros(2, dtype=torch.float64, device=X.device)
    for distances in _pair_distance_blocks(X):
        deviation = distances.double() - mode
        right = deviation > 0
        squares += torch.stack([deviation[~right].square().sum(), deviation[right].square().sum()])
        sizes += torch.stack([(~right).sum(), right.sum()]).double()
    sigma_left, sigma_right = (squares / sizes.clamp_min(1)).sqrt().tolist()
    return mode, mode - alpha * sigma_left, mode + alpha * sigma_right


@doc_filler()
class SSDHHasher(BaseDeepHasher):
    """Semantic Structure-based unsupervised Deep Hashing (SSDH).

    Pseudo-labels come from the semantic structure of the input features: pairs much
    closer than usual (cosine distance) are taken as similar, pairs much farther as
    dissimilar, the rest as unknown. In ``fit``, the cosine distances of the pairs of a
    random sample of ``n_threshold_samples`` rows are histogrammed; at the mode ``d0``,
    each side is fitted with a half Gaussian, giving ``sigma_left`` and ``sigma_right``, and
    ``S_ij = +1`` when ``d_ij < d0 - alpha * sigma_left``, ``-1`` when
    ``d_ij > d0 + alpha * sigma_right``, else 0. During training, ``S`` is computed on the
    fly for each minibatch (the pairs of the whole training set are never stored). An MLP
    maps ``x`` to ``z = tanh(f(x))`` in ``[-1, 1]^m`` and minimises::

        mean(|S| * (Z Z^T / m - S)^2)

    over the ``B x B`` pairs of the minibatch (the diagonal included, as in the released
    code). The code is ``1[f(x) > 0]``: ``decision_function`` returns ``f(x)``.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    alpha : float, default=2.0
        Width, in deviations, of the band of unknown pairs around the mode (the paper's 2).
    n_threshold_samples : int, default=5000
        Rows sampled (without replacement) to learn the thresholds: the pairs among them
        are histogrammed on ``device_``, at ``O(n_threshold_samples^2)`` time and
        ``O(n_threshold_samples * 1024)`` memory. The released code uses its 5000 training
        images.
    hidden_layer_sizes : tuple of int, default=()
        Hidden layers of the MLP on the features; ``()`` is one fully connected hashing
        layer, the layer the original adds on top of VGG16's fc7 features (which it also
        fine-tunes, on images).
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Activation of the hidden layers.
    batch_size : int, default=128
        Minibatch size; each step sees its ``batch_size^2`` pairs.
    max_epochs : int, default=50
        Number of passes over the training data.
    lr : float, default=1e-3
        Learning rate (the paper's).
    random_state : int, RandomState instance or None, default=None
        Seeds the threshold sample, initialisation and shuffling. An int gives identical
        codes across runs on the CPU; the global numpy and torch random states are left
        untouched.
    {loop_params}

    Attributes
    ----------
    distance_mode_ : float
        Mode ``d0`` of the sampled pairs' cosine distances.
    similar_threshold_ : float
        Pairs at cosine distance below it are similar (``S = +1``).
    dissimilar_threshold_ : float
        Pairs at cosine distance above it are dissimilar (``S = -1``).
    module_ : torch.nn.ModuleDict
        ``"encoder"``, the MLP ``f``, in eval mode.
    history_ : list of dict
        One dict per epoch: the mean ``"loss"``, the mean fraction of pairs labelled
        similar (``"similar_pairs"``) and dissimilar (``"dissimilar_pairs"``) in the
        minibatches, ``"epoch"`` and ``"time"`` (seconds).
    {loop_attrs}

    See Also
    --------
    SGHHasher : a generative (reconstruction-based) deep hasher.

    Notes
    -----
    The pseudo-similarities are only as good as the input's cosine geometry: use
    semantic features (e.g. CNN features) rather than raw pixels. The released code
    histograms the distances of all 5000 x 5000 pairs (the zero diagonal included) and
    uses Adam with ``epsilon=1.0``; here only the pairs ``i < j`` of the sample count and
    the optimiser keeps its default ``epsilon``.

    References
    ----------
    E. Yang, C. Deng, T. Liu, W. Liu, D. Tao, "Semantic Structure-based Unsupervised
    Deep Hashing", IJCAI 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import SSDHHasher
    >>> X = np.random.default_rng(0).uniform(size=(200, 20))
    >>> ssdh = SSDHHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> ssdh.transform(X[:3]).shape
    (3, 8)
    >>> bool(ssdh.similar_threshold_ < ssdh.distance_mode_ < ssdh.dissimilar_threshold_)
    True
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "n_threshold_samples": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(
        self,
        n_bits=64,
        *,
        alpha=2.0,
        n_threshold_samples=5000,
        hidden_layer_sizes=(),
        activation="relu",
        batch_size=128,
        max_epochs=50,
        lr=1e-3,
        optimizer="adam",
        optimizer_kwargs=None,
        n_jobs=None,
        device="auto",
        random_state=None,
        verbose=False,
        callbacks=None,
        validation_fraction=None,
    ):
        super().__init__(
            n_bits=n_bits,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            batch_size=batch_size,
            max_epochs=max_epochs,
            lr=lr,
            optimizer=optimizer,
            optimizer_kwargs=optimizer_kwargs,
            n_jobs=n_jobs,
            device=device,
            random_state=random_state,
            verbose=verbose,
            callbacks=callbacks,
            validation_fraction=validation_fraction,
        )
        self.alpha = alpha
        self.n_threshold_samples = n_threshold_samples

    def _build_modules(self, X):
        order = torch.randperm(X.shape[0], generator=self._init_generator)
        sample = X[order[: self.n_threshold_samples]].to(self.device_)
        self.distance_mode_, self.similar_threshold_, self.dissimilar_threshold_ = (
            fit_similarity_thresholds(sample, self.alpha)
        )
        labelled = sum(
            int(((d < self.similar_threshold_) | (d > self.dissimilar_threshold_)).sum())
            for d in _pair_distance_blocks(sample)
        )
        if labelled == 0:
            warnings.warn(
                f"SSDHHasher: no pair of the {len(sample)} sampled rows is labelled similar "
                f"or dissimilar (alpha={self.alpha} puts every cosine distance in the band of "
                f"unknown pairs), so the loss is 0 and nothing is trained. Lower alpha, or "
                f"check that the rows of X are not all alike.",
                UserWarning,
                stacklevel=5,
            )
        return super()._build_modules(X)

    def _loss(self, X_batch):
        distances = _cosine_distances(X_batch, X_batch)
        similar = (distances < self.similar_threshold_).to(X_batch.dtype)
        dissimilar = (distances > self.dissimilar_threshold_).to(X_batch.dtype)
        S = similar - dissimilar
        Z = torch.tanh(self.module_["encoder"](X_batch))
        loss = (S.abs() * (Z @ Z.T / self.n_bits - S).square()).mean()
        return {
            "loss": loss,
            "similar_pairs": similar.mean(),
            "dissimilar_pairs": dissimilar.mean(),
        }
