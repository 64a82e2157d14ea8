"""Fit time and peak memory of the classic hashers against ITQ on 200,000 x 1280 features.

The data are the 50,000 CIFAR-10 training features (EfficientNet-Lite0) four times over,
each copy with Gaussian noise of standard deviation 0.01, as float32 (1 GB). Every hasher
fits with its defaults at 64 bits, one BLAS thread, ITQ first; the peak is the most memory
numpy allocated during the fit beyond the input (``tracemalloc``). The issue's bar: every
new hasher within 3x ITQ's fit time and 3x the input's size.

    python -m benchmarks bench_classic_fit                     # about 5 minutes
    python -m benchmarks bench_classic_fit --rows 20000 --json a.json
"""

import argparse
import json
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_limits

import skhash

from ._common import DATA, machine, timed

METHODS = (
    "ITQHasher",
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


def features(n_rows):
    """``n_rows`` CIFAR-10 training features, repeated with small noise, float32."""
    base = skhash.datasets.load_cifar10_features(DATA, subset="train")[0]
    rng = np.random.default_rng(0)
    copies = -(-n_rows // len(base))
    X = np.concatenate([base] * copies)[:n_rows]
    X += rng.normal(scale=0.01, size=X.shape).astype(np.float32)
    return X


def measure(method, X, n_bits):
    hasher = getattr(skhash, method)(n_bits=n_bits, random_state=0)
    tracemalloc.start()
    seconds, _ = timed(hasher.fit, X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"method": method, "fit_seconds": seconds, "peak_bytes": peak}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    X = features(args.rows)
    rows = []
    with threadpool_limits(1):
        for method in args.methods:
            row = measure(method, X, args.bits)
            rows.append(row)
            print(
                f"{method:<20} fit {row['fit_seconds']:7.1f} s  "
                f"peak {row['peak_bytes'] / X.nbytes:5.2f}x the input",
                flush=True,
            )
    itq = next((r for r in rows if r["method"] == "ITQHasher"), None)
    print("\n| method | fit (s) | vs ITQ | peak / input |\n|---|---|---|---|")
    for row in rows:
        ratio = f"{row['fit_seconds'] / itq['fit_seconds']:.2f}x" if itq else "-"
        print(
            f"| {skhash.utils.discovery.short_name(getattr(skhash, row['method']))} | "
            f"{row['fit_seconds']:.1f} | {ratio} | {row['peak_bytes'] / X.nbytes:.2f}x |"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "rows": args.rows, "results": rows}, f, indent=1)
    return rows


if __name__ == "__main__":
    main()
