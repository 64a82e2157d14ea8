"""GreedyHash (Su et al., NeurIPS 2018), unsupervised, on feature vectors."""

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import BaseDeepHasher
from ._docs import doc_filler

__all__ = ["GreedyHashHasher"]


def cosine_matching_loss(X, B):
    """Mean squared difference of the cosine similarities of paired rows of ``X`` and ``B``.

    The first half of the minibatch is paired with the second half, as in the released
    GreedyHash and Bi-half code: the codes' cosine similarity should equal the features'.
    """
    half = X.shape[0] // 2
    target = F.cosine_similarity(X[:half], X[half : 2 * half], dim=1)
    codes = F.cosine_similarity(B[:half], B[half : 2 * half], dim=1)
    return F.mse_loss(codes, target)


class _SimilarityPreservingHasher(BaseDeepHasher):
    """An encoder ``h = f(x)`` whose binary codes keep the cosine similarities of ``x``.

    A subclass gives the training-time binarisation ``_binarize(h) -> (B, penalty)``;
    the code is ``sign(h)`` (``decision_function`` returns ``h``).
    """

    def _loss(self, X_batch):
        h = self.module_["encoder"](X_batch)
        B, penalty = self._binarize(h)
        similarity = cosine_matching_loss(X_batch, B)
        return {"loss": similarity + penalty, "similarity": similarity, "penalty": penalty}


_DOC_SHARED = """
    hidden_layer_sizes : tuple of int, default=()
        Hidden layers of the encoder; ``()`` is the single fully connected hashing layer
        of the original, on top of (frozen) CNN features.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Activation of the hidden layers.
    batch_size : int, default=<batch_size>
        Minibatch size; each step matches the similarities of ``batch_size // 2`` pairs.
    max_epochs : int or "auto", default=<max_epochs>
        Passes over the training data; ``"auto"``: about 400 optimiser steps.
    lr : float, default=<lr>
        Learning rate.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation and shuffling; an int gives identical codes across runs on
        the CPU.
    {loop_params}
"""

_DOC_ATTRS = """
    module_ : torch.nn.ModuleDict
        ``"encoder"``, in eval mode.
    history_ : list of dict
        One dict per epoch: the mean ``"loss"``, ``"similarity"`` (the cosine matching
        term) and ``"penalty"``, ``"epoch"`` and ``"time"`` (seconds).
    n_epochs_ : int
        Number of epochs planned.
    {loop_attrs}
"""


fill_doc = doc_filler(shared_params=_DOC_SHARED, shared_attrs=_DOC_ATTRS)


@fill_doc
class GreedyHashHasher(_SimilarityPreservingHasher):
    """GreedyHash: the sign in the forward pass, its gradient passed through unchanged.

    An encoder (by default one linear layer) maps ``x`` to ``h``; training binarises
    with ``B = sign(h)`` and back-propagates through it as if it were the identity (the
    greedy straight-through estimator). The unsupervised loss makes the cosine similarity
    of paired codes equal that of their input features, plus ``alpha * mean(| |h| - 1 |^3)``
    pulling ``h`` to ``+-1``. The code is ``1[h > 0]``.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    alpha : float, default=0.1
        Weight of the penalty pulling ``h`` towards ``+-1``.
    {shared_params}

    Attributes
    ----------
    {shared_attrs}

    See Also
    --------
    BiHalfHasher : the same loss with a balanced (half +1, half -1) binarisation.

    References
    ----------
    S. Su, C. Zhang, K. Han, Y. Tian, "Greedy Hash: Towards Fast Optimization for
    Accurate Hash Coding in CNN", NeurIPS 2018 (code ``ssppp/GreedyHash``).

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import GreedyHashHasher
    >>> X = np.random.default_rng(0).uniform(size=(200, 20))
    >>> greedy = GreedyHashHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> greedy.transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_bits=64,
        *,
        alpha=0.1,
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
        self.alpha = alpha

    def _binarize(self, h):
        B = h + (torch.sign(h) - h).detach()  # sign forward, identity backward
        penalty = self.alpha * (h.abs() - 1).pow(3).abs().mean()
        return B, penalty
