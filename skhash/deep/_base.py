"""The training loop shared by every deep (torch) hasher."""

import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._torch import resolve_device
from ..base import BaseHasher
from ._modules import ACTIVATIONS

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


class BaseDeepHasher(BaseHasher):
    """Base class of the torch hashers: one training loop, methods supply modules and losses.

    The loop handles validation, device placement, seeding, shuffling into minibatches,
    the per-epoch ``history_``, progress bars, interruption, divergence checks, batched
    inference and pickling. A method implements:

    ``_build_modules(n_features) -> dict[str, torch.nn.Module]``
        Required. Must contain ``"encoder"``, mapping a float32 batch ``(N, n_features)``
        to ``(N, n_bits)`` real values whose sign is the code (logits for the sigmoid
        hashers). The dict becomes the fitted ``module_`` (an ``nn.ModuleDict``) and is
        moved to ``device_``.
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
    ``_on_fit_start(X)``
        Optional hook, called with the validated float32 CPU tensor before the modules
        are built (e.g. to learn data statistics such as ``reconstruction_scale_``).

    Randomness inside a method (prior samples, noise) must come from
    ``self._generator`` (a ``torch.Generator`` on ``device_``, seeded from
    ``random_state``) or from the global torch RNG, which ``fit`` forks and seeds: module
    initialisation is therefore reproducible and the caller's RNG state is untouched.

    Parameters shared by every deep hasher (each subclass lists them in its own
    ``__init__``): ``n_bits``, ``hidden_layer_sizes``, ``activation``, ``batch_size``,
    ``max_epochs``, ``lr``, ``optimizer``, ``device``, ``random_state``, ``verbose``.
    """

    _parameter_constraints: dict = {
        **BaseHasher._parameter_constraints,
        "hidden_layer_sizes": ["array-like"],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "device": [str],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ------------------------------------------------------------------ extension points
    def _build_modules(self, n_features):
        raise NotImplementedError

    def _loss(self, X_batch):
        raise NotImplementedError

    def _on_fit_start(self, X):
        """Hook called with the float32 CPU training tensor before the modules are built."""

    def _make_optimizer(self, params, lr=None):
        """Optimiser of kind ``self.optimizer`` over ``params``; ``lr`` defaults to ``self.lr``."""
        return OPTIMIZERS[self.optimizer](params, lr=self.lr if lr is None else lr)

    def _build_optimizers(self):
        return {"model": self._make_optimizer(self.module_.parameters())}

    def _training_step(self, X_batch, step):
        optimizer = self.optimizers_["model"]
        optimizer.zero_grad(set_to_none=True)
        terms = self._loss(X_batch)
        terms["loss"].backward()
        optimizer.step()
        return terms

    def _encode(self, X_batch):
        """Real-valued code scores of a batch (sign = code); used by ``decision_function``."""
        return self.module_["encoder"](X_batch)

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
            Fitted hasher. Pressing Ctrl-C during training stops it early, with a warning,
            and keeps the model trained so far.
        """
        X = self._validate_X(X, reset=True)
        self._hidden_layer_sizes()
        self.device_ = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        X_cpu = torch.tensor(X, dtype=torch.float32)
        fork_devices = [self.device_] if self.device_.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices, device_type=self.device_.type):
            torch.manual_seed(seed)
            self._generator = torch.Generator(device=self.device_).manual_seed(seed)
            shuffle_generator = torch.Generator().manual_seed(seed + 1)
            self._on_fit_start(X_cpu)
            self.module_ = torch.nn.ModuleDict(self._build_modules(X.shape[1])).to(self.device_)
            self.optimizers_ = self._build_optimizers()
            self._train(X_cpu, shuffle_generator)
        del self._generator, self.optimizers_
        self.module_.eval()
        return self

    def _n_epochs(self, n_samples):
        """Epochs to run: ``max_epochs``, or for ``"auto"`` the fewest whole epochs that make
        :data:`AUTO_STEPS` optimiser steps (at least one epoch)."""
        if self.max_epochs != "auto":
            return self.max_epochs
        steps_per_epoch = math.ceil(n_samples / self.batch_size)
        return max(1, math.ceil(AUTO_STEPS / steps_per_epoch))

    def _train(self, X_cpu, shuffle_generator):
        n_samples = X_cpu.shape[0]
        # Move the whole set once when it fits comfortably, else one minibatch at a time.
        on_device = self.device_.type == "cpu" or X_cpu.nbytes <= 2**30
        X_all = X_cpu.to(self.device_) if on_device else X_cpu
        self.history_ = []
        self.loss_curve_ = []
        self.n_iter_ = 0
        self.n_epochs_ = self._n_epochs(n_samples)
        epochs = range(self.n_epochs_)
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            epochs = progress = tqdm(epochs, desc=type(self).__name__, unit="epoch")
        step = 0
        self.module_.train()
        try:
            for epoch in epochs:
                start = time.perf_counter()
                order = torch.randperm(n_samples, generator=shuffle_generator)
                if on_device:
                    order = order.to(self.device_)
                sums, counts = {}, {}
                for begin in range(0, n_samples, self.batch_size):
                    index = order[begin : begin + self.batch_size]
                    if on_device:
                        batch = X_all[index]
                    else:
                        batch = X_all[index].to(self.device_, non_blocking=True)
                    terms = self._training_step(batch, step)
                    step += 1
                    # Accumulate on the device: no synchronisation inside an epoch.
                    for name, value in terms.items():
                        value = value.detach()
                        sums[name] = sums[name] + value if name in sums else value
                        counts[name] = counts.get(name, 0) + 1
                record = {name: float(total) / counts[name] for name, total in sums.items()}
                self._check_finite(record, epoch)
                record["epoch"] = epoch + 1
                record["time"] = time.perf_counter() - start
                self.history_.append(record)
                self.loss_curve_.append(record["loss"])
                self.n_iter_ = epoch + 1
                if progress is not None:
                    progress.set_postfix(loss=f"{record['loss']:.4g}")
        except KeyboardInterrupt:
            warnings.warn(
                f"{type(self).__name__}.fit interrupted after {self.n_iter_} complete epoch(s) "
                f"of {self.n_epochs_}; keeping the partly trained model.",
                UserWarning,
            )
        finally:
            if progress is not None:
                progress.close()
            self.module_.eval()

    def _check_finite(self, record, epoch):
        bad = [name for name, value in record.items() if not math.isfinite(value)]
        if bad:
            raise FloatingPointError(
                f"{type(self).__name__}: the training loss became non-finite ({', '.join(bad)}) "
                f"in epoch {epoch + 1}. The usual causes are a learning rate that is too high "
                f"(lr={self.lr}; try 10x smaller) or unscaled input (features in the thousands: "
                f"scale them, e.g. pixels / 255 or StandardScaler)."
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
        return torch.cat(outputs).numpy()

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = super().__getstate__()
        state.pop("optimizers_", None)
        state.pop("_generator", None)
        if "module_" in state:
            # CPU tensors so that a model trained on CUDA loads on a CPU-only machine.
            module = state["module_"]
            if any(p.device.type != "cpu" for p in module.parameters()):
                import copy

                state["module_"] = copy.deepcopy(module).cpu()
        return state

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")
