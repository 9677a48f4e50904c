"""The ``nengo-lmu`` command: subcommands, help, the main job, and one-line errors."""

import argparse
import json
import os
import re
import subprocess
import sys

import pytest

from nengo_lmu import bench, cli
from nengo_lmu.bench import Command

BIN = os.path.dirname(sys.executable)


def run_cli(*args, **kwargs):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "nengo_lmu", *args],
        capture_output=True, text=True, timeout=300, env=env, **kwargs,
    )


def subparsers(parser):
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return action.choices


def test_help_lists_commands_without_importing_tensorflow():
    # --help must be fast: listing the commands may not pull in TensorFlow
    code = (
        "import sys\n"
        "from nengo_lmu.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "heavy = sorted(m for m in ('tensorflow', 'nengo_dl', 'nengo_loihi') if m in sys.modules)\n"
        "assert not heavy, f'--help imported {heavy}'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in bench.load_commands():
        assert re.search(rf"^    {re.escape(name)}(\s|$)", out.stdout, re.M), name
    assert "delay" in out.stdout and "--help" in out.stdout


def test_console_script_and_module_agree():
    script = os.path.join(BIN, "nengo-lmu")
    if not os.path.exists(script):
        pytest.skip(f"console script not installed in {BIN}")
    a = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    b = run_cli("--help")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_every_option_is_explained():
    parser = cli.build_parser()
    commands = subparsers(parser)
    assert "delay" in commands
    for name, sub in commands.items():
        assert sub.description, name
        for action in sub._actions:
            if action.option_strings:
                assert action.help and len(action.help) > 10, (name, action.option_strings)
        sub.format_help()  # every %(default)s etc. in the help strings must render


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_delay_main_job(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["delay", "-t", "1.6", "--t-skip", "0.5", "-m", "300", "-o", str(out), "--no-progress"]
    assert cli.main(args) == 0
    stdout = capsys.readouterr().out
    png, js = out / "delay-nengo.png", out / "delay-nengo.json"
    assert png.stat().st_size > 10_000
    assert f"  {js}" in stdout and f"  {png}" in stdout  # says where it wrote its files
    with open(js) as f:
        results = json.load(f)
    assert results["settings"]["backend"] == "nengo"
    assert results["settings"]["n_neurons"] == 300
    assert results["settings"]["duration"] == 1.6
    # the exact memory delays this input well; 300 spiking neurons do so roughly
    assert results["ideal_delay_nrmse"] < 0.05
    assert results["ideal_delay_nrmse"] < results["delay_nrmse"] < 0.5
    assert results["wall_time_s"] > results["sim_time_s"] > 0

    # a second run keeps the first run's files
    assert cli.main(args + ["--seed", "1"]) == 0
    assert "delay-nengo-1.json" in capsys.readouterr().out
    with open(js) as f:
        assert json.load(f)["settings"]["seed"] == 0
    with open(out / "delay-nengo-1.json") as f:
        assert json.load(f)["settings"]["seed"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["delay", "--order", "0"], "--order: must be an integer in \\[1, 1024\\]"),
        (["delay", "--theta", "-1"], "--theta: must be a finite number >= 0.001"),
        (["delay", "--theta", "0.0001"], "--theta: must be a finite number >= 0.001"),
        (["delay", "-d", "8", "-m", "5"], "--n-neurons: must be an integer in \\[8, "),
        (["delay", "-t", "1", "--t-skip", "1"], "--t-skip: must be a finite number in \\[0, 0.9\\)"),
        (["delay", "--bandwidth", "600"], "--bandwidth: .*\\(0, 500\\)"),
        (["delay", "--backend", "loihi"], "nxsdk"),
        (["delay", "--backend", "cuda"], "invalid choice: 'cuda'"),
        (["delay", "--neuron-type", "hh"], "invalid choice: 'hh'"),
        (["delay", "--order", "six"], "invalid int value"),
        (["delay", "--no-such-option"], "unrecognized arguments"),
        (["no-such-command"], "invalid choice"),
        (["mackey-glass", "--theta", "40"], "--theta: must be a finite number in \\(0, 32\\]"),
        (["mackey-glass", "--order", "400"], "within 1% of the LSTM's 2726 parameters"),
        (["mackey-glass", "--lrs", "0.01,-1"], "--lrs: must be a finite number > 0 \\(got -1\\)"),
        (["mackey-glass", "--seeds", "0,x"], "--seeds: must be an integer >= 0 \\(got 'x'\\)"),
        (["mackey-glass", "--n-samples", "200"], "--n-samples: 200 is too short"),
    ],
)
def test_bad_arguments_one_line(args, message, tmp_path, capsys):
    try:
        code = cli.main(args + ["-o", str(tmp_path)] if args[0] in ("delay", "mackey-glass") else args)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nengo-lmu"), err
    assert "error: " in err
    assert re.search(message, err), err
    assert not os.listdir(tmp_path)  # nothing written before the arguments are checked


def test_bad_arguments_exit_code_no_traceback(tmp_path):
    bad_out = tmp_path / "a-file"
    bad_out.write_text("")
    for args in (["delay", "--order", "-3"], ["delay", "-o", str(bad_out)], ["delay", "--dt", "x"]):
        out = run_cli(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert "Traceback" not in out.stderr
        assert out.stderr.strip().count("\n") == 0, out.stderr
        assert out.stderr.startswith("nengo-lmu"), out.stderr


def test_module_failing_to_import_is_not_hidden(monkeypatch):
    real_import = bench.importlib.import_module

    def fake_import(name):
        if name == "nengo_lmu.bench.psmnist":
            raise ModuleNotFoundError("No module named 'some_dependency'", name="some_dependency")
        if name == "nengo_lmu.bench.loihi":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name)

    monkeypatch.setattr(bench.importlib, "import_module", fake_import)
    with pytest.raises(ModuleNotFoundError, match="some_dependency"):
        bench.load_commands()
    # an area that is not installed at all is just absent
    assert "delay" in bench.load_commands(("delay", "loihi"))


def test_duplicate_command_names_rejected(monkeypatch):
    import types

    dup = types.ModuleType("nengo_lmu.bench.fake")
    dup.COMMANDS = {"delay": Command("x", lambda: {})}
    monkeypatch.setitem(sys.modules, "nengo_lmu.bench.fake", dup)
    with pytest.raises(RuntimeError, match="'delay' is defined by both"):
        bench.load_commands(("delay", "fake"))


def test_errors_inside_a_command(tmp_path, capsys):
    from nengo.exceptions import ValidationError

    def bad(out_dir="results"):
        raise ValidationError("must be positive", "tau", "LegendreMemory")

    def buggy(out_dir="results"):
        raise KeyError("a bug")

    commands = {"bad": Command("raises a ValidationError", bad), "buggy": Command("has a bug", buggy)}
    assert cli.main(["bad", "-o", str(tmp_path)], commands=commands) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tau: must be positive" in err
    with pytest.raises(ValidationError):  # --traceback shows the real thing
        cli.main(["bad", "--traceback", "-o", str(tmp_path)], commands=commands)
    with pytest.raises(KeyError):  # a bug is not disguised as a usage error
        cli.main(["buggy", "-o", str(tmp_path)], commands=commands)


@pytest.mark.slow
def test_mackey_glass_tiny(tmp_path, capsys):
    """The LMU-vs-LSTM command end to end on a tiny budget (the figures mean nothing here)."""
    import numpy as np

    args = [
        "mackey-glass", "--window", "16", "--theta", "8", "--n-samples", "600", "--epochs", "1",
        "--lrs", "0.01,0.02", "--seeds", "0,1", "-o", str(tmp_path),
    ]
    assert cli.main(args) == 0
    with open(tmp_path / "mackey-glass.json") as f:
        results = json.load(f)
    assert (tmp_path / "mackey-glass.png").stat().st_size > 10_000
    assert "protocol" in results and results["seeds"] == [0, 1]
    for name in ("lmu", "lstm"):
        r = results[name]
        assert [s["lr"] for s in r["lr_search"]] == [0.01, 0.02]
        assert r["chosen_lr"] == min(r["lr_search"], key=lambda s: s["valid_nrmse"])["lr"]
        assert [run["seed"] for run in r["runs"]] == [0, 1]
        assert all(run["lr"] == r["chosen_lr"] for run in r["runs"])
        assert np.isclose(r["test_nrmse_mean"], np.mean(r["test_nrmse"]))
    assert abs(results["lmu"]["n_parameters"] / results["lstm"]["n_parameters"] - 1) <= 0.01
    assert results["lmu_better"] == (results["lmu"]["test_nrmse_mean"] < results["lstm"]["test_nrmse_mean"])


@pytest.mark.parametrize(
    "args, name",
    [
        (["scaling", "--neuron-types", "lif", "--n-neurons", "100,200", "--orders", "2,3",
          "--n-fixed", "200", "--order-fixed", "2", "--seeds", "0", "--duration", "0.6"], "scaling"),
        (["capacity", "--order", "6", "--theta-steps", "200", "--delays", "3", "--cycles", "1",
          "--windows", "2", "--spiking-neurons", "20", "--spiking-theta-steps", "100"], "capacity"),
    ],
)
def test_commands_save_their_settings(args, name, tmp_path, capsys):
    """Each command's JSON holds its settings (and the CLI's own entries are left out)."""
    assert cli.main(args + ["-o", str(tmp_path)]) == 0
    with open(tmp_path / f"{name}.json") as f:
        saved = json.load(f)
    settings = saved.get("settings", saved.get("args"))
    assert settings and not any(k.startswith("_") for k in settings)
    assert str(tmp_path / f"{name}.json") in capsys.readouterr().out
