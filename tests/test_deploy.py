"""Deploying a trained LMU: parameter files, the numpy rate reference, Loihi input ranges,
and the ``nengo-lmu deploy`` command (its one-line errors and a run on the shipped network)."""

import json
import os

import sys

import numpy as np
import nengo
import pytest
from nengo.exceptions import ValidationError

import nengo_lmu
from nengo_lmu import LMU, cli, data, deploy

TRAINED = os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu.npz")


def test_load_rebuilds_the_saved_network(tmp_path):
    lmu = LMU(7, 3, 0.02, input_dimensions=2, memory_d=2, output_dimensions=4, input_to_hidden=True,
              hidden_to_hidden=True, seed=1)
    path = tmp_path / "p.npz"
    lmu.save_params(path, metadata={"task": "x", "n": 3})
    loaded = LMU.load(path, dt=0.001)
    assert loaded.signature() == lmu.signature()
    assert loaded.theta == pytest.approx(0.02)
    assert loaded.paths == lmu.paths
    assert loaded.metadata == {"task": "x", "n": 3}
    for name, value in lmu.get_params().items():
        assert np.array_equal(loaded.params[name], value), name
    # theta is stored in steps: another dt stretches the window with it
    assert LMU.load(path, dt=0.002).theta == pytest.approx(0.04)


def test_read_params_file_errors(tmp_path):
    with pytest.raises(ValidationError, match="no such file"):
        LMU.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValidationError, match="not an .npz file"):
        LMU.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", W_m=np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="not an LMU parameter file"):
        LMU.load(tmp_path / "other.npz")


def test_rate_outputs_match_the_simulated_network():
    lmu = LMU.load(TRAINED)
    u, _ = data.window_rms(1500, window=500, seed=3)
    ref, peak = lmu.rate_outputs(u[None, :, None], every_step=True, peak_rate=True)
    net, probe = deploy.stream_network(lmu, u[:, None])
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(len(u))
    assert np.allclose(sim.data[probe], ref[0], atol=1e-10)
    assert np.allclose(lmu.rate_outputs(u[None, :, None]), ref[:, -1])
    assert 0 < peak < 10  # in units of the trained rates (firing_rate_scale 1)
    # a different firing_rate_scale changes the spikes per second, not the outputs
    scaled = lmu.with_neurons(nengo.RectifiedLinear(), firing_rate_scale=40.0)
    assert np.allclose(scaled.rate_outputs(u[None, :200, None]), lmu.rate_outputs(u[None, :200, None]))


def test_window_rms_task():
    u, y = data.window_rms(3000, window=100, seed=0)
    assert u.shape == y.shape == (3000,) and u.dtype == np.float32
    k = 2000
    assert y[k] == pytest.approx(np.sqrt(np.mean(u[k - 99 : k + 1].astype(float) ** 2)), rel=1e-4)
    x, t = data.stream_windows(u, y, 200, stride=50)
    assert x.shape == (57, 200, 1) and t.shape == (57, 1)
    assert np.array_equal(x[3, :, 0], u[150:350]) and t[3, 0] == y[349]


def test_task_of():
    trained = LMU.load(TRAINED)
    assert deploy.task_of(trained) == "window-rms"
    psmnist_sized = LMU(4, 2, 0.784, output_dimensions=10)
    assert deploy.task_of(psmnist_sized) == "psmnist"
    with pytest.raises(ValidationError, match="cannot tell which task"):
        deploy.task_of(LMU(4, 2, 0.1, output_dimensions=3))
    with pytest.raises(ValidationError, match="psmnist needs 1 input"):
        deploy.task_of(trained, "psmnist")


def test_convert():
    lmu = LMU.load(TRAINED)
    spiking = deploy.convert(lmu, "spiking", firing_rate_scale=500, hidden_synapse=0.01)
    assert isinstance(spiking.neuron_type, nengo.SpikingRectifiedLinear)
    assert spiking.firing_rate_scale == 500 and spiking.hidden_synapse == 0.01
    with pytest.raises(ValidationError, match="no spiking version"):
        deploy.convert(LMU(3, 2, 0.1, neuron_type=nengo.Tanh()), "spiking")


def test_loihi_input_ranges_keep_large_states_from_saturating():
    """Host-to-chip inputs into neurons fire at most once per step, so values past 1 saturate;
    scaled to their ranges, the same network works whatever the scale of its memory."""
    loihi = pytest.importorskip("nengo_lmu.loihi")
    lmu = LMU.load(TRAINED)
    big = lmu.with_neurons()  # the same function with a 10x larger memory state
    params = lmu.get_params()
    big.set_params(dict(params, e_x=10 * params["e_x"], W_m=params["W_m"] / 10))
    u, y = data.window_rms(3000, window=500, seed=3)
    assert np.allclose(big.rate_outputs(u[None, :, None]), lmu.rate_outputs(u[None, :, None]))
    spiking = deploy.convert(big, "spiking", firing_rate_scale=1000, hidden_synapse=0.05, loihi=True)
    ranges = loihi.lmu_input_ranges(spiking, u[None, :, None])
    k = ranges[spiking.param_connections["W_m"]]
    assert k.shape == (6,) and k.max() > 1 and k[0] > 10 * k[-1]
    target = nengo.Lowpass(0.05).filt(y, dt=0.001, y0=0)
    errors = {}
    for name, r in (("ranged", ranges), ("plain", None)):
        y_out = deploy.run_stream(spiking, u[:, None], "loihi-sim", input_ranges=r)["y"][:, 0]
        errors[name] = nengo_lmu.maths.nrmse(y_out[1000:], target[1000:])
    assert errors["ranged"] < 0.15, errors
    assert errors["plain"] > 2 * errors["ranged"], errors


# --- the command --------------------------------------------------------------------


def test_deploy_shipped_network(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["deploy", "--params", TRAINED, "--n-test", "3000", "-o", str(out), "--no-progress"]
    assert cli.main(args) == 0
    stdout = capsys.readouterr().out
    js, png = out / "deploy-window-rms-nengo.json", out / "deploy-window-rms-nengo.png"
    assert f"  {js}" in stdout and f"  {png}" in stdout
    with open(js) as f:
        results = json.load(f)
    assert results["task"] == "window-rms" and results["neurons"] == "spiking"
    assert results["settings"]["hidden_synapse"] == 0.05  # the task's default
    assert results["reference"]["nrmse"] < 0.03  # the trained rate network
    assert results["reference"]["nrmse"] < results["nrmse"] < 0.1  # spiking: a little noisier
    assert 100 < results["peak_rate_hz"] < 1000
    assert "resources" not in results


def test_deploy_on_the_loihi_emulator(tmp_path, capsys):
    pytest.importorskip("nengo_loihi")
    args = ["deploy", "--params", TRAINED, "--n-test", "2000", "--backend", "loihi-sim",
            "-o", str(tmp_path), "--no-progress"]
    assert cli.main(args) == 0
    assert "fits on one chip" in capsys.readouterr().out
    with open(tmp_path / "deploy-window-rms-loihi-sim.json") as f:
        results = json.load(f)
    assert results["resources"]["fits_one_chip"] and results["resources"]["cores"] == 1
    assert results["nrmse"] < 0.2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--params", "no-such-file.npz"], "--params: no such file 'no-such-file.npz'"),
        (["--params", TRAINED, "--task", "psmnist"], "psmnist needs 1 input.* and 10 output"),
        (["--task", "psmnist"], "--task: psmnist needs --params"),
        (["--backend", "loihi-sim", "--neurons", "rate"], "runs spiking neurons only"),
        (["--backend", "loihi"], "nxsdk"),
        (["--n-test", "900"], "--n-test: must exceed two windows"),
        (["--firing-rate-scale", "0"], "--firing-rate-scale: must be a finite number > 0"),
        (["--hidden-synapse", "-1"], "--hidden-synapse: must be a finite number >= 0"),
        (["--neurons", "lif"], "invalid choice: 'lif'"),
    ],
)
def test_deploy_bad_arguments_one_line(args, message, tmp_path, capsys):
    import re

    try:
        code = cli.main(["deploy"] + args + ["-o", str(tmp_path)])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("nengo-lmu"), err
    assert re.search(message, err), err
    assert not os.listdir(tmp_path)  # nothing trained or written before the check


def test_deploy_wrong_shapes_one_line(tmp_path, capsys):
    path = tmp_path / "p.npz"
    LMU(5, 4, 0.01, output_dimensions=3).save_params(path)  # no metadata, not psMNIST-sized
    assert cli.main(["deploy", "--params", str(path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot tell which task" in err, err


# --- the pipeline -------------------------------------------------------------------


def test_memory_statistics_are_the_memory_inputs_rms():
    lmu = LMU.load(TRAINED)
    u, _ = data.window_rms(2000, window=500, seed=3)
    stats = deploy.memory_statistics(lmu, u[None, :, None], high=1.5)
    assert stats.high == 1.5
    assert stats.rms == pytest.approx(np.sqrt(np.mean((u.astype(float) * lmu.params["e_x"][0, 0]) ** 2)))
    assert deploy.memory_statistics(lmu, u[None, :, None]).high == 0.5 / lmu.dt  # Nyquist
    spiking = deploy.convert(lmu, memory_neurons=20, memory_input_statistics=stats)
    assert spiking.memory.input_rms == stats.rms
    assert isinstance(spiking.memory.neuron_type, nengo.LIF)
    on_chip = deploy.convert(lmu, memory_neurons=20, memory_input_statistics=stats, backend="loihi-simreal")
    assert on_chip.memory.neuron_type != spiking.memory.neuron_type  # the backend's memory options


def test_deploy_runs_the_exact_memory_once(monkeypatch):
    """The reference outputs and the input ranges both read one run of the exact memory."""
    calls = []
    memory_states = LMU.memory_states

    def counted(self, x):
        calls.append(len(x))
        return memory_states(self, x)

    monkeypatch.setattr(LMU, "memory_states", counted)
    results = deploy.deploy(TRAINED, n_test=1200, neurons="rate")  # a parameter file: loaded first
    assert results["reference"]["nrmse"] < 0.05 and results["nrmse"] < 0.05
    assert results["backend"] == "nengo" and results["n_steps"] == 1200
    assert len(calls) == 1


def test_deploy_on_loihi_builds_once_and_reports_that_build(monkeypatch):
    """The resources come from the simulator's own model: one Loihi build per deployment."""
    loihi = pytest.importorskip("nengo_lmu.loihi")
    from nengo_lmu.loihi import simulator as loihi_simulator

    builds = []
    make_model = loihi_simulator.make_model

    def counted(*args, **kwargs):
        builds.append(1)
        return make_model(*args, **kwargs)

    monkeypatch.setattr(loihi_simulator, "make_model", counted)
    # the package attribute ``resources`` is the function: reach the module through sys.modules
    monkeypatch.setattr(sys.modules["nengo_lmu.loihi.resources"], "make_model", counted)
    results = deploy.deploy(TRAINED, backend="loihi-simreal", n_test=1100)
    assert len(builds) == 1
    resources = results["resources"]
    assert isinstance(resources, loihi.Resources) and resources.cores > 0
    assert any(b["label"] == "hidden" for b in resources.blocks)
