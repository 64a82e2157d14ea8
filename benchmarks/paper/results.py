"""The results store of the paper benchmark: typed run records, JSON in and out, merging.

``results.json`` holds ``runs`` (one flat record per data set, method, code length and
seed), ``search`` (the grid and the chosen parameters per data set and method),
``paired_tests``, ``pr_curves`` and ``meta`` (date, machine, commands, options).
"""

import dataclasses
import json

import numpy as np

__all__ = ["Results", "RunRecord"]

#: Scores a run may hold; runs made before a metric was added lack it.
SCORES = ("map", "map@1000", "p@k")


@dataclasses.dataclass(frozen=True)
class RunRecord:
    """One fit and its scores (``scores``: keys of :data:`SCORES`)."""

    dataset: str
    method: str
    n_bits: int
    seed: int
    scores: dict
    fit_seconds: float | None = None
    epoch_seconds: float | None = None
    distribution_curve: list | None = None

    @property
    def cell(self):
        """``(dataset, method, n_bits)``: the table cell this run is a seed of."""
        return self.dataset, self.method, self.n_bits

    @classmethod
    def from_json(cls, data):
        scores = {name: data[name] for name in SCORES if name in data}
        fields = {f.name for f in dataclasses.fields(cls)} - {"scores"}
        unknown = set(data) - fields - set(SCORES)
        if unknown:
            raise ValueError(f"a run record has unknown fields {sorted(unknown)}")
        return cls(scores=scores, **{k: v for k, v in data.items() if k in fields})

    def to_json(self):
        data = {"dataset": self.dataset, "method": self.method, "n_bits": self.n_bits}
        data["seed"] = self.seed
        data.update(self.scores)
        for name in ("fit_seconds", "epoch_seconds", "distribution_curve"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@dataclasses.dataclass
class Results:
    """Everything one or several runs of the benchmark produced."""

    runs: list = dataclasses.field(default_factory=list)
    search: dict = dataclasses.field(default_factory=dict)
    paired_tests: list = dataclasses.field(default_factory=list)
    pr_curves: list = dataclasses.field(default_factory=list)
    meta: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_json(cls, data):
        return cls(
            runs=[RunRecord.from_json(r) for r in data["runs"]],
            search=data.get("search", {}),
            paired_tests=list(data.get("paired_tests", [])),
            pr_curves=list(data.get("pr_curves", [])),
            meta=data.get("meta", {}),
        )

    @classmethod
    def read(cls, path):
        return cls.from_json(json.loads(path.read_text()))

    def to_json(self):
        return {
            "runs": [r.to_json() for r in self.runs],
            "search": self.search,
            "paired_tests": self.paired_tests,
            "pr_curves": self.pr_curves,
            "meta": self.meta,
        }

    def write(self, path):
        path.write_text(json.dumps(self.to_json(), indent=1))

    def cells(self, key):
        """The distinct values of run field ``key`` (``"dataset"``, ...) in run order."""
        return list(dict.fromkeys(getattr(r, key) for r in self.runs))

    def without(self, replaced):
        """These results without the runs, curves, searches and paired tests of the
        ``(dataset, method, n_bits)`` in ``replaced``: what a rerun of those replaces."""

        def kept(item):
            return (item["dataset"], item["method"], item["n_bits"]) not in replaced

        def test_kept(test):  # a paired test compares IDR-AE with a baseline: it goes with either
            return not any(
                (test["dataset"], m, test["n_bits"]) in replaced
                for m in ("IDR-AE", test["baseline"])
            )

        searched = {(d, m) for d, m, _ in replaced}
        return dataclasses.replace(
            self,
            runs=[r for r in self.runs if r.cell not in replaced],
            pr_curves=[c for c in self.pr_curves if kept(c)],
            paired_tests=[t for t in self.paired_tests if test_kept(t)],
            search={
                d: {m: s for m, s in by_method.items() if (d, m) not in searched}
                for d, by_method in self.search.items()
            },
        )


def merge_results(parts, replace=False):
    """Combine the :class:`Results` of runs over disjoint datasets, code lengths or seeds.

    The paired tests are per (dataset, code length), so a run split that way loses nothing.
    With ``replace``, each part's methods replace those of the earlier parts at its code
    lengths (a rerun of some methods after their defaults changed).
    """
    parts = list(parts)
    if replace:
        for i, part in enumerate(parts):
            replaced = {r.cell for r in part.runs}
            parts[:i] = [earlier.without(replaced) for earlier in parts[:i]]
    merged = Results()
    seen = set()
    for part in parts:
        for run in part.runs:
            key = (*run.cell, run.seed)
            if key in seen:
                raise ValueError(
                    f"{key} is in more than one results file; merge runs over disjoint "
                    "datasets, code lengths or seeds"
                )
            seen.add(key)
        merged.runs += part.runs
        merged.paired_tests += part.paired_tests
        merged.pr_curves += part.pr_curves
        for test in merged.paired_tests:  # files written before tests named their seeds
            test.setdefault(
                "seeds", sorted({r.seed for r in part.runs if r.dataset == test["dataset"]})
            )
        _merge_searches(merged.search, part.search)
    merged.meta = _merged_meta([part.meta for part in parts])
    return merged


def _merge_searches(merged, search):
    for dataset, by_method in search.items():
        for method, chosen in by_method.items():
            earlier = merged.setdefault(dataset, {}).setdefault(method, chosen)
            if earlier["best"] != chosen["best"]:
                raise ValueError(
                    f"the grid search chose {earlier['best']} and {chosen['best']} for "
                    f"{dataset} {method}; merge runs that share their search seed"
                )


def _merged_meta(metas):
    if len({m.get("standardize", False) for m in metas}) > 1:
        raise ValueError("cannot merge runs with and without --standardize")
    return {
        "precision_k": metas[0]["precision_k"],
        "quick": any(m.get("quick", False) for m in metas),
        "standardize": metas[0].get("standardize", False),
        "date": max(m["date"] for m in metas),
        "machine": metas[0]["machine"],
        "command": [c for m in metas for c in np.atleast_1d(m["command"]).tolist()],
    }
