"""The deep supervised hashers: their losses and gradients equal DeepHash-pytorch's released
loss classes on a fixed batch, exact codes for a fixed seed, and label handling.

``tests/fixtures/deep_supervised_reference.npz`` holds what DeepHash-pytorch's
``DPSHLoss``, ``HashNetLoss`` and ``CSQLoss`` (swuxyj/DeepHash-pytorch at ab14068) computed
on a fixed batch of 12 rows of 16 bits, 40 training rows, 4 classes; their code ran outside
the repository, and only the numbers are kept.
"""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from skhash import CSQHasher, DPSHHasher, HashNetHasher, pack_codes  # noqa: E402
from skhash.deep._csq import csq_loss, hash_centres, label_centres  # noqa: E402
from skhash.deep._dpsh import dpsh_loss  # noqa: E402
from skhash.deep._hashnet import hashnet_loss  # noqa: E402

REF = np.load(Path(__file__).parent / "fixtures" / "deep_supervised_reference.npz")
INDEX = REF["ind"]


def _batch():
    return torch.tensor(REF["u"], dtype=torch.float32, requires_grad=True)


def _float(array):
    return torch.tensor(array, dtype=torch.float32)


def _check(loss, u, name):
    loss.backward()
    assert loss.item() == pytest.approx(float(REF[f"{name}_loss"]), rel=1e-6)
    np.testing.assert_allclose(u.grad.numpy(), REF[f"{name}_grad"], rtol=1e-5, atol=1e-8)


def test_dpsh_loss_and_gradient_equal_the_released_ones():
    bank = REF["U0"].copy()
    bank[INDEX] = REF["u"]  # the released loss banks the batch's codes first
    u = _batch()
    terms = dpsh_loss(u, _float(REF["Y"][INDEX]), _float(bank), _float(REF["Y"]), 0.1)
    _check(terms["loss"], u, "dpsh")


@pytest.mark.parametrize("labels", ["single", "multi"])
@pytest.mark.parametrize("scale", [1.0, 3**0.5])
def test_hashnet_loss_and_gradient_equal_the_released_ones(labels, scale):
    Y = REF["Y"] if labels == "single" else REF["Y_multi"]
    u = _batch()
    _check(
        hashnet_loss(u, _float(Y[INDEX]), scale, 0.1)["loss"], u, f"hashnet_{labels}_{scale:.3f}"
    )


@pytest.mark.parametrize("labels", ["single", "multi"])
def test_csq_centres_loss_and_gradient_equal_the_released_ones(labels):
    Y = REF["Y"] if labels == "single" else REF["Y_multi"]
    centres = hash_centres(4, 16, np.random.RandomState(0))
    np.testing.assert_array_equal(centres, REF[f"csq_{labels}_targets"])
    target = label_centres(
        _float(Y[INDEX]), _float(centres), _float(REF[f"csq_{labels}_random_centre"])
    )
    u = _batch()
    _check(csq_loss(u, target, 1e-4)["loss"], u, f"csq_{labels}")


def test_csq_draws_balanced_centres_beyond_the_hadamard_rows():
    centres = hash_centres(40, 16, np.random.RandomState(0))  # 32 Hadamard rows, 8 drawn
    assert centres.shape == (40, 16) and set(np.unique(centres)) == {-1.0, 1.0}
    np.testing.assert_array_equal(centres[32:].sum(axis=1), 0)
    odd = hash_centres(3, 12, np.random.RandomState(0))  # no Hadamard matrix of order 12
    differences = (odd[:, None] != odd[None]).sum(axis=2)[np.triu_indices(3, k=1)]
    assert differences.min() > 3


DIGITS, LABELS = load_digits(return_X_y=True)
EXACT = {
    "DPSHHasher": "11d7077b57c906d182e816d1",
    "HashNetHasher": "54d7067b47e906d986ec56d5",
    "CSQHasher": "57f7477b57e956dbc6e856d3",
}
HASHERS = {"DPSHHasher": DPSHHasher, "HashNetHasher": HashNetHasher, "CSQHasher": CSQHasher}


@pytest.mark.parametrize("name", EXACT)
def test_exact_codes_for_fixed_seed_and_labels_as_scikit_learn_takes_them(name):
    X, y = DIGITS[:200] / 16, LABELS[:200]
    hasher = HASHERS[name](n_bits=16, max_epochs=3, random_state=0, device="cpu")
    codes = clone(hasher).fit(X, y).transform(X)
    assert pack_codes(codes[:6]).tobytes().hex() == EXACT[name]
    one_hot = np.eye(10, dtype=int)[y]
    np.testing.assert_array_equal(clone(hasher).fit(X, one_hot).transform(X), codes)
    with pytest.raises(ValueError, match="requires y to be passed"):
        clone(hasher).fit(X)
    with pytest.raises(ValueError, match="y has 199 labels but X has 200 rows"):
        clone(hasher).fit(X, y[:-1])
    multi = one_hot.copy()
    multi[::5, 0] = 1
    assert clone(hasher).fit(X, multi).transform(X).shape == (200, 16)


def test_hashnet_sharpens_its_codes_in_stages():
    hasher = HashNetHasher(n_bits=8, n_stages=4, max_epochs=8, random_state=0, device="cpu")
    scales = []
    original = hasher._scale

    def recording():
        scales.append(original())
        return scales[-1]

    hasher._scale = recording
    hasher.fit(DIGITS[:200] / 16, LABELS[:200])
    assert sorted(set(scales)) == [1.0, 2**0.5, 3**0.5, 2.0]
