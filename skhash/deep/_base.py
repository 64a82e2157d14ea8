"""The training loop shared by every deep (torch) hasher."""

import dataclasses
import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseHasher
from ..utils import N_JOBS_CONSTRAINT
from ..utils._torch import CPUPortableModuleMixin, resolve_device
from ._callbacks import Callback, ProgressBar
from ._modules import ACTIVATIONS, MLP

__all__ = ["BaseDeepHasher"]

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

# Rows per forward pass in ``decision_function``: bounds the memory of inference only.
_INFERENCE_BATCH = 4096

#: Optimiser steps that ``max_epochs="auto"`` aims for (see ``BaseDeepHasher._n_epochs``).
AUTO_STEPS = 400
# Inputs this large in magnitude look unscaled (raw 0-255 pixels): the networks are
# initialised and tuned for inputs of unit scale.
_UNSCALED_INPUT = 100.0

# Divergence: an epoch's mean loss this many times the first minibatch's (in magnitude).
_EXPLODING_LOSS_FACTOR = 1e6
# Collapse: rows of the training data hashed at the end of fit to look for collapsed codes.
_COLLAPSE_CHECK_ROWS = 2048
# A bit that takes one value in more than this share of the rows carries almost nothing.
_NEARLY_CONSTANT = 0.95
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class BaseDeepHasher(CPUPortableModuleMixin, BaseHasher):
    """Base class of the torch hashers: one training loop, methods supply modules and losses.

    The loop handles validation, device placement, seeding, shuffling into minibatches,
    the per-epoch ``history_``, progress bars, interruption, divergence checks, batched
    inference and pickling. A method implements:

    ``_build_modules(X) -> dict[str, torch.nn.Module]``
        Called with the validated float32 CPU training tensor, so that a method can learn
        data statistics first (e.g. ``reconstruction_scale_``). Must contain
        ``"encoder"``, mapping a float32 batch ``(N, n_features)`` to ``(N, n_bits)`` real
        values whose sign is the code (logits for the sigmoid hashers). The dict becomes
        the fitted ``module_`` (an ``nn.ModuleDict``) and is moved to ``device_``.
        Default: an :class:`MLP` encoder of ``hidden_layer_sizes``.
    ``_loss(X_batch) -> dict[str, Tensor]``
        Required unless ``_training_step`` is overridden. Scalar tensors: ``"loss"`` is the
        total that one optimiser step minimises, every other entry is a named term
        logged in ``history_`` (it is detached for logging). ``history_`` holds the
        per-epoch mean of each name over the steps that returned it.
    ``_build_optimizers() -> dict[str, torch.optim.Optimizer]``
        Optional. Default: ``{"model": <optimizer> over module_.parameters()}``. A method
        with an adversary returns extra optimisers (e.g. ``"critic"``), built with
        :meth:`_make_optimizer`.
    ``_training_step(X_batch, step) -> dict[str, Tensor]``
        Optional. Default: zero the gradients of ``optimizers_["model"]``, backpropagate
        ``_loss(X_batch)["loss"]``, step. Override for alternating schedules or critic
        steps; return the named terms to log (``"loss"`` included). ``step`` counts the
        minibatches since the start of ``fit``.
    ``_select_training_step() -> callable``
        Optional. The step function ``(X_batch, step) -> terms`` for this fit, chosen once
        from the public string parameters (e.g. a schedule), so that no step tests them
        again. Default: ``_training_step``.

    Randomness must come from the fit's own generators, seeded from ``random_state``:
    ``self._init_generator`` (CPU) in ``_build_modules`` (initial weights: pass it to
    :class:`~skhash.deep._modules.MLP`), ``self._generator`` (on ``device_``) during
    training (prior samples, noise). The global torch RNG is never used, so same-seed fits
    agree, also in threads, and the caller's RNG state is untouched.

    Parameters shared by every deep hasher (each subclass lists them in its signature and
    passes them to ``BaseDeepHasher.__init__``): ``n_bits``, ``hidden_layer_sizes``,
    ``activation``, ``batch_size``, ``max_epochs``, ``lr``, ``optimizer``,
    ``optimizer_kwargs``, ``n_jobs``,
    ``device``, ``random_state``, ``verbose``, ``callbacks``, ``validation_fraction``.
    ``n_jobs`` threads (torch and BLAS) are used
    inside ``fit`` and ``decision_function`` and the caller's settings restored after.
    """

    _uses_torch = True

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "optimizer_kwargs": [dict, None],
        "n_jobs": N_JOBS_CONSTRAINT,
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left"), None],
    }

    def __init__(
        self,
        n_bits,
        *,
        hidden_layer_sizes,
        activation,
        batch_size,
        max_epochs,
        lr,
        optimizer,
        optimizer_kwargs,
        n_jobs,
        device,
        random_state,
        verbose,
        callbacks,
        validation_fraction,
    ):
        self.n_bits = n_bits
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.lr = lr
        self.optimizer = optimizer
        self.optimizer_kwargs = optimizer_kwargs
        self.n_jobs = n_jobs
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_fraction = validation_fraction

    #: Optimiser steps of ``max_epochs="auto"``.
    _auto_steps = AUTO_STEPS
    #: Attributes that live only while ``fit`` trains; removed after it, even on an error.
    _training_state = ("_init_generator", "_generator", "optimizers_", "_step")

    # ------------------------------------------------------------------ extension points
    def _build_modules(self, X):
        """The modules of a fit on ``X`` (float32 CPU tensor); default: an MLP encoder."""
        hidden = self._hidden_layer_sizes()
        encoder = MLP(X.shape[1], hidden, self.n_bits, self.activation, self._init_generator)
        return {"encoder": encoder}

    def _loss(self, X_batch):
        raise NotImplementedError

    def _make_optimizer(self, params, lr=None):
        """Optimiser of kind ``self.optimizer`` over ``params`` with ``optimizer_kwargs``;
        ``lr`` defaults to ``self.lr``."""
        options = dict(self.optimizer_kwargs or {})
        if "lr" in options:
            raise ValueError("optimizer_kwargs must not hold 'lr': set the learning rate with lr=.")
        kind = OPTIMIZERS[self.optimizer]
        try:
            return kind(params, lr=self.lr if lr is None else lr, **options)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"optimizer_kwargs={self.optimizer_kwargs!r} are not options of "
                f"{kind.__module__}.{kind.__name__} (optimizer={self.optimizer!r}): {exc}"
            ) from exc

    def _build_optimizers(self):
        return {"model": self._make_optimizer(self.module_.parameters())}

    def _training_step(self, X_batch, step, **targets):
        optimizer = self.optimizers_["model"]
        optimizer.zero_grad(set_to_none=True)
        terms = self._loss(X_batch, **targets)
        terms["loss"].backward()
        optimizer.step()
        return terms

    def _select_training_step(self):
        return self._training_step

    def _encode(self, X_batch):
        """Real-valued code scores of a batch (sign = code); used by ``decision_function``."""
        return self.module_["encoder"](X_batch)

    def _validate_X(self, X, *, reset):
        """Validated features that also fit in float32, the precision the networks use."""
        X = super()._validate_X(X, reset=reset)
        if X.dtype == np.float64 and X.size and max(X.max(), -X.min()) > _FLOAT32_MAX:
            raise ValueError(
                f"X holds values up to {max(X.max(), -X.min()):.3g}, beyond float32's range "
                f"({_FLOAT32_MAX:.3g}) in which {type(self).__name__} computes: scale X first "
                f"(e.g. StandardScaler, or pixels / 255)."
            )
        return X

    # ------------------------------------------------------------------ the loop
    def _hidden_layer_sizes(self, sizes=None, name="hidden_layer_sizes"):
        """Validated layer widths (``self.hidden_layer_sizes`` by default) as a tuple of int."""
        given = self.hidden_layer_sizes if sizes is None else sizes
        widths = tuple(np.asarray(given, dtype=object).reshape(-1))
        if not all(isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in widths):
            raise ValueError(
                f"{name} must be a sequence of positive integers (one width per hidden "
                f"layer, () for none), got {given!r}."
            )
        return tuple(int(w) for w in widths)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the networks on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (scale it: e.g. pixels / 255 or standardised features).
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted hasher.

        Raises
        ------
        KeyboardInterrupt
            Ctrl-C stops training and is raised on, so that it also stops a loop of fits
            or a meta-estimator (``GridSearchCV``): a truncated fit is never scored as a
            complete one. The model trained so far is kept, so that after ``except
            KeyboardInterrupt`` in an interactive session the hasher can be used; its
            ``n_iter_`` (complete epochs) is then below ``n_epochs_``.
        FloatingPointError
            The loss became non-finite or exploded (a learning rate too high, or unscaled
            input).
        """
        return self._fit(self._validate_X(X, reset=True))

    def _fit(self, X, Y=None):
        """Train on validated ``X`` (and, for a supervised hasher, its label matrix ``Y``:
        each minibatch's ``_loss`` then also gets ``y_batch`` and the rows' ``index``)."""
        try:  # from the start: state a subclass sets before calling _fit is removed too
            self._hidden_layer_sizes()
            self._warn_if_unscaled(X)
            self.device_ = resolve_device(self.device)
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            X_cpu = _float32_tensor(X)
            Y_cpu = None if Y is None else torch.tensor(Y, dtype=torch.float32)
            with self._threads():
                self._build(X_cpu, seed)
                shuffle_generator = torch.Generator().manual_seed(seed + 1)
                self._fit_loop(X_cpu, Y_cpu, shuffle_generator)
        finally:
            for name in self._training_state:
                self.__dict__.pop(name, None)
        with self._threads():
            self._warn_if_collapsed(X)
        return self

    def _build(self, X_cpu, seed):
        """Build ``module_``, ``optimizers_`` and the step function, seeded by ``seed``.

        Every random number comes from the fit's own generators, never the global torch
        RNG: ``_init_generator`` (CPU) for what ``_build_modules`` draws, the initial weights
        included, ``_generator`` (on the device) for what training draws. Same-seed fits in
        threads agree, and the caller's RNG is untouched.
        """
        self._init_generator = torch.Generator().manual_seed(seed)
        self._generator = torch.Generator(device=self.device_).manual_seed(seed)
        self.module_ = torch.nn.ModuleDict(self._build_modules(X_cpu)).to(self.device_)
        self.optimizers_ = self._build_optimizers()
        self._step = self._select_training_step()

    def _warn_if_unscaled(self, X):
        """Warn, naming the fix, when ``X`` holds values in the hundreds (raw pixels)."""
        peak = max(float(X.max()), -float(X.min())) if X.size else 0.0
        if peak > _UNSCALED_INPUT:
            warnings.warn(
                f"{type(self).__name__}: X holds values up to {peak:.4g}, as raw pixels "
                f"(0-255) do. The networks train at unit scale and give poor codes on "
                f"unscaled input: scale X first (pixels / 255, or StandardScaler in a "
                f"Pipeline).",
                UserWarning,
                stacklevel=4,
            )

    def _n_epochs(self, n_samples):
        """Epochs to run: ``max_epochs``, or for ``"auto"`` the fewest whole epochs that make
        :data:`AUTO_STEPS` optimiser steps (at least one epoch)."""
        if self.max_epochs != "auto":
            return self.max_epochs
        steps_per_epoch = len(minibatch_bounds(n_samples, self.batch_size))
        return max(1, math.ceil(self._auto_steps / steps_per_epoch))

    def _callback_list(self):
        """The user's ``callbacks``, plus a progress bar when ``verbose``."""
        callbacks = list(self.callbacks or [])
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be a list of skhash.deep.Callback instances, got "
                    f"{type(callback).__name__}."
                )
        if self.verbose and not any(isinstance(c, ProgressBar) for c in callbacks):
            callbacks.append(ProgressBar())
        return callbacks

    def _notify(self, callbacks, hook, *args):
        """Call ``hook`` of every callback (each sees it, whatever the others return)."""
        return [getattr(callback, hook)(self, *args) for callback in callbacks]

    def _validation_fraction(self, callbacks):
        """Fraction of the rows held out: ``validation_fraction``, or where it is None, 0.1
        when a callback monitors the held-out loss (``EarlyStopping``), else 0."""
        if self.validation_fraction is not None:
            return self.validation_fraction
        given = [c.validation_fraction for c in callbacks if c.validation_fraction is not None]
        if given:  # the deprecated EarlyStopping(validation_fraction=...)
            return max(given)
        return 0.1 if any(c.monitors_validation for c in callbacks) else 0.0

    def _split_validation(self, X, Y, fraction, generator):
        """``(X_train, Y_train, held_out)``; ``held_out`` is None or ``(X, Y)`` on the device."""
        if fraction == 0:
            return X, Y, None
        n_valid = max(1, int(round(fraction * X.shape[0])))
        if X.shape[0] - n_valid < 1:
            raise ValueError(
                f"validation_fraction={fraction} leaves no training row of the "
                f"{X.shape[0]}: lower it or give more rows."
            )
        order = torch.randperm(X.shape[0], generator=generator)
        valid, train = order[:n_valid], order[n_valid:]
        held_out = (X[valid].to(self.device_), None if Y is None else Y[valid].to(self.device_))
        return X[train], None if Y is None else Y[train], held_out

    def _validation_loss(self, X_valid, Y_valid=None):
        """Mean training objective over held-out rows, without gradients."""
        if type(self)._loss is BaseDeepHasher._loss:
            raise ValueError(
                f"{type(self).__name__} has no single training objective to measure on "
                f"held-out rows (it trains in alternating steps), so it cannot give a "
                f"validation loss: use validation_fraction=0 and no EarlyStopping."
            )
        self.module_.eval()
        total, n_batches = 0.0, 0
        with torch.no_grad():
            for begin in range(0, X_valid.shape[0], self.batch_size):
                rows = slice(begin, begin + self.batch_size)
                targets = {} if Y_valid is None else {"y_batch": Y_valid[rows], "index": None}
                total += float(self._loss(X_valid[rows], **targets)["loss"])
                n_batches += 1
        self.module_.train()
        return total / n_batches

    def _fit_loop(self, X, Y, shuffle_generator):
        """Run the epochs, with the callbacks around them; record ``history_``."""
        callbacks = self._callback_list()
        fraction = self._validation_fraction(callbacks)
        X, Y, held_out = self._split_validation(X, Y, fraction, shuffle_generator)
        minibatches = _Minibatches(X, Y, self.batch_size, self.device_, shuffle_generator)
        self.history_, self.loss_curve_, self.n_iter_ = [], [], 0
        self.n_train_samples_ = X.shape[0]
        self.n_epochs_ = self._n_epochs(X.shape[0])
        progress = _Progress()
        self.module_.train()
        try:
            self._notify(callbacks, "on_train_begin")
            for epoch in range(self.n_epochs_):
                start = time.perf_counter()
                record = self._run_epoch(minibatches, callbacks, progress)
                self._check_finite(record, epoch, progress.first_loss)
                if held_out is not None:
                    record["validation_loss"] = self._validation_loss(*held_out)
                record["epoch"] = epoch + 1
                record["time"] = time.perf_counter() - start
                self.history_.append(record)
                self.loss_curve_.append(record["loss"])
                self.n_iter_ = epoch + 1
                if any(self._notify(callbacks, "on_epoch_end", record)):
                    break
        except KeyboardInterrupt:
            warnings.warn(
                f"{type(self).__name__}.fit interrupted after {self.n_iter_} complete epoch(s) "
                f"of {self.n_epochs_}: the partly trained model is kept, and the interrupt is "
                f"raised on.",
                UserWarning,
            )
            raise
        finally:
            self._notify(callbacks, "on_train_end")
            self.module_.eval()

    def _run_epoch(self, minibatches, callbacks, progress):
        """One pass over the minibatches; the mean of each loss term over its steps."""
        sums, counts = {}, {}
        for batch, targets in minibatches.epoch():
            terms = self._step(batch, progress.step, **targets)
            if progress.first_loss is None:
                progress.first_loss = abs(float(terms["loss"].detach()))
            # Accumulate on the device: no synchronisation inside an epoch.
            for name, value in terms.items():
                value = value.detach()
                sums[name] = sums[name] + value if name in sums else value
                counts[name] = counts.get(name, 0) + 1
            self._notify(callbacks, "on_batch_end", progress.step, terms)
            progress.step += 1
        return {name: float(total) / counts[name] for name, total in sums.items()}

    def _check_finite(self, record, epoch, first_loss):
        bad = [name for name, value in record.items() if not math.isfinite(value)]
        exploded = abs(record["loss"]) > _EXPLODING_LOSS_FACTOR * max(first_loss, 1e-3)
        if bad or exploded:
            what = (
                f"became non-finite ({', '.join(bad)})"
                if bad
                else f"exploded (mean {record['loss']:.3g} against {first_loss:.3g} at the "
                f"first minibatch)"
            )
            raise FloatingPointError(
                f"{type(self).__name__}: the training loss {what} in epoch {epoch + 1}. The "
                f"usual causes are a learning rate that is too high (lr={self.lr}; try 10x "
                f"smaller) or unscaled input (features in the thousands: scale them, e.g. "
                f"pixels / 255 or StandardScaler)."
            )

    def _warn_if_collapsed(self, X):
        """Warn when the codes are degenerate: most rows on one code, few distinct codes,
        or many bits (nearly) constant.

        A diverged network often keeps a finite loss but hashes every row alike, and a
        plain sign can leave bits that nearly never change, which carry no information; the
        codes of up to ``_COLLAPSE_CHECK_ROWS`` evenly spaced training rows are checked.
        """
        n_rows = min(len(X), _COLLAPSE_CHECK_ROWS)
        if n_rows < 20:
            return
        rows = np.linspace(0, len(X) - 1, n_rows).astype(np.intp)
        problems = _degenerate_codes(self._decision_function(X[rows]) > 0, self.n_bits)
        if problems:
            warnings.warn(
                f"{type(self).__name__}: the codes are degenerate ({'; '.join(problems)}), so "
                f"they rank poorly. Scale the input (e.g. StandardScaler, or pixels / 255), "
                f"lower the learning rate (lr={self.lr}), or use fewer bits or a hasher that "
                f"balances its bits (BiHalfHasher).",
                ConvergenceWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------------ inference
    def _decision_function(self, X):
        module = self.module_
        device = next(module.parameters()).device
        X = torch.tensor(X, dtype=torch.float32)
        was_training = module.training
        module.eval()
        outputs = []
        try:
            with torch.no_grad():
                for begin in range(0, X.shape[0], _INFERENCE_BATCH):
                    batch = X[begin : begin + _INFERENCE_BATCH].to(device)
                    outputs.append(self._encode(batch).cpu())
        finally:
            module.train(was_training)
        values = torch.cat(outputs).numpy()
        if not np.isfinite(values).all():
            raise ValueError(
                f"{type(self).__name__}: X gives non-finite code scores; its values (largest "
                f"magnitude {float(X.abs().max()):.3g}) are far outside the scale of the training "
                f"data. Scale X as the training data was scaled."
            )
        return values

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = super().__getstate__()  # module_ with CPU tensors
        state.pop("optimizers_", None)
        state.pop("_generator", None)
        return state

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")


def _degenerate_codes(codes, n_bits):
    """What is degenerate in boolean ``codes`` (rows of a sample), as phrases; [] if nothing.

    Thresholds: one code for more than half of the rows; distinct codes fewer than a tenth
    of the rows (or of the ``2**n_bits`` possible); an eighth of the bits nearly constant
    (one value in more than 95% of the rows). Healthy fits of every deep hasher on CIFAR-10
    features and MNIST have no nearly constant bit and distinct codes for most rows.
    """
    n_rows = len(codes)
    share = codes.mean(axis=0)
    constant = int(np.sum((share == 0) | (share == 1)))
    nearly = int(np.sum((share > _NEARLY_CONSTANT) | (share < 1 - _NEARLY_CONSTANT)))
    _, counts = np.unique(codes, axis=0, return_counts=True)
    problems = []
    if n_bits >= 4 and counts.max() > 0.5 * n_rows:
        problems.append(f"{counts.max() / n_rows:.0%} of the training rows share one code")
    elif n_bits >= 4 and len(counts) < 0.1 * min(n_rows, 2.0**n_bits):
        problems.append(f"only {len(counts)} distinct codes for {n_rows} training rows")
    if 2 * constant >= n_bits:
        problems.append(f"{constant} of the {n_bits} bits are constant")
    elif nearly >= max(2, n_bits / 8):
        problems.append(
            f"{nearly} of the {n_bits} bits are nearly constant (one value in more than "
            f"{_NEARLY_CONSTANT:.0%} of the rows)"
        )
    return problems


def _float32_tensor(X):
    """``X`` as a float32 CPU tensor, sharing the memory of a writable float32 array (the
    loop never writes to it), else a copy."""
    if X.dtype == np.float32 and X.flags.writeable and X.flags.c_contiguous:
        return torch.from_numpy(X)
    return torch.tensor(X, dtype=torch.float32)


def minibatch_bounds(n_samples, batch_size):
    """``(begin, end)`` of each minibatch of an epoch over ``n_samples`` rows.

    A last minibatch of a single row joins the one before: the losses that compare rows
    within a minibatch (pairs, batch statistics) are undefined on one row.
    """
    bounds = [(b, min(b + batch_size, n_samples)) for b in range(0, n_samples, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n_samples)]
    return bounds


@dataclasses.dataclass
class _Progress:
    """Optimiser steps taken since the start of ``fit`` and the first one's loss."""

    step: int = 0
    first_loss: float | None = None


class _Minibatches:
    """The training rows (and labels), reshuffled into minibatches on the device each epoch.

    The whole set moves to the device once when it fits comfortably (always on the CPU),
    else one minibatch at a time.
    """

    def __init__(self, X, Y, batch_size, device, generator):
        self.on_device = device.type == "cpu" or X.nbytes <= 2**30
        self.X = X.to(device) if self.on_device else X
        self.Y = None if Y is None else Y.to(device)  # labels are small
        self.bounds = minibatch_bounds(X.shape[0], batch_size)
        self.device = device
        self.generator = generator

    def epoch(self):
        """Yield ``(X_batch, targets)``; ``targets`` holds ``y_batch`` and ``index`` with labels."""
        order = torch.randperm(self.X.shape[0], generator=self.generator)
        if self.on_device:
            order = order.to(self.device)
        for begin, end in self.bounds:
            index = order[begin:end]
            if self.on_device:
                batch = self.X[index]
            else:
                batch = self.X[index].to(self.device, non_blocking=True)
            if self.Y is None:
                yield batch, {}
            else:
                index = index.to(self.device)
                yield batch, {"y_batch": self.Y[index], "index": index}
