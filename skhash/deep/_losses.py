"""Losses of the autoencoder hashers: reconstruction and distribution matching terms.

Every function takes encoder outputs ``b`` of shape ``(N, m)`` (probabilities in (0, 1))
and, for the matching terms, prior samples ``z`` of the same shape.
"""

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

__all__ = [
    "assignment_wasserstein",
    "critic_gradient_penalty",
    "independent_wasserstein",
    "sample_bernoulli",
]


def sample_bernoulli(shape, p, generator, device):
    """Samples of Bernoulli(``p``) as float32 0/1 on ``device``."""
    uniform = torch.rand(shape, generator=generator, device=device)
    return (uniform < p).to(torch.float32)


def independent_wasserstein(b, z, squared=False):
    """Independent relaxed Wasserstein distance (paper Eq. 10), vectorised over bits.

    For every bit the 1-D optimal transport between the ``N`` values ``b[:, i]`` and the
    ``N`` prior samples ``z[:, i]`` pairs them in sorted order; the distance is the mean
    absolute (``squared=True``: squared, as in the released code) difference of the sorted
    columns, averaged over the ``m`` bits. Cost ``O(m N log N)``.
    """
    diff = torch.sort(b, dim=0).values - torch.sort(z, dim=0).values
    return (diff.square() if squared else diff.abs()).mean()


def assignment_wasserstein(b, z):
    """Primal optimal-transport estimate (paper Eq. 4-9) with an exact assignment.

    The Euclidean cost matrix ``D[i, j] = ||b_i - z_j||_2`` is solved on the host with
    :func:`scipy.optimize.linear_sum_assignment` (detached: the optimal plan is locally
    constant), and the gradient flows through the matched costs only. Returns
    ``sum(M* . D) / N``.
    """
    cost = torch.cdist(b, z)
    rows, cols = linear_sum_assignment(cost.detach().cpu().numpy())
    rows = torch.as_tensor(np.asarray(rows), device=b.device)
    cols = torch.as_tensor(np.asarray(cols), device=b.device)
    return cost[rows, cols].mean()


def critic_gradient_penalty(critic, b, z, generator):
    """WGAN-GP penalty ``mean((||grad critic(x)|| - 1)^2)`` at random interpolates of b and z."""
    alpha = torch.rand((b.shape[0], 1), generator=generator, device=b.device)
    mixed = (alpha * b.detach() + (1 - alpha) * z).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)
    return (grad.norm(dim=1) - 1).square().mean()
