"""The experiment: grid search on the training split, then fit and score every method."""

import json

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skhash.metrics import (
    map_scorer,
    mean_average_precision,
    precision_at_k,
    precision_recall_curve,
)

from .._common import timed
from .config import (
    AUTOENCODERS,
    CLASS_NAMES,
    DATASETS,
    DISTRIBUTION_TERM,
    GRIDS,
    PRECISION_K,
    QUICK,
    quick_split,
)
from .results import Results, RunRecord
from .statistics import paired_tests

__all__ = ["evaluate", "make_hasher", "run", "search_parameters"]


def make_hasher(method, n_bits, seed, params, max_epochs=None, standardize=False):
    """The method's hasher, after a StandardScaler when ``standardize`` (step "hasher")."""
    hasher = CLASS_NAMES[method](n_bits=n_bits)
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
    """Fit on the database; ``(run fields, per-query APs, (query codes, database codes))``."""
    fit_seconds, _ = timed(hasher.fit, X_db)
    db_codes, query_codes = hasher.transform(X_db), hasher.transform(X_query)
    ap = mean_average_precision(query_codes, db_codes, y_query, y_db, average=False)
    fields = {
        "scores": {
            "map": float(ap.mean()),
            "map@1000": mean_average_precision(query_codes, db_codes, y_query, y_db, at=1000),
            "p@k": precision_at_k(query_codes, db_codes, y_query, y_db, k=k),
        },
        "fit_seconds": fit_seconds,
    }
    history = getattr(hasher[-1] if isinstance(hasher, Pipeline) else hasher, "history_", None)
    if history:
        fields["epoch_seconds"] = float(np.median([h["time"] for h in history]))
        if DISTRIBUTION_TERM in history[0]:
            fields["distribution_curve"] = [float(h[DISTRIBUTION_TERM]) for h in history]
    return fields, ap, (query_codes, db_codes)


def _split(name, seed, quick):
    split = DATASETS[name]["split"]
    return quick_split(split, seed) if quick else split(seed)


def _choose_parameters(name, methods, settings, searched, results):
    """Each method's parameters on ``name``: an earlier run's choice, a grid search on the
    first seed's database, or the defaults."""
    chosen = {}
    X_db, y_db, _, _ = _split(name, settings["seeds"][0], settings["quick"])
    for method in methods:
        params, scores = {}, {}
        if searched is not None and method in searched.get(name, {}):
            params, scores = searched[name][method]["best"], searched[name][method]["cv_map"]
        elif settings["search"]:
            n_search = QUICK["search_samples"] if settings["quick"] else 5_000
            params, scores = search_parameters(
                method,
                X_db,
                y_db,
                settings["seeds"][0],
                n_search,
                settings["max_epochs"],
                settings["standardize"],
            )
        chosen[method] = params
        results.search.setdefault(name, {})[method] = {
            "grid": GRIDS.get(method, {}),
            "best": params,
            "cv_map": scores,
        }
        print(f"[{name}] {method}: parameters {params}", flush=True)
    return chosen


def _fit_and_score(name, bits, methods, chosen, settings, results):
    """Every seed, code length and method on ``name``; the per-query APs for the tests."""
    k = PRECISION_K["quick" if settings["quick"] else "full"]
    per_query = {}
    for seed in settings["seeds"]:
        X_db, y_db, X_query, y_query = _split(name, seed, settings["quick"])
        for n_bits in bits:
            for method in methods:
                hasher = make_hasher(
                    method,
                    n_bits,
                    seed,
                    chosen[method],
                    settings["max_epochs"],
                    settings["standardize"],
                )
                fields, ap, codes = evaluate(hasher, X_db, y_db, X_query, y_query, k)
                per_query.setdefault((method, n_bits), []).append(ap)
                record = RunRecord(name, method, n_bits, seed, **fields)
                results.runs.append(record)
                print(
                    f"[{name}] seed {seed} {n_bits:>3} bits {method:<8} "
                    f"mAP {record.scores['map']:.4f} P@{k} {record.scores['p@k']:.4f} "
                    f"fit {record.fit_seconds:.1f}s",
                    flush=True,
                )
                if seed == settings["seeds"][0] and n_bits in (32, 64) and method in AUTOENCODERS:
                    precision, recall, _ = precision_recall_curve(*codes, y_query, y_db)
                    results.pr_curves.append(
                        {
                            "dataset": name,
                            "method": method,
                            "n_bits": n_bits,
                            "precision": precision.tolist(),
                            "recall": recall.tolist(),
                        }
                    )
    return per_query


def run(datasets, bits, methods, searched=None, **settings):
    """Search, fit and score: the :class:`Results` of ``methods`` on ``datasets``.

    ``settings``: ``seeds``, ``quick``, ``max_epochs``, ``search`` and ``standardize``.
    ``searched`` (an earlier run's ``"search"`` section) reuses its chosen parameters
    instead of searching again, so that runs over other seeds merge.
    """
    results = Results()
    for name in datasets:
        chosen = _choose_parameters(name, methods, settings, searched, results)
        per_query = _fit_and_score(name, bits, methods, chosen, settings, results)
        if "IDR-AE" in methods:
            results.paired_tests += paired_tests(per_query, name, bits, methods, settings["seeds"])
    return results
