"""psMNIST with the hidden layer on the chip: the held readout period (CI-sized: a tiny LMU, a few digits)."""

import os

import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LMU, cli, deploy


def tiny_psmnist_lmu(seed=0):
    """A psMNIST-shaped LMU (one input, ten outputs, a 784-step window) with random weights."""
    rng = np.random.default_rng(seed)
    lmu = LMU(16, 8, 0.784, output_dimensions=10, dt=0.001, seed=seed,
              params={"W_m": rng.normal(0, 0.3, (16, 8)), "W_o": rng.normal(0, 1, (10, 16)),
                      "b": rng.uniform(0.5, 1, 16)})
    lmu.metadata = {"task": "psmnist"}
    return lmu


def test_with_readout_holds_the_last_sample():
    x = np.arange(12.0).reshape(2, 6, 1)
    held = deploy.with_readout(x, 3)
    assert held.shape == (2, 9, 1)
    assert np.array_equal(held[:, :6], x)
    assert np.all(held[:, 6:] == x[:, -1:])
    assert np.array_equal(deploy.with_readout(x, 0), x)


def test_held_readout_reads_the_last_steps_output_through_the_period():
    """Rate neurons, held readout: every readout step's output is the output at the
    digit's last pixel (the memory runs on, unread); for the first digit (the memory from
    rest, as the reference runs each digit) exactly the trained network's."""
    lmu = tiny_psmnist_lmu()
    results = deploy.deploy(lmu, backend="nengo", neurons="rate", n_test=3, readout_steps=4)
    y = results["y"].reshape(3, 784 + 4, 10)
    assert np.allclose(y[:, 784:], y[:, 783:784], atol=1e-9)
    assert np.allclose(y[0, 783], lmu.rate_outputs(results["test"]["x"][:1])[0], atol=1e-6)
    assert results["settings"]["readout_steps"] == 4 and results["n_steps"] == 3 * 788
    # without the hold the memory moves on: the outputs over the same steps change
    free = deploy.run_stream(deploy.convert(lmu, "rate"), results["test"]["u"])["y"].reshape(3, 788, 10)
    assert np.allclose(free[:, :784], y[:, :784])
    assert not np.allclose(free[:, 784:], y[:, 783:784], atol=1e-3)


def test_held_readout_on_the_chip_averages_spikes():
    """Loihi emulator, 2 digits: the hidden layer spikes at most once per step and the
    readout's spike counts recover the output better than the last step's spikes."""
    pytest.importorskip("nengo_loihi")
    lmu = tiny_psmnist_lmu()
    ref = lmu.rate_outputs(deploy.test_data("psmnist", lmu, 2)["x"])
    errors = {}
    for readout in (0, 100):
        results = deploy.deploy(lmu, backend="loihi-sim", n_test=2, readout_steps=readout, firing_rate_scale=300)
        assert results["report"]["layers"]["hidden"]["max_spikes_per_step"] <= 1
        out = deploy.read_out(results["y"].reshape(2, 784 + readout, 10), results["test"])
        errors[readout] = np.sqrt(np.mean((out - ref) ** 2))
    assert errors[100] < 0.5 * errors[0], errors


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(readout_steps=-1), r"deploy.readout_steps: must be an integer in \[0, 1000\]"),
        (dict(readout_steps=1.5), r"deploy.readout_steps: must be an integer"),
        (dict(readout_steps=5, memory_neurons=2), "deploy.readout_steps: a held readout needs the exact memory"),
        (dict(readout_steps=5, steps_per_sample=2), "deploy.readout_steps: a held readout needs the exact memory"),
    ],
)
def test_readout_steps_refused_before_any_work(kwargs, message, monkeypatch):
    monkeypatch.setattr(deploy, "test_data", lambda *a, **k: pytest.fail("worked before the check"))
    with pytest.raises(ValidationError, match=message):
        deploy.deploy(tiny_psmnist_lmu(), **kwargs)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--readout-steps", "-2"], r"--readout-steps: must be an integer in \[0, 1000\]"),
        (["--readout-steps", "10"], "--readout-steps: a readout period is for psmnist"),
        (["--readout-steps", "10", "--memory-neurons", "3"], "--readout-steps: a held readout needs the exact"),
    ],
)
def test_deploy_command_refuses_bad_readouts_one_line(args, message, tmp_path, capsys):
    import re

    code = cli.main(["deploy"] + args + ["-o", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err
    assert not os.listdir(tmp_path)
