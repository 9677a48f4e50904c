"""The benchmarks' entry points and the command line over them: bad inputs, outputs, backends.

Every bad input a user can type is one line, ``nengo-lmu: error: ...``, exit status 2,
before any work (nothing written, nothing trained); files are never overwritten unless
asked; choosing a Loihi backend builds the Loihi-ready memory.
"""

import importlib.util
import json
import os
import re
import zipfile

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import bench, cli, maths
from nengo_lmu.bench import delay

HAS_NXSDK = importlib.util.find_spec("nxsdk") is not None
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def cli_error(args, capsys):
    """Run the CLI in-process; return (exit status, stderr)."""
    try:
        code = cli.main(args)
    except SystemExit as e:  # argparse's own errors
        code = e.code
    return code, capsys.readouterr().err


@pytest.fixture
def bad_files(tmp_path):
    """Parameter files that are not: garbage, a truncated zip, JSON, a foreign .npz."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "garbage.npz").write_bytes(b"\x00not a zip at all" * 10)
    good = os.path.join(os.path.dirname(bench.__file__), "..", "gui", "trained_lmu.npz")
    with open(good, "rb") as f:
        content = f.read()
    (files / "truncated.npz").write_bytes(content[: len(content) // 2])
    (files / "results.json").write_text(json.dumps({"not": "params"}))
    np.savez(files / "foreign.npz", x=np.zeros(3))
    with zipfile.ZipFile(files / "bad-signature.npz", "w") as z:
        z.writestr("__signature__.npy", b"\x93NUMPY garbage")
    return files


# a trained parameter file shipped with nengo_lmu (the GUI's window-rms network)
TRAINED = os.path.join(os.path.dirname(bench.__file__), "..", "gui", "trained_lmu.npz")

# each: the command line (without -o), and the message it must show
BAD_INPUTS = [
    # not finite, or negative, where a number is meant
    (["delay", "--duration", "inf"], r"--duration: must be a finite number > 0 \(got inf\)"),
    (["delay", "--duration", "nan"], r"--duration: must be a finite number > 0 \(got nan\)"),
    (["delay", "--theta", "nan"], r"--theta: must be a finite number >= 0.001 \(got nan\)"),
    (["delay", "--synapse", "-0.1"], r"--synapse: must be a finite number > 0"),
    (["delay", "--rms", "inf"], r"--rms: must be a finite number > 0"),
    (["delay", "--dt", "0"], r"--dt: must be a finite number in \(0, 0.1\]"),
    (["delay", "--seed", "-1"], r"--seed: must be an integer >= 0"),
    (["psmnist", "--hidden-synapse", "nan"], r"--hidden-synapse: must be a finite number >= 0 \(got nan\)"),
    (["psmnist", "--lr=-1e-3"], r"--lr: must be a finite number > 0"),
    (["psmnist", "--memory-noise", "inf"], r"--memory-noise: must be a finite number >= 0"),
    (["deploy", "--hidden-synapse", "nan"], r"--hidden-synapse: must be a finite number >= 0 \(got nan\)"),
    (["deploy", "--firing-rate-scale", "0"], r"--firing-rate-scale: must be a finite number > 0"),
    (["deploy", "--memory-neurons", "-1"], r"--memory-neurons: must be an integer in \[0, "),
    (["mackey-glass", "--valid-fraction", "nan"], r"--valid-fraction: must be a finite number in \(0, 0.6\)"),
    (["capacity", "--cycles", "inf"], r"--cycles: must be a finite number > 0"),
    (["capacity", "--windows", "1"], r"--windows: must be an integer >= 2"),
    (["loihi", "--speed-duration", "-1"], r"--speed-duration: must be a finite number > 0 \(got -1"),
    (["loihi", "--duration", "1"], r"--duration: must be a finite number > 1"),
    # upper bounds where a value would exhaust memory or time: the limit is said
    (["delay", "--duration", "1e12"], r"--duration: must be at most 1,000,000 steps of dt=0.001 s, i.e. 1000 s"),
    (["delay", "--n-neurons", "100000000"], r"--n-neurons: must be an integer in \[6, 200000\]"),
    (["delay", "--order", "5000"], r"--order: must be an integer in \[1, 1024\]"),
    (["psmnist", "--n-train", "60000"], r"--n-train: must be an integer in \[1, 50000\]"),
    (["psmnist", "--n-spiking", "20000"], r"--n-spiking: must be an integer in \[0, 10000\]"),
    (["capacity", "--theta-steps", "10000000"], r"--theta-steps: must be an integer in \[1, 333333\]"),
    (["loihi", "--speed-duration", "1e9"], r"--speed-duration: must be at most 1,000,000 steps"),
    (["deploy", "--n-test", "1e12"], r"argument --n-test: invalid int value"),
    # hardware-aware training fine-tunes the demo network it trains, not a file's
    (["deploy", "--hardware", "loihi", "--params", TRAINED],
     r"--hardware: trains the demo network only, not a --params file: drop --hardware .* or drop --params"),
    (["deploy", "--hardware", "spinnaker"], r"argument --hardware: invalid choice: 'spinnaker'"),
    # the deployed graph's lag is trained by the hardware-aware fine-tuning
    (["deploy", "--delay-steps", "3"], r"--delay-steps: is trained by hardware-aware fine-tuning: add --hardware loihi"),
    (["deploy", "--hardware", "loihi", "--delay-steps", "-1"], r"--delay-steps: must be an integer in \[0, 1000\]"),
    # lists: one parser, one message
    (["accuracy", "--seeds", "abc"], r"--seeds: must be an integer >= 0 \(got 'abc'\)"),
    (["accuracy", "--seeds", "0,0"], r"--seeds: holds a value twice"),
    (["accuracy", "--seeds", ""], r"--seeds: must be an integer >= 0 \(got ''\)"),
    (["accuracy", "--configs", "C1,C3"], r"--configs: must be one of \('C1', 'C2'\) \(got 'C3'\)"),
    (["scaling", "--n-neurons", "100,x"], r"--n-neurons: must be an integer in \[1, 200000\] \(got 'x'\)"),
    (["scaling", "--orders", "2,0.5"], r"--orders: must be an integer in \[1, 1024\] \(got 0.5\)"),
    (["scaling", "--neuron-types", "lif,hh"], r"--neuron-types: must be one of .* \(got 'hh'\)"),
    (["scaling", "--duration", "0.3"], r"--duration: must be a finite number > 0.5"),
    (["mackey-glass", "--lrs", "0.01,nan"], r"--lrs: must be a finite number > 0 \(got nan\)"),
    (["loihi", "--backends", "nengo,ref"], r"--backends: must be one of .* \(got 'ref'\)"),
    # backends: one vocabulary
    (["delay", "--backend", "sim"], r"argument --backend: invalid choice: 'sim'"),
    (["deploy", "--backend", "loihi-sim", "--neurons", "rate"], r"--neurons: backend loihi-sim runs spiking"),
]
if not HAS_NXSDK:
    BAD_INPUTS += [
        (["delay", "--backend", "loihi"], r"--backend: 'loihi' runs on a Loihi board and needs Intel's nxsdk"),
        (["deploy", "--backend", "loihi"], r"--backend: .*nxsdk"),
        (["loihi", "--backends", "nengo,loihi"], r"--backends: .*nxsdk"),
    ]


@pytest.mark.parametrize("args, message", BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_bad_input_is_one_line_exit_2(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = cli_error(args + ["-o", str(out)], capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("nengo-lmu") and "error: " in err, err
    assert re.search(message, err), err
    assert not out.exists() or not os.listdir(out)  # refused before any work


@pytest.mark.parametrize("command", ["deploy", "psmnist"])
@pytest.mark.parametrize(
    "name, message",
    [
        ("missing.npz", r"no such file"),
        ("garbage.npz", r"garbage.npz"),
        ("truncated.npz", r"truncated.npz"),
        ("results.json", r"results.json"),
        ("foreign.npz", r"foreign.npz"),
        ("bad-signature.npz", r"bad-signature.npz"),
    ],
)
def test_bad_params_file(command, name, message, bad_files, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = cli_error([command, "--params", str(bad_files / name), "-o", str(out)], capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("nengo-lmu: error: --params: "), err
    assert re.search(message, err), err
    assert not out.exists() or not os.listdir(out)  # nothing trained, nothing written


def test_bad_out_dir(tmp_path, capsys):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    for out_dir, message in [
        (a_file, "exists and is not a directory"),
        (a_file / "below", "cannot write into"),  # a file in the path
    ]:
        code, err = cli_error(["deploy", "-o", str(out_dir)], capsys)
        assert code == 2 and err.count("\n") == 1, err
        assert err.startswith("nengo-lmu: error: --out-dir: ") and message in err, err
    assert a_file.read_text() == ""


@pytest.mark.skipif(AS_ROOT, reason="root writes into any directory, whatever its mode")
def test_out_dir_without_permission(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for out_dir in (locked, locked / "sub"):
            code, err = cli_error(["psmnist", "-o", str(out_dir)], capsys)
            assert code == 2 and "--out-dir: cannot write into" in err, err
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_out_dir_that_cannot_be_created(capsys):
    # /proc refuses new directories even to root: the permission case that runs everywhere
    code, err = cli_error(["deploy", "-o", "/proc/nengo-lmu-results"], capsys)
    assert code == 2 and err.startswith("nengo-lmu: error: --out-dir: cannot write into"), err


def test_traceback_shows_the_full_error(tmp_path):
    with pytest.raises(ValidationError, match="duration"):
        cli.main(["delay", "--duration", "inf", "--traceback", "-o", str(tmp_path)])


def test_entry_points_take_plain_keywords_and_check_them():
    """Python use: the same checks, as ``ValidationError`` naming the argument."""
    with pytest.raises(ValidationError, match=r"delay.duration: must be a finite number > 0"):
        delay.run(duration=float("nan"))
    with pytest.raises(ValidationError, match=r"accuracy.seeds: must be an integer >= 0 \(got 'abc'\)"):
        bench.run("accuracy", seeds="0,abc")
    with pytest.raises(ValidationError, match=r"no option 'epoch'"):
        bench.run("psmnist", epoch=1)
    with pytest.raises(ValidationError, match=r"run.name: must be one of"):
        bench.run("tasks")


def test_one_declaration_per_command():
    """Every option is a keyword of the entry point (whose default it shows), and back."""
    for name, command in bench.load_commands().items():
        defaults = command.defaults()
        options = {option.name for option in command.options}
        assert options <= set(defaults), (name, options - set(defaults))
        assert set(defaults) - options <= {"out_dir", "overwrite", "progress"}, name
        assert {"out_dir", "overwrite"} <= set(defaults), name


def test_values_is_the_one_list_parser():
    from nengo_lmu import validation

    def integer(v, attr):
        return validation.integer(v, attr, low=0)

    assert bench.values("0, 1,2", "seeds", integer, where="x") == [0, 1, 2]
    assert bench.values((3, 4), "seeds", integer, where="x") == [3, 4]
    assert bench.values("0.5,1e-3", "lrs", lambda v, a: validation.positive(v, a), where="x") == [0.5, 0.001]
    with pytest.raises(ValidationError, match="must not be empty"):
        bench.values([], "seeds", integer, where="x")
    with pytest.raises(ValidationError, match="must be a list"):
        bench.values(3, "seeds", integer, where="x")


def test_never_overwrites_unless_asked(tmp_path, capsys):
    """A second run keeps the first run's files; --overwrite replaces them."""
    out = tmp_path / "out"
    args = ["loihi-resources", "--order", "3", "--n-neurons", "60", "-o", str(out)]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    js = out / "loihi-resources.json"
    # announced once: by the CLI's list of written files, not by the command too
    assert first.count(str(js)) == 1, first
    js.write_text("kept")
    assert cli.main(args) == 0
    assert js.read_text() == "kept" and (out / "loihi-resources-1.json").exists()
    assert cli.main(args + ["--overwrite"]) == 0
    assert json.loads(js.read_text())["cores"] >= 1
    assert sorted(p.name for p in out.iterdir()) == ["loihi-resources-1.json", "loihi-resources.json"]


def test_save_helpers_are_atomic_and_keep_files(tmp_path):
    path = bench.save_json({"a": 1}, tmp_path, "r")
    assert bench.save_json({"a": 2}, tmp_path, "r") == str(tmp_path / "r-1.json")
    assert json.loads(open(path).read())["a"] == 1
    with pytest.raises(TypeError):  # not JSON-able: nothing is left behind
        bench.save_json({"a": object()}, tmp_path, "bad")
    assert sorted(os.listdir(tmp_path)) == ["r-1.json", "r.json"]


def test_delay_on_loihi_sim_builds_the_loihi_memory(tmp_path, capsys, report):
    """``delay --backend loihi-sim`` builds the Loihi-ready memory: its error is close to
    the same memory's on nengo (it measured 0.425 with the plain memory, 4x nengo's)."""
    settings = dict(order=6, theta=0.1, n_neurons=400, synapse=0.05, dt=0.001, rms=0.5, seed=0)
    args = ["delay", "--backend", "loihi-sim", "-m", "400", "-t", "2", "--t-skip", "0.5", "--no-progress",
            "-o", str(tmp_path)]
    assert cli.main(args) == 0
    with open(tmp_path / "delay-loihi-sim.json") as f:
        chip = json.load(f)
    assert chip["memory"]["loihi_options"] and "Loihi" in chip["memory"]["neuron_type"]

    # the same (Loihi-ready) memory on the reference simulator
    from nengo_lmu.maths import delay_nrmse

    bandwidth = maths.memory_band(6, 0.1)
    net = delay.build(**settings, bandwidth=bandwidth, duration=2.0, memory=delay.memory_kwargs("loihi-sim"))
    data, _, _ = delay.simulate(net, "nengo", 0.001, 2000)
    reference = delay_nrmse(data["u"], data["y"], 0.1, 0.001, 0.01, t_skip=0.5)
    ratio = chip["delay_nrmse"] / reference
    report(f"delay, 400 neurons, 2 s: loihi-sim {chip['delay_nrmse']:.3f}, same memory on nengo "
           f"{reference:.3f} (ratio {ratio:.2f})")
    # measured 0.217 / 0.164 (1.32x); seeds 1 and 2: 1.34x, 1.31x
    assert ratio < 1.6
    assert chip["delay_nrmse"] < 0.3


@pytest.mark.slow
def test_psmnist_tiny(tmp_path):
    """psMNIST end to end on a tiny budget (the figures mean nothing here): its files, once."""
    import inspect

    from nengo_lmu import dl
    from nengo_lmu.lmu import LMU

    if "return_state" not in inspect.signature(dl.predict).parameters or not hasattr(LMU, "final_memory_state"):
        pytest.skip("needs dl.predict(..., return_state=True) and LMU.final_memory_state (the dl change)")
    results = bench.run(
        "psmnist", units=8, order=4, epochs=1, batch_size=50, n_train=100, n_spiking=2, memory_neurons=5,
        keras_batches=1, out_dir=str(tmp_path),
    )
    names = sorted(os.path.basename(p) for p in results["files"])
    assert names == ["psmnist-params.npz", "psmnist-training.png", "psmnist.json"]
    assert sorted(os.listdir(tmp_path)) == names
    assert "memory_error" in results["time_domain"]["spiking_memory"]
