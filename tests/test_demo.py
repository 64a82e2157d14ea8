import pytest

from skhash.demo import format_table, main, run


def test_demo_scores_every_linear_hasher():
    rows = run(bits=(16,), methods=["LSH", "SH", "ITQ"], progress=False)
    scores = {row["method"]: row for row in rows}
    assert {"LSH", "SH", "ITQ"} <= set(scores)
    for row in rows:
        assert 0.1 < row["map"] <= 1 and 0.1 < row["p@100"] <= 1
    # ITQ is far better than random projections on digits.
    assert scores["ITQ"]["map"] > scores["LSH"]["map"] + 0.1


def test_demo_prints_a_table(capsys, monkeypatch):
    monkeypatch.setattr("skhash.demo.available_hashers", lambda: {"LSH": _lsh})
    main(["--bits", "8", "16", "--no-progress"])
    out = capsys.readouterr().out
    assert "| LSH |" in out and "8 bits: mAP / P@100 / fit s" in out


def _lsh(n_bits, seed):
    from skhash import LSHHasher

    return LSHHasher(n_bits, random_state=seed)


def test_demo_rejects_unknown_methods():
    with pytest.raises(ValueError, match="unknown or unavailable methods"):
        run(bits=(8,), methods=["nope"], progress=False)


def test_format_table_lays_out_methods_by_bits():
    rows = [
        {"method": "A", "n_bits": 8, "map": 0.5, "p@100": 0.25, "fit_seconds": 1.0},
        {"method": "A", "n_bits": 16, "map": 0.75, "p@100": 0.5, "fit_seconds": 2.0},
    ]
    assert (
        format_table(rows).splitlines()[-1] == "| A | 0.500 / 0.250 / 1.00 | 0.750 / 0.500 / 2.00 |"
    )


def test_recommendation_names_the_best_and_compares_with_itq():
    from skhash.demo import recommendation

    rows = [
        {"method": "ITQ", "n_bits": 64, "map": 0.5, "p@100": 0.5, "fit_seconds": 0.1},
        {"method": "IDR-AE", "n_bits": 64, "map": 0.6, "p@100": 0.6, "fit_seconds": 5.0},
        {"method": "ITQ", "n_bits": 32, "map": 0.9, "p@100": 0.9, "fit_seconds": 0.1},
    ]
    text = recommendation(rows)
    assert text.startswith("Best here at 64 bits without labels: IDR-AE (mAP 0.600")
    assert "the best is 1.20x its mAP for 50x its fit time" in text
    assert "ITQHasher: the strong default" in text


def test_supervised_hashers_are_marked_and_recommended_apart():
    from skhash.demo import recommendation

    rows = run(bits=(16,), methods=["ITQ", "CCA-ITQ"], progress=False)
    assert "| CCA-ITQ (supervised) |" in format_table(rows) and "| ITQ |" in format_table(rows)
    text = recommendation(rows)
    assert text.startswith("Best here at 16 bits without labels: ITQ")
    assert "With labels: CCA-ITQ" in text


def test_every_hasher_of_the_shared_name_table_runs_in_the_demo():
    from skhash.demo import available_hashers
    from skhash.utils.discovery import all_estimators, hasher_names

    assert set(available_hashers()) == set(hasher_names())
    assert {cls for cls in hasher_names().values()} == {cls for _, cls in all_estimators("hasher")}
    assert list(hasher_names())[:3] == ["AGH", "CBE", "CCA-ITQ"]
    assert {"IDR-AE", "LP-AE", "WGAN-AE", "AE", "SGH", "BiHalf"} <= set(hasher_names())
