"""VGG16 activations (fc7, fc6 or pool5) as image features."""

import hashlib
import os
from pathlib import Path

from sklearn.utils._param_validation import StrOptions

from ._base import BaseImageFeatures, load_weights

__all__ = ["VGG16Features"]

# torchvision's ``VGG16_Weights.IMAGENET1K_V1`` file; the suffix is the start of its SHA-256.
_IMAGENET_FILE = "vgg16-397923af.pth"
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG16Features(BaseImageFeatures):
    """Activations of a VGG16 network as feature rows, the input of most hashing papers.

    The network is the standard VGG16 (configuration D, 3x3 convolutions with padding) in
    plain PyTorch, with the parameter names of ``torchvision.models.vgg16``, so torchvision's
    ImageNet state dict loads strictly. Each image is scaled to [0, 1], resized to
    ``image_size`` x ``image_size`` (bilinear, antialiased), normalised with the ImageNet
    mean and standard deviation and run in ``eval`` mode (no dropout).

    Parameters
    ----------
    weights : "imagenet", path or None, default="imagenet"
        ``"imagenet"``: torchvision's ImageNet weights ``vgg16-397923af.pth``, read from
        torch's hub cache (``torch.hub.get_dir()/checkpoints``, checked against its
        SHA-256) where torchvision or an earlier fit put them; if absent, torch's hub
        loader downloads them once from the address torchvision publishes, when
        torchvision is installed. skhash itself does not need torchvision: without it, or
        offline, an ``OSError`` says where to put the file. A path: a file holding a VGG16
        state dict with torchvision's keys (``features.N.*``, ``classifier.N.*``), such as
        torchvision's ``vgg16-397923af.pth`` downloaded elsewhere. ``None``: random weights
        (fixed seed), an explicit opt-in for tests: the features are meaningless for
        retrieval.
    layer : {"fc7", "fc6", "pool5"}, default="fc7"
        ``"fc7"``: output of the second fully connected layer after ReLU (4096 features),
        the usual input of hashing methods; ``"fc6"``: the first one (4096);
        ``"pool5"``: the last convolutional block after the 7x7 adaptive average pooling,
        flattened (25088).
    image_size : int, default=224
        Side of the square the images are resized to (at least 32).
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
        Number of features of ``layer``.

    See Also
    --------
    EfficientNetLite0Features : smaller network whose ImageNet weights install offline.

    Notes
    -----
    ``fit`` learns nothing: it validates the images and loads the network, so that a
    pipeline starting with this step fits as usual. Pickling keeps the weights (as a CPU
    state dict): a model used on a GPU unpickles on a CPU-only machine.

    References
    ----------
    K. Simonyan, A. Zisserman, "Very deep convolutional networks for large-scale image
    recognition", ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skhash.features import VGG16Features
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    >>> vgg = VGG16Features(weights=None, image_size=32, device="cpu")  # random weights
    >>> features = vgg.fit_transform(images)
    >>> features.shape, features.dtype
    ((2, 4096), dtype('float32'))
    """

    _parameter_constraints: dict = {
        **BaseImageFeatures._parameter_constraints,
        "weights": [None, str, os.PathLike],
        "layer": [StrOptions({"fc7", "fc6", "pool5"})],
    }
    _n_features_by_layer = {"fc7": 4096, "fc6": 4096, "pool5": 512 * 7 * 7}

    def __init__(
        self,
        weights="imagenet",
        *,
        layer="fc7",
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
        from ._vgg16_module import VGG16

        return VGG16()

    def _load_module(self, torch):
        if self.weights is None:  # the explicit opt-in to random weights
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)
                return self._empty_module(torch)
        weights = self.weights
        if isinstance(weights, str) and weights == "imagenet":
            weights = self._download_imagenet_weights(torch)
        with torch.device("meta"):
            module = self._empty_module(torch)
        return load_weights(torch, module, weights, name="VGG16Features")

    def _download_imagenet_weights(self, torch):
        """torchvision's ImageNet state dict from torch's hub cache, else downloaded by
        torch's hub loader from the address torchvision publishes (when it is installed)."""
        cached = imagenet_weights_path(torch)
        if cached.exists():
            check_sha256_prefix(cached, _IMAGENET_FILE)
            return cached
        url = _imagenet_weights_url(cached)
        try:
            return torch.hub.load_state_dict_from_url(
                url,
                map_location="cpu",
                progress=bool(self.verbose),
                check_hash=True,
                weights_only=True,
            )
        except OSError as exc:
            raise OSError(
                f"VGG16Features(weights='imagenet') could not download the ImageNet weights "
                f"from {url} ({exc}). Download that file where a network is available and "
                f"put it at {cached}, or pass its path: VGG16Features(weights='path/to/"
                f"{_IMAGENET_FILE}')."
            ) from exc

    def _preprocess(self, torch, x):
        x = x / 255.0
        if x.shape[-2:] != (self.image_size, self.image_size):
            x = torch.nn.functional.interpolate(
                x,
                size=(self.image_size, self.image_size),
                mode="bilinear",
                align_corners=False,
                antialias=True,
            )
        mean = x.new_tensor(_IMAGENET_MEAN)[:, None, None]
        std = x.new_tensor(_IMAGENET_STD)[:, None, None]
        return (x - mean) / std

    def _forward(self, x):
        return self.module_.extract(x, self.layer)


def imagenet_weights_path(torch):
    """Where torch's hub loader caches torchvision's VGG16 ImageNet file."""
    return Path(torch.hub.get_dir()) / "checkpoints" / _IMAGENET_FILE


def check_sha256_prefix(path, name):
    """Refuse a file whose SHA-256 does not start with the hex digits after the last ``-``
    of ``name`` (torch hub's naming of verified files)."""
    expected = Path(name).stem.rsplit("-", 1)[-1]
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(2**24), b""):
            digest.update(chunk)
    if not digest.hexdigest().startswith(expected):
        raise ValueError(
            f"VGG16Features: {path} is not torchvision's {name} (its SHA-256 starts with "
            f"{digest.hexdigest()[:8]}, not {expected}); delete it and download it again."
        )


def _imagenet_weights_url(cached):
    """Address of torchvision's VGG16 ImageNet file, as torchvision itself publishes it."""
    try:
        from torchvision.models import VGG16_Weights
    except Exception as exc:  # not installed (skhash does not need it), or another torch's
        raise OSError(
            f"VGG16Features(weights='imagenet') found no ImageNet weights at {cached}, and "
            f"torchvision, which publishes their address, does not import here ({exc}). "
            f"skhash does not need torchvision: download torchvision's {_IMAGENET_FILE} "
            f"(the VGG16 IMAGENET1K_V1 weights) and put it there, or pass its path: "
            f"VGG16Features(weights='path/to/{_IMAGENET_FILE}')."
        ) from exc
    return VGG16_Weights.IMAGENET1K_V1.url
