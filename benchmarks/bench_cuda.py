"""The CUDA check: deep hashers and the torch search backend on a GPU, CUDA pickles on a CPU.

One short script for a machine with a GPU (``--device cpu`` runs it anywhere, to check the
script itself):

* each deep hasher fits on MNIST pixels (or random data without ``../shared/data``) on the
  device: seconds per epoch, mAP, and the same fit on the CPU for the ratio;
* ``HammingRetriever(backend="torch")`` on the device against the numpy backend: identical
  neighbours, and the time of each (10^6 random codes, 1000 queries, k = 10);
* a model fitted on the device, pickled, loads in a process that sees no GPU
  (``CUDA_VISIBLE_DEVICES=""``) and gives the same codes.

    python -m benchmarks bench_cuda [--device cuda] [--n-db 1000000]
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile

import numpy as np
import torch

import skhash
from skhash.metrics import mean_average_precision

from ._common import machine, mnist_released_protocol, timed

HASHERS = ["IDRAEHasher", "AEHasher", "WGANAEHasher", "SGHHasher", "BiHalfHasher"]

LOAD_ON_CPU = """
import pickle, sys, warnings
import numpy as np
warnings.simplefilter("ignore")
est = pickle.load(open(sys.argv[1], "rb"))
X = np.load(sys.argv[2])
np.save(sys.argv[3], est.transform(X))
print(est.device_)
"""


def data(n_train):
    try:
        X_db, y_db, X_q, y_q = mnist_released_protocol()
    except (FileNotFoundError, OSError):
        rng = np.random.default_rng(0)
        centers = rng.normal(size=(10, 784)).astype(np.float32)
        y_db, y_q = rng.integers(0, 10, n_train), rng.integers(0, 10, 1000)
        X_db = centers[y_db] + rng.normal(size=(n_train, 784)).astype(np.float32)
        X_q = centers[y_q] + rng.normal(size=(1000, 784)).astype(np.float32)
    return X_db[:n_train], y_db[:n_train], X_q[:1000], y_q[:1000]


def fits(device, n_train):
    X_db, y_db, X_q, y_q = data(n_train)
    print("| hasher | device s/epoch | cpu s/epoch | ratio | mAP device | mAP cpu |")
    print("|---|---|---|---|---|---|")
    fitted = None
    for name in HASHERS:
        row = {}
        for where in (device, "cpu"):
            est = getattr(skhash, name)(n_bits=64, device=where, random_state=0)
            seconds, _ = timed(est.fit, X_db)
            score = mean_average_precision(est.transform(X_q), est.transform(X_db), y_q, y_db)
            row[where] = (seconds / max(est.n_iter_, 1), score)
            if where == device and name == "IDRAEHasher":
                fitted = est
        (t_dev, m_dev), (t_cpu, m_cpu) = row[device], row["cpu"]
        print(
            f"| {name} | {t_dev:.3f} | {t_cpu:.3f} | {t_cpu / t_dev:.1f}x | {m_dev:.4f} | "
            f"{m_cpu:.4f} |",
            flush=True,
        )
    return fitted, X_q


def search(device, n_db):
    rng = np.random.default_rng(0)
    db = rng.integers(0, 2, (n_db, 64), dtype=np.uint8)
    q = rng.integers(0, 2, (1000, 64), dtype=np.uint8)
    ours = skhash.HammingRetriever(backend="torch", device=device).fit(db)
    reference = skhash.HammingRetriever(backend="numpy").fit(db)
    ours.kneighbors(q[:2], 1)
    reference.kneighbors(q[:2], 1)
    t_torch, (d_torch, i_torch) = timed(ours.kneighbors, q, 10)
    t_numpy, (d_numpy, i_numpy) = timed(reference.kneighbors, q, 10)
    assert (i_torch == i_numpy).all() and (d_torch == d_numpy).all(), "torch != numpy"
    print(
        f"search {n_db:,} x 1000, k=10: torch on {device} {t_torch:.3f} s, numpy (compiled) "
        f"{t_numpy:.3f} s: identical neighbours",
        flush=True,
    )


def pickle_to_cpu(fitted, X):
    with tempfile.TemporaryDirectory() as tmp:
        paths = [os.path.join(tmp, name) for name in ("model.pkl", "X.npy", "codes.npy")]
        with open(paths[0], "wb") as f:
            pickle.dump(fitted, f)
        np.save(paths[1], X)
        env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
        result = subprocess.run(
            [sys.executable, "-c", LOAD_ON_CPU, *paths], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        same = np.array_equal(np.load(paths[2]), fitted.transform(X))
    print(f"pickled on {fitted.device_}, loaded on {result.stdout.strip()}: same codes {same}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = "cuda" if torch.cuda.is_available() else "cpu"
    parser.add_argument("--device", default=default)
    parser.add_argument("--n-train", type=int, default=20_000)
    parser.add_argument("--n-db", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"machine: {machine(device=name)}", flush=True)
    fitted, X_q = fits(args.device, args.n_train)
    search(args.device, args.n_db)
    pickle_to_cpu(fitted, X_q)


if __name__ == "__main__":
    main()
