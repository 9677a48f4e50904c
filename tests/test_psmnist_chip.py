"""psMNIST with the hidden layer on the chip: the held readout period (CI-sized: a tiny LMU, a few digits)."""

import json
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


# --- nengo-lmu psmnist-chip


def many_memories_psmnist_lmu(seed=0):
    """A psMNIST-shaped LMU whose memory is 32 memories of order 2: all 64 coefficients'
    neurons feed the hidden neurons' one core, whose 4,096 in-axons overflow above 63
    neurons per coefficient (cheap to build: each memory's own weights stay small)."""
    lmu = LMU(4, 2, 0.784, memory_d=32, output_dimensions=10, dt=0.001, seed=seed)
    lmu.metadata = {"task": "psmnist"}
    return lmu


@pytest.fixture
def psmnist_files(tmp_path):
    paths = []
    for name, lmu in (("tiny", tiny_psmnist_lmu()), ("many", many_memories_psmnist_lmu())):
        paths.append(str(tmp_path / f"{name}.npz"))
        lmu.save_params(paths[-1], metadata=lmu.metadata)
    return paths


def test_psmnist_chip_writes_one_row_per_cell(psmnist_files, tmp_path):
    """Two files x (host reference + 3 memory sizes), one digit each: every cell a row, in
    order of size; a size that does not fit one chip recorded with the largest that does,
    the table going on."""
    pytest.importorskip("nengo_lmu.loihi")
    from nengo_lmu.bench import psmnist_chip

    out = tmp_path / "out"
    results = psmnist_chip.run(params=",".join(psmnist_files), memory_neurons="70,2,80", n_test=1,
                               firing_rate_scale=300, readout_steps=3, out_dir=str(out),
                               progress=False)
    assert sorted(os.listdir(out)) == ["psmnist-chip.json", "psmnist-chip.png"]
    with open(out / "psmnist-chip.json") as f:
        saved = json.load(f)
    rows = saved["rows"]
    assert [(r["params"], r["memory"], r["memory_neurons"]) for r in rows] == [
        (path, memory, n) for path in psmnist_files
        for memory, n in (("host", 0), ("chip", 2), ("chip", 70), ("chip", 80))
    ]
    misfit, larger = rows[-2:]
    assert not misfit["fits"] and misfit["largest_fit"] == 63 and misfit["largest_fit_exact"]
    assert "memory_neurons=70" in misfit["refusal"] and "accuracy" not in misfit
    assert misfit["cores_needed"] >= 1 and misfit["reason"] == "a block exceeds a core's in-axons limit"
    # a larger size is known not to fit: recorded without building it again
    assert not larger["fits"] and larger["largest_fit"] == 63 and larger["refusal"].startswith("not built")
    for row in rows[:-2]:
        assert row["fits"], row
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["reference"] <= 1
        assert row["readout_steps"] == (3 if row["memory"] == "host" else 0) and row["n_test"] == 1
        assert row["cores"] >= 1 and row["steps_per_s"] > 0
        assert 0 <= row["spikes_per_step"]["hidden"] <= 1
        assert ("memory" in row["spikes_per_step"]) == (row["memory"] == "chip")
        assert row["report"]["metrics"]["deployed"] == row["accuracy"]
    assert saved["args"]["memory_neurons"] == [2, 70, 80] and saved["args"]["params"] == psmnist_files
    assert "does not fit" in saved["table"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(params=None), r"psmnist_chip\.params: give the parameter file"),
        (dict(params="missing.npz"), r"params: no such file 'missing\.npz'"),
        (dict(memory_neurons="0"), r"psmnist_chip\.memory_neurons: must be an integer in \[1, 1000\]"),
        (dict(memory_neurons="5,5"), r"psmnist_chip\.memory_neurons: holds a value twice"),
        (dict(memory_neurons="five"), r"psmnist_chip\.memory_neurons: must be an integer"),
        (dict(n_test=0), r"psmnist_chip\.n_test: must be an integer in \[1, 10000\]"),
        (dict(n_test=2000, readout_steps=1000), r"psmnist_chip\.n_test: .* more than 1,000,000; nearest that "
                                                r"fits: 560"),
        (dict(firing_rate_scale=-1), r"psmnist_chip\.firing_rate_scale: must be a finite number > 0"),
        (dict(firing_rate_scale=1e6), r"psmnist_chip\.firing_rate_scale: .*tiny\.npz: on Loihi a neuron spikes at "
                                      r"most once per step.*nearest scale that fits"),
        (dict(readout_steps=-1), r"psmnist_chip\.readout_steps: must be an integer in \[0, 1000\]"),
        (dict(readout_steps=1.5), r"psmnist_chip\.readout_steps: must be an integer"),
        (dict(seed=-1), r"psmnist_chip\.seed: must be an integer >= 0"),
    ],
)
def test_psmnist_chip_refuses_bad_arguments_before_any_run(kwargs, message, psmnist_files, tmp_path, monkeypatch):
    from nengo_lmu.bench import psmnist_chip

    monkeypatch.setattr(deploy, "deploy", lambda *a, **k: pytest.fail("deployed before the check"))
    kwargs = dict(dict(params=psmnist_files[0], out_dir=str(tmp_path / "out")), **kwargs)
    with pytest.raises(ValidationError, match=message):
        psmnist_chip.run(**kwargs)
    assert not (tmp_path / "out").exists()


def test_psmnist_chip_refuses_a_network_of_another_task(tmp_path, monkeypatch):
    from nengo_lmu.bench import psmnist_chip

    monkeypatch.setattr(deploy, "deploy", lambda *a, **k: pytest.fail("deployed before the check"))
    other = LMU(4, 2, 0.05, output_dimensions=1, seed=0)
    other.save_params(tmp_path / "rms.npz", metadata={"task": "window-rms", "window": 50})
    with pytest.raises(ValidationError, match=r"psmnist_chip\.params: .*rms\.npz: .*psmnist needs 1 input"):
        psmnist_chip.run(params=str(tmp_path / "rms.npz"), out_dir=str(tmp_path / "out"))


def test_psmnist_chip_command_line_errors_are_one_line(psmnist_files, tmp_path, capsys):
    code = cli.main(["psmnist-chip", "--params", psmnist_files[0], "--memory-neurons", "3,x,0",
                     "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--memory-neurons: must be an integer" in err, err
    assert not (tmp_path / "out").exists()
