"""The side-by-side benchmark against nengolib's RollingWindow (issue 11), without nengolib:
the stored figures stand in for it."""

import json
import os

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import maths
from nengo_lmu.bench import against_nengolib as bench


def test_grid_configs_cover_the_issue_grid():
    cfgs = bench.configs()
    assert len(cfgs) == 4 * 2 * 3 * 3 and len({c["id"] for c in cfgs}) == len(cfgs)
    for c in cfgs:
        assert c["n_neurons"] == c["order"] * c["neurons_per_coefficient"]
        assert c["high"] == pytest.approx(c["band_fraction"] * maths.memory_band(c["order"], c["theta"]))
        # the input has at least 5 components of its band, after the skipped second
        assert c["period"] - bench.T_SKIP >= min(120.0, 5 / c["high"]) - 1e-9


def test_stored_nengolib_figures_cover_the_grid():
    stored = bench.load_stored()
    assert {r["id"] for r in stored["rows"]} == {c["id"] for c in bench.configs()}
    assert stored["measured"]["date"] and stored["measured"]["nengolib"] == "0.5.2"
    assert all(0 < r["nrmse"] < 2 for r in stored["rows"])


def test_same_input_for_both_sides():
    cfg = bench.configs(bench.SMALL_GRID)[0]
    u = bench.make_input(cfg)
    assert len(u) == round(cfg["period"] / cfg["dt"]) and np.allclose(u, bench.make_input(cfg))
    assert np.sqrt(np.mean(u**2)) == pytest.approx(cfg["rms"], rel=0.05)


def test_run_grid_without_nengolib_uses_stored_figures(tmp_path):
    lines = []
    result = bench.run_grid(None, out_dir=str(tmp_path), grid=bench.SMALL_GRID, progress=lines.append)
    (row,) = result["rows"]
    assert result["nengolib_source"]["measured_now"] is False
    assert row["ratio"] == pytest.approx(row["ours"] / row["nengolib"])
    # measured 0.0265 against nengolib's 0.1116 (issue 11); generous for one short seed
    assert row["ratio"] < 0.8
    assert "stored, measured" in lines[-1]
    paths = result["files"]
    assert [os.path.splitext(p)[1] for p in paths] == [".json", ".png"]
    with open(paths[0]) as f:
        assert json.load(f)["worst_ratio"] == pytest.approx(row["ratio"])


def test_command_line_against_stored_nengolib_figures(tmp_path, capsys):
    from nengo_lmu import cli

    assert cli.main(["accuracy", "--against", "nengolib", "--small", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "worst ratio ours/nengolib" in out and "stored, measured" in out
    assert sorted(os.listdir(tmp_path)) == ["against-nengolib.json", "against-nengolib.png"]


def test_command_line_refuses_a_missing_nengolib_python(tmp_path, capsys):
    from nengo_lmu import cli

    args = ["accuracy", "--against", "nengolib", "--nengolib-python", str(tmp_path / "nope"), "-o", str(tmp_path)]
    assert cli.main(args) == 2
    assert "--nengolib-python: no such file" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_run_grid_checks_its_output_directory_before_the_run(tmp_path):
    # a long grid must not run and then fail to save
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    calls = []
    with pytest.raises(ValidationError, match="out_dir"):
        bench.run_grid(out_dir=str(blocker / "results"), grid=bench.SMALL_GRID,
                       make_memory=lambda cfg, p: calls.append(cfg), progress=None)
    assert calls == [] and blocker.read_text() == "mine"


def test_unknown_statistics_command_compares_measure_and_default_with_the_right_statistics(tmp_path, capsys):
    """Issue 11: ``nengo-lmu accuracy --against statistics`` (the small grid: one case, one seed)."""
    from nengo_lmu import cli

    assert cli.main(["accuracy", "--against", "statistics", "--small", "-o", str(tmp_path)]) == 0
    assert "within 1.3x of the right statistics" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["unknown-statistics.json", "unknown-statistics.png"]
    with open(tmp_path / "unknown-statistics.json") as f:
        result = json.load(f)
    (row,) = result["rows"]
    assert set(row["nrmse"]) == {"right", "measured", "default"}
    assert row["measured_ratio"] == pytest.approx(row["mean"]["measured"] / row["mean"]["right"])
    assert all(0 < e[0] < 0.5 for e in row["nrmse"].values())
    # measured on its own run, measure() is about as good as the right statistics (1.0x here)
    assert row["measured_ratio"] < 2
