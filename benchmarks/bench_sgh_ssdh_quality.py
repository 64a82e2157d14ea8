"""Retrieval quality of SGHHasher and SSDHHasher next to LSH and ITQ.

Two sets from ``../shared/data`` (or ``$SKHASH_DATA``), each shuffled with
``default_rng(0)`` and split by class into 1000 queries and 9000 database items (the
database is also the training set): CIFAR-10 test split as EfficientNet-Lite0 features,
and the MNIST test split as pixels / 255. Relevant = same class. Prints mAP@all and P@1000
(ties broken by database index) and the fit time, as a markdown table.

    python benchmarks/bench_sgh_ssdh_quality.py [--bits 32 64] [--sets cifar mnist] [--threads 1]

torch uses one thread by default: on a loaded 2-core machine, more threads oversubscribe.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from skhash import ITQHasher, LSHHasher, SGHHasher, SSDHHasher
from skhash.metrics import mean_average_precision, precision_at_k

from ._common import DATA


def load(name):
    if name == "cifar":
        data = np.load(DATA / "cifar10_test_efficientnet_lite0.npz")
        X = data["features"].astype(np.float32)
    else:
        data = np.load(DATA / "mnist_test.npz")
        X = data["images"].reshape(len(data["images"]), -1).astype(np.float32) / 255
    y = data["labels"]
    order = np.random.default_rng(0).permutation(len(X))  # CIFAR rows are sorted by class
    X, y = X[order], y[order]
    X_db, X_query, y_db, y_query = train_test_split(
        X, y, test_size=1000, stratify=y, random_state=0
    )
    return X_db, X_query, y_db, y_query


HASHERS = {
    "LSH": lambda bits: LSHHasher(n_bits=bits, random_state=0),
    "ITQ": lambda bits: ITQHasher(n_bits=bits, random_state=0),
    "SGH": lambda bits: SGHHasher(n_bits=bits, random_state=0),
    "SGH (eps=0.5)": lambda bits: SGHHasher(n_bits=bits, stochastic=False, random_state=0),
    "SSDH": lambda bits: SSDHHasher(n_bits=bits, random_state=0),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--sets", nargs="+", default=["cifar", "mnist"])
    parser.add_argument("--methods", nargs="+", default=list(HASHERS))
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print("| set | bits | method | mAP@all | P@1000 | fit (s) |")
    print("|---|---|---|---|---|---|")
    for name in args.sets:
        X_db, X_query, y_db, y_query = load(name)
        for bits in args.bits:
            for method in args.methods:
                hasher = HASHERS[method](bits)
                start = time.perf_counter()
                hasher.fit(X_db)
                seconds = time.perf_counter() - start
                query_codes, db_codes = hasher.transform(X_query), hasher.transform(X_db)
                mean_ap = mean_average_precision(query_codes, db_codes, y_query, y_db)
                precision = precision_at_k(query_codes, db_codes, y_query, y_db, k=1000)
                print(
                    f"| {name} | {bits} | {method} | {mean_ap:.4f} | {precision:.4f} | "
                    f"{seconds:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
