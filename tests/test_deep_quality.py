"""Reduced MNIST quality check of the deep hashers (the full runs are in benchmarks/).

Skipped when the shared data folder is absent. The thresholds sit well below what the
methods reach and well above what a broken method (no distribution term, unbalanced or
constant bits, random codes) gives; the measured values are in the comments.
"""

import numpy as np
import pytest
from conftest import SHARED_DATA, load_shared, require_shared

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.quality

from skhash import AEHasher, IDRAEHasher  # noqa: E402
from skhash.metrics import mean_average_precision  # noqa: E402


@pytest.fixture(scope="module")
def mnist_small():
    """10,000 training images as database, 1,000 test images as queries, pixels / 255."""
    train, test = load_shared("mnist_train.npz"), load_shared("mnist_test.npz")
    X_db = train["images"][:10_000].reshape(10_000, -1) / np.float32(255)
    X_q = test["images"][:1_000].reshape(1_000, -1) / np.float32(255)
    return X_db, train["labels"][:10_000], X_q, test["labels"][:1_000]


def test_idr_ae_beats_ae_on_mnist(mnist_small):
    X_db, y_db, X_q, y_q = mnist_small
    # A smaller network than the default keeps this test fast; the random start isolates
    # the distribution term (the ITQ start balances AE's bits too).
    params = dict(
        n_bits=32,
        hidden_layer_sizes=(256,),
        max_epochs=5,
        batch_size=128,
        init="random",
        device="cpu",
        random_state=0,
    )
    scores, imbalance = {}, {}
    for name, hasher in [("ae", AEHasher(**params)), ("idr", IDRAEHasher(**params))]:
        hasher.fit(X_db)
        db = hasher.transform(X_db)
        scores[name] = mean_average_precision(hasher.transform(X_q), db, y_q, y_db)
        imbalance[name] = np.abs(db.mean(axis=0) - 0.5).mean()
    # Measured (CPU, 1 thread): AE 0.360, IDR 0.413; bit imbalance AE 0.104, IDR 0.023.
    assert scores["idr"] > scores["ae"] + 0.03, scores
    assert scores["idr"] > 0.38, scores
    assert imbalance["idr"] < 0.05 < imbalance["ae"], imbalance


def _default_against_itq(X_db, y_db, X_q, y_q, n_bits=64):
    from skhash import ITQHasher

    scores = {}
    for name, hasher in [
        ("itq", ITQHasher(n_bits=n_bits, random_state=0)),
        ("idr", IDRAEHasher(n_bits=n_bits, device="cpu", random_state=0)),
    ]:
        hasher.fit(X_db)
        scores[name] = mean_average_precision(
            hasher.transform(X_q), hasher.transform(X_db), y_q, y_db
        )
    return scores


@pytest.fixture(scope="module")
def cifar_small():
    """5,000 CIFAR-10 training images as database, 1,000 test images as queries."""
    train = load_shared("cifar10_train_efficientnet_lite0.npz")
    test = load_shared("cifar10_test_efficientnet_lite0.npz")
    db = np.random.default_rng(0).permutation(50_000)[:5_000]
    query = np.random.default_rng(1).permutation(10_000)[:1_000]
    return (
        train["features"][db].astype(np.float32),
        train["labels"][db],
        test["features"][query].astype(np.float32),
        test["labels"][query],
    )


def test_default_idr_ae_beats_itq_on_cifar10_features(cifar_small):
    """The defaults' regression check off MNIST (the full table: benchmarks.cross_dataset)."""
    scores = _default_against_itq(*cifar_small)
    assert scores["idr"] >= scores["itq"], scores


def test_default_idr_ae_beats_itq_on_mnist(mnist_small):
    scores = _default_against_itq(*mnist_small)
    assert scores["idr"] >= scores["itq"], scores


def test_default_idr_ae_keeps_itq_level_on_few_rows():
    """Olivetti faces: 320 training rows of 4,096 pixels, 64 bits. A trained linear path
    drifted to 0.93x ITQ here; the fixed ITQ path keeps the default within 3% (measured:
    0.607 against 0.613 for seed 0, 1.01x over 3 seeds)."""
    from skhash.datasets import load_olivetti_faces, query_database_split

    require_shared("olivetti_faces.npz")
    X, y = load_olivetti_faces(data_home=SHARED_DATA)
    query, db = query_database_split(y, n_queries_per_class=2, random_state=0)
    scores = _default_against_itq(X[db], y[db], X[query], y[query])
    assert scores["idr"] >= 0.97 * scores["itq"], scores
