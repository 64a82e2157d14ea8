"""Image feature extractors: pretrained networks as scikit-learn transformers.

They take batches of images (``uint8`` NHWC colour, ``uint8`` NHW grayscale, or float NCHW
in [0, 1]) and return ``float32`` feature rows, so that a pipeline can go from pixels to
binary codes. Importing this module does not import torch; fitting an extractor does.
"""

from ._efficientnet import EfficientNetLite0Features
from ._vgg import VGG16Features

__all__ = ["EfficientNetLite0Features", "VGG16Features"]
