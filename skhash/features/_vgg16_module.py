"""VGG16 in plain PyTorch, with the parameter names of ``torchvision.models.vgg16``."""

import torch
from torch import nn

__all__ = ["VGG16"]

# Configuration "D" of Simonyan & Zisserman: 13 convolutions, "M" = 2x2 max pooling.
_CONFIG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
             512, 512, 512, "M"]  # fmt: skip


class VGG16(nn.Module):
    """VGG16 (no batch norm) laid out as torchvision's, so its state dicts load strictly.

    ``features.N`` are the convolutions, ``avgpool`` the adaptive 7x7 average pooling,
    ``classifier.0`` / ``.3`` / ``.6`` the fully connected layers fc6 / fc7 / fc8.
    """

    def __init__(self, num_classes=1000):
        super().__init__()
        layers, in_channels = [], 3
        for value in _CONFIG_D:
            if value == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(in_channels, value, kernel_size=3, padding=1), nn.ReLU(True)]
                in_channels = value
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, num_classes),
        )
        # torchvision's initialisation
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, 0, 0.01)
                nn.init.zeros_(module.bias)

    def extract(self, x, layer="fc7"):
        """Activations of ``layer``: "pool5" (flattened 512x7x7), "fc6" or "fc7" (after ReLU)."""
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        if layer == "pool5":
            return x
        x = self.classifier[1](self.classifier[0](x))
        if layer == "fc6":
            return x
        return self.classifier[4](self.classifier[3](x))

    def forward(self, x):
        """ImageNet logits (fc8), as torchvision's ``VGG.forward``."""
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
