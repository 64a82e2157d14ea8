"""WGANAEHasher: codes matched to a Bernoulli prior by a Wasserstein critic (WGAN-AE)."""

import functools
import itertools
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._autoencoder import _PRIOR_CONSTRAINTS, _AutoencoderHasher, _doc, _PriorMatchingAutoencoder
from ._losses import critic_gradient_penalty
from ._modules import MLP, weight_clip_

__all__ = ["WGANAEHasher"]


@_doc
class WGANAEHasher(_PriorMatchingAutoencoder):
    """Adversarial autoencoder hashing with a Wasserstein critic (WGAN-AE).

    A critic MLP ``D`` on codes estimates the Wasserstein distance in its dual form,
    ``L_G = mean D(z) - mean D(b)`` with ``z`` ~ Bernoulli(``prior_p``); it takes
    ``n_critic`` steps (its own optimiser) per encoder/decoder step, and the autoencoder
    minimises ``L_A - distribution_weight * mean D(b)``. The critic is kept Lipschitz by
    weight clipping (``lipschitz="clip"``, the original WGAN) or a gradient penalty
    (``"gp"``, WGAN-GP).

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    distribution_weight : float, default=1.0
        Weight of the adversarial term against the scaled reconstruction error.
    prior_p : float, default=0.5
        Probability of a 1 in the Bernoulli prior.
    lipschitz : {"clip", "gp"}, default="clip"
        How the critic is kept 1-Lipschitz. Clipping won the grid searches of
        ``benchmarks/paper`` by a wide margin on MNIST and CIFAR-10 features.
    n_critic : int, default=5
        Critic steps per autoencoder step (each on a fresh prior sample).
    clip_value : float, default=0.01
        Weight clipping bound with ``lipschitz="clip"``.
    gp_weight : float, default=10.0
        Gradient penalty weight with ``lipschitz="gp"``.
    critic_hidden_layer_sizes : tuple of int, default=(256,)
        Hidden widths of the critic.
    {shared_params}

    Attributes
    ----------
    {shared_attrs}

    See Also
    --------
    IDRAEHasher : the critic-free per-bit Wasserstein estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import WGANAEHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> wgan = WGANAEHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> wgan.transform(X[:3]).shape
    (3, 8)
    """

    _short_name = "WGAN-AE"

    _parameter_constraints: dict = {
        **_AutoencoderHasher._parameter_constraints,
        **_PRIOR_CONSTRAINTS,
        "lipschitz": [StrOptions({"clip", "gp"})],
        "n_critic": [Interval(Integral, 1, None, closed="left")],
        "clip_value": [Interval(Real, 0, None, closed="neither")],
        "gp_weight": [Interval(Real, 0, None, closed="left")],
        "critic_hidden_layer_sizes": ["array-like"],
    }

    def __init__(
        self,
        n_bits=64,
        *,
        distribution_weight=1.0,
        prior_p=0.5,
        lipschitz="clip",
        n_critic=5,
        clip_value=0.01,
        gp_weight=10.0,
        critic_hidden_layer_sizes=(256,),
        scaling="none",
        init="random",
        hidden_layer_sizes=(512, 256),
        activation="relu",
        batch_size=128,
        max_epochs=20,
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
        self.distribution_weight = distribution_weight
        self.prior_p = prior_p
        self.lipschitz = lipschitz
        self.n_critic = n_critic
        self.clip_value = clip_value
        self.gp_weight = gp_weight
        self.critic_hidden_layer_sizes = critic_hidden_layer_sizes
        self.scaling = scaling
        self.init = init

    def _build_modules(self, X):
        modules = super()._build_modules(X)
        critic_sizes = self._hidden_layer_sizes(
            self.critic_hidden_layer_sizes, "critic_hidden_layer_sizes"
        )
        modules["critic"] = MLP(self.n_bits, critic_sizes, 1, self.activation, self._init_generator)
        return modules

    def _build_optimizers(self):
        autoencoder = itertools.chain(
            self.module_["encoder"].parameters(), self.module_["decoder"].parameters()
        )
        return {
            "model": self._make_optimizer(autoencoder),
            "critic": self._make_optimizer(self.module_["critic"].parameters()),
        }

    def _clipped_critic_step(self, critic, b_fixed, z):
        """One critic step, then weight clipping (the original WGAN)."""
        # The critic maximises mean D(z) - mean D(b): minimise the negative.
        critic_loss = critic(b_fixed).mean() - critic(z).mean()
        critic_loss.backward()
        self.optimizers_["critic"].step()
        weight_clip_(critic, self.clip_value)
        return critic_loss, {}

    def _penalised_critic_step(self, critic, b_fixed, z):
        """One critic step with the gradient penalty (WGAN-GP)."""
        critic_loss = critic(b_fixed).mean() - critic(z).mean()
        penalty = critic_gradient_penalty(critic, b_fixed, z, self._generator)
        (critic_loss + self.gp_weight * penalty).backward()
        self.optimizers_["critic"].step()
        return critic_loss, {"gradient_penalty": penalty}

    def _distribution_loss(self, b):
        """The adversarial term of the training loss (the critic as it stands): what
        ``_loss`` adds to the reconstruction for a held-out ``validation_loss``."""
        return -self.module_["critic"](b).mean()

    def _select_training_step(self):
        critic_step = {"clip": self._clipped_critic_step, "gp": self._penalised_critic_step}
        return functools.partial(self._training_step, critic_step=critic_step[self.lipschitz])

    def _training_step(self, X_batch, step, critic_step=None):
        critic = self.module_["critic"]
        critic_optimizer = self.optimizers_["critic"]
        b, reconstruction = self._reconstruct(X_batch)
        b_fixed = b.detach()
        for _ in range(self.n_critic):
            z = self._prior_like(b_fixed)
            critic_optimizer.zero_grad(set_to_none=True)
            critic_loss, extra = (critic_step or self._clipped_critic_step)(critic, b_fixed, z)

        optimizer = self.optimizers_["model"]
        optimizer.zero_grad(set_to_none=True)
        adversarial = -critic(b).mean()
        loss = reconstruction + self.distribution_weight * adversarial
        loss.backward()
        optimizer.step()
        return {
            "loss": loss,
            "reconstruction": reconstruction,
            "adversarial": adversarial,
            "distribution": -critic_loss,
            **extra,
        }
