"""Bi-half (Li and van Gemert, AAAI 2021), unsupervised, on feature vectors."""

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ._base import BaseDeepHasher
from ._greedyhash import _SimilarityPreservingHasher, fill_doc

__all__ = ["BiHalfHasher"]


def bi_half(h):
    """Per bit, the top half of the minibatch's values become +1 and the rest -1.

    This is the optimal transport of the batch's values to a half-half prior on {-1, +1}
    (the same per-bit sort as IDR-AE's distance); ties go by position in the batch.
    """
    order = torch.argsort(h, dim=0, descending=True, stable=True)
    B = torch.full_like(h, -1.0)
    B.scatter_(0, order[: h.shape[0] // 2], 1.0)
    return B


@fill_doc
class BiHalfHasher(_SimilarityPreservingHasher):
    """Bi-half: a parameter-free layer that gives every bit half ones, half minus ones.

    An encoder (by default one linear layer) maps ``x`` to ``h``; during training each
    bit's ``N`` values in the minibatch are sorted and the top half set to +1, the bottom
    half to -1 (the optimal transport to a half-half prior, which maximises the bit's
    entropy). The gradient passes straight through, plus ``gamma * (h - B) / h.size``, a
    pull of ``h`` towards its binary value. The loss is GreedyHash's unsupervised one:
    the cosine similarity of paired codes should equal that of their input features. The
    code is ``1[h > 0]``.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    gamma : float, default=6.0
        Strength of the pull of ``h`` towards its binary value (the released code's 6).
    {shared_params}

    Attributes
    ----------
    {shared_attrs}

    See Also
    --------
    GreedyHashHasher : the same loss with a plain sign.
    IDRAEHasher : an autoencoder whose bits are matched to a Bernoulli prior by sorting.

    References
    ----------
    Y. Li, J. van Gemert, "Deep Unsupervised Image Hashing by Maximizing Bit Entropy",
    AAAI 2021 (code ``liyunqianggyn/Deep-Unsupervised-Image-Hashing``).

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import BiHalfHasher
    >>> X = np.random.default_rng(0).uniform(size=(200, 20))
    >>> bihalf = BiHalfHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> bihalf.transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_bits=64,
        *,
        gamma=6.0,
        hidden_layer_sizes=(),
        activation="relu",
        batch_size=256,
        max_epochs="auto",
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
        self.gamma = gamma

    def _binarize(self, h):
        B = bi_half(h.detach())
        # Gradient g + gamma * (h - B) / h.numel(), as the released layer's backward.
        penalty = 0.5 * self.gamma * (h - B).square().sum() / h.numel()
        return h + (B - h).detach(), penalty
