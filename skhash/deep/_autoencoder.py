"""The autoencoder hashers' family: an MLP autoencoder on ITQ's solution (AEHasher) and the
base of the three that also match the codes to a Bernoulli prior (IDR-AE, LP-AE, WGAN-AE),
with their shared docstring sections. Each method has its own module."""

from numbers import Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ..linear import ITQHasher
from ._base import BaseDeepHasher
from ._docs import doc_filler
from ._losses import sample_bernoulli
from ._modules import MLP, ResidualMLP, Standardize

__all__: list = []  # the family's bases; the methods are in _ae, _idrae, _lpae, _wganae

_SHARED_PARAMS_DOC = """
    scaling : {"none", "global", "feature"}, default="none"
        Preprocessing learned in ``fit`` and applied inside the hasher: ``"global"``
        centres every feature and divides all of them by one overall standard deviation,
        ``"feature"`` standardises each feature (as ``StandardScaler``; it amplifies
        near-constant pixels, which cost 0.12 mAP on MNIST).
    init : {"itq", "random"}, default=<init>
        ``"itq"`` builds the encoder on :class:`~skhash.ITQHasher`'s solution: a fixed
        linear path, ITQ's projections (fitted on the training rows, seeded from
        ``random_state``), plus the MLP, whose last layer starts at zero, so the first
        codes are ITQ's and training learns a non-linear correction to them (the linear
        path is trained only when there are no hidden layers). ``"random"``: the usual
        random MLP. Bits beyond ITQ's limit ``min(n_samples, n_features)`` start as
        random projections.
    hidden_layer_sizes : tuple of int, default=(512, 256)
        Widths of the encoder's hidden layers; the decoder mirrors them. On MNIST this
        ReLU MLP beat both one hidden layer of 256 and the released code's
        500-500-100 LeakyReLU network.
    activation : {"relu", "leaky_relu", "tanh", "elu", "gelu"}, default="relu"
        Activation of the hidden layers (``"leaky_relu"`` has slope 0.2, as in the
        released IDR-AE code).
    batch_size : int, default=<batch_size>
        Minibatch size. A larger batch gives a better per-bit Wasserstein estimate (512
        won on CIFAR-10 features).
    max_epochs : int or "auto", default=<max_epochs>
        Number of passes over the training data. ``"auto"``: as many as make 400
        optimiser steps (5 epochs of 50,000 rows at batch 512, 400 of 320 rows). Training
        on from ITQ's start for longer lowered the codes' mAP on CIFAR-10 features
        (0.322 after 4 epochs, 0.294 after 20).
    lr : float, default=1e-3
        Learning rate.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, shuffling and prior samples. An int gives identical codes
        across runs on the CPU; the global numpy and torch random states are left
        untouched.
    {loop_params}
"""

_SHARED_ATTRS_DOC = """
    module_ : torch.nn.ModuleDict
        The trained networks (``"encoder"``, ``"decoder"`` ...), in eval mode.
    reconstruction_scale_ : float
        Mean per-feature variance of the training data; the reconstruction loss is divided
        by it, so that it is 1 for the trivial mean reconstruction whatever the input
        scale and dimension.
    history_ : list of dict
        One dict per epoch: the mean of ``"loss"`` and of every loss term, ``"epoch"`` and
        ``"time"`` (seconds).
    n_epochs_ : int
        Number of epochs planned (``max_epochs``, resolved when it is ``"auto"``).
    {loop_attrs}
"""


_doc = doc_filler(shared_params=_SHARED_PARAMS_DOC, shared_attrs=_SHARED_ATTRS_DOC)


class _AutoencoderHasher(BaseDeepHasher):
    """Encoder ``b = sigmoid(f(x))`` in (0, 1)^m, decoder ``g(b)``, code ``1[b > 0.5]``.

    The loss is the scaled reconstruction error; :class:`_PriorMatchingAutoencoder` adds a
    distribution term. ``decision_function`` returns the encoder logits.
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "scaling": [StrOptions({"none", "global", "feature"})],
        "init": [StrOptions({"itq", "random"})],
    }

    # Logit scale of the ITQ start: sigmoid(3 z) for a unit-variance projection z puts
    # most outputs near 0 or 1 without saturating the gradient.
    _init_logit_scale = 3.0

    def _itq_projection(self, X):
        """Weight and bias mapping (standardised) ``X`` to ITQ's projections as logits.

        Bits beyond ITQ's limit ``min(n_samples, n_features)`` start as Gaussian random
        projections of the centred data (LSH), so every ``n_bits`` has a start.
        """
        X = X.numpy()  # float32, as the networks: ITQ then copies nothing of X
        seed = int(torch.randint(np.iinfo(np.int32).max, (1,), generator=self._init_generator))
        n_itq = min(self.n_bits, *X.shape)
        itq = ITQHasher(n_bits=n_itq, random_state=seed).fit(X)
        weight = (itq.components_.T @ itq.rotation_).astype(np.float64)
        if n_itq < self.n_bits:
            rng = np.random.default_rng(seed)
            weight = np.hstack([weight, rng.standard_normal((X.shape[1], self.n_bits - n_itq))])
        # The projections' spread without a centred copy of X (float64: n_samples x n_bits).
        std = (X @ weight.astype(np.float32) - itq.mean_ @ weight).std(axis=0)
        weight = weight * (self._init_logit_scale / np.where(std > 0, std, 1.0))
        return (
            torch.tensor(np.ascontiguousarray(weight.T), dtype=torch.float32),
            torch.tensor(-itq.mean_ @ weight, dtype=torch.float32),
        )

    def _build_modules(self, X):
        input_map = self._input_standardizer(X)
        X = input_map(X)
        variance = float(X.var(dim=0, correction=0).mean()) if X.shape[0] > 1 else 0.0
        self.reconstruction_scale_ = variance if variance > 0 else 1.0
        hidden = self._hidden_layer_sizes()
        if self.init == "itq":
            # With no MLP to learn a correction, the linear path itself is trained.
            start = self._itq_projection(X)
            encoder = ResidualMLP(
                *start,
                hidden,
                self.activation,
                train_linear=not hidden,
                generator=self._init_generator,
            )
        else:
            encoder = MLP(X.shape[1], hidden, self.n_bits, self.activation, self._init_generator)
        decoder = MLP(self.n_bits, hidden[::-1], X.shape[1], self.activation, self._init_generator)
        return {"input": input_map, "encoder": encoder, "decoder": decoder}

    def _input_standardizer(self, X):
        """The ``scaling`` of the input, learned on ``X``, as a module."""
        if self.scaling == "feature":
            mean = X.mean(dim=0)
            scale = X.std(dim=0, correction=0)
            # Constant features: centred to 0, left unscaled.
            scale = torch.where(scale > 1e-6 * scale.max().clamp_min(1e-30), scale, 1.0)
        elif self.scaling == "global":
            mean = X.mean(dim=0)
            total = float(X.var(dim=0, correction=0).mean().sqrt())
            scale = torch.full((X.shape[1],), total if total > 0 else 1.0)
        else:
            mean = torch.zeros(X.shape[1])
            scale = torch.ones(X.shape[1])
        return Standardize(mean, scale)

    def _encode(self, X_batch):
        return self.module_["encoder"](self.module_["input"](X_batch))

    def _reconstruct(self, X_batch):
        """Return ``b`` and the scaled mean squared reconstruction error of the batch."""
        X_batch = self.module_["input"](X_batch)
        b = torch.sigmoid(self.module_["encoder"](X_batch))
        error = (self.module_["decoder"](b) - X_batch).square().mean()
        return b, error / self.reconstruction_scale_

    def _loss(self, X_batch):
        _, reconstruction = self._reconstruct(X_batch)
        return {"loss": reconstruction, "reconstruction": reconstruction}


class _PriorMatchingAutoencoder(_AutoencoderHasher):
    """An autoencoder whose codes are pulled to Bernoulli(``prior_p``) bits by a term
    ``_distribution_loss(b)`` weighted by ``distribution_weight`` (IDR-AE, LP-AE, WGAN-AE)."""

    def _prior_like(self, b):
        return sample_bernoulli(b.shape, self.prior_p, self._generator, b.device)

    def _distribution_loss(self, b):
        raise NotImplementedError

    def _loss(self, X_batch):
        b, reconstruction = self._reconstruct(X_batch)
        if not self.distribution_weight:
            return {"loss": reconstruction, "reconstruction": reconstruction}
        distribution = self._distribution_loss(b)
        return {
            "loss": reconstruction + self.distribution_weight * distribution,
            "reconstruction": reconstruction,
            "distribution": distribution,
        }


_PRIOR_CONSTRAINTS = {
    "distribution_weight": [Interval(Real, 0, None, closed="left")],
    "prior_p": [Interval(Real, 0, 1, closed="neither")],
}
