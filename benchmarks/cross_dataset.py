"""The default hashers against ITQ on every data set we have, one table.

IDR-AE and its AE ablation, Bi-half and GreedyHash, the classic catalogue (PCAH, SKLSH,
SpH, AGH, DSH, KMH, IsoH, CBE, scalable graph hashing), with LSH as the floor.

Each hasher is built as a user writes it, ``Hasher(n_bits=b, random_state=0)``, and fitted
on the database rows only (no labels); queries are held out. mAP@all, ties by database
index, relevant = same class. Data sets and splits:

* ``mnist``: MNIST 70k pixels / 255, 10,000 stratified queries / 60,000 database.
* ``cifar10``: the paper's protocol on EfficientNet-Lite0 features: the 10,000 test images
  are the queries, the 50,000 training images the database.
* ``opencv_digits``: 5,000 digits (20 x 20) / 255, 1,000 stratified queries.
* ``olivetti``: 400 faces (64 x 64) / 255, 2 queries per person (80).
* ``sklearn_digits``: ``load_digits()`` / 16, 300 stratified queries (ships with scikit-learn,
  so it needs no data folder).

ITQ, PCAH, IsoH and KMH cannot give more bits than features or samples: such a cell shows
"-". Each row also counts the distinct codes among the first 5,000 database rows (a
collapsed hasher gives few).

    python -m benchmarks.cross_dataset                            # everything (about an hour)
    python -m benchmarks.cross_dataset --datasets sklearn_digits --bits 32 64
    python -m benchmarks.cross_dataset --datasets mnist --json a.json   # one job per core
    python -m benchmarks.cross_dataset --from-json a.json b.json        # merged table
"""

import argparse
import itertools
import json

import numpy as np
import torch
from sklearn.datasets import load_digits

import skhash
from skhash.datasets import (
    load_cifar10_retrieval,
    load_mnist,
    load_olivetti_faces,
    load_opencv_digits,
    query_database_split,
)
from skhash.metrics import mean_average_precision
from skhash.utils.discovery import short_name

from ._common import machine, timed

METHODS = (
    "LSHHasher",
    "ITQHasher",
    "IDRAEHasher",
    "AEHasher",
    "BiHalfHasher",
    "GreedyHashHasher",
    "PCAHasher",
    "SKLSHHasher",
    "SphericalHasher",
    "AGHHasher",
    "DSHHasher",
    "KMeansHasher",
    "IsotropicHasher",
    "CBEHasher",
    "ScalableGraphHasher",
)
QUICK_SAMPLES = 600


def _split(X, y, **split):
    query, db = query_database_split(y, **split, random_state=0)
    return X[db], y[db], X[query], y[query]


def _sklearn_digits():
    X, y = load_digits(return_X_y=True)
    return X.astype(np.float32) / 16, y


DATASETS = {
    "mnist": lambda: _split(*load_mnist(), n_queries=10_000),
    "cifar10": load_cifar10_retrieval,
    "opencv_digits": lambda: _split(*load_opencv_digits(), n_queries=1_000),
    "olivetti": lambda: _split(*load_olivetti_faces(), n_queries_per_class=2),
    "sklearn_digits": lambda: _split(*_sklearn_digits(), n_queries=300),
}


def _subsample(X, y, n):
    keep = np.random.default_rng(0).permutation(len(y))[:n]
    return X[keep], y[keep]


def run(datasets, bits, methods=METHODS, quick=False, seeds=(0,)):
    """One row per (data set, method, code length, seed): mAP@all and fit seconds."""
    rows = []
    for name in datasets:
        X_db, y_db, X_q, y_q = DATASETS[name]()
        if quick:
            X_db, y_db = _subsample(X_db, y_db, QUICK_SAMPLES)
            X_q, y_q = _subsample(X_q, y_q, QUICK_SAMPLES // 4)
        for seed, n_bits, method in itertools.product(seeds, bits, methods):
            hasher = getattr(skhash, method)(n_bits=n_bits, random_state=seed)
            if quick and "max_epochs" in hasher.get_params():
                hasher.set_params(max_epochs=1)
            row = {
                "dataset": name,
                "method": method,
                "n_bits": n_bits,
                "seed": seed,
                "map": None,
            }
            try:
                row["fit_seconds"], _ = timed(hasher.fit, X_db)
            except ValueError as error:
                if "bits" not in str(error):  # only "more bits than it can give here" is a cell
                    raise
                print(f"[{name}] {n_bits:>3} bits {method}: {error}", flush=True)
                rows.append(row)
                continue
            codes_db = hasher.transform(X_db)
            row["map"] = mean_average_precision(hasher.transform(X_q), codes_db, y_q, y_db)
            row["distinct_codes"] = len(np.unique(codes_db[:5000], axis=0))
            print(
                f"[{name}] seed {seed} {n_bits:>3} bits {method:<16} mAP {row['map']:.4f} "
                f"fit {row['fit_seconds']:.1f} s",
                flush=True,
            )
            rows.append(row)
    return rows


def table_cells(rows):
    """``(bits, lines)``: one ``(data set, method name, cells)`` per data set and method, a
    cell per code length: the mean mAP over seeds and, for methods other than ITQ and LSH,
    its ratio to ITQ's ("-" where a method gives no codes)."""
    bits = sorted({r["n_bits"] for r in rows})
    groups = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["method"], r["n_bits"]), []).append(r["map"])
    scores = {
        key: None if None in values else float(np.mean(values)) for key, values in groups.items()
    }
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    lines = []
    for d in datasets:
        for m in methods:
            cells = []
            for b in bits:
                value = scores.get((d, m, b))
                itq = scores.get((d, "ITQHasher", b))
                if value is None:
                    cells.append("-")
                elif m not in ("ITQHasher", "LSHHasher") and itq:
                    cells.append(f"{value:.3f} ({value / itq:.2f}x)")
                else:
                    cells.append(f"{value:.3f}")
            lines.append((d, short_name(getattr(skhash, m)), cells))
    return bits, lines


def table(rows):
    """Markdown table: one line per data set and method, one column per code length, and the
    ratio of each method to ITQ."""
    bits, lines = table_cells(rows)
    out = [
        "| data set | method | " + " | ".join(f"{b} bits" for b in bits) + " |",
        "|---|---" + "|---" * len(bits) + "|",
    ]
    out += [f"| {d} | {m} | " + " | ".join(cells) + " |" for d, m, cells in lines]
    return "\n".join(out)


def rst_rows(rows):
    """The rows of the reStructuredText list-table of ``docs/benchmarks.rst``."""
    _, lines = table_cells(rows)
    escaped = {"-": "\\-"}  # a bare "-" would start a nested list
    return "\n".join(
        "\n".join([f"   * - {d}", f"     - {m}", *(f"     - {escaped.get(c, c)}" for c in cells)])
        for d, m, cells in lines
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--bits", nargs="+", type=int, default=[32, 64, 128])
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--quick", action="store_true", help="600 rows, one epoch: a smoke test")
    parser.add_argument("--json", help="write the rows to this file")
    parser.add_argument("--from-json", nargs="+", help="merge earlier runs' rows instead")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--rst", action="store_true", help="print docs/benchmarks.rst's rows")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    if args.from_json:
        rows = {}
        for path in args.from_json:  # a later file's row replaces an earlier one's
            for row in json.loads(open(path).read()):
                rows[row["dataset"], row["method"], row["n_bits"], row.get("seed", 0)] = row
        rows = list(rows.values())
    else:
        torch.set_num_threads(args.torch_threads)
        rows = run(args.datasets, args.bits, args.methods, args.quick, args.seeds)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    print(rst_rows(rows) if args.rst else table(rows))
    return rows


if __name__ == "__main__":
    main()
