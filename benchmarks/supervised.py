"""Supervised hashers against ITQ and CCA-ITQ on the supervised protocol.

The training set is 500 labelled images per class drawn from the database (a new draw per
seed); the hashers fit on it (ITQ without its labels), and every database item is hashed.

* ``cifar10``: EfficientNet-Lite0 features; the 10,000 test images query the 50,000
  training images (:func:`skhash.datasets.load_cifar10_supervised`).
* ``mnist``: pixels / 255; 10,000 stratified queries, the other 60,000 are the database.

mAP@all and P@1000 (ties by database index, relevant = same class), fit seconds on one
thread (torch too: the deep hashers' ``n_jobs=None``), and at 64 bits each supervised
hasher once more with a one-hot indicator ``y``.

    python -m benchmarks supervised                          # about 30 minutes
    python -m benchmarks supervised --datasets cifar10 --bits 64 --seeds 0
"""

import argparse
import itertools
import json

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

import skhash
from skhash.datasets import labelled_subset, load_cifar10_retrieval, load_mnist
from skhash.metrics import mean_average_precision, precision_at_k
from skhash.utils.discovery import short_name

from ._common import DATA, machine, query_database_split, timed

METHODS = (
    "ITQHasher",
    "CCAITQHasher",
    "SDHHasher",
    "KSHHasher",
    "COSDISHHasher",
    "DPSHHasher",
    "HashNetHasher",
    "CSQHasher",
)
N_PER_CLASS = 500


def _mnist():
    X, y = load_mnist(DATA)
    query, db = query_database_split(y, n_queries=10_000, random_state=0)
    return X[db], y[db], X[query], y[query]


DATASETS = {"cifar10": lambda: load_cifar10_retrieval(DATA), "mnist": _mnist}


def evaluate(hasher, X_train, y_train, X_db, y_db, X_query, y_query):
    supervised = hasher.__sklearn_tags__().target_tags.required
    seconds, _ = timed(hasher.fit, X_train, y_train if supervised else None)
    query, db = hasher.transform(X_query), hasher.transform(X_db)
    return {
        "map": mean_average_precision(query, db, y_query, y_db),
        "p@1000": precision_at_k(query, db, y_query, y_db, k=1000),
        "fit_seconds": seconds,
    }


def run(datasets, bits, seeds, methods):
    rows = []
    for name in datasets:
        X_db, y_db, X_query, y_query = DATASETS[name]()
        for seed, n_bits, method in itertools.product(seeds, bits, methods):
            train = labelled_subset(y_db, N_PER_CLASS, random_state=seed)
            hasher = getattr(skhash, method)(n_bits=n_bits, random_state=seed)
            if "device" in hasher.get_params():
                hasher.set_params(device="cpu")
            row = {"dataset": name, "method": method, "n_bits": n_bits, "seed": seed}
            row.update(evaluate(hasher, X_db[train], y_db[train], X_db, y_db, X_query, y_query))
            if n_bits == 64 and method != "ITQHasher":
                one_hot = np.eye(y_db.max() + 1, dtype=np.uint8)[y_db[train]]
                again = clone(hasher)
                row["map_one_hot"] = evaluate(
                    again, X_db[train], one_hot, X_db, y_db, X_query, y_query
                )["map"]
            print(
                f"[{name}] seed {seed} {n_bits:>3} bits {method:<14} mAP {row['map']:.4f} "
                f"P@1000 {row['p@1000']:.4f} fit {row['fit_seconds']:.1f} s"
                + (f" one-hot mAP {row['map_one_hot']:.4f}" if "map_one_hot" in row else ""),
                flush=True,
            )
            rows.append(row)
    return rows


def table(rows):
    """Markdown: mAP@all / P@1000 (mean of the seeds) per data set, method and length."""
    bits = sorted({r["n_bits"] for r in rows})
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["method"], r["n_bits"]), []).append(r)
    lines = [
        "| data set | method | "
        + " | ".join(f"{b} bits mAP / P@1000" for b in bits)
        + " | fit s (64 bits) |",
        "|---|---" + "|---" * len(bits) + "|---|",
    ]
    for dataset in dict.fromkeys(r["dataset"] for r in rows):
        itq = {
            b: np.mean([r["map"] for r in groups.get((dataset, "ITQHasher", b), [])] or [0])
            for b in bits
        }
        for method in METHODS:
            cells = []
            for b in bits:
                runs = groups.get((dataset, method, b))
                if not runs:
                    cells.append("-")
                    continue
                m = np.mean([r["map"] for r in runs])
                p = np.mean([r["p@1000"] for r in runs])
                ratio = f" ({m / itq[b]:.2f}x)" if method != "ITQHasher" and itq[b] else ""
                cells.append(f"{m:.3f}{ratio} / {p:.3f}")
            fit = groups.get((dataset, method, 64))
            fit = f"{np.mean([r['fit_seconds'] for r in fit]):.1f}" if fit else "-"
            name = short_name(getattr(skhash, method))
            lines.append(f"| {dataset} | {name} | " + " | ".join(cells) + f" | {fit} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--bits", nargs="+", type=int, default=[32, 64, 128])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--from-json", nargs="+", help="merge earlier runs' rows instead")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    if args.from_json:
        merged = {}
        for path in args.from_json:
            for row in json.loads(open(path).read()):
                merged[row["dataset"], row["method"], row["n_bits"], row["seed"]] = row
        rows = list(merged.values())
    else:
        with threadpool_limits(1):
            rows = run(args.datasets, args.bits, args.seeds, args.methods)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
