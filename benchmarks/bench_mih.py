"""Exact multi-index hashing against our scan and faiss's flat index.

Clustered codes (``--centres`` centres, each bit flipped with probability 1/16) and random
codes, 1,000 queries drawn the same way, one thread, best of ``--repeats`` interleaved
runs. MIH's results are asserted identical to the scan's before timing. Also: the memory
of the MIH tables, and ``partial_fit`` of 10^5 codes against the whole fit.

    python -m benchmarks bench_mih                          # 10^6 and 10^7 codes, 64 bits
    python -m benchmarks bench_mih --n-db 1000000 --bits 64 128 --json a.json
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from skhash import (
    HammingRetriever,
    PackedCodes,
    load_codes,
    save_codes,
    to_faiss_index,
    unpack_codes,
)

from ._common import interleaved_best_times, machine

K = (1, 10, 100)
RADII = (0, 1, 2, 3, 4)


def make_codes(rng, n, n_bits, centres, flip=1 / 16):
    """``n`` codes near ``centres`` (flipped bits), or uniform random codes when None,
    packed little-endian (10^8 codes of 64 bits: 800 MB, not 6.4 GB of 0/1 bytes)."""
    packed = np.empty((n, -(-n_bits // 8)), dtype=np.uint8)
    step = 1_000_000
    for start in range(0, n, step):  # bounded temporaries
        rows = slice(start, min(start + step, n))
        if centres is None:
            codes = rng.random((rows.stop - rows.start, n_bits)) < 0.5
        else:
            picked = centres[rng.integers(0, len(centres), rows.stop - rows.start)]
            codes = picked ^ (rng.random(picked.shape) < flip)
        packed[rows] = np.packbits(codes, axis=1, bitorder="little")
    return packed


def run_one(n_db, n_bits, kind, n_queries, repeats, with_faiss):
    rng = np.random.default_rng(0)
    centres = None if kind == "random" else (rng.random((2000, n_bits)) < 0.5).astype(np.uint8)
    codes = make_codes(rng, n_db, n_bits, centres)
    queries = make_codes(rng, n_queries, n_bits, centres)
    if n_bits % 8:
        raise ValueError("--bits: whole bytes (the codes are packed)")
    start = time.perf_counter()
    scan = HammingRetriever(algorithm="brute", backend="numpy", bitorder="little").fit(codes)
    fit_scan = time.perf_counter() - start
    start = time.perf_counter()
    mih = HammingRetriever(algorithm="mih", bitorder="little").fit(codes)
    fit_mih = time.perf_counter() - start
    index = mih._index
    table_bytes = index.offsets.nbytes + index.ids.nbytes
    row = dict(n_db=n_db, n_bits=n_bits, codes=kind, n_substrings=index.n_substrings)
    row.update(fit_scan_s=fit_scan, fit_mih_s=fit_mih, tables_MiB=table_bytes / 2**20)
    database_bytes = 8 * index.scan.n_db * index.scan.columns.shape[0]
    row.update(database_MiB=database_bytes / 2**20, knn={}, radius={})
    if with_faiss:  # faiss's own exact index, one thread, on the same packed codes
        import faiss

        faiss.omp_set_num_threads(1)
        flat = to_faiss_index(PackedCodes(codes, n_bits, bitorder="little"))
    for k in K:
        expected = scan.kneighbors(queries, k)
        got = mih.kneighbors(queries, k)
        assert np.array_equal(got[1], expected[1]) and np.array_equal(got[0], expected[0])
        calls = [(scan.kneighbors, queries, k), (mih.kneighbors, queries, k)]
        if with_faiss:
            calls.append((flat.search, queries, k))
        times, _ = interleaved_best_times(repeats, calls)
        row["knn"][k] = dict(zip(["scan_s", "mih_s", "faiss_s"], times, strict=False))
        print(_line(row, f"k={k}", times), flush=True)
    for radius in RADII:
        expected = scan.radius_neighbors_graph(queries, radius=radius, mode="distance")
        got = mih.radius_neighbors_graph(queries, radius=radius, mode="distance")
        assert (expected != got).nnz == 0
        calls = [
            (scan.radius_neighbors, queries, radius),
            (mih.radius_neighbors, queries, radius),
        ]
        times, _ = interleaved_best_times(repeats, calls)
        row["radius"][radius] = dict(zip(["scan_s", "mih_s"], times, strict=True))
        print(_line(row, f"r={radius}", times), flush=True)
    n_add = min(100_000, n_db // 10)
    grown = HammingRetriever(algorithm="mih", bitorder="little").fit(codes[:-n_add])
    start = time.perf_counter()
    grown.partial_fit(codes[-n_add:])
    row["partial_fit_s"], row["partial_fit_rows"] = time.perf_counter() - start, n_add
    assert np.array_equal(
        grown.kneighbors(queries[:50], 10)[1], mih.kneighbors(queries[:50], 10)[1]
    )
    row["on_file"] = on_file(codes, queries, n_bits, mih, repeats)
    print(
        f"  tables {row['tables_MiB']:.0f} MiB (database {row['database_MiB']:.0f} MiB); fit "
        f"{fit_mih:.2f} s (scan {fit_scan:.2f} s); partial_fit of {n_add:,}: "
        f"{row['partial_fit_s']:.3f} s = {row['partial_fit_s'] / fit_mih:.1%} of the fit",
        flush=True,
    )
    return row


def on_file(codes, queries, n_bits, mih, repeats):
    """MIH in place over a memory-mapped code file (its pages cached) against MIH in
    memory, k = 10 and radius 3: ``{"fit_s", "knn_10": (memory_s, file_s), "radius_3"}``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = save_codes(Path(tmp) / "db.npy", PackedCodes(codes, n_bits, "little"))
        start = time.perf_counter()
        mapped = HammingRetriever(algorithm="mih").fit(load_codes(path, mmap_mode="r"))
        result = {"fit_s": time.perf_counter() - start}
        codes01 = unpack_codes(queries, n_bits, "little")  # a file's retriever takes 0/1
        for name, method, arg in (
            ("knn_10", "kneighbors", 10),
            ("radius_3", "radius_neighbors_graph", 3),
        ):
            calls = [(getattr(mih, method), queries, arg), (getattr(mapped, method), codes01, arg)]
            a, b = (func(*args) for func, *args in calls)  # also compiles for read-only maps
            same = (a != b).nnz == 0 if method.endswith("graph") else np.array_equal(a[1], b[1])
            assert same, "MIH on the file differs from MIH in memory"
            times, _ = interleaved_best_times(repeats, calls)
            result[name] = times
            print(
                f"  MIH on a memory-mapped file, {name}: {times[1] / times[0]:.2f}x the time "
                f"in memory"
            )
    return result


def _line(row, query, times):
    ratios = f"MIH {times[0] / times[1]:6.1f}x the scan"
    if len(times) > 2:
        ratios += f", {times[2] / times[1]:6.1f}x faiss flat"
    return (
        f"{row['n_db']:>10,} {row['n_bits']:>3} bits {row['codes']:<9} {query:<6} scan "
        f"{times[0]:7.3f} s  MIH {times[1]:7.3f} s  {ratios}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-db", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--bits", type=int, nargs="+", default=[64])
    parser.add_argument("--codes", nargs="+", default=["clustered", "random"])
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-faiss", action="store_true")
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    print(f"machine: {machine()}", flush=True)
    rows = []
    with threadpool_limits(1):
        for n_db in args.n_db:
            for n_bits in args.bits:
                for kind in args.codes:
                    rows.append(
                        run_one(n_db, n_bits, kind, args.queries, args.repeats, not args.no_faiss)
                    )
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    return rows


if __name__ == "__main__":
    main()
