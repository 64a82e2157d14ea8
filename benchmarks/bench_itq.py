"""ITQ's fit and transform against the previous implementation, and the fits' peak memory.

On 200,000 x 1280 features (``bench_classic_fit``'s CIFAR-10 features four times over, as
float32 and as float64), one BLAS thread, 64 bits, best of ``--repeats`` interleaved runs:

- ``previous``: the implementation before this benchmark: the PCA of a centred copy of
  ``X``, the 50 rotation updates in ``X``'s dtype, ``transform`` as centring, then two
  products;
- ``ITQHasher``: the PCA's covariance summed a block at a time (only its upper triangle,
  and only the leading eigenvectors solved), the rotation's products in float32 on blocks
  that stay in cache, ``transform`` as one product ``X @ P - mean @ P``.

Both transforms validate their input the same way.

Memory: the peak numpy allocates during ``ITQHasher.fit`` beyond the input
(``tracemalloc``), and the peak resident memory of a default ``IDRAEHasher`` fit beyond
what the process held before it (Linux ``VmHWM``, reset first), both as multiples of the
input's size.

    python -m benchmarks bench_itq                 # about 5 minutes
    python -m benchmarks bench_itq --rows 20000 --json a.json
"""

import argparse
import json
import tracemalloc
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from skhash import IDRAEHasher, ITQHasher
from skhash.linear._pca import random_rotation

from ._common import interleaved_best_times, machine
from .bench_classic_fit import features


def previous_fit(X, n_bits, seed):
    """``(mean, components, rotation)`` as ITQHasher computed them before."""
    rng = check_random_state(seed)
    mean = X.mean(axis=0)
    centred = X - mean
    scale = float(2.0 ** np.round(np.log2(np.abs(centred).max())))
    components = PCA(n_bits, svd_solver="covariance_eigh").fit(centred / scale).components_
    V = centred @ components.T / X.dtype.type(scale)
    rotation = random_rotation(n_bits, rng, V.dtype)
    for _ in range(50):
        B = np.where(V @ rotation >= 0, V.dtype.type(1), V.dtype.type(-1))
        u, _, vt = np.linalg.svd(B.T @ V)
        rotation = (u @ vt).T
    return mean, components, rotation


def previous_transform(model, X, validate):
    """The previous ``transform``: the same input validation, then centring and two
    products."""
    mean, components, rotation = model
    X = validate(X)
    return (((X - mean) @ components.T) @ rotation > 0).astype(np.uint8)


def _resident_peak(fit):
    """Peak resident bytes while ``fit()`` runs, beyond the resident bytes before it."""
    status = Path("/proc/self/status")
    if not status.exists():
        return float("nan")
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to now

    def read(field):
        line = next(li for li in status.read_text().splitlines() if li.startswith(field))
        return int(line.split()[1]) * 1024

    before = read("VmRSS:")
    fit()
    return read("VmHWM:") - before


def compare(X, n_bits, repeats):
    """Fit and transform seconds of both, and their codes' agreement."""
    ours = ITQHasher(n_bits=n_bits, random_state=0)

    def validate(X):
        return ours._validate_X(X, reset=False)

    (t_prev, t_ours), (model, _) = interleaved_best_times(
        repeats, [(previous_fit, X, n_bits, 0), (ours.fit, X)]
    )
    (tt_prev, tt_ours), (codes_prev, codes_ours) = interleaved_best_times(
        repeats, [(previous_transform, model, X, validate), (ours.transform, X)]
    )
    np.testing.assert_array_equal(codes_prev.shape, codes_ours.shape)
    return {
        "dtype": str(X.dtype),
        "fit_previous": t_prev,
        "fit": t_ours,
        "transform_previous": tt_prev,
        "transform": tt_ours,
        "fit_speedup": t_prev / t_ours,
        "transform_speedup": tt_prev / tt_ours,
        "loss": ours.quantization_loss_,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--bits", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    X32 = features(args.rows)
    results = {"machine": machine(), "rows": args.rows, "n_bits": args.bits, "speed": []}
    with threadpool_limits(1):
        for X in (X32, X32.astype(np.float64)):
            row = compare(X, args.bits, args.repeats)
            results["speed"].append(row)
            print(
                f"{row['dtype']}: fit {row['fit_previous']:.1f} -> {row['fit']:.1f} s "
                f"({row['fit_speedup']:.2f}x), transform {row['transform_previous']:.2f} -> "
                f"{row['transform']:.2f} s ({row['transform_speedup']:.2f}x)",
                flush=True,
            )
        tracemalloc.start()
        ITQHasher(n_bits=args.bits, random_state=0).fit(X32)
        results["itq_peak_over_input"] = tracemalloc.get_traced_memory()[1] / X32.nbytes
        tracemalloc.stop()
        idrae = IDRAEHasher(n_bits=args.bits, device="cpu", random_state=0)
        results["idrae_peak_over_input"] = _resident_peak(lambda: idrae.fit(X32)) / X32.nbytes
    print(
        f"peak extra memory, as multiples of the float32 input: ITQ fit "
        f"{results['itq_peak_over_input']:.2f}x, IDR-AE default fit "
        f"{results['idrae_peak_over_input']:.2f}x"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()
