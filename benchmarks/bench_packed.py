"""Search of a memory-mapped code file against the in-memory backends.

A file of random 64-bit codes (10^6 by default) is saved with ``save_codes`` and mapped
with ``load_codes(mmap_mode="r")``; 100 queries, k = 10. Prints each search's time as a
ratio to the in-memory numpy backend measured in the same run, and the peak of Python
allocations (tracemalloc) while loading, fitting and searching: the mapped search stays within
``working_memory`` while the in-memory backends load the whole database. Also the peak of
``fit`` alone on the packed bytes in memory (``bitorder=``), as a multiple of their size:
they are held once as words, never unpacked to 0/1 codes.

    python -m benchmarks bench_packed --n-db 1000000 --json benchmarks/results/packed.json
"""

import argparse
import json
import os
import tempfile
import tracemalloc

import numpy as np
import sklearn

from skhash import HammingRetriever, PackedCodes, load_codes, save_codes

from ._common import machine, timed


def measure(func):
    tracemalloc.start()
    elapsed, out = timed(func)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-db", type=int, default=1_000_000)
    parser.add_argument("--n-query", type=int, default=100)
    parser.add_argument("--working-memory", type=float, default=64, help="MiB")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"{args.n_db} codes of 64 bits, {args.n_query} queries, k=10")
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "db.npy")
        packed = rng.integers(0, 256, (args.n_db, 8), dtype=np.uint8)
        save_codes(path, PackedCodes(packed, 64))
        del packed
        queries = load_codes(path, mmap_mode="r").unpack(0, args.n_query)

        def fit_and_search(backend, mmap):
            codes = load_codes(path, mmap_mode="r" if mmap else None)
            retriever = HammingRetriever(n_neighbors=10, backend=backend)
            retriever.fit(codes if mmap else codes.unpack())
            return timed(retriever.kneighbors, queries)

        def fit_packed_bytes(bitorder):
            packed = load_codes(path)  # little-endian bytes, the same distances either way
            # The database alone: no multi-index tables (bench_mih measures those).
            retriever = HammingRetriever(bitorder=bitorder, backend="numpy", algorithm="brute")
            _, fit_peak, _ = measure(lambda: retriever.fit(packed.packed))
            return fit_peak / packed.packed.nbytes

        # Compile (or load) the search kernels before timing, for both kinds of database
        # (a memory-mapped block is a read-only array: another compiled version).
        HammingRetriever(n_neighbors=1, backend="numpy").fit(queries).kneighbors(queries[:1])
        mapped = HammingRetriever(n_neighbors=1, backend="numpy")
        mapped.fit(load_codes(path, mmap_mode="r")).kneighbors(queries[:1])
        runs = {}
        with sklearn.config_context(working_memory=args.working_memory):
            runs["memory-mapped file"] = measure(lambda: fit_and_search("numpy", True))
        runs["in memory, numpy"] = measure(lambda: fit_and_search("numpy", False))
        runs["in memory, faiss"] = measure(lambda: fit_and_search("faiss", False))
        base = runs["in memory, numpy"][2][0]
        reference = runs["in memory, numpy"][2][1][1]
        for name, (_, peak, (elapsed, (_, ind))) in runs.items():
            np.testing.assert_array_equal(ind, reference)
            print(
                f"{name:20s} search x{elapsed / base:5.2f} of numpy ({elapsed:.3f} s); "
                f"fit + search peak allocations {peak / 2**20:6.1f} MiB"
            )
        print("(faiss's own memory is invisible to tracemalloc.)")
        fit_peaks = {order: fit_packed_bytes(order) for order in ("little", "big")}
        for order, ratio in fit_peaks.items():
            print(f"fit on packed bytes (bitorder={order!r}): peak {ratio:.2f}x their size")
    if args.json:
        figures = {
            name: {"search_ratio": run[2][0] / base, "peak_MiB": run[1] / 2**20}
            for name, run in runs.items()
        }
        record = dict(
            machine=machine(),
            n_db=args.n_db,
            n_query=args.n_query,
            runs=figures,
            fit_packed_peak_ratio=fit_peaks,
        )
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
