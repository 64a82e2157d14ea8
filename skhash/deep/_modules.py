"""Building blocks of the deep hashers: MLPs for encoders, decoders and critics."""

import math

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "MLP", "ResidualMLP", "Standardize"]

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
    generator : torch.Generator, default=None
        Source of the initial weights (the global RNG when None).
    """

    def __init__(self, n_in, hidden_layer_sizes, n_out, activation="relu", generator=None):
        layers = []
        width = n_in
        for size in hidden_layer_sizes:
            layers += [linear_layer(width, size, generator), ACTIVATIONS[activation]()]
            width = size
        layers.append(linear_layer(width, n_out, generator))
        super().__init__(*layers)


def linear_layer(n_in, n_out, generator=None):
    """``nn.Linear(n_in, n_out)`` with torch's own initialisation, drawn from ``generator``
    (the global RNG when None): a fit seeds its own generator and leaves the global one
    alone, and the same seed gives the layers torch's seeded RNG would."""
    layer = nn.Linear(n_in, n_out, device="meta").to_empty(device="cpu")
    with torch.no_grad():  # nn.Linear.reset_parameters, with a generator
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
        bound = 1 / math.sqrt(n_in) if n_in > 0 else 0
        nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return layer


def weight_clip_(module, clip_value):
    """Clamp every parameter of ``module`` to ``[-clip_value, clip_value]`` in place."""
    with torch.no_grad():
        for param in module.parameters():
            param.clamp_(-clip_value, clip_value)


class Standardize(nn.Module):
    """Fixed affine map ``(x - mean) / scale`` with the statistics as buffers (they pickle)."""

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) / self.scale


class ResidualMLP(nn.Module):
    """``linear(x) + mlp(x)``: a fixed linear map plus an MLP that starts at zero (its last
    layer is zero-initialised), so training starts exactly at the linear solution and the
    network learns a correction to it.

    The linear path is not trained (``requires_grad=False``) unless ``train_linear``: the
    optimiser's steps, of a fixed size per weight, would otherwise move the small weights of
    a high-dimensional projection far from their start within a few steps.

    Parameters
    ----------
    weight : Tensor of shape (n_out, n_in)
        Initial weight of the linear path.
    bias : Tensor of shape (n_out,)
        Initial bias of the linear path.
    hidden_layer_sizes : sequence of int
        Hidden widths of the MLP correction (empty: the linear path alone).
    activation : str
        A key of :data:`ACTIVATIONS`.
    train_linear : bool, default=False
        Train the linear path too.
    generator : torch.Generator, default=None
        Source of the initial weights (the global RNG when None).
    """

    def __init__(
        self,
        weight,
        bias,
        hidden_layer_sizes,
        activation="relu",
        train_linear=False,
        generator=None,
    ):
        super().__init__()
        n_out, n_in = weight.shape
        self.linear = linear_layer(n_in, n_out, generator)  # its draws keep the sequence
        with torch.no_grad():
            self.linear.weight.copy_(torch.as_tensor(weight))
            self.linear.bias.copy_(torch.as_tensor(bias))
        self.linear.requires_grad_(train_linear)
        self.mlp = None
        if len(hidden_layer_sizes):
            self.mlp = MLP(n_in, hidden_layer_sizes, n_out, activation, generator)
            nn.init.zeros_(self.mlp[-1].weight)
            nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, x):
        out = self.linear(x)
        return out if self.mlp is None else out + self.mlp(x)
