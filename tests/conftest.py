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
    """MNIST 70k as in REFERENCE.md section 5: 1000 queries, the other 69,000 as database."""
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
