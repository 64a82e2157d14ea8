"""Shared machinery of the image feature extractors: input checks, device, batching, pickling."""

from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..utils import NoBoolIntegersMixin, import_optional
from ..utils._dask import is_dask_array, map_row_blocks
from ..utils._torch import CPUPortableModuleMixin, resolve_device

__all__ = ["BaseImageFeatures", "check_images", "import_torch", "load_weights"]


def import_torch():
    """Import torch, or raise an ``ImportError`` naming the extra that provides it."""
    return import_optional(
        "torch", extra="torch", purpose="The image feature extractors of skhash.features"
    )


def check_images(X, *, name="X"):
    """Validate a batch of images; return it as an array (not copied) and its layout.

    Accepted layouts:

    - ``"nhwc"``: ``uint8`` colour images of shape ``(n, h, w, 3)`` (or ``(n, h, w, 1)``);
    - ``"nhw"``: ``uint8`` grayscale images of shape ``(n, h, w)``;
    - ``"nchw"``: floating-point images of shape ``(n, 3, h, w)`` (or ``(n, 1, h, w)``)
      with values in ``[0, 1]``.

    Grayscale images are later replicated to three channels.
    """
    X = np.asarray(X)
    if X.dtype == np.uint8:
        if X.ndim == 3 and X.shape[2] in (3, 4) and min(X.shape[:2]) > 4:
            raise ValueError(
                f"{name} has shape {X.shape}: one (height, width, {X.shape[2]}) colour image, "
                f"not a batch of {X.shape[0]} grayscale images of width {X.shape[2]}. Pass a "
                f"batch: X[None] for a single image (and X[..., :3] to drop an alpha "
                f"channel)."
            )
        if X.ndim == 3:
            layout = "nhw"
        elif X.ndim == 4 and X.shape[3] in (1, 3):
            layout = "nhwc"
        elif X.ndim == 4:
            hint = (
                " It looks like channels-first (NCHW) data: uint8 images must be channels-last, "
                "use X.transpose(0, 2, 3, 1)."
                if X.shape[1] in (1, 3)
                else ""
            )
            raise ValueError(
                f"{name} holds uint8 images of shape {X.shape}; expected (n, height, width, 3) "
                f"colour or (n, height, width) grayscale images.{hint}"
            )
        else:
            raise ValueError(
                f"{name} must be a batch of images: uint8 of shape (n, height, width, 3) or "
                f"(n, height, width), or float of shape (n, 3, height, width) in [0, 1]; got a "
                f"{X.ndim}-D uint8 array of shape {X.shape}. For a single image use X[None]."
            )
    elif X.dtype.kind == "f":
        if X.ndim != 4 or X.shape[1] not in (1, 3):
            hint = (
                " It looks like channels-last (NHWC) data: float images must be channels-first, "
                "use X.transpose(0, 3, 1, 2)."
                if X.ndim == 4 and X.shape[3] in (1, 3)
                else ""
            )
            raise ValueError(
                f"{name} holds float values of shape {X.shape}; float images must have shape "
                f"(n, 3, height, width) (or (n, 1, height, width)) with values in [0, 1]. "
                f"Pass uint8 arrays for (n, height, width, 3) or (n, height, width) images.{hint}"
            )
        if not np.all(np.isfinite(X)):
            raise ValueError(f"{name} contains NaN or infinity; images must be finite.")
        if X.size and (X.min() < 0 or X.max() > 1):
            raise ValueError(
                f"{name} holds float images with values in [{X.min():g}, {X.max():g}]; float "
                f"images must be scaled to [0, 1] (divide 0-255 values by 255), or pass them "
                f"as uint8."
            )
        layout = "nchw"
    else:
        raise TypeError(
            f"{name} must hold uint8 (0-255) or float ([0, 1]) images; got dtype {X.dtype}. "
            f"Convert 0-255 integer images with X.astype(np.uint8)."
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} holds no image (shape {X.shape}); pass at least one.")
    if min(X.shape[1:3] if layout != "nchw" else X.shape[2:4]) < 1:
        raise ValueError(f"{name} holds empty images (shape {X.shape}).")
    return X, layout


def load_weights(torch, module, weights, *, name):
    """Load ``weights`` (a state dict, or the path of a file holding one) into ``module``.

    Loading is strict: every parameter and buffer of the architecture must be in the file
    and nothing else, so a wrong or truncated file is an error rather than silent noise.
    """
    if not isinstance(weights, dict):
        try:
            weights = torch.load(weights, map_location="cpu", weights_only=True)
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"{name}: no weights file at {str(weights)!r}; pass the path of a saved state "
                f"dict (torch.save(model.state_dict(), path))."
            ) from exc
        except Exception as exc:  # torch raises many exception types for a bad file
            raise ValueError(
                f"{name}: could not read {str(weights)!r} as a PyTorch state dict ({exc})."
            ) from exc
    if not isinstance(weights, dict) or not all(
        isinstance(value, torch.Tensor) for value in weights.values()
    ):
        raise ValueError(
            f"{name}: the weights file must hold a state dict (a mapping of names to tensors), "
            f"as written by torch.save(model.state_dict(), path)."
        )
    expected = module.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong_shape = sorted(
        key
        for key in set(expected) & set(weights)
        if tuple(expected[key].shape) != tuple(weights[key].shape)
    )
    if missing or unexpected or wrong_shape:
        raise ValueError(
            f"{name}: the weights do not fit the architecture: missing keys {missing[:5]}, "
            f"unexpected keys {unexpected[:5]}, keys with another shape {wrong_shape[:5]} "
            f"(first 5 of each shown)."
        )
    # ``assign`` lets ``module`` be built on the meta device (no memory, no random init).
    weights = {key: value.to(expected[key].dtype) for key, value in weights.items()}
    module.load_state_dict(weights, strict=True, assign=True)
    return module


class BaseImageFeatures(
    CPUPortableModuleMixin,
    NoBoolIntegersMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Base class of the pretrained-network feature extractors.

    ``fit`` validates the images and loads the network (``module_``, in ``eval`` mode on
    ``device_``); nothing is learned from the images. ``transform`` runs the network in
    batches of ``batch_size`` images under ``torch.no_grad`` and returns ``float32`` rows.

    A subclass implements ``_load_module(torch)`` (the network with its weights on CPU),
    ``_empty_module(torch)`` (the same architecture without weights),
    ``_preprocess(torch, x)`` (float NCHW 0-255 tensor -> network input) and ``_forward(x)``
    (network input -> ``(n, n_features)`` tensor), and sets ``_n_features_by_layer``.
    """

    _parameter_constraints: dict = {
        "image_size": [Interval(Integral, 32, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "verbose": ["verbose"],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the images and load the network; nothing is learned from ``X``.

        Parameters
        ----------
        X : array-like of shape (n, h, w, 3) uint8, (n, h, w) uint8 or (n, 3, h, w) float
            Images: colour or grayscale ``uint8`` (0-255), or float channels-first in [0, 1].
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted extractor.
        """
        torch = import_torch()
        check_images(X)
        self.device_ = resolve_device(self.device)
        module = self._load_module(torch)
        self.module_ = module.to(self.device_).eval()
        self.n_features_out_ = self._n_features_by_layer[self.layer]
        return self

    def transform(self, X):
        """Compute the feature rows of a batch of images.

        Parameters
        ----------
        X : array-like of shape (n, h, w, 3) uint8, (n, h, w) uint8 or (n, 3, h, w) float
            Images: colour or grayscale ``uint8`` (0-255), or float channels-first in [0, 1].
            Any size: every image is resized to ``image_size``. A dask array gives a lazy
            dask array of features, computed chunk of rows by chunk of rows.

        Returns
        -------
        features : ndarray of shape (n, n_features_out_), dtype float32
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return map_row_blocks(
                self.transform, X, n_columns=self.n_features_out_, dtype=np.float32
            )
        torch = import_torch()
        X, layout = check_images(X)
        from tqdm.auto import tqdm

        out = np.empty((X.shape[0], self.n_features_out_), dtype=np.float32)
        with (
            torch.no_grad(),
            tqdm(
                total=X.shape[0], disable=not self.verbose, unit="img", desc=type(self).__name__
            ) as progress,
        ):
            for start in range(0, X.shape[0], self.batch_size):
                stop = min(start + self.batch_size, X.shape[0])
                batch = self._to_tensor(torch, X[start:stop], layout)
                out[start:stop] = self._forward(self._preprocess(torch, batch)).cpu().numpy()
                progress.update(stop - start)
        return out

    def _to_tensor(self, torch, batch, layout):
        """Images of one batch as a float32 NCHW tensor of 0-255 values, 3 channels."""
        batch = np.ascontiguousarray(batch)
        # Read-only arrays (np.asarray of a PIL image) are copied: torch.from_numpy would
        # share them and warn that they are not writable.
        x = (torch.from_numpy(batch) if batch.flags.writeable else torch.tensor(batch)).to(
            self.device_
        )
        if layout == "nhw":
            x = x[:, None]
        elif layout == "nhwc":
            x = x.permute(0, 3, 1, 2)
        x = x.float()
        if layout == "nchw":
            x = x * 255.0
        # One memory layout for every input layout (so they give identical features);
        # channels-last is also the faster one for the CPU convolutions.
        x = x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x
        return x.contiguous(memory_format=torch.channels_last)

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags
