"""Mackey-Glass deployed: the stream task of ``deploy`` and ``nengo-lmu mackey-glass-chip``."""

import json

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import cli, data, deploy
from nengo_lmu.bench import mackey_glass
from nengo_lmu.lmu import LMU


def test_stream_scores_the_benchmark_windows_targets():
    """From ``skip`` on, the stream's inputs and targets are exactly the test windows'."""
    parts = data.mackey_glass_parts(1000, seed=0)
    test = deploy.mackey_glass_test(dict(n_samples=1000, window=32, horizon=15))
    x, y = data.mackey_glass_windows(parts["test"], 32, 15)
    scored = test["y"][test["skip"]:]
    assert len(scored) == len(y)
    np.testing.assert_array_equal(scored, y)
    # window i ends at step skip + i of the stream
    np.testing.assert_array_equal(test["u"][test["skip"] + 5 - 31 : test["skip"] + 6, 0], x[5, :, 0])
    assert abs(parts["train"].mean()) < 1e-9 and abs(parts["train"].std() - 1) < 1e-9


def test_parts_are_the_benchmarks():
    """The benchmark and the deployment read one split (data.mackey_glass_parts)."""
    parts = data.mackey_glass_parts(1000, valid_fraction=0.15, seed=3)
    series = data.mackey_glass(1000, seed=3)
    assert [len(parts[k]) for k in ("train", "valid", "test")] == [int((0.7 - 0.15) * 1000), 700 - int((0.7 - 0.15) * 1000), 300]
    np.testing.assert_allclose(parts["test"] * parts["std"] + parts["mean"], series[700:])


def test_n_test_checked():
    with pytest.raises(ValidationError, match=r"n_test"):
        deploy.mackey_glass_test(n_test=10)  # not even one window
    with pytest.raises(ValidationError, match=r"horizon"):
        data.mackey_glass_stream(np.zeros(10), horizon=0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--memory", "host,disk"], r"--memory: must be one of"),
        (["--n-test", "10"], r"--n-test: "),
        (["--steps-per-sample", "1000", "--n-test", "1000"], r"--n-test: .* more than 1000000 steps"),
        (["--hidden-synapse", "-1"], r"--hidden-synapse: "),
        (["--neurons-per-unit", "0"], r"--neurons-per-unit: must be an integer in \[1, 1000\] \(got 0\)"),
        (["--weight-bits", "9"], r"--weight-bits: must be an integer in \[2, 8\] \(got 9\)"),
        (["--weight-bits", "8", "--hardware-epochs", "0"], r"--weight-bits: is trained by the hardware-aware "
                                                             r"fine-tuning"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    try:
        code = cli.main(["mackey-glass-chip"] + args + ["-o", str(out)])
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("nengo-lmu: error: "), err
    assert message.split(":")[0] in err and __import__("re").search(message, err), err
    assert not out.exists() or not __import__("os").listdir(out)


def test_tiny_network_on_the_emulator_host_and_chip(tmp_path):
    """A small network (not trained) through the whole command: both deployments, consistent JSON,
    each hidden unit run by the neurons asked for."""
    lmu = LMU(12, 4, 0.02, input_to_hidden=True, output_dimensions=1, neuron_type="relu", seed=0)
    path = str(tmp_path / "mg.npz")
    lmu.save_params(path, metadata=dict(task="mackey-glass", **deploy.MACKEY_GLASS))
    results = mackey_glass.run_chip(params=path, n_test=60, steps_per_sample=2, hidden_synapse=0.002,
                                    memory_neurons=4, neurons_per_unit=2, out_dir=str(tmp_path / "out"))
    with open(results["json"]) as f:
        saved = json.load(f)
    assert set(saved["deployments"]) == {"host", "chip"}
    for where, run in saved["deployments"].items():
        assert run["settings"]["steps_per_sample"] == 2 and run["n_steps"] == 120
        assert run["settings"]["memory"] == where
        assert np.isfinite(run["nrmse"]) and np.isfinite(run["nrmse_raw"])
        assert run["report"]["metrics"]["deployed"] == run["nrmse"]
        assert run["settings"]["neurons_per_unit"] == 2 and run["report"]["layers"]["hidden"]["neurons"] == 24
    assert "memory" in saved["deployments"]["chip"]["report"]["layers"]
    assert "memory" not in saved["deployments"]["host"]["report"]["layers"]


def test_phase_windows():
    """At one substep they are the benchmark's windows; else they end at sub-sample phases, the sample's target."""
    series = data.mackey_glass_parts(1000, seed=0)["test"]
    x, y = mackey_glass.phase_windows(series, 32, 15, substeps=1, synapse_samples=0.2, per_sample=1)
    xw, yw = data.mackey_glass_windows(series, 32, 15)
    np.testing.assert_array_equal(np.sort(y[:, 0]), np.sort(yw[:, 0]))
    assert x.shape == xw.shape and set(map(tuple, x[:, :, 0])) == set(map(tuple, xw[:, :, 0]))
    x, y = mackey_glass.phase_windows(series, 32, 15, substeps=4, synapse_samples=0.0, per_sample=1)
    assert x.shape[1] == 128
    # no lowpass: every window ends at its sample's last substep, so it is a held benchmark window
    held = np.repeat(xw, 4, axis=1)
    assert set(map(tuple, x[:, :, 0])) == set(map(tuple, held[:, :, 0]))
