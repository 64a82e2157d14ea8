"""Statistics of the paper benchmark: means over seeds, paired t-tests, gains."""

import numpy as np
from scipy import stats

from .config import PAPER_CIFAR10

__all__ = ["gain_over_best_baseline", "paired_tests", "summarise"]


def summarise(runs, metric):
    """``(dataset, method, n_bits) -> (mean, std, number of seeds)`` of ``metric``."""
    groups = {}
    for run in runs:
        if metric in run.scores:
            groups.setdefault(run.cell, []).append(run.scores[metric])
    return {key: (float(np.mean(v)), float(np.std(v)), len(v)) for key, v in groups.items()}


def paired_tests(per_query, dataset, bits, methods, seeds):
    """Paired t-tests of IDR-AE against every other method over per-query APs.

    ``per_query[(method, n_bits)]`` lists one array of per-query APs per seed, the queries
    in the same order for every method.
    """
    tests = []
    for n_bits in bits:
        ours = np.concatenate(per_query["IDR-AE", n_bits])
        for method in methods:
            if method == "IDR-AE":
                continue
            theirs = np.concatenate(per_query[method, n_bits])
            test = stats.ttest_rel(ours, theirs)
            tests.append(
                {
                    "dataset": dataset,
                    "n_bits": n_bits,
                    "baseline": method,
                    "mean_difference": float(np.mean(ours - theirs)),
                    "t": float(test.statistic),
                    "p_value": float(test.pvalue),
                    "n_pairs": int(len(ours)),
                    "seeds": list(seeds),
                }
            )
    return tests


def gain_over_best_baseline(scores):
    """(best baseline of the paper's seven, relative gain of IDR-AE over it)."""
    baselines = {m: v for m, v in scores.items() if m in PAPER_CIFAR10 and m != "IDR-AE"}
    best = max(baselines, key=baselines.get)
    return best, scores["IDR-AE"] / baselines[best] - 1
