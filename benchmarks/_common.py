"""The benchmarks' one harness: the machine banner, timing, the data folder and splits
(from :mod:`skhash.datasets`), and the usual numbers.

Scores come from :mod:`skhash.metrics` (ties broken by database index).
"""

import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from skhash.datasets import (
    get_data_home,
    load_cifar10_features,
    load_mnist,
    query_database_split,
)
from skhash.metrics import mean_average_precision, precision_at_k

# The data folder: $SKHASH_DATA, else ../shared/data next to the repository.
DATA = get_data_home(
    os.environ.get("SKHASH_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)


def machine(**extra):
    """One line saying where a benchmark ran: processor, cores, load, Python and the numeric
    libraries' versions (torch and faiss when imported), plus ``extra`` settings."""
    import numpy

    parts = [
        f"{platform.machine()}, {platform.processor() or 'cpu'}, {os.cpu_count()} cores",
        f"load average {os.getloadavg()[0]:.1f}",
        f"Python {platform.python_version()}",
        f"numpy {numpy.__version__}",
    ]
    for name in ("torch", "faiss", "numba"):
        module = sys.modules.get(name)
        if module is not None:
            parts.append(f"{name} {getattr(module, '__version__', '?')}")
    parts += [f"{key} {value}" for key, value in extra.items()]
    return "; ".join(parts)


def timed(func, *args, **kwargs):
    """``(seconds, result)`` of one call."""
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - start, result


def interleaved_best_times(repeats, calls):
    """Best of ``repeats`` timings of each call, the calls taking turns so that load
    changes on a shared machine hit them alike. Returns the times and the last outputs."""
    best = [float("inf")] * len(calls)
    outs = [None] * len(calls)
    for _ in range(repeats):
        for i, (func, *args) in enumerate(calls):
            seconds, outs[i] = timed(func, *args)
            best[i] = min(best[i], seconds)
    return best, outs


def protocol_split(X, y, protocol, random_state=0):
    """``(X_db, y_db, X_query, y_query)`` of a named protocol of
    :data:`skhash.datasets.PROTOCOLS`: the one way the benchmarks split their data."""
    query, db = query_database_split(y, protocol=protocol, random_state=random_state)
    return X[db], y[db], X[query], y[query]


def mnist_released_protocol(random_state=0):
    """MNIST 70k, pixels / 255: 10,000 stratified queries; database = training = the rest."""
    return protocol_split(*load_mnist(DATA), "idrae-code", random_state)


def cifar_efficientnet_protocol(random_state=0):
    """CIFAR-10 test split, EfficientNet-Lite0 features: 1,000 stratified queries, 9,000
    database."""
    return protocol_split(*load_cifar10_features(DATA), "cifar10-features", random_state)


def bit_balance(codes):
    """Mean |fraction of ones - 0.5| over bits (0 = perfectly balanced)."""
    return float(np.abs(codes.mean(axis=0) - 0.5).mean())


def evaluate(hasher, X_db, y_db, X_q, y_q):
    """Codes of database and queries, and the usual numbers."""
    db, q = hasher.transform(X_db), hasher.transform(X_q)
    return {
        "mAP@1000": mean_average_precision(q, db, y_q, y_db, at=1000),
        "mAP@all": mean_average_precision(q, db, y_q, y_db),
        "P@1000": precision_at_k(q, db, y_q, y_db, k=1000),
        "imbalance": bit_balance(db),
    }
