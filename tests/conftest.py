"""Shared fixtures: the labelled data in ``../shared/data`` (or ``$SKHASH_DATA``)."""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(
    os.environ.get("SKHASH_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


def load_shared(name):
    """Load ``name`` (an ``.npz`` of ``../shared/data``), skipping the test when it is absent."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(
            f"{name} not found in {SHARED_DATA} (set SKHASH_DATA to the shared data folder)"
        )
    with np.load(path) as data:
        return dict(data)


@pytest.fixture(scope="session")
def mnist_reference_split():
    """MNIST 70k as in REFERENCE.md section 5: 1000 queries, the other 69,000 as database."""
    train, test = load_shared("mnist_train.npz"), load_shared("mnist_test.npz")
    # float32 halves the cost of the PCAs; the figures are the same to the third decimal.
    X = np.concatenate([train["images"], test["images"]]).reshape(70_000, -1)
    X = X.astype(np.float32) / 255
    y = np.concatenate([train["labels"], test["labels"]])
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
