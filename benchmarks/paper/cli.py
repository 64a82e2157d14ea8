"""``python -m benchmarks.paper``: run, or rebuild a report from results files."""

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

import skhash

from .._common import machine
from . import __doc__ as DESCRIPTION
from .config import AUTOENCODERS, CLASS_NAMES, DATASETS, METHODS, PRECISION_K, QUICK
from .experiment import run
from .figures import plot_figures
from .report import write_report
from .results import Results, merge_results

__all__ = ["main"]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.paper", description=DESCRIPTION.split("\n")[0]
    )
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--bits", nargs="+", type=int, default=[32, 64, 128])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=list(CLASS_NAMES), default=METHODS)
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="override every deep hasher's max_epochs"
    )
    parser.add_argument("--no-search", action="store_true", help="use default parameters")
    parser.add_argument(
        "--search-from",
        type=Path,
        default=None,
        help="reuse the parameters chosen in an earlier results.json (to add seeds to a run)",
    )
    parser.add_argument(
        "--standardize",
        action="store_true",
        help="put a StandardScaler, fitted on the database, in front of every method",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: 1,200 samples, 200 queries, 1 epoch"
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        default=None,
        help="rebuild the report and figures from results.json files (several are merged "
        "into --out), training nothing",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="with --from-json: the methods of each later file replace those of the earlier "
        "ones at its code lengths (a rerun after a change of defaults)",
    )
    parser.add_argument(
        "--torch-threads", type=int, default=1, help="torch threads (small networks: one)"
    )
    return parser.parse_args(argv)


def rebuild(args, command):
    """Merge ``--from-json`` files and write their report; nothing is trained."""
    results = merge_results([Results.read(path) for path in args.from_json], replace=args.replace)
    out = args.out or args.from_json[0].parent
    out.mkdir(parents=True, exist_ok=True)
    if [out / "results.json"] != args.from_json:
        results.meta["command"].append(command)
        results.write(out / "results.json")
    datasets = results.cells("dataset")
    bits = sorted(results.cells("n_bits"))
    order = METHODS + AUTOENCODERS + list(CLASS_NAMES)  # the paper's order, then the rest
    methods = sorted(
        results.cells("method"), key=lambda m: order.index(m) if m in order else len(order)
    )
    figures = plot_figures(results, out, datasets)
    write_report(results, out, datasets, bits, methods, figures)
    print(f"report: {out / 'report.md'}")
    return results


def main(argv=None):
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    command = "python -m benchmarks.paper " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.from_json is not None:
        return rebuild(args, command).to_json()
    if args.quick:
        args.seeds = args.seeds[:1]
        args.max_epochs = args.max_epochs or QUICK["max_epochs"]
    methods = list(args.methods)
    if "IDR-AE" in methods and "AE" not in methods:  # the paper's ablation comes with it
        methods.append("AE")
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out = args.out or Path("benchmarks/results") / f"paper-{date}{'-quick' if args.quick else ''}"
    out.mkdir(parents=True, exist_ok=True)
    results = run(
        args.datasets,
        args.bits,
        methods,
        searched=Results.read(args.search_from).search if args.search_from else None,
        seeds=args.seeds,
        quick=args.quick,
        max_epochs=args.max_epochs,
        search=not args.no_search,
        standardize=args.standardize,
    )
    results.meta = {
        "precision_k": PRECISION_K["quick" if args.quick else "full"],
        "quick": args.quick,
        "standardize": args.standardize,
        "date": date,
        "machine": machine(skhash=skhash.__version__),
        "command": command,
    }
    figures = plot_figures(results, out, args.datasets)
    results.write(out / "results.json")
    write_report(results, out, args.datasets, args.bits, methods, figures)
    print(f"report: {out / 'report.md'}")
    return results.to_json()
