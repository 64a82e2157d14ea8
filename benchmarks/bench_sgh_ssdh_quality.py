"""Retrieval quality of SGHHasher and SSDHHasher next to LSH and ITQ.

Two sets from ``../shared/data`` (or ``$SKHASH_DATA``), each split by the
"cifar10-features" protocol of :data:`skhash.datasets.PROTOCOLS` into 1000 stratified
queries and 9000 database items (the database is also the training set): the CIFAR-10
test split as EfficientNet-Lite0 features, and the MNIST test split as pixels / 255.
Relevant = same class. Prints mAP@all and P@1000 (ties broken by database index) and the
fit time, as a markdown table.

    python -m benchmarks bench_sgh_ssdh_quality [--bits 32 64] [--sets cifar mnist] [--threads 1]

torch uses one thread by default: on a loaded 2-core machine, more threads oversubscribe.
"""

import argparse

import numpy as np
import torch

from skhash import ITQHasher, LSHHasher, SGHHasher, SSDHHasher
from skhash.datasets import load_cifar10_features
from skhash.metrics import mean_average_precision, precision_at_k

from ._common import DATA, machine, protocol_split, timed


def load(name):
    """``(X_db, X_query, y_db, y_query)``: a 10,000-row test split in the "cifar10-features"
    protocol (1,000 stratified queries, the rest is the database)."""
    if name == "cifar":
        X, y = load_cifar10_features(DATA)
    else:
        data = np.load(DATA / "mnist_test.npz")
        X = data["images"].reshape(len(data["images"]), -1).astype(np.float32) / 255
        y = data["labels"]
    X_db, y_db, X_query, y_query = protocol_split(X, y, "cifar10-features")
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
    print(f"machine: {machine()}", flush=True)
    torch.set_num_threads(args.threads)
    print("| set | bits | method | mAP@all | P@1000 | fit (s) |")
    print("|---|---|---|---|---|---|")
    for name in args.sets:
        X_db, X_query, y_db, y_query = load(name)
        for bits in args.bits:
            for method in args.methods:
                hasher = HASHERS[method](bits)
                seconds, _ = timed(hasher.fit, X_db)
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
