"""Shared fixtures: the labelled data in ``../shared/data`` (or ``$SKHASH_DATA``)."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from skhash.datasets import load_mnist

SHARED_DATA = Path(
    os.environ.get("SKHASH_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


def require_shared(*names):
    """Skip the test unless every file ``names`` is in ``../shared/data`` (or ``$SKHASH_DATA``)."""
    for name in names:
        if not (SHARED_DATA / name).is_file():
            pytest.skip(
                f"{name} not found in {SHARED_DATA} (set SKHASH_DATA to the shared data folder)"
            )


def load_shared(name):
    """Load ``name`` (an ``.npz`` of ``../shared/data``), skipping the test when it is absent."""
    require_shared(name)
    with np.load(SHARED_DATA / name) as data:
        return dict(data)


@pytest.fixture(scope="session")
def mnist_reference_split():
    """MNIST 70k as in the reference figures: 1000 queries, the other 69,000 as database."""
    require_shared("mnist_train.npz", "mnist_test.npz")
    # float32 (as load_mnist gives) halves the cost of the PCAs; the figures are the same to
    # the third decimal as in float64.
    X, y = load_mnist(SHARED_DATA)
    order = np.random.default_rng(0).permutation(len(X))
    query, db = order[:1000], order[1000:]
    return X[db], y[db], X[query], y[query]


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """Train the tests' tiny networks on one thread: with several, synchronisation dominates
    (up to 10x slower on 2 shared cores). Leaves torch unimported where it is absent."""
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def check_seeded_fit(estimator, X):
    """Check that a deep hasher's ``random_state`` fixes its codes without touching the global
    random states, that its codes are the signs of ``decision_function`` and that it pickles,
    unfitted and fitted."""
    import pickle

    import torch

    np.random.seed(123)  # noqa: NPY002 (the legacy global state is what users touch)
    torch.manual_seed(123)
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.get_rng_state().clone()
    first = estimator.set_params(random_state=7).fit(X)
    codes = first.transform(X)
    values = first.decision_function(X)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert torch.equal(torch.get_rng_state(), torch_state)
    second = pickle.loads(pickle.dumps(estimator)).fit(X)
    np.testing.assert_array_equal(second.transform(X), codes)
    np.testing.assert_array_equal(second.decision_function(X), values)
    assert second.history_[-1]["loss"] == first.history_[-1]["loss"]
    assert codes.dtype == np.uint8 and codes.shape == (len(X), estimator.n_bits)
    np.testing.assert_array_equal(codes, (values > 0).astype(np.uint8))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.transform(X), codes)
    other = estimator.set_params(random_state=8).fit(X)
    assert not np.array_equal(other.decision_function(X), values)
