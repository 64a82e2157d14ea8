"""Fit time with the default thread settings against explicit ``n_jobs``, in one run.

skhash's hashers use ``n_jobs`` threads inside ``fit`` and ``transform`` (``None``: one).
This measures what that default saves against the libraries' own defaults (torch and BLAS
take every core), on whatever else the machine is doing at the time:

* ``IDRAEHasher`` on 10,000 MNIST rows, 2 epochs; ``ITQHasher`` on the 50,000 CIFAR-10
  training features, at 64 bits.
* ``library default``: torch's and BLAS's own thread counts (all cores), the setting a user
  got before ``n_jobs`` existed; ``n_jobs=None`` (1 thread, skhash's default); ``n_jobs=-1``.

    python -m benchmarks.bench_threads [--repeats 3] [--json out.json]
"""

import argparse
import json
import os

import numpy as np
import torch
from threadpoolctl import threadpool_info

from skhash import IDRAEHasher, ITQHasher
from skhash.datasets import load_cifar10_features, load_mnist

from ._common import machine, timed


def _library_default(cls):
    """The class with ``_threads`` switched off: torch and BLAS keep their own counts."""
    from contextlib import nullcontext

    return type(f"{cls.__name__}LibraryThreads", (cls,), {"_threads": lambda self: nullcontext()})


def _time(make, cls, X, repeats, **params):
    times = [timed(make(cls, **params).fit, X)[0] for _ in range(repeats)]
    return float(np.median(times))


def run(repeats):
    X_mnist = load_mnist()[0][:10_000]
    X_cifar = load_cifar10_features(subset="train")[0]
    cases = {
        "IDRAEHasher, MNIST 10k, 2 epochs": (
            lambda cls, **kw: cls(n_bits=64, max_epochs=2, random_state=0, **kw),
            IDRAEHasher,
            X_mnist,
        ),
        "ITQHasher, CIFAR-10 50k x 1280": (
            lambda cls, **kw: cls(n_bits=64, random_state=0, **kw),
            ITQHasher,
            X_cifar,
        ),
    }
    rows = []
    for name, (make, cls, X) in cases.items():
        default = _time(make, _library_default(cls), X, repeats)
        one = _time(make, cls, X, repeats)
        every = _time(make, cls, X, repeats, n_jobs=-1)
        rows.append(
            {
                "case": name,
                "library default (s)": default,
                "n_jobs=None (s)": one,
                "n_jobs=-1 (s)": every,
                "library default / n_jobs=None": default / one,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_threads")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    print(
        f"machine: {machine(torch_threads=torch.get_num_threads())}; BLAS threads: "
        f"{[p['num_threads'] for p in threadpool_info()]}"
    )
    rows = run(args.repeats)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_average": os.getloadavg(), "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
