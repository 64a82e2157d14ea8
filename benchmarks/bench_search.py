"""Exact Hamming k-NN and radius search: skhash backends against raw faiss.

Random codes (10^6 by default), 1000 queries, k = 1, 10, 100 and a radius query that
returns about 100 items per query, as lists and as ``radius_neighbors_graph`` (CSR).
Results are checked to be identical before timing; speeds are printed as ratios to raw
faiss ``IndexBinaryFlat`` measured in the same run.

    python -m benchmarks bench_search                 # 10^6 codes, 32/64/128/256 bits
    python -m benchmarks bench_search --n-db 100000   # quicker
"""

import argparse
import os

import faiss
import numpy as np
from scipy.stats import binom

from skhash import HammingRetriever, pack_codes

from ._common import interleaved_best_times, machine, timed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-db", type=int, default=1_000_000)
    parser.add_argument("--n-queries", type=int, default=1000)
    parser.add_argument("--bits", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--k", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--torch", action="store_true", help="also time the torch backend (CPU)")
    args = parser.parse_args(argv)

    n_threads = os.cpu_count() if args.n_jobs == -1 else args.n_jobs
    faiss.omp_set_num_threads(n_threads)
    print(f"machine: {machine(threads=n_threads)}")
    print(
        f"database {args.n_db:,} random codes, {args.n_queries} queries, best of "
        f"{args.repeats}; ratio = raw faiss time / skhash time (>= 1 is faster)"
    )
    print(
        f"{'bits':>5} {'query':>10} {'faiss s':>8} {'numpy s':>8} {'numpy/faiss':>11} "
        f"{'skhash-faiss s':>14} {'ratio':>6}"
        + (f" {'torch s':>8} {'torch/faiss':>11}" if args.torch else "")
    )
    rng = np.random.default_rng(0)
    for n_bits in args.bits:
        db = rng.integers(0, 2, (args.n_db, n_bits), dtype=np.uint8)
        queries = rng.integers(0, 2, (args.n_queries, n_bits), dtype=np.uint8)
        index = faiss.IndexBinaryFlat(n_bits)
        index.add(pack_codes(db))
        packed_queries = pack_codes(queries)
        ours = {
            backend: HammingRetriever(backend=backend, n_jobs=args.n_jobs, device="cpu").fit(db)
            for backend in ["numpy", "faiss"] + (["torch"] if args.torch else [])
        }
        for retriever in ours.values():  # compile (or load) the kernels before timing
            retriever.kneighbors(queries[:2], 1)
            retriever.radius_neighbors(queries[:2], 1)
        # radius returning ~100 items per query on average
        radius = int(binom.ppf(100 / args.n_db, n_bits, 0.5))
        tasks = [(f"k={k}", k) for k in args.k] + [(f"r={radius}", None), ("graph", "graph")]
        for label, k in tasks:
            if k == "graph":  # radius_neighbors_graph: a CSR matrix, rows by index
                (t_raw, t_np, t_fs), outs = interleaved_best_times(
                    args.repeats,
                    [
                        (index.range_search, packed_queries, radius + 1),
                        (ours["numpy"].radius_neighbors_graph, queries, radius, "distance"),
                        (ours["faiss"].radius_neighbors_graph, queries, radius, "distance"),
                    ],
                )
                (_, _, raw_ind), np_graph, fs_graph = outs
                assert (np_graph != fs_graph).nnz == 0 and np_graph.nnz == len(raw_ind)
                torch_call = ("torch", "radius_neighbors_graph", (queries, radius, "distance"))
            elif k is not None:
                (t_raw, t_np, t_fs), outs = interleaved_best_times(
                    args.repeats,
                    [
                        (index.search, packed_queries, k),
                        (ours["numpy"].kneighbors, queries, k),
                        (ours["faiss"].kneighbors, queries, k),
                    ],
                )
                (raw_dist, _), (np_dist, np_ind), (fs_dist, fs_ind) = outs
                np.testing.assert_array_equal(np_ind, fs_ind)
                np.testing.assert_array_equal(np_dist, fs_dist)
                np.testing.assert_array_equal(np_dist, raw_dist)
                torch_call = ("torch", "kneighbors", (queries, k))
            else:
                # faiss's radius is exclusive: r + 1 returns distances <= r
                (t_raw, t_np, t_fs), outs = interleaved_best_times(
                    args.repeats,
                    [
                        (index.range_search, packed_queries, radius + 1),
                        (ours["numpy"].radius_neighbors, queries, radius),
                        (ours["faiss"].radius_neighbors, queries, radius),
                    ],
                )
                (_, _, raw_ind), (np_dist, np_ind), (fs_dist, fs_ind) = outs
                for a, b in zip(np_ind, fs_ind, strict=True):
                    np.testing.assert_array_equal(a, b)
                assert sum(map(len, np_ind)) == len(raw_ind)
                torch_call = ("torch", "radius_neighbors", (queries, radius))
            torch_cell = ""
            if args.torch:  # checked against the numpy backend, timed once
                backend, method, call_args = torch_call
                t_torch, result = timed(getattr(ours[backend], method), *call_args)
                reference = getattr(ours["numpy"], method)(*call_args)
                if method == "radius_neighbors_graph":
                    assert (result != reference).nnz == 0
                else:
                    for a, b in zip(result, reference, strict=True):
                        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
                torch_cell = f" {t_torch:8.3f} {t_raw / t_torch:11.2f}"
            print(
                f"{n_bits:>5} {label:>10} {t_raw:8.3f} {t_np:8.3f} {t_raw / t_np:11.2f} "
                f"{t_fs:14.3f} {t_raw / t_fs:6.2f}{torch_cell}",
                flush=True,
            )


if __name__ == "__main__":
    main()
