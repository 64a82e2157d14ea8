"""Reproduce the IDR-AE paper's experiments on the data we have.

Tables 1 (P@1000) and 2 (mAP@all) for all eight methods at several code lengths, three seeds
(a new model seed each, and a new query/database split where the protocol draws one), a
paired t-test of IDR-AE against every baseline over per-query average precisions,
hyper-parameters chosen by grid search with skhash's own scorers on the training split only,
and Figures 2 (precision-recall curves of the autoencoders), 3 (seconds per epoch) and 4 (the
distribution term L_G during training).

    python -m benchmarks.paper                       # the full run (hours on 2 CPU cores)
    python -m benchmarks.paper --quick               # smoke test: small subset, one seed
    python -m benchmarks.paper --datasets cifar10 --bits 32 64 --seeds 0
    python -m benchmarks.paper --datasets cifar10 --standardize   # StandardScaler first
    python -m benchmarks.paper --from-json a/results.json b/results.json --out merged
    python -m benchmarks.paper --datasets cifar10 --bits 32 --seeds 1 2 --search-from a/results.json

Runs over disjoint datasets or code lengths (e.g. one per CPU core) merge without losing the
paired tests, which compare per-query APs within one dataset and code length.

Writes ``report.md``, ``results.json`` and the PNG figures to ``--out`` (default
``benchmarks/results/paper-<date>[-quick]``).

The parts: ``config`` (methods, grids, data sets, the paper's numbers), ``experiment``
(search, fit, score), ``results`` (the typed run record and the results store: JSON,
merging), ``statistics`` (summaries, paired tests, gains), ``report`` and ``figures``, and
``cli`` (the command line).
"""

__all__ = ["main"]


def main(argv=None):
    """Run the command line (see the module docstring); returns the results as JSON data."""
    from .cli import main as run_cli

    return run_cli(argv)
