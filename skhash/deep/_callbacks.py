"""Callbacks of the deep hashers' training loop (in the manner of skorch).

The loop calls, on every callback of ``callbacks`` (plus a :class:`ProgressBar` when
``verbose``): ``on_train_begin(hasher)``, ``on_batch_end(hasher, step, terms)`` after every
optimiser step, ``on_epoch_end(hasher, record)`` after every epoch (a true return value
stops training) and ``on_train_end(hasher)``, also after an error or Ctrl-C. The hasher's
``validation_fraction`` keeps rows out of training and adds ``"validation_loss"`` (the
training objective on them) to each epoch's record; a callback that reads it sets
``monitors_validation``, so that 0.1 of the rows are held out when the hasher leaves
``validation_fraction=None``.
"""

import copy
import math
import warnings
from numbers import Real

from ..utils._files import atomic_file
from ..utils._validation import check_positive_int

__all__ = ["Callback", "Checkpoint", "EarlyStopping", "LRScheduler", "ProgressBar"]


class Callback:
    """Base class of training callbacks: every hook does nothing by default.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash import AEHasher
    >>> from skhash.deep import Callback
    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, hasher, record):
    ...         print(f"epoch {record['epoch']}: {record['loss']:.2f}")
    >>> X = np.random.default_rng(0).normal(size=(64, 5))
    >>> _ = AEHasher(n_bits=4, max_epochs=2, callbacks=[PrintLoss()], random_state=0).fit(X)
    epoch 1: 1.03
    epoch 2: 0.93
    """

    #: Whether the callback reads ``"validation_loss"``: rows are then held out by default.
    monitors_validation = False
    #: Deprecated: the hasher's ``validation_fraction`` sets the held-out rows.
    validation_fraction = None

    def on_train_begin(self, hasher):
        """Called before the first epoch, with ``module_`` and ``optimizers_`` built."""

    def on_batch_end(self, hasher, step, terms):
        """Called after optimiser step ``step`` with its loss terms (tensors)."""

    def on_epoch_end(self, hasher, record):
        """Called after every epoch with its ``history_`` record; return True to stop."""

    def on_train_end(self, hasher):
        """Called when training ends, normally or not."""

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class ProgressBar(Callback):
    """A tqdm bar over minibatches showing the loss terms (added by ``verbose=True``).

    Parameters
    ----------
    refresh_every : int, default=10
        Minibatches between updates of the shown loss terms (reading them synchronises a
        CUDA device).
    """

    def __init__(self, refresh_every=10):
        self.refresh_every = check_positive_int(
            refresh_every, "refresh_every", "minibatches between updates"
        )

    def on_train_begin(self, hasher):
        from tqdm.auto import tqdm

        total = hasher.n_epochs_ * math.ceil(hasher.n_train_samples_ / hasher.batch_size)
        self._bar = tqdm(total=total, desc=type(hasher).__name__, unit="batch")

    def on_batch_end(self, hasher, step, terms):
        self._bar.update(1)
        if step % self.refresh_every == 0:
            terms = {k: f"{float(v.detach()):.4g}" for k, v in terms.items()}
            self._bar.set_postfix(terms, refresh=False)

    def on_epoch_end(self, hasher, record):
        self._bar.set_description(f"{type(hasher).__name__} epoch {record['epoch']}")

    def on_train_end(self, hasher):
        bar = self.__dict__.pop("_bar", None)
        if bar is not None:
            bar.close()


class EarlyStopping(Callback):
    """Stop when the held-out loss has not improved for ``patience`` epochs.

    The criterion is the hasher's own training objective on the rows its
    ``validation_fraction`` keeps out of training (0.1 of them when it is ``None``): for an
    unsupervised hasher, no labels. With ``restore_best`` the networks go back to the epoch
    of the lowest held-out loss.

    Parameters
    ----------
    patience : int, default=3
        Epochs without improvement before stopping.
    validation_fraction : float, default=None
        Deprecated: set ``validation_fraction`` on the hasher. Still honoured when the
        hasher leaves its own at ``None``.
    min_delta : float, default=0.0
        Smallest decrease that counts as an improvement.
    restore_best : bool, default=True
        Restore the networks of the best epoch at the end.

    Attributes
    ----------
    best_epoch_ : int
        Epoch (1-based) of the lowest held-out loss in the last fit.
    stopped_epoch_ : int or None
        Epoch after which training stopped early, ``None`` when it ran to the end.
    """

    monitors_validation = True

    def __init__(self, patience=3, validation_fraction=None, min_delta=0.0, restore_best=True):
        if validation_fraction is not None:
            warnings.warn(
                "EarlyStopping(validation_fraction=...) is deprecated: set "
                "validation_fraction on the hasher, e.g. AEHasher(validation_fraction=0.1, "
                "callbacks=[EarlyStopping()]).",
                FutureWarning,
                stacklevel=2,
            )
            if not (isinstance(validation_fraction, Real) and 0 < validation_fraction < 1):
                raise ValueError(
                    f"validation_fraction must be in (0, 1), got {validation_fraction!r}."
                )
        check_positive_int(patience, "patience", "epochs without improvement")
        finite = isinstance(min_delta, Real) and not isinstance(min_delta, bool)
        if not (finite and math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(
                f"min_delta must be a finite number >= 0 (the smallest decrease of the "
                f"held-out loss that counts), got {min_delta!r}."
            )
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.min_delta = min_delta
        self.restore_best = restore_best

    def on_train_begin(self, hasher):
        if hasher.validation_fraction == 0:
            raise ValueError(
                f"EarlyStopping monitors the held-out loss, but {type(hasher).__name__} has "
                f"validation_fraction=0: set it above 0 (e.g. 0.1), or None."
            )
        self._best = math.inf
        self._best_state = None
        self._waited = 0
        self.best_epoch_ = 0
        self.stopped_epoch_ = None

    def on_epoch_end(self, hasher, record):
        loss = record["validation_loss"]
        if loss < self._best - self.min_delta:
            self._best, self._waited, self.best_epoch_ = loss, 0, record["epoch"]
            if self.restore_best:
                self._best_state = copy.deepcopy(hasher.module_.state_dict())
            return False
        self._waited += 1
        if self._waited >= self.patience:
            self.stopped_epoch_ = record["epoch"]
            return True
        return False

    def on_train_end(self, hasher):
        state = self.__dict__.pop("_best_state", None)
        if state is not None and self.best_epoch_ < len(hasher.history_):
            hasher.module_.load_state_dict(state)


class LRScheduler(Callback):
    """A :mod:`torch.optim.lr_scheduler` scheduler of the model's optimiser, stepped per epoch.

    Parameters
    ----------
    policy : str or callable, default="CosineAnnealingLR"
        A class name of :mod:`torch.optim.lr_scheduler`, or a callable
        ``policy(optimizer, **kwargs)`` returning a scheduler.
    **kwargs
        Arguments of the scheduler; ``CosineAnnealingLR`` gets ``T_max`` = the number of
        epochs unless given.
    """

    def __init__(self, policy="CosineAnnealingLR", **kwargs):
        self.policy = policy
        self.kwargs = kwargs

    def on_train_begin(self, hasher):
        import torch

        policy = self.policy
        kwargs = dict(self.kwargs)
        if isinstance(policy, str):
            if not hasattr(torch.optim.lr_scheduler, policy):
                raise ValueError(
                    f"LRScheduler: torch.optim.lr_scheduler has no {policy!r}; give a class "
                    f"name such as 'CosineAnnealingLR' or 'StepLR', or a callable."
                )
            if policy == "CosineAnnealingLR":
                kwargs.setdefault("T_max", hasher.n_epochs_)
            policy = getattr(torch.optim.lr_scheduler, policy)
        self._scheduler = policy(hasher.optimizers_["model"], **kwargs)

    def on_epoch_end(self, hasher, record):
        record["lr"] = self._scheduler.get_last_lr()[0]
        self._scheduler.step()

    def on_train_end(self, hasher):
        self.__dict__.pop("_scheduler", None)


class Checkpoint(Callback):
    """Save the networks' state (``torch.save``) every ``every`` epochs, to resume or inspect.

    Each save replaces the file whole (a temporary file renamed over it): a kill during a
    save leaves the previous checkpoint.

    Parameters
    ----------
    path : str or path-like
        File written (overwritten at each save): a dict with ``"epoch"``, ``"module"``
        (the ``module_`` state dict) and ``"history"``.
    every : int, default=1
        Epochs between saves.
    """

    def __init__(self, path, every=1):
        check_positive_int(every, "every", "epochs between saves")
        self.path = path
        self.every = every

    def on_epoch_end(self, hasher, record):
        if record["epoch"] % self.every == 0:
            import torch

            state = {
                "epoch": record["epoch"],
                "module": hasher.module_.state_dict(),
                "history": list(hasher.history_),
            }
            with atomic_file(self.path) as file:
                torch.save(state, file)
