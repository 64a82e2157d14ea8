"""The base of the deep supervised hashers: an encoder trained on labelled minibatches."""

from sklearn.base import _fit_context

from ..supervised._labels import SupervisedHasherMixin
from ._base import BaseDeepHasher
from ._docs import doc_filler

__all__ = ["SupervisedDeepHasher", "fill_doc"]


class SupervisedDeepHasher(SupervisedHasherMixin, BaseDeepHasher):
    """An encoder ``u = f(x)`` trained with a loss of the minibatch's codes and labels.

    A subclass gives ``_supervised_loss(u, y_batch, index) -> dict`` (``index``: the
    minibatch's rows in the training set, ``None`` on held-out rows); the code is
    ``sign(u)``.
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the encoder on ``X`` and its labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (scale it: e.g. standardised features).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 multi-label indicator matrix.

        Returns
        -------
        self : object
            Fitted hasher.
        """
        X, Y = self._validate_X_y(X, y)
        self.n_classes_ = Y.shape[1]
        return self._fit(X, Y)

    def _loss(self, X_batch, y_batch, index):
        return self._supervised_loss(self.module_["encoder"](X_batch), y_batch, index)


_DOC_SHARED = """
    hidden_layer_sizes : tuple of int, default=()
        Hidden layers of the encoder; ``()`` is the single fully connected hashing layer
        that the released code puts on top of its CNN, here on the given features.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Activation of the hidden layers.
    batch_size : int, default=<batch_size>
        Minibatch size.
    max_epochs : int or "auto", default=<max_epochs>
        Passes over the training data; ``"auto"``: about 400 optimiser steps (DPSH:
        2,000).
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
        One dict per epoch: the mean ``"loss"`` and its terms, ``"epoch"`` and ``"time"``.
    n_epochs_ : int
        Number of epochs planned.
    n_classes_ : int
        Number of classes (columns of the label matrix).
    classes_ : ndarray
        Class labels (column indices for a multi-label indicator ``y``).
    {loop_attrs}
"""

fill_doc = doc_filler(shared_params=_DOC_SHARED, shared_attrs=_DOC_ATTRS)
