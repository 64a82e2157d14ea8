"""CSQ (Yuan et al., CVPR 2020): central similarity quantisation, on feature vectors."""

from numbers import Real

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._base import BaseDeepHasher
from ._supervised import SupervisedDeepHasher, fill_doc

__all__ = ["CSQHasher", "csq_loss", "hash_centres", "label_centres"]

# Random centres are redrawn until every pair differs in more than a quarter of the bits
# and in half on average, or this many draws (the released code's rule).
_CENTRE_DRAWS = 20


def hash_centres(n_classes, n_bits, rng):
    """One ``+-1`` centre per class: rows of the Hadamard matrix ``H`` and of ``-H`` (any
    two differ in at least half the bits) when ``n_bits`` is a power of two and there are
    at most ``2 n_bits`` classes; otherwise, for the classes beyond, random balanced
    centres, redrawn as the released ``get_hash_targets`` does."""
    if n_bits & (n_bits - 1) == 0:
        H = scipy.linalg.hadamard(n_bits)
        centres = np.concatenate([H, -H])[:n_classes].astype(np.float64)
    else:
        centres = np.empty((0, n_bits))
    if len(centres) == n_classes:
        return centres
    known = len(centres)
    for _ in range(_CENTRE_DRAWS):
        extra = np.ones((n_classes - known, n_bits))
        for row in extra:
            row[rng.choice(n_bits, n_bits // 2, replace=False)] = -1
        candidate = np.concatenate([centres, extra])
        differences = (candidate[:, None] != candidate[None]).sum(axis=2)
        pairs = differences[np.triu_indices(n_classes, k=1)]
        if pairs.min() > n_bits / 4 and pairs.mean() >= n_bits / 2:
            break
    return candidate


def label_centres(y, centres, fallback):
    """The centre of each row: its class's, or for several labels the sign of the sum of
    their centres, with ``fallback`` (a random ``+-1`` vector) where the sum is 0."""
    summed = y @ centres
    single = y.sum(dim=1) == 1
    tied = summed == 0
    summed = torch.where(tied, (2 * fallback - 1).expand_as(summed), summed)
    combined = torch.where(summed > 0, 1.0, -1.0)
    return torch.where(single[:, None], y @ centres, combined)


def csq_loss(u, target, weight):
    """Binary cross-entropy of ``(tanh(u) + 1) / 2`` against the centre's bits, plus
    ``weight`` times the quantisation error ``(|tanh(u)| - 1)^2`` (DeepHash-pytorch's
    ``CSQLoss``)."""
    z = torch.tanh(u)
    centre = F.binary_cross_entropy(0.5 * (z + 1), 0.5 * (target + 1))
    quantisation = (z.abs() - 1).pow(2).mean()
    return {"loss": centre + weight * quantisation, "centre": centre, "quantisation": quantisation}


@fill_doc
class CSQHasher(SupervisedDeepHasher):
    """CSQ: every class gets a hash centre far from the others, and codes are pulled to
    their class's centre.

    The centres are rows of a Hadamard matrix and its negation (any two differ in half of
    the bits), or random balanced codes where those run out; an item with several labels
    takes the sign of the sum of their centres. An encoder (by default one linear layer)
    maps ``x`` to ``u``, and training minimises the binary cross-entropy of
    ``(tanh(u) + 1) / 2`` against its centre's bits plus ``quantization_weight`` times
    ``(|tanh(u)| - 1)^2``. The code is ``1[u > 0]``.

    Parameters
    ----------
    n_bits : int, default=64
        Number of bits.
    quantization_weight : float, default=1e-4
        Weight of the quantisation term (the released ``lambda``, 1e-4).
    {shared_params}

    Attributes
    ----------
    {shared_attrs}
    centres_ : ndarray of shape (n_classes, n_bits)
        The classes' hash centres, in ``{-1, 1}``.

    See Also
    --------
    DPSHHasher : a pairwise likelihood instead of centres.

    References
    ----------
    L. Yuan, T. Wang, X. Zhang, F. E. H. Tay, Z. Jie, W. Liu, J. Feng, "Central similarity
    quantization for efficient image and video retrieval", CVPR 2020 (DeepHash-pytorch's
    ``CSQ.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import CSQHasher
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, 200)
    >>> X = rng.normal(size=(200, 20)) + y[:, None]
    >>> CSQHasher(n_bits=8, max_epochs=2, random_state=0).fit(X, y).transform(X[:3]).shape
    (3, 8)
    """

    _parameter_constraints: dict = {
        **BaseDeepHasher._parameter_constraints,
        "quantization_weight": [Interval(Real, 0, None, closed="left")],
    }
    _training_state = (*BaseDeepHasher._training_state, "_targets", "_fallback")

    def __init__(
        self,
        n_bits=64,
        *,
        quantization_weight=1e-4,
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
        self.quantization_weight = quantization_weight

    def _fit(self, X, Y=None):
        rng = check_random_state(self.random_state)
        self.centres_ = hash_centres(Y.shape[1], self.n_bits, rng)
        self._fallback = rng.randint(2, size=self.n_bits).astype(np.float64)
        return super()._fit(X, Y)

    def _supervised_loss(self, u, y_batch, index):
        if not hasattr(self, "_targets"):
            self._targets = (
                torch.tensor(self.centres_, dtype=torch.float32, device=u.device),
                torch.tensor(self._fallback, dtype=torch.float32, device=u.device),
            )
        target = label_centres(y_batch, *self._targets)
        return csq_loss(u, target, self.quantization_weight)
