"""GreedyHash with its released training settings, against our defaults.

The released unsupervised GreedyHash (DeepHash-pytorch's rerun of the authors' code) trains
its hashing layer with SGD at lr 1e-4 (divided by 10 every 30 epochs), momentum 0.9 and
weight decay 5e-4, batches of 64 (the authors': 32), for 200 epochs, on VGG features with
the classifier's dropout active. Here, on the
CIFAR-10 protocol (EfficientNet-Lite0 features, the 10,000 test images query the 50,000
training images), 64 bits, one seed, mAP@all and mAP@1000:

- ``defaults``: ``GreedyHashHasher(n_bits=64)``;
- ``typed``: the published settings typed into the parameters that exist without
  ``optimizer_kwargs`` (SGD, lr 1e-4, batch 32): plain SGD, no momentum;
- ``released``: the same with ``optimizer_kwargs={"momentum": 0.9, "weight_decay": 5e-4}``
  and the step schedule (``LRScheduler("StepLR", step_size=30, gamma=0.1)``).

Both SGD recipes run ``--epochs`` epochs (the released 200 by default). What remains
different from the released run is the features (no dropout: ours are fixed).

    python -m benchmarks bench_recipes                # about 8 minutes on one core
    python -m benchmarks bench_recipes --epochs 2     # a smoke run
"""

import argparse
import json
from pathlib import Path

import torch

from skhash import GreedyHashHasher
from skhash.datasets import load_cifar10_retrieval
from skhash.deep import LRScheduler
from skhash.metrics import mean_average_precision

from ._common import DATA, machine, timed

RECIPES = {
    "defaults": {},
    "typed": {"optimizer": "sgd", "lr": 1e-4, "batch_size": 32},
    "released": {
        "optimizer": "sgd",
        "lr": 1e-4,
        "batch_size": 32,
        "optimizer_kwargs": {"momentum": 0.9, "weight_decay": 5e-4},
        "callbacks": [LRScheduler("StepLR", step_size=30, gamma=0.1)],
    },
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200, help="epochs of the SGD recipes")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"machine: {machine()}", flush=True)
    X_db, y_db, X_q, y_q = load_cifar10_retrieval(DATA)
    rows = []
    for name, params in RECIPES.items():
        epochs = {"max_epochs": args.epochs} if params else {}
        hasher = GreedyHashHasher(n_bits=64, random_state=0, device="cpu", **params, **epochs)
        seconds, _ = timed(hasher.fit, X_db)
        db, q = hasher.transform(X_db), hasher.transform(X_q)
        row = {
            "recipe": name,
            "params": {
                k: repr(v) if k == "callbacks" else v for k, v in {**params, **epochs}.items()
            },
            "map": mean_average_precision(q, db, y_q, y_db),
            "map@1000": mean_average_precision(q, db, y_q, y_db, at=1000),
            "fit_seconds": seconds,
        }
        rows.append(row)
        print(
            f"{name:<9} mAP@all {row['map']:.4f}  mAP@1000 {row['map@1000']:.4f}  "
            f"fit {seconds:.0f} s",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main()
