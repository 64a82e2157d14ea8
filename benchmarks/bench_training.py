"""Training cost of the deep hashers: seconds per epoch, as a ratio to AEHasher.

Every method fits one epoch (64 bits, its default batch size and network) on the same
rows, in one run on one machine; the ratio to ``AEHasher`` measured in the same run is
the number to compare across machines. Data: MNIST test pixels / 255 from
``$SKHASH_DATA`` (default ``../shared/data``), or Gaussian data with ``--synthetic``.

    python benchmarks/bench_training.py [--rows 10000] [--epochs 2] [--threads 1] [--synthetic]

torch uses one thread by default: on a loaded 2-core machine, more threads oversubscribe.
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from skhash.deep import AEHasher, SGHHasher, SSDHHasher

DATA = Path(
    os.environ.get("SKHASH_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
)
METHODS = {"AE": AEHasher, "SGH": SGHHasher, "SSDH": SSDHHasher}


def load(rows, synthetic):
    if synthetic:
        return np.random.default_rng(0).random((rows, 784), dtype=np.float32)
    images = np.load(DATA / "mnist_test.npz")["images"][:rows]
    return images.reshape(len(images), -1).astype(np.float32) / 255


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2, help="the last epoch is timed")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X = load(args.rows, args.synthetic)
    seconds, setup = {}, {}
    for name, cls in METHODS.items():
        start = time.perf_counter()
        est = cls(n_bits=64, max_epochs=args.epochs, device="cpu", random_state=0).fit(X)
        total = time.perf_counter() - start
        # The first epoch includes warm-up: time the last one.
        seconds[name] = est.history_[-1]["time"]
        # Outside the epochs: validation, module building, SSDH's similarity thresholds.
        setup[name] = total - sum(h["time"] for h in est.history_)
    print(f"Seconds per epoch, {X.shape[0]} x {X.shape[1]}, 64 bits, torch threads={args.threads}")
    print("| method | batch | s/epoch | / AE | setup (s) |")
    print("|---|---|---|---|---|")
    for name, cls in METHODS.items():
        ratio = seconds[name] / seconds["AE"]
        print(
            f"| {name} | {cls().batch_size} | {seconds[name]:.2f} | {ratio:.2f} "
            f"| {setup[name]:.2f} |"
        )


if __name__ == "__main__":
    main()
