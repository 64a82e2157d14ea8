"""LPAEHasher: codes matched to a Bernoulli prior by minibatch optimal transport (LP-AE)."""

from ._autoencoder import _PRIOR_CONSTRAINTS, _AutoencoderHasher, _doc, _PriorMatchingAutoencoder
from ._losses import assignment_wasserstein

__all__ = ["LPAEHasher"]


@_doc
class LPAEHasher(_PriorMatchingAutoencoder):
    """Autoencoder hashing with the primal optimal-transport estimate (LP-AE).

    Like :class:`IDRAEHasher`, but ``L_G`` is the minibatch optimal transport cost between
    the ``N`` codes ``b`` and ``N`` Bernoulli(``prior_p``) samples with Euclidean cost,
    solved exactly by :func:`scipy.optimize.linear_sum_assignment` on the detached cost
    matrix (paper Eq. 4-9); the gradient flows through the matched costs. The assignment
    costs ``O(N^3)`` on the host per minibatch, which dominates training at large
    ``batch_size``: this estimator is the paper's slower rival, kept for comparisons.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    distribution_weight : float, default=1.0
        Weight of ``L_G`` against the scaled reconstruction error (as in
        :class:`IDRAEHasher`; note that a Euclidean distance over ``n_bits`` bits is
        about ``sqrt(n_bits)`` times a per-bit distance).
    prior_p : float, default=0.5
        Probability of a 1 in the Bernoulli prior.
    {shared_params}

    Attributes
    ----------
    {shared_attrs}

    See Also
    --------
    IDRAEHasher : the per-bit relaxation, ``O(m N log N)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import LPAEHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> lp = LPAEHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> lp.transform(X[:3]).shape
    (3, 8)
    """

    _short_name = "LP-AE"

    _parameter_constraints: dict = {
        **_AutoencoderHasher._parameter_constraints,
        **_PRIOR_CONSTRAINTS,
    }

    def __init__(
        self,
        n_bits=64,
        *,
        distribution_weight=1.0,
        prior_p=0.5,
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
        self.scaling = scaling
        self.init = init

    def _distribution_loss(self, b):
        return assignment_wasserstein(b, self._prior_like(b))
