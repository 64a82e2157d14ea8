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
"""

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skhash
from skhash.datasets import load_cifar10_retrieval, load_mnist, query_database_split
from skhash.metrics import (
    map_scorer,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)
from skhash.utils.discovery import hasher_names

from ._common import machine, timed

METHODS = ["LSH", "SH", "ITQ", "SGH", "SSDH", "WGAN-AE", "LP-AE", "IDR-AE"]
AUTOENCODERS = ["AE", "WGAN-AE", "LP-AE", "IDR-AE"]
# Table name -> class: the registry shared with the demo.
CLASS_NAMES = hasher_names()

# Grid per method, searched at 64 bits on the training split (never on the queries). A best
# value on the edge of its grid means the grid is too narrow: the report flags it.
GRIDS = {
    "LSH": {"threshold": ["zero", "median"]},
    "SH": {},
    "ITQ": {"normalize": [False, True]},
    "SGH": {"lr": [3e-4, 1e-3, 1e-2]},
    "SSDH": {"lr": [3e-4, 1e-3, 3e-3]},
    "AE": {"lr": [3e-4, 1e-3, 3e-3]},
    "WGAN-AE": {"lipschitz": ["clip", "gp"]},
    "LP-AE": {"distribution_weight": [0.01, 0.03, 0.1, 0.3, 1.0]},
    "IDR-AE": {"distribution_weight": [0.01, 0.03, 0.1, 0.3, 1.0]},
    "BiHalf": {"gamma": [1.0, 3.0, 6.0, 12.0]},
    "GreedyHash": {"alpha": [0.01, 0.1, 1.0]},
}
# The history_ entry that holds L_G (Figure 4).
DISTRIBUTION_TERM = "distribution"

DATASETS = {
    "mnist": {
        "load": load_mnist,
        "split": {"n_queries": 10_000},
        "description": "MNIST 70k pixels / 255; 10,000 stratified queries, database = "
        "training set = the other 60,000 (the released IDR-AE code's protocol)",
    },
    "cifar10": {
        "load": lambda: _stacked(*load_cifar10_retrieval()),
        "split": {"fixed_queries": 10_000},
        "description": "CIFAR-10 EfficientNet-Lite0 features, the paper's protocol: the 10,000 "
        "test images are the queries, database = training set = the 50,000 training images",
    },
}


def _stacked(X_db, y_db, X_query, y_query):
    """One array with the queries last, for a split with ``fixed_queries``."""
    return np.concatenate([X_db, X_query]), np.concatenate([y_db, y_query])


def split_indices(y, split, seed):
    """Query and database indices: the last ``fixed_queries`` rows, or a seeded draw."""
    if "fixed_queries" in split:
        n_db = len(y) - split["fixed_queries"]
        return np.arange(n_db, len(y)), np.arange(n_db)
    return query_database_split(y, **split, random_state=seed)


QUICK = {"n_samples": 1_200, "n_queries": 200, "max_epochs": 1, "search_samples": 400}
# P@1000 needs a database much larger than 1000: the quick mode's 1,000 items give P@100.
PRECISION_K = {"full": 1000, "quick": 100}


def make_hasher(method, n_bits, seed, params, max_epochs=None, standardize=False):
    """The method's hasher, after a StandardScaler when ``standardize`` (step "hasher")."""
    cls = CLASS_NAMES[method]
    hasher = cls(n_bits=n_bits)
    options = dict(params)
    names = hasher.get_params()
    if "random_state" in names:
        options["random_state"] = seed
    if max_epochs is not None and "max_epochs" in names:
        options["max_epochs"] = max_epochs
    hasher.set_params(**options)
    if standardize:
        return Pipeline([("scaler", StandardScaler()), ("hasher", hasher)])
    return hasher


def search_parameters(method, X_train, y_train, seed, n_samples, max_epochs, standardize):
    """Grid search at 64 bits on a sample of the training split; returns (best params, scores)."""
    prefix = "hasher__" if standardize else ""
    grid = {prefix + name: values for name, values in GRIDS.get(method, {}).items()}
    if not grid:
        return {}, {}
    rng = np.random.default_rng(seed)
    index = rng.choice(len(X_train), size=min(n_samples, len(X_train)), replace=False)
    n_bits = min(64, X_train.shape[1]) if method == "ITQ" else 64
    search = GridSearchCV(
        make_hasher(method, n_bits, seed, {}, max_epochs, standardize),
        grid,
        scoring=map_scorer(),
        cv=KFold(n_splits=2, shuffle=True, random_state=seed),
        error_score="raise",
    ).fit(X_train[index], y_train[index])

    def unprefixed(params):
        return {name.removeprefix(prefix): value for name, value in params.items()}

    scores = {
        json.dumps(unprefixed(p), sort_keys=True): float(s)
        for p, s in zip(
            search.cv_results_["params"], search.cv_results_["mean_test_score"], strict=True
        )
    }
    return unprefixed(search.best_params_), scores


def evaluate(hasher, X_db, y_db, X_query, y_query, k):
    fit_seconds, _ = timed(hasher.fit, X_db)
    db_codes, query_codes = hasher.transform(X_db), hasher.transform(X_query)
    ap = mean_average_precision(query_codes, db_codes, y_query, y_db, average=False)
    result = {
        "map": float(ap.mean()),
        "map@1000": mean_average_precision(query_codes, db_codes, y_query, y_db, at=1000),
        "p@k": precision_at_k(query_codes, db_codes, y_query, y_db, k=k),
        "fit_seconds": fit_seconds,
    }
    history = getattr(hasher[-1] if isinstance(hasher, Pipeline) else hasher, "history_", None)
    if history:
        result["epoch_seconds"] = float(np.median([h["time"] for h in history]))
        if DISTRIBUTION_TERM in history[0]:
            result["distribution_curve"] = [float(h[DISTRIBUTION_TERM]) for h in history]
    return result, ap, (query_codes, db_codes)


def run(datasets, bits, seeds, methods, quick, max_epochs, search, standardize, searched=None):
    """Search, fit and score; ``searched`` (an earlier run's ``"search"`` section) reuses its
    chosen parameters instead of searching again, so that runs over other seeds merge."""
    results = {"runs": [], "search": {}, "paired_tests": [], "pr_curves": []}
    for name in datasets:
        spec = DATASETS[name]
        X, y = spec["load"]()
        if quick:
            keep = np.random.default_rng(0).choice(len(X), QUICK["n_samples"], replace=False)
            X, y = X[keep], y[keep]
        split = {"n_queries": QUICK["n_queries"]} if quick else spec["split"]
        k = PRECISION_K["quick" if quick else "full"]
        chosen = {}
        query, db = split_indices(y, split, seeds[0])
        for method in methods:
            params, scores = ({}, {})
            if searched is not None and method in searched.get(name, {}):
                earlier = searched[name][method]
                params, scores = earlier["best"], earlier["cv_map"]
            elif search:
                n_search = QUICK["search_samples"] if quick else 5_000
                params, scores = search_parameters(
                    method, X[db], y[db], seeds[0], n_search, max_epochs, standardize
                )
            chosen[method] = params
            results["search"].setdefault(name, {})[method] = {
                "grid": GRIDS.get(method, {}),
                "best": params,
                "cv_map": scores,
            }
            print(f"[{name}] {method}: parameters {params}", flush=True)

        per_query = {}
        for seed in seeds:
            query, db = split_indices(y, split, seed)
            for n_bits in bits:
                for method in methods:
                    hasher = make_hasher(
                        method, n_bits, seed, chosen[method], max_epochs, standardize
                    )
                    result, ap, codes = evaluate(hasher, X[db], y[db], X[query], y[query], k)
                    per_query.setdefault((method, n_bits), []).append(ap)
                    results["runs"].append(
                        {
                            "dataset": name,
                            "method": method,
                            "n_bits": n_bits,
                            "seed": seed,
                            **result,
                        }
                    )
                    print(
                        f"[{name}] seed {seed} {n_bits:>3} bits {method:<8} "
                        f"mAP {result['map']:.4f} P@{k} {result['p@k']:.4f} "
                        f"fit {result['fit_seconds']:.1f}s",
                        flush=True,
                    )
                    if seed == seeds[0] and n_bits in (32, 64) and method in AUTOENCODERS:
                        precision, recall, _ = precision_recall_curve(
                            codes[0], codes[1], y[query], y[db]
                        )
                        results["pr_curves"].append(
                            {
                                "dataset": name,
                                "method": method,
                                "n_bits": n_bits,
                                "precision": precision.tolist(),
                                "recall": recall.tolist(),
                            }
                        )
        if "IDR-AE" in methods:
            for n_bits in bits:
                ours = np.concatenate(per_query["IDR-AE", n_bits])
                for method in methods:
                    if method == "IDR-AE":
                        continue
                    theirs = np.concatenate(per_query[method, n_bits])
                    test = stats.ttest_rel(ours, theirs)
                    results["paired_tests"].append(
                        {
                            "dataset": name,
                            "n_bits": n_bits,
                            "baseline": method,
                            "mean_difference": float(np.mean(ours - theirs)),
                            "t": float(test.statistic),
                            "p_value": float(test.pvalue),
                            "n_pairs": int(len(ours)),
                            "seeds": list(seeds),
                        }
                    )
    return results


def summarise(runs, metric):
    """(dataset, method, n_bits) -> (mean, std, number of seeds)."""
    groups = {}
    for run in runs:
        if metric in run:  # runs made before a metric was added lack it
            key = (run["dataset"], run["method"], run["n_bits"])
            groups.setdefault(key, []).append(run[metric])
    return {key: (float(np.mean(v)), float(np.std(v)), len(v)) for key, v in groups.items()}


def drop_runs(results, replaced):
    """``results`` without the runs, curves, searches and paired tests of the
    ``(dataset, method, n_bits)`` in ``replaced``: what a rerun of those methods replaces."""

    def kept(item):
        return (item["dataset"], item["method"], item["n_bits"]) not in replaced

    def test_kept(test):  # a paired test compares IDR-AE with a baseline: it goes with either
        key = test["dataset"], test["n_bits"]
        return not any((*key[:1], m, key[1]) in replaced for m in ("IDR-AE", test["baseline"]))

    searched = {(d, m) for d, m, _ in replaced}
    return {
        **results,
        "runs": [r for r in results["runs"] if kept(r)],
        "pr_curves": [c for c in results["pr_curves"] if kept(c)],
        "paired_tests": [t for t in results["paired_tests"] if test_kept(t)],
        "search": {
            d: {m: s for m, s in by_method.items() if (d, m) not in searched}
            for d, by_method in results["search"].items()
        },
    }


def merge_results(parts, replace=False):
    """Combine the results of runs over disjoint datasets or code lengths into one.

    The paired tests are per (dataset, code length), so a run split that way loses nothing.
    With ``replace``, each part's methods replace those of the earlier parts at its code
    lengths (a rerun of some methods after their defaults changed).
    """
    if replace:
        parts = list(parts)
        for i, part in enumerate(parts):
            replaced = {(r["dataset"], r["method"], r["n_bits"]) for r in part["runs"]}
            parts[:i] = [drop_runs(earlier, replaced) for earlier in parts[:i]]
    merged = {"runs": [], "search": {}, "paired_tests": [], "pr_curves": []}
    seen = set()
    for part in parts:
        for run in part["runs"]:
            key = (run["dataset"], run["method"], run["n_bits"], run["seed"])
            if key in seen:
                raise ValueError(
                    f"{key} is in more than one results file; merge runs over disjoint "
                    "datasets, code lengths or seeds"
                )
            seen.add(key)
        for name in ("runs", "paired_tests", "pr_curves"):
            merged[name] += part[name]
        for test in merged["paired_tests"]:  # files written before tests named their seeds
            test.setdefault(
                "seeds",
                sorted({r["seed"] for r in part["runs"] if r["dataset"] == test["dataset"]}),
            )
        for dataset, by_method in part["search"].items():
            for method, search in by_method.items():
                earlier = merged["search"].setdefault(dataset, {}).setdefault(method, search)
                if earlier["best"] != search["best"]:
                    raise ValueError(
                        f"the grid search chose {earlier['best']} and {search['best']} for "
                        f"{dataset} {method}; merge runs that share their search seed"
                    )
    metas = [part["meta"] for part in parts]
    if len({m.get("standardize", False) for m in metas}) > 1:
        raise ValueError("cannot merge runs with and without --standardize")
    merged["meta"] = {
        "precision_k": metas[0]["precision_k"],
        "quick": any(m.get("quick", False) for m in metas),
        "standardize": metas[0].get("standardize", False),
        "date": max(m["date"] for m in metas),
        "machine": metas[0]["machine"],
        "command": [c for m in metas for c in np.atleast_1d(m["command"]).tolist()],
    }
    return merged


def table(results, metric, datasets, bits, methods):
    summary = summarise(results["runs"], metric)
    header = "| method | " + " | ".join(f"{d} {b} bits" for d in datasets for b in bits) + " |"
    lines = [header, "|---" * (1 + len(datasets) * len(bits)) + "|"]
    for method in methods:
        cells = []
        for d in datasets:
            for b in bits:
                if (d, method, b) not in summary:  # e.g. merged runs that skip a length
                    cells.append("-")
                    continue
                mean, std, n_seeds = summary[(d, method, b)]
                best = max(summary[(d, m, b)][0] for m in methods if (d, m, b) in summary)
                cell = f"{mean:.4f} ± {std:.4f}" if n_seeds > 1 else f"{mean:.4f}"
                cells.append(f"**{cell}**" if mean == best else cell)
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_figures(results, out, datasets):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []

    def save(fig, name):
        fig.savefig(out / name, dpi=100, bbox_inches="tight")
        plt.close(fig)
        files.append(name)

    for d in datasets:
        curves = [c for c in results["pr_curves"] if c["dataset"] == d]
        if not curves:
            continue
        lengths = sorted({c["n_bits"] for c in curves})
        fig, axes = plt.subplots(
            1, len(lengths), figsize=(5 * len(lengths), 4), sharey=True, squeeze=False
        )
        for ax, n_bits in zip(axes[0], lengths, strict=True):
            for c in (c for c in curves if c["n_bits"] == n_bits):
                ax.plot(c["recall"], c["precision"], label=c["method"])
            ax.set(title=f"{d}, {n_bits} bits", xlabel="recall", ylabel="precision")
            ax.legend()
        save(fig, f"fig2_pr_{d}.png")

    timed = [r for r in results["runs"] if "epoch_seconds" in r]
    if timed:
        fig, ax = plt.subplots(figsize=(6, 4))
        labels, values = [], []
        largest = max(r["n_bits"] for r in timed)
        for d in datasets:
            for method in dict.fromkeys(r["method"] for r in timed):
                v = [
                    r["epoch_seconds"]
                    for r in timed
                    if r["dataset"] == d and r["method"] == method and r["n_bits"] == largest
                ]
                if v:
                    labels.append(f"{d}\n{method}")
                    values.append(np.mean(v))
        ax.bar(range(len(values)), values)
        ax.set_xticks(range(len(values)), labels, rotation=90, fontsize=7)
        ax.set_ylabel("seconds per epoch")
        save(fig, "fig3_epoch_time.png")

    curves = [r for r in results["runs"] if "distribution_curve" in r]
    if curves:
        fig, ax = plt.subplots(figsize=(6, 4))
        seen = set()
        for r in curves:
            key = (r["dataset"], r["method"])
            if key in seen:
                continue
            seen.add(key)
            ax.plot(
                range(1, len(r["distribution_curve"]) + 1),
                r["distribution_curve"],
                label=f"{r['dataset']} {r['method']} ({r['n_bits']} bits)",
            )
        ax.set(xlabel="epoch", ylabel="L_G (epoch mean)", yscale="symlog")
        ax.legend(fontsize=7)
        save(fig, "fig4_distribution_term.png")
    return files


# The paper's CIFAR-10 numbers (VGG fc7 features or raw images, 10,000 queries / 50,000
# database): Table 1 (P@1000 at 32 / 64 / 128 bits) and Table 2 (mAP at 64 bits).
PAPER_CIFAR10 = {
    "LSH": ((0.1721, 0.1731, 0.2165), 0.1477),
    "SH": ((0.1995, 0.1982, 0.1930), 0.1265),
    "ITQ": ((0.2424, 0.2585, 0.2700), 0.1824),
    "SGH": ((0.1672, 0.1803, 0.1888), 0.1372),
    "SSDH": ((0.2218, 0.1766, 0.1766), 0.1664),
    "WGAN-AE": ((0.1948, 0.2170, 0.2284), 0.1775),
    "LP-AE": ((0.2370, 0.2406, 0.2396), 0.1777),
    "IDR-AE": ((0.2692, 0.2747, 0.2961), 0.2084),
}
PAPER_BITS = (32, 64, 128)


def gain_over_best_baseline(scores):
    """(best baseline of the paper's seven, relative gain of IDR-AE over it)."""
    baselines = {m: v for m, v in scores.items() if m in PAPER_CIFAR10 and m != "IDR-AE"}
    best = max(baselines, key=baselines.get)
    return best, scores["IDR-AE"] / baselines[best] - 1


def compare_with_paper(results, datasets, bits, methods):
    """Plain statements of where these results agree or disagree with the paper's claims."""
    summaries = {metric: summarise(results["runs"], metric) for metric in ("map", "p@k")}
    k = results["meta"]["precision_k"]
    lines = []
    for d in datasets:
        for b in bits:
            scores = {
                metric: {m: summary[(d, m, b)][0] for m in methods if (d, m, b) in summary}
                for metric, summary in summaries.items()
            }
            if "IDR-AE" not in scores["map"] or len(scores["map"]) < 2:
                continue
            mean_ap = scores["map"]
            ranking = sorted(mean_ap, key=mean_ap.get, reverse=True)
            verdict = (
                "agrees: IDR-AE is best"
                if ranking[0] == "IDR-AE"
                else f"**disagrees**: {ranking[0]} is best ({mean_ap[ranking[0]]:.4f}), IDR-AE "
                f"ranks {ranking.index('IDR-AE') + 1} of {len(ranking)} ({mean_ap['IDR-AE']:.4f})"
            )
            gains = []
            for metric, label in (("p@k", f"P@{k}"), ("map", "mAP")):
                best, gain = gain_over_best_baseline(scores[metric])
                gains.append(f"{gain:+.1%} {label} ({best})")
            lines.append(
                f"- {d}, {b} bits, mAP@all: {verdict}; IDR-AE against the best baseline: "
                f"{', '.join(gains)}."
            )
    lines.append(
        "- The paper: IDR-AE best everywhere, at least +10% P@1000 over the baselines on "
        "CIFAR-10 and FLICKR25K; its own CIFAR-10 table gives "
        + ", ".join(
            f"{gain_over_best_baseline({m: v[0][i] for m, v in PAPER_CIFAR10.items()})[1]:+.1%}"
            f" at {b} bits"
            for i, b in enumerate(PAPER_BITS)
        )
        + " (P@1000 over ITQ). It reports no MNIST numbers."
    )
    return lines


def published_table(results, bits):
    """Our CIFAR-10 numbers next to the paper's (different features, database and networks)."""
    precision = summarise(results["runs"], "p@k")
    mean_ap = summarise(results["runs"], "map")
    shown = [b for b in PAPER_BITS if b in bits]
    header = (
        "| method | "
        + " | ".join(f"P@1000 {b}: paper / ours" for b in shown)
        + (" | mAP 64: paper / ours |" if 64 in shown else " |")
    )
    lines = [header, "|---" * (1 + len(shown) + (64 in shown)) + "|"]
    for method, (paper_precision, paper_map) in PAPER_CIFAR10.items():
        cells = []
        for b in shown:
            ours = precision.get(("cifar10", method, b))
            ours_text = f"{ours[0]:.4f}" if ours else "-"
            cells.append(f"{paper_precision[PAPER_BITS.index(b)]:.4f} / {ours_text}")
        if 64 in shown:
            ours = mean_ap.get(("cifar10", method, 64))
            cells.append(f"{paper_map:.4f} / {ours[0]:.4f}" if ours else f"{paper_map:.4f} / -")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    differences = {
        method: [
            precision[("cifar10", method, b)][0] - paper_precision[PAPER_BITS.index(b)]
            for b in shown
            if ("cifar10", method, b) in precision
        ]
        for method, (paper_precision, _) in PAPER_CIFAR10.items()
    }
    if differences["IDR-AE"]:
        baselines = [v for m, values in differences.items() if m != "IDR-AE" for v in values]
        lines += [
            "",
            f"Our IDR-AE's P@1000 is within {max(map(abs, differences['IDR-AE'])):.3f} of the "
            f"paper's at every code length, while our baselines score {np.mean(baselines):+.3f} "
            f"on average against the paper's (from {min(baselines):+.3f} to "
            f"{max(baselines):+.3f}): the gap is in the baselines.",
        ]
    return "\n".join(lines)


def write_report(results, out, datasets, bits, methods, figures):
    seeds = sorted({r["seed"] for r in results["runs"]})
    quick = results["meta"].get("quick", False)
    lines = [
        "# IDR-AE paper experiments reproduced with skhash",
        "",
        f"- date: {results['meta']['date']}",
        f"- machine: {results['meta']['machine']}",
        *[f"- command: `{c}`" for c in np.atleast_1d(results["meta"]["command"])],
        f"- mode: {'quick smoke test (subset, few epochs)' if quick else 'full'}",
        f"- seeds: {seeds} (each: a new model seed; a new query/database split unless fixed)",
        "",
        "Data:",
        "",
        *[f"- {d}: {DATASETS[d]['description']}" for d in datasets],
        *(
            ["- every method sees the data after a StandardScaler fitted on the database"]
            if results["meta"].get("standardize", False)
            else []
        ),
        "",
        f"## Table 1: P@{results['meta']['precision_k']} (mean ± std over seeds; best in bold)",
        "",
        table(results, "p@k", datasets, bits, methods),
        "",
        "## Table 2: mAP@all (ties by database index)",
        "",
        table(results, "map", datasets, bits, methods),
        "",
    ]
    if any("map@1000" in run for run in results["runs"]):
        lines += [
            "## mAP@1000 (the published figure of Bi-half and GreedyHash; runs that have it)",
            "",
            table(results, "map@1000", datasets, bits, methods),
            "",
        ]
    if results["paired_tests"]:
        lines += [
            "## Paired t-tests: IDR-AE against each baseline (per-query AP over the seeds shown)",
            "",
            "| dataset | bits | seeds | baseline | mean AP difference | t | p-value |",
            "|---|---|---|---|---|---|---|",
        ]
        order = sorted(
            results["paired_tests"], key=lambda t: (datasets.index(t["dataset"]), t["n_bits"])
        )
        for t in order:
            lines.append(
                f"| {t['dataset']} | {t['n_bits']} | {t.get('seeds', '-')} | {t['baseline']} | "
                f"{t['mean_difference']:+.4f} | {t['t']:.2f} | {t['p_value']:.2g} |"
            )
        lines.append("")
    lines += [
        "## Comparison with the paper's claims",
        "",
        *compare_with_paper(results, datasets, bits, methods),
        "",
        *(
            [
                "The paper's CIFAR-10 numbers next to ours (the same 10,000 / 50,000 protocol; "
                "its features are VGG fc7, ours EfficientNet-Lite0):",
                "",
                published_table(results, bits),
                "",
            ]
            if "cifar10" in datasets and results["meta"]["precision_k"] == 1000
            else []
        ),
        "Likely reasons for differences: the paper hashes VGG fc7 features (its deep models see "
        "pixels through VGG), where this run uses EfficientNet-Lite0 features of the same "
        "images, or MNIST pixels; the networks, epochs and grids are ours; the grid search fits "
        "2,500-row folds of a 5,000-row sample at 64 bits, so its choice need not be the best "
        "for a 50,000- or 60,000-row fit at another code length; ties are broken by database "
        "index here.",
        "",
    ]
    lines += [
        "## Hyper-parameters (grid search at 64 bits on the training split, 2-fold, mAP scorer)",
        "",
    ]
    for d, by_method in results["search"].items():
        for method, s in by_method.items():
            edges = [
                name
                for name, values in s["grid"].items()
                if len(values) > 2 and s["best"][name] in (values[0], values[-1])
            ]
            flag = f" (**{', '.join(edges)} on the edge of its grid**)" if edges else ""
            lines.append(f"- {d} {method}: grid {s['grid']} -> {s['best']}{flag}")
    lines += ["", "## Figures", ""] + [f"![{f}]({f})" for f in figures]
    (out / "report.md").write_text("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.paper", description=__doc__.split("\n")[0]
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
        "--quick",
        action="store_true",
        help="smoke test: 1,200 samples, 200 queries, 1 epoch, one seed",
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
        "--torch-threads",
        type=int,
        default=1,
        help="torch threads (small networks train fastest on one)",
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.torch_threads)
    if args.quick:
        args.seeds = args.seeds[:1]
        args.max_epochs = args.max_epochs or QUICK["max_epochs"]
    methods = list(args.methods)
    if "IDR-AE" in methods and "AE" not in methods:  # the paper's ablation comes with it
        methods.append("AE")
    command = "python -m benchmarks.paper " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.from_json is not None:
        results = merge_results(
            [json.loads(path.read_text()) for path in args.from_json], replace=args.replace
        )
        out = args.out or args.from_json[0].parent
        out.mkdir(parents=True, exist_ok=True)
        if [out / "results.json"] != args.from_json:
            results["meta"]["command"].append(command)
            (out / "results.json").write_text(json.dumps(results, indent=1))
        datasets = list(dict.fromkeys(r["dataset"] for r in results["runs"]))
        bits = sorted({r["n_bits"] for r in results["runs"]})
        found = dict.fromkeys(r["method"] for r in results["runs"])
        order = METHODS + AUTOENCODERS + list(CLASS_NAMES)  # the paper's order, then the rest
        methods = sorted(found, key=lambda m: order.index(m) if m in order else len(order))
        figures = plot_figures(results, out, datasets)
        write_report(results, out, datasets, bits, methods, figures)
        print(f"report: {out / 'report.md'}")
        return results
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out = args.out or Path("benchmarks/results") / f"paper-{date}{'-quick' if args.quick else ''}"
    out.mkdir(parents=True, exist_ok=True)
    results = run(
        args.datasets,
        args.bits,
        args.seeds,
        methods,
        args.quick,
        args.max_epochs,
        search=not args.no_search,
        standardize=args.standardize,
        searched=(json.loads(args.search_from.read_text())["search"] if args.search_from else None),
    )
    results["meta"] = {
        "precision_k": PRECISION_K["quick" if args.quick else "full"],
        "quick": args.quick,
        "standardize": args.standardize,
        "date": date,
        "machine": machine(skhash=skhash.__version__),
        "command": command,
    }
    figures = plot_figures(results, out, args.datasets)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, out, args.datasets, args.bits, methods, figures)
    print(f"report: {out / 'report.md'}")
    return results


if __name__ == "__main__":
    main()
