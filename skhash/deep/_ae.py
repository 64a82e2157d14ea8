"""AEHasher: the plain autoencoder, the IDR-AE paper's ablation."""

from ._autoencoder import _AutoencoderHasher, _doc

__all__ = ["AEHasher"]


@_doc
class AEHasher(_AutoencoderHasher):
    """Plain autoencoder hashing: codes are the thresholded sigmoid bottleneck.

    The encoder MLP outputs ``b = sigmoid(f(x))`` in (0, 1)^n_bits, the decoder MLP
    reconstructs ``x`` from ``b`` and the mean squared error is minimised; the code is
    ``1[b > 0.5]``. It is the "AE" ablation of the IDR-AE paper (no distribution
    matching term): bits tend to be unbalanced and correlated.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits (width of the bottleneck).
    {shared_params}

    Attributes
    ----------
    {shared_attrs}

    See Also
    --------
    IDRAEHasher : the same autoencoder with bits matched to a Bernoulli prior.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import AEHasher
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> ae = AEHasher(n_bits=8, max_epochs=2, random_state=0).fit(X)
    >>> ae.transform(X[:3]).shape
    (3, 8)
    """

    def __init__(
        self,
        n_bits=64,
        *,
        scaling="none",
        init="itq",
        hidden_layer_sizes=(512, 256),
        activation="relu",
        batch_size=512,
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
        self.scaling = scaling
        self.init = init
