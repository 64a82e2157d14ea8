"""Shared helpers of the deep-hasher benchmarks: data protocols and a small mAP helper.

The mAP helper is deliberately local and simple (stable argsort of the Hamming distances,
ties broken by database index); the library's metrics live in ``skhash.metrics``.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from skhash._bits import codes_to_words, iter_hamming_distances

DATA = Path(
    os.environ.get("SKHASH_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


def mnist_released_protocol(random_state=0):
    """MNIST 70k, pixels / 255: 10,000 stratified queries; database = training = the rest."""
    train, test = np.load(DATA / "mnist_train.npz"), np.load(DATA / "mnist_test.npz")
    X = np.concatenate([train["images"], test["images"]]).reshape(70_000, -1)
    y = np.concatenate([train["labels"], test["labels"]])
    X_db, X_q, y_db, y_q = train_test_split(
        X, y, test_size=10_000, stratify=y, random_state=random_state
    )
    return (X_db / 255.0).astype(np.float32), y_db, (X_q / 255.0).astype(np.float32), y_q


def cifar_efficientnet_protocol(random_state=0):
    """CIFAR-10 test split, EfficientNet-Lite0 features: 1000 random queries, 9000 database."""
    data = np.load(DATA / "cifar10_test_efficientnet_lite0.npz")
    X, y = data["features"].astype(np.float32), data["labels"]
    order = np.random.default_rng(random_state).permutation(len(y))
    q, db = order[:1000], order[1000:]
    return X[db], y[db], X[q], y[q]


def mean_average_precision(query_codes, db_codes, y_query, y_db, at=None, block=200):
    """mAP@at (normaliser: relevant items in the top ``at``, 0 when none; ``at=None``: all).

    Ranking by Hamming distance, ties by database index (stable argsort).
    """
    qwords, dbwords = codes_to_words(query_codes), codes_to_words(db_codes)
    n_db = len(y_db)
    at = n_db if at is None else at
    ranks = np.arange(1, at + 1)
    ap = np.empty(len(y_query))
    max_bytes = block * n_db * 8
    for start, stop, dist in iter_hamming_distances(qwords, dbwords, max_block_bytes=max_bytes):
        order = np.argsort(dist, axis=1, kind="stable")[:, :at]
        relevant = y_db[order] == y_query[start:stop, None]
        hits = np.cumsum(relevant, axis=1)
        n_rel = hits[:, -1]
        precision_sum = np.sum(relevant * hits / ranks, axis=1)
        ap[start:stop] = np.where(n_rel > 0, precision_sum / np.maximum(n_rel, 1), 0.0)
    return float(ap.mean())


def precision_at(query_codes, db_codes, y_query, y_db, k=1000, block=200):
    """Precision of the ``k`` nearest codes (ties by database index)."""
    qwords, dbwords = codes_to_words(query_codes), codes_to_words(db_codes)
    out = []
    max_bytes = block * len(y_db) * 8
    for start, stop, dist in iter_hamming_distances(qwords, dbwords, max_block_bytes=max_bytes):
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        out.append((y_db[order] == y_query[start:stop, None]).mean(axis=1))
    return float(np.concatenate(out).mean())


def bit_balance(codes):
    """Mean |fraction of ones - 0.5| over bits (0 = perfectly balanced)."""
    return float(np.abs(codes.mean(axis=0) - 0.5).mean())


def evaluate(hasher, X_db, y_db, X_q, y_q):
    """Codes of database and queries, and the usual numbers."""
    db, q = hasher.transform(X_db), hasher.transform(X_q)
    return {
        "mAP@1000": mean_average_precision(q, db, y_q, y_db, at=1000),
        "mAP@all": mean_average_precision(q, db, y_q, y_db),
        "P@1000": precision_at(q, db, y_q, y_db, k=1000),
        "imbalance": bit_balance(db),
    }
