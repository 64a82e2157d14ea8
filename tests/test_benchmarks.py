"""Smoke test of the paper benchmark: python -m benchmarks.paper --quick."""

import json

import numpy as np
import pytest
from conftest import SHARED_DATA, require_shared

pytest.importorskip("torch")
pytest.importorskip("matplotlib")


@pytest.mark.quality  # runs every method of the paper on ../shared/data (30 s)
def test_paper_benchmark_quick_mode_writes_report(tmp_path, monkeypatch):
    require_shared("cifar10_test_efficientnet_lite0.npz", "mnist_train.npz", "mnist_test.npz")
    monkeypatch.setenv("SKHASH_DATA", str(SHARED_DATA))
    from benchmarks.paper import main

    results = main(["--quick", "--bits", "32", "64", "--out", str(tmp_path)])
    runs = results["runs"]
    # 9 methods (the 8 of the paper + the AE ablation) x 2 datasets x 2 code lengths, 1 seed.
    assert len(runs) == 9 * 2 * 2
    assert {r["method"] for r in runs} >= {"LSH", "SH", "ITQ", "SGH", "SSDH", "AE", "IDR-AE"}
    for run in runs:
        assert 0.0 < run["map"] <= 1.0 and 0.0 < run["p@k"] <= 1.0
    itq = {r["dataset"]: r["map"] for r in runs if r["method"] == "ITQ" and r["n_bits"] == 64}
    lsh = {r["dataset"]: r["map"] for r in runs if r["method"] == "LSH" and r["n_bits"] == 64}
    assert all(itq[d] > lsh[d] for d in itq)  # the pipeline scores, not just runs
    assert len(results["paired_tests"]) == 8 * 2 * 2
    report = (tmp_path / "report.md").read_text()
    assert "Table 1: P@100 " in report and "Paired t-tests" in report
    comparison = report.split("## Comparison with the paper's claims")[1]
    assert "IDR-AE against the best baseline" in comparison
    for figure in ("fig2_pr_mnist.png", "fig3_epoch_time.png", "fig4_distribution_term.png"):
        assert (tmp_path / figure).stat().st_size > 1000
    assert json.loads((tmp_path / "results.json").read_text())["meta"]["command"]

    # Split by code length and merged back, the results give the same report.
    parts = []
    for n_bits in (32, 64):
        part = {
            name: [r for r in results[name] if r["n_bits"] == n_bits]
            for name in ("runs", "paired_tests", "pr_curves")
        }
        part.update(search=results["search"], meta=results["meta"])
        parts.append(tmp_path / f"part{n_bits}.json")
        parts[-1].write_text(json.dumps(part))
    merged_dir = tmp_path / "merged"
    main(["--from-json", *map(str, parts), "--out", str(merged_dir)])
    merged_report = (merged_dir / "report.md").read_text()
    assert merged_report.split("## Table 1")[1] == report.split("## Table 1")[1]
    commands = json.loads((merged_dir / "results.json").read_text())["meta"]["command"]
    assert commands[-1].startswith("python -m benchmarks.paper --from-json")
    with pytest.raises(ValueError, match="more than one results file"):
        main(["--from-json", str(parts[0]), str(parts[0]), "--out", str(merged_dir)])

    def itq_and_idrae_with_the_chosen_parameters(seed, out):
        quick = ["--quick", "--bits", "32", "--datasets", "cifar10", "--seeds", str(seed)]
        methods = ["--methods", "ITQ", "IDR-AE"]
        chosen = ["--search-from", str(tmp_path / "results.json"), "--out", str(out)]
        return main([*quick, *methods, *chosen])

    # Another seed with the parameters chosen above merges with the first run.
    more = tmp_path / "seed1"
    again = itq_and_idrae_with_the_chosen_parameters(1, more)
    assert again["search"]["cifar10"]["IDR-AE"] == results["search"]["cifar10"]["IDR-AE"]
    both = main(
        ["--from-json", str(parts[0]), str(more / "results.json"), "--out", str(merged_dir)]
    )
    tests = {(t["baseline"], tuple(t["seeds"])) for t in both["paired_tests"]}
    assert ("ITQ", (0,)) in tests and ("ITQ", (1,)) in tests

    # A rerun of some methods (after a change of their defaults) replaces their rows.
    rerun = tmp_path / "rerun"
    itq_and_idrae_with_the_chosen_parameters(0, rerun)
    sources = [str(parts[0]), str(rerun / "results.json")]
    with pytest.raises(ValueError, match="more than one results file"):
        main(["--from-json", *sources, "--out", str(merged_dir)])
    replaced = main(["--from-json", *sources, "--replace", "--out", str(merged_dir)])
    new = json.loads((rerun / "results.json").read_text())
    for run in replaced["runs"]:
        source = (
            new
            if run["method"] in ("ITQ", "IDR-AE", "AE") and run["dataset"] == "cifar10"
            else None
        )
        if source is not None:
            assert run in source["runs"]
    assert len(replaced["runs"]) == len(json.loads(parts[0].read_text())["runs"])
    cifar_tests = [t for t in replaced["paired_tests"] if t["dataset"] == "cifar10"]
    assert sorted(t["baseline"] for t in cifar_tests) == ["AE", "ITQ"]
    assert all(t in new["paired_tests"] for t in cifar_tests)


def test_paper_benchmark_standardize_searches_the_hasher_behind_a_scaler():
    from sklearn.datasets import load_digits
    from sklearn.pipeline import Pipeline

    from benchmarks.paper.experiment import make_hasher, search_parameters

    X, y = load_digits(return_X_y=True)
    best, scores = search_parameters("ITQ", X, y, 0, 600, None, standardize=True)
    assert set(best) == {"normalize"}
    assert set(scores) == {'{"normalize": false}', '{"normalize": true}'}
    pipe = make_hasher("ITQ", 16, 0, best, standardize=True)
    assert isinstance(pipe, Pipeline) and pipe.named_steps["hasher"].normalize == best["normalize"]
    codes = pipe.fit(X).transform(X)
    scaled = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
    plain = make_hasher("ITQ", 16, 0, best).fit(scaled).transform(scaled)
    np.testing.assert_array_equal(codes, plain)


def test_paper_comparison_on_the_papers_own_numbers():
    """Fed the paper's CIFAR-10 table as results, the report must agree with the paper."""
    from benchmarks.paper.config import PAPER_BITS, PAPER_CIFAR10
    from benchmarks.paper.report import compare_with_paper, published_table
    from benchmarks.paper.results import Results

    runs = [
        {
            "dataset": "cifar10",
            "method": method,
            "n_bits": n_bits,
            "seed": 0,
            "p@k": precision[i],
            "map": mean_ap if n_bits == 64 else precision[i],  # Table 2 is at 64 bits only
        }
        for method, (precision, mean_ap) in PAPER_CIFAR10.items()
        for i, n_bits in enumerate(PAPER_BITS)
    ]
    results = Results.from_json({"runs": runs, "meta": {"precision_k": 1000}})
    lines = compare_with_paper(results, ["cifar10"], PAPER_BITS, list(PAPER_CIFAR10))
    assert all("agrees: IDR-AE is best" in line for line in lines[:3])
    assert "+11.1% P@1000 (ITQ)" in lines[0] and "+6.3% P@1000 (ITQ)" in lines[1]
    assert "+14.3% mAP (ITQ)" in lines[1]  # Table 2: 0.2084 against 0.1824
    table = published_table(results, PAPER_BITS)
    row = "| IDR-AE | 0.2692 / 0.2692 | 0.2747 / 0.2747 | 0.2961 / 0.2961 | 0.2084 / 0.2084 |"
    assert row in table
    assert "within 0.000 of the paper's" in table and "score +0.000 on average" in table


def test_cross_dataset_report_on_sklearn_digits(tmp_path):
    """python -m benchmarks.cross_dataset on the data set that ships with scikit-learn."""
    import json

    from benchmarks.cross_dataset import METHODS, main

    out = tmp_path / "rows.json"
    rows = main(
        ["--datasets", "sklearn_digits", "--bits", "32", "128", "--quick"] + ["--json", str(out)]
    )
    assert len(rows) == 2 * len(METHODS) and json.loads(out.read_text()) == rows
    by = {(r["method"], r["n_bits"]): r["map"] for r in rows}
    # ITQ, PCAH, IsoH and KMH cannot give 128 bits from 64 features: their cells are empty,
    # the deep ones' and the sphere's are not.
    for method in ("ITQHasher", "PCAHasher", "IsotropicHasher", "KMeansHasher"):
        assert by[method, 128] is None
    assert by["IDRAEHasher", 128] > 0.1 and by["SphericalHasher", 128] > 0.1
    assert all(0.1 < by[m, 32] <= 1 for m in ("ITQHasher", "IDRAEHasher", "BiHalfHasher"))
    # Merging a run with itself keeps one row per (data set, method, bits, seed).
    merged = main(["--from-json", str(out), str(out)])
    assert len(merged) == len(rows)


def test_one_entry_point_lists_and_runs_every_benchmark(capsys):
    import importlib
    import inspect

    from benchmarks.__main__ import available, main

    names = available()
    assert {"paper", "cross_dataset", "bench_threads", "bench_faiss_indexes"} <= set(names)
    assert all(summary for summary in names.values())
    for name in names:  # each has main(argv), so that the entry point can pass options
        params = inspect.signature(importlib.import_module(f"benchmarks.{name}").main).parameters
        assert list(params) == ["argv"], name
    assert main(["--list"]) == 0 and "cross_dataset" in capsys.readouterr().out
    assert main(["nope"]) == 2
    main(
        [
            "cross_dataset",
            "--datasets",
            "sklearn_digits",
            "--bits",
            "16",
            "--quick",
            "--methods",
            "LSHHasher",
            "ITQHasher",
        ]
    )
    assert "| sklearn_digits | ITQ | " in capsys.readouterr().out
