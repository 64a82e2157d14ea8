"""Stochastic Generative Hashing (Dai et al., ICML 2017)."""

from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import BaseDeepHasher
from ._docs import doc_filler
from ._modules import MLP

__all__ = ["SGHHasher"]


class _DoublyStochasticNeuron(torch.autograd.Function):
    """``h = 1[sigmoid(logits) > eps]`` with the distributional-derivative gradient.

    The step has zero derivative almost everywhere; the paper's estimator of the
    gradient of ``E_eps[loss(h)]`` back-propagates ``sigmoid'(logits) * dloss/dh``.
    """

    @staticmethod
    def forward(ctx, logits, eps):
        prob = torch.sigmoid(logits)
        ctx.save_for_backward(prob)
        return (prob > eps).to(logits.dtype)

    @staticmethod
    def backward(ctx, grad_h):
        (prob,) = ctx.saved_tensors
        return prob * (1 - prob) * grad_h, None


class _GaussianDecoder(nn.Module):
    """Linear decoder ``x = (h U) * |scale| + shift`` with per-feature ``scale`` and ``shift``."""

    def __init__(self, n_bits, mean, variance, generator=None):
        super().__init__()
        n_features = mean.shape[0]
        weight = torch.randn(n_bits, n_features, generator=generator)
        self.weight = nn.Parameter(weight / n_bits**0.5)
        self.scale = nn.Parameter(variance.clone())
        self.shift = nn.Parameter(mean.clone())

    def forward(self, h):
        return (h @ self.weight) * self.scale.abs() + self.shift


@doc_filler()
class SGHHasher(BaseDeepHasher):
    """Stochastic Generative Hashing (SGH): a binary autoencoder with stochastic neurons.

    This is Stochastic *Generative* Hashing (Dai et al. 2017), not Scalable Graph
    Hashing (Jiang and Li 2015), which shares the abbreviation.

    The encoder gives ``q(h_i = 1 | x) = sigmoid(W x + b)_i``; during training the code is
    drawn by the doubly stochastic neuron ``h = 1[sigmoid(W x + b) > eps]`` with
    ``eps ~ U(0, 1)``, and the gradient through the step is the paper's
    distributional-derivative estimator ``sigmoid'(W x + b) * dL/dh``. A linear Gaussian
    decoder ``(h U) * |scale| + shift`` (``shift`` and ``scale`` start at the training
    mean and variance of each feature and are learned) reconstructs ``x``. The loss is
    the released code's, divided by the minibatch size::

        mean over the batch of (0.5 * ||x - decoder(h)||^2 + alpha * BCE(W x + b, h))
        + beta * 0.5 * (||W||^2 + ||U||^2) / batch_size

    where ``BCE(W x + b, h) = -log q(h | x)`` summed over bits. The code of a sample is
    ``1[sigmoid(W x + b) > 0.5]``: ``decision_function`` returns ``W x + b``.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    stochastic : bool, default=True
        Draw ``eps ~ U(0, 1)`` for every sample and bit (the paper). ``False`` fixes
        ``eps = 0.5``, as the released MNIST demo does (deterministic codes in training).
    alpha : float, default=1e-3
        Weight of the code term ``-log q(h | x)`` (the demo's ``alpha``).
    beta : float, default=1e-3
        Weight of the L2 penalty on the encoder and decoder weights (the demo's ``beta``).
    hidden_layer_sizes : tuple of int, default=()
        Hidden layers of the encoder; ``()`` is the paper's linear encoder. The decoder is
        always linear.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Activation of the encoder's hidden layers, if any.
    batch_size : int, default=500
        Minibatch size (the demo's).
    max_epochs : int, default=40
        Number of passes over the training data (the demo's 5000 steps of 500 samples
        are about 40 passes over MNIST).
    lr : float, default=1e-2
        Learning rate (the demo's).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and the ``eps`` draws. An int gives identical codes
        across runs on the CPU; the global numpy and torch random states are left untouched.
    {loop_params}

    Attributes
    ----------
    module_ : torch.nn.ModuleDict
        ``"encoder"`` (logits ``W x + b``) and ``"decoder"`` (with ``weight`` ``U``,
        ``scale`` and ``shift``), in eval mode.
    history_ : list of dict
        One dict per epoch: the minibatch means of ``"loss"`` and of its terms
        ``"reconstruction"``, ``"code"`` (``-log q(h | x)``) and ``"weight_penalty"``
        (before weighting), ``"epoch"`` and ``"time"`` (seconds).
    {loop_attrs}

    See Also
    --------
    AEHasher : a deterministic autoencoder with a sigmoid relaxation of the bits.
    SSDHHasher : a deep hasher trained on pseudo-similarities instead of reconstruction.

    Notes
    -----
    Like the demo, the loss keeps the sign of its active line: ``+alpha * (-log q(h|x))``,
    which makes the encoder confident; the KL to a uniform prior would be
    ``-alpha * (-log q)`` (commented out there). The demo halves a Python copy of its
    learning rate every 2000 steps after the graph is built, which has no effect: the
    rate stays constant, as here. Input scale matters only through the relative weight
    of ``alpha`` and ``beta``; the decoder's scale absorbs the rest.

    References
    ----------
    B. Dai, R. Guo, S. Kumar, N. He, L. Song, "Stochastic Generative Hashing", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import SGHHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> sgh = SGHHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> sgh.transform(X[:3]).shape
    (3, 8)
    >>> sorted(sgh.history_[-1])
    ['code', 'epoch', 'loss', 'reconstruction', 'time', 'weight_penalty']
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "stochastic": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_bits=64,
        *,
        stochastic=True,
        alpha=1e-3,
        beta=1e-3,
        hidden_layer_sizes=(),
        activation="relu",
        batch_size=500,
        max_epochs=40,
        lr=1e-2,
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
        self.stochastic = stochastic
        self.alpha = alpha
        self.beta = beta

    def _build_modules(self, X):
        # Decoder start: the data's mean and variance (clipped as in the demo).
        mean, variance = X.mean(dim=0), X.var(dim=0, correction=0).clamp_min(1e-7)
        generator = self._init_generator
        hidden = self._hidden_layer_sizes()
        encoder = MLP(X.shape[1], hidden, self.n_bits, self.activation, generator)
        last = encoder[-1]
        with torch.no_grad():  # the demo's start: W ~ N(0, 1/fan_in), b ~ N(0, 1)
            last.weight.normal_(0.0, last.in_features**-0.5, generator=generator)
            last.bias.normal_(0.0, 1.0, generator=generator)
        decoder = _GaussianDecoder(self.n_bits, mean, variance, generator)
        return {"encoder": encoder, "decoder": decoder}

    def _loss(self, X_batch):
        logits = self.module_["encoder"](X_batch)
        if self.stochastic:
            eps = torch.rand(logits.shape, generator=self._generator, device=logits.device)
        else:
            eps = torch.full_like(logits, 0.5)
        h = _DoublyStochasticNeuron.apply(logits, eps)
        decoder = self.module_["decoder"]
        n = X_batch.shape[0]
        reconstruction = 0.5 * (decoder(h) - X_batch).square().sum() / n
        code = F.binary_cross_entropy_with_logits(logits, h, reduction="sum") / n
        weights = [decoder.weight] + [
            m.weight for m in self.module_["encoder"] if isinstance(m, nn.Linear)
        ]
        weight_penalty = 0.5 * sum(w.square().sum() for w in weights) / n
        loss = reconstruction + self.alpha * code + self.beta * weight_penalty
        return {
            "loss": loss,
            "reconstruction": reconstruction,
            "code": code,
            "weight_penalty": weight_penalty,
        }
