"""Approximate faiss binary indexes against exact search: recall and speed, one run.

ITQ codes (64 bits) of the 50,000 CIFAR-10 EfficientNet-Lite0 training features are the
database, 2,000 test features the queries; one thread. For each index built by
:func:`skhash.to_faiss_index`: build seconds, milliseconds per query for k=10, and the
recall of the exact 10 nearest neighbours, counted by distance (a returned item counts
when it is no farther than the exact 10th neighbour, so that ties do not penalise an index).

    python -m benchmarks.bench_faiss_indexes [--json out.json]
"""

import argparse
import json

import faiss
import numpy as np

from skhash import ITQHasher, pack_codes, to_faiss_index
from skhash.datasets import load_cifar10_features

from ._common import machine, timed

K = 10
CASES = [
    ("BFlat", {}),
    ("BIVF256", {"nprobe": 1}),
    ("BIVF256", {"nprobe": 8}),
    ("BIVF256", {"nprobe": 32}),
    ("BHNSW32", {"ef_search": 16}),
    ("BHNSW32", {"ef_search": 64}),
    ("BMultiHash4x16", {}),
]


def run():
    faiss.omp_set_num_threads(1)
    X_db = load_cifar10_features(subset="train")[0]
    X_q = load_cifar10_features(subset="test")[0][:2000]
    itq = ITQHasher(n_bits=64, random_state=0).fit(X_db)
    db, queries = itq.transform(X_db), pack_codes(itq.transform(X_q), bitorder="little")
    exact = to_faiss_index(db)
    exact_dist, _ = exact.search(queries, K)
    rows = []
    for name, params in CASES:
        build, index = timed(to_faiss_index, db, name, **params)
        search, (dist, ind) = timed(index.search, queries, K)
        found = np.where(ind >= 0, dist, np.iinfo(np.int32).max)
        recall = float(np.mean(found <= exact_dist[:, -1:]))
        rows.append(
            {
                "index": name,
                **params,
                "build_s": build,
                "ms_per_query": 1e3 * search / len(queries),
                "recall@10": recall,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    flat = rows[0]["ms_per_query"]
    for row in rows:
        row["speed_vs_flat"] = flat / row["ms_per_query"]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_faiss_indexes")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    rows = run()
    print("| index | parameters | recall@10 | ms / query | speed vs BFlat |")
    print("|---|---|---|---|---|")
    for r in rows:
        params = ", ".join(f"{k}={r[k]}" for k in ("nprobe", "ef_search") if k in r) or "-"
        print(
            f"| {r['index']} | {params} | {r['recall@10']:.3f} | {r['ms_per_query']:.3f} | "
            f"{r['speed_vs_flat']:.1f}x |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
