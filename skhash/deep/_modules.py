"""Building blocks of the deep hashers: MLPs for encoders, decoders and critics."""

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "MLP"]

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),  # the slope of the released IDR-AE code
    "tanh": nn.Tanh,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}


class MLP(nn.Sequential):
    """Fully connected network ``n_in -> hidden_layer_sizes... -> n_out``.

    The hidden layers are ``Linear`` followed by ``activation``; the last layer is linear
    (its outputs are logits, codes or critic scores depending on the caller).

    Parameters
    ----------
    n_in : int
        Input width.
    hidden_layer_sizes : sequence of int
        Widths of the hidden layers (may be empty: a linear map).
    n_out : int
        Output width.
    activation : str
        A key of :data:`ACTIVATIONS`.
    """

    def __init__(self, n_in, hidden_layer_sizes, n_out, activation="relu"):
        layers = []
        width = n_in
        for size in hidden_layer_sizes:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
            width = size
        layers.append(nn.Linear(width, n_out))
        super().__init__(*layers)


def weight_clip_(module, clip_value):
    """Clamp every parameter of ``module`` to ``[-clip_value, clip_value]`` in place."""
    with torch.no_grad():
        for param in module.parameters():
            param.clamp_(-clip_value, clip_value)
