"""BiHalfHasher and GreedyHashHasher: their layers against the released code's, and quality."""

import numpy as np
import pytest
from conftest import check_seeded_fit, load_shared

torch = pytest.importorskip("torch")

from skhash import BiHalfHasher, GreedyHashHasher, ITQHasher, LSHHasher  # noqa: E402
from skhash.deep._bihalf import bi_half  # noqa: E402
from skhash.deep._greedyhash import cosine_matching_loss  # noqa: E402
from skhash.metrics import mean_average_precision  # noqa: E402

TINY = dict(n_bits=6, batch_size=32, max_epochs=3, device="cpu")


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(0)
    centres = rng.uniform(size=(4, 12))
    return np.abs(centres[rng.integers(0, 4, 200)] + 0.1 * rng.normal(size=(200, 12)))


class ReleasedBiHalf(torch.autograd.Function):
    """The released Bi-half layer (Li and van Gemert), written out as a reference."""

    @staticmethod
    def forward(ctx, U, gamma):
        _, index = U.sort(0, descending=True)
        N, D = U.shape
        B_creat = torch.cat((torch.ones([N // 2, D]), -torch.ones([N - N // 2, D])))
        B = torch.zeros(U.shape).scatter_(0, index, B_creat)
        ctx.save_for_backward(U, B)
        ctx.gamma = gamma
        return B

    @staticmethod
    def backward(ctx, g):
        U, B = ctx.saved_tensors
        return g + ctx.gamma * (U - B) / B.numel(), None


@pytest.mark.parametrize("n_rows", [8, 9])
def test_bi_half_layer_matches_the_released_layer(n_rows):
    U = torch.randn(n_rows, 5, generator=torch.Generator().manual_seed(0), requires_grad=True)
    B = bi_half(U.detach())
    assert (B == 1).sum(dim=0).tolist() == [n_rows // 2] * 5
    assert torch.equal(B, ReleasedBiHalf.apply(U, 6.0))
    # Same gradient for a downstream loss: identity plus gamma * (U - B) / numel.
    weights = torch.randn(n_rows, 5, generator=torch.Generator().manual_seed(1))
    est = BiHalfHasher(gamma=6.0)
    straight, penalty = est._binarize(U)
    (grad_ours,) = torch.autograd.grad((straight * weights).sum() + penalty, U)
    (grad_released,) = torch.autograd.grad((ReleasedBiHalf.apply(U, 6.0) * weights).sum(), U)
    torch.testing.assert_close(grad_ours, grad_released)


def test_greedy_sign_passes_the_gradient_through():
    h = torch.tensor([[0.5, -2.0], [-0.1, 3.0]], requires_grad=True)
    B, penalty = GreedyHashHasher(alpha=0.0)._binarize(h)
    assert torch.equal(B, torch.sign(h)) and float(penalty.detach()) == 0
    (grad,) = torch.autograd.grad((B * torch.tensor([[1.0, 2.0], [3.0, 4.0]])).sum(), h)
    assert torch.equal(grad, torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    _, penalty = GreedyHashHasher(alpha=0.1)._binarize(h)
    expected = 0.1 * np.mean(np.abs(np.abs([0.5, -2.0, -0.1, 3.0]) - 1) ** 3)
    assert float(penalty) == pytest.approx(expected)


def test_cosine_matching_loss_pairs_the_two_halves():
    rng = np.random.default_rng(0)
    X, B = rng.normal(size=(7, 4)), np.sign(rng.normal(size=(7, 3)))

    def cos(a, b):
        return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

    expected = np.mean((cos(B[:3], B[3:6]) - cos(X[:3], X[3:6])) ** 2)
    assert float(cosine_matching_loss(torch.tensor(X), torch.tensor(B))) == pytest.approx(expected)


@pytest.mark.parametrize("cls", [BiHalfHasher, GreedyHashHasher], ids=lambda c: c.__name__)
def test_seeded_fit_and_history(cls, X):
    check_seeded_fit(cls(**TINY), X)
    est = cls(**TINY, random_state=0).fit(X)
    assert set(est.history_[0]) == {"loss", "similarity", "penalty", "epoch", "time"}


def test_bi_half_codes_are_balanced(X):
    codes = BiHalfHasher(**{**TINY, "max_epochs": 20}, random_state=0).fit(X).transform(X)
    assert np.abs(codes.mean(axis=0) - 0.5).max() < 0.2


@pytest.mark.quality
def test_both_beat_lsh_and_bi_half_beats_itq_on_cifar_features():
    """Reduced run of the cross-data-set report: 4,000 database rows, 1,000 queries."""
    data = load_shared("cifar10_test_efficientnet_lite0.npz")
    order = np.random.default_rng(0).permutation(len(data["labels"]))
    X, y = data["features"][order].astype(np.float32), data["labels"][order]
    X_db, y_db, X_q, y_q = X[:4000], y[:4000], X[4000:5000], y[4000:5000]

    def score(hasher):
        hasher.fit(X_db)
        return mean_average_precision(hasher.transform(X_q), hasher.transform(X_db), y_q, y_db)

    lsh = score(LSHHasher(n_bits=64, random_state=0))
    itq = score(ITQHasher(n_bits=64, random_state=0))
    bihalf = score(BiHalfHasher(n_bits=64, device="cpu", random_state=0))
    greedy = score(GreedyHashHasher(n_bits=64, device="cpu", random_state=0))
    assert greedy > lsh + 0.05, (greedy, lsh)
    assert bihalf > itq * 1.1, (bihalf, itq)
