"""HashNet (Cao, Long, Wang and Yu, ICCV 2017): deep hashing by continuation, on features."""

from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval

from ._base import BaseDeepHasher
from ._supervised import SupervisedDeepHasher, fill_doc

__all__ = ["HashNetHasher", "hashnet_loss"]


def hashnet_loss(u, y, scale, alpha):
    """The weighted pairwise likelihood of the minibatch's pairs (DeepHash-pytorch's
    ``HashNetLoss``): on ``z = tanh(scale u)``, ``theta = alpha z_i . z_j``, the loss
    ``log(1 + e^theta) - s theta`` of every pair, similar and dissimilar pairs each weighted
    by the total over their own count, so that both kinds weigh the same."""
    z = torch.tanh(scale * u)
    similar = (y @ y.T > 0).float()
    theta = alpha * z @ z.T
    pair_loss = F.softplus(theta) - similar * theta
    n_similar, n_dissimilar = similar.sum(), (1 - similar).sum()
    total = n_similar + n_dissimilar
    weights = torch.where(similar > 0, total / n_similar, total / n_dissimilar)
    return {"loss": (pair_loss * weights).sum() / total}


@fill_doc
class HashNetHasher(SupervisedDeepHasher):
    """HashNet: a pairwise loss balanced between similar and dissimilar pairs, on codes
    ``tanh(beta u)`` whose sharpness ``beta`` grows during training.

    An encoder (by default one linear layer) maps ``x`` to ``u``. For every pair of the
    minibatch the probability of sharing a label is ``sigmoid(alpha z_i . z_j)`` with
    ``z = tanh(beta u)``; similar pairs, rare with many classes, are weighted up to weigh
    as much as the dissimilar ones. Continuation raises ``beta`` as ``sqrt(stage + 1)`` over
    ``n_stages`` equal parts of the training, so that ``tanh(beta u)`` approaches the sign
    (the released code raises it every 20 of its 150 epochs: 7.5 stages). The code is
    ``1[u > 0]``.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    alpha : float, default=0.1
        Scale of the code inner products in the likelihood (the released 0.1).
    n_stages : int, default=8
        Continuation stages over the training.
    {shared_params}

    Attributes
    ----------
    {shared_attrs}

    See Also
    --------
    DPSHHasher : the unweighted pairwise likelihood with a quantisation term.
    CSQHasher : codes pulled to per-class hash centres.

    References
    ----------
    Z. Cao, M. Long, J. Wang, P. S. Yu, "HashNet: deep learning to hash by continuation",
    ICCV 2017 (DeepHash-pytorch's ``HashNet.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import HashNetHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 200)
    >>> X = rng.normal(size=(200, 20)) + y[:, None]
    >>> HashNetHasher(n_bits=8, max_epochs=2, random_state=0).fit(X, y).transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "n_stages": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_bits=64,
        *,
        alpha=0.1,
        n_stages=8,
        hidden_layer_sizes=(),
        activation="relu",
        batch_size=128,
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
        self.n_stages = n_stages

    def _scale(self):
        """``sqrt(stage + 1)`` for the stage of the epoch in progress."""
        stage = self.n_iter_ * self.n_stages // max(self.n_epochs_, 1)
        return (min(stage, self.n_stages - 1) + 1) ** 0.5

    def _supervised_loss(self, u, y_batch, index):
        return hashnet_loss(u, y_batch, self._scale(), self.alpha)
