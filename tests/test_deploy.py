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


def test_rate_reference_is_scored_through_the_deployed_synapse():
    """Deployed with its own rate neurons on nengo, the network is its rate reference: through
    any output synapse, with samples held or not, the two score alike (the reference's
    outputs pass through the same lowpass as the deployment's, so the filter's smoothing is
    credited to neither)."""
    figures = {}
    for synapse in (None, 0.2, nengo.Alpha(0.05)):  # any nengo Synapse, not just a lowpass
        results = deploy.deploy(TRAINED, neurons="rate", hidden_synapse=synapse, n_test=2000)
        # equal but for the output bias, which the network adds unfiltered: the reference's
        # filtered bias still rises from zero (by e**-5 at tau 0.2) where scoring starts
        assert results["nrmse"] == pytest.approx(results["reference"]["nrmse"], rel=2e-3)
        figures[synapse] = results["reference"]["nrmse"]
    assert figures[0.2] < 0.8 * figures[None]  # the lowpass smooths the network's own error
    # samples held 3 steps: the synapse slowed with them (the memory between sample
    # boundaries is not the held one, so not quite equal)
    held = deploy.deploy(TRAINED, neurons="rate", hidden_synapse=0.05, n_test=2000, steps_per_sample=3)
    assert held["nrmse"] == pytest.approx(held["reference"]["nrmse"], rel=0.03)
    assert held["reference"]["nrmse"] < 0.8 * figures[None]


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
    assert results["report"]["layers"]["hidden"]["max_spikes_per_step"] <= 1  # in the JSON too


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
        (["--memory", "chip"], "memory='chip' is a spiking memory: give memory_neurons"),
        (["--params", TRAINED, "--hardware", "loihi"], "--hardware:? trains the demo network only"),
        (["--spiking-steps", "400"], "--spiking-steps: is trained by hardware-aware fine-tuning: add --hardware"),
        (["--hardware", "loihi", "--spiking-steps", "1001"], r"--spiking-steps: must be an integer in \[0, 1000\]"),
        (["--neurons-per-unit", "0"], r"--neurons-per-unit: must be an integer in \[1, 1000\]"),
        (["--memory-scale", "loudest"], r"invalid choice: 'loudest'"),
        (["--memory-synapse", "0.1"], r"--memory-synapse: is the spiking memory's synapse: give memory_neurons"),
        (["--memory-neurons", "10", "--memory-synapse", "-1"], r"--memory-synapse: must be a finite number > 0"),
        (["--memory-neurons", "10", "--backend", "loihi-sim", "--memory-synapse", "5"],
         r"--memory-synapse: the chip's slowest synaptic decay is a time constant of 4.10 s \(got 5.0\); "
         r"the nearest that fits: 4.09"),
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


@pytest.fixture
def exact_memory_runs(monkeypatch):
    """The number of sequences of each run of the exact memory (``LMU.memory_states``)."""
    calls = []
    memory_states = LMU.memory_states

    def counted(self, x):
        calls.append(len(x))
        return memory_states(self, x)

    monkeypatch.setattr(LMU, "memory_states", counted)
    return calls


def test_deploy_runs_the_exact_memory_once(exact_memory_runs):
    """The reference outputs and the input ranges both read one run of the exact memory."""
    results = deploy.deploy(TRAINED, n_test=1200, neurons="rate")  # a parameter file: loaded first
    assert results["reference"]["nrmse"] < 0.05 and results["nrmse"] < 0.05
    assert results["backend"] == "nengo" and results["n_steps"] == 1200
    assert len(exact_memory_runs) == 1


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


def test_deployment_report_is_consistent():
    """The report's figures agree with the run, the chip's limits and each other."""
    loihi = pytest.importorskip("nengo_lmu.loihi")
    results = deploy.deploy(TRAINED, backend="loihi-sim", n_test=1200, attribute=True)
    rep = results["report"]
    # attribute=True: the same network on the float emulator; no spiking memory to move
    assert set(rep["metrics"]) == {"rate", "trained", "chip_rates", "spikes_float_weights", "deployed"}
    assert rep["metrics"]["trained"] == rep["metrics"]["rate"]  # trained plainly
    assert 0 < rep["metrics"]["spikes_float_weights"] < 0.2
    assert rep["metric"] == "nrmse"
    assert rep["metrics"]["deployed"] == results["nrmse"]
    assert rep["metrics"]["trained"] == results["reference"]["nrmse"]
    # the chip's rates without spikes lose some, the spikes and quantised weights more
    assert rep["metrics"]["trained"] < rep["metrics"]["chip_rates"] < rep["metrics"]["deployed"]
    assert set(rep["layers"]) == {"hidden"}  # the exact memory runs on the host
    hidden = rep["layers"]["hidden"]
    assert hidden["neurons"] == 64
    assert 0 < hidden["mean_spikes_per_step"] <= hidden["max_spikes_per_step"] <= loihi.MAX_SPIKES_PER_STEP
    resources = results["resources"]
    assert rep["cores"] == resources.cores
    assert rep["steps"] == 1200 and rep["steps_per_inference"] == 1  # a stream: one sample
    assert rep["neuron_updates_per_step"] == resources.total["compartments"]
    # every spike of the hidden layer reaches no chip synapse (its output goes to the host),
    # so the synaptic operations are the host inputs' spikes: more than none, at most every
    # in-axon's synapses every step
    assert 0 < rep["synaptic_ops_per_step"] <= resources.total["in-axons"] * hidden["neurons"]
    energy = (rep["synaptic_ops_per_step"] * loihi.ENERGY_PJ["synaptic_op"]
              + rep["neuron_updates_per_step"] * loihi.ENERGY_PJ["neuron_update"]) / 1e3
    assert rep["energy_per_inference_nj"] == pytest.approx(energy)
    text = deploy.format_report(rep)
    assert "ESTIMATE" in text and "64 neurons" in text


def test_deploy_with_several_neurons_per_unit():
    """Each hidden unit run by four chip neurons: the report counts them, none fires more
    than once a step, the rate reference is the same network's, and the chip's rate
    curves are the four neurons' (gains spread below the unit's) summed."""
    pytest.importorskip("nengo_lmu.loihi")
    results = deploy.deploy(TRAINED, backend="loihi-sim", n_test=1200, neurons_per_unit=4)
    rep = results["report"]
    assert results["settings"]["neurons_per_unit"] == 4
    hidden = rep["layers"]["hidden"]
    assert hidden["neurons"] == 4 * 64
    assert 0 < hidden["mean_spikes_per_step"] <= hidden["max_spikes_per_step"] <= 1
    one = deploy.deploy(TRAINED, backend="loihi-sim", n_test=1200)["report"]["metrics"]
    assert rep["metrics"]["rate"] == one["rate"] and rep["metrics"]["trained"] == one["trained"]
    assert rep["metrics"]["chip_rates"] != one["chip_rates"]
    assert 0 < results["nrmse"] < 0.2


def test_neurons_per_unit_refused_before_any_work(monkeypatch):
    monkeypatch.setattr(deploy, "test_data", lambda *a, **k: pytest.fail("worked before the check"))
    with pytest.raises(ValidationError, match=r"deploy.neurons_per_unit: must be an integer in \[1, 1000\]"):
        deploy.deploy(TRAINED, backend="loihi-sim", neurons_per_unit=0)
    with pytest.raises(ValidationError, match=r"deploy.memory_scale: must be one of \('rms', 'window', 'peak'\)"):
        deploy.deploy(TRAINED, backend="loihi-sim", memory_scale="loudest")
    lif = LMU.load(TRAINED).with_neurons(nengo.LIFRate())
    with pytest.raises(ValidationError, match=r"deploy.neurons_per_unit: several neurons per unit need rectified"):
        deploy.deploy(lif, task="window-rms", backend="nengo", neurons_per_unit=2)


def test_memory_scaled_for_its_loudest_window():
    """``scale="window"``: the RMS of the loudest stretch of the memory's window, not of the
    whole input; equal to the RMS for an input of constant loudness."""
    lmu = LMU.load(TRAINED)
    e_x = float(lmu.params["e_x"].ravel()[0])
    window = round(lmu.theta / lmu.dt)
    rng = np.random.RandomState(0)
    steady = rng.choice([-1.0, 1.0], size=(1, 4 * window, 1))
    loud = steady.copy()
    loud[0, window : 2 * window] *= 3  # one window three times as loud
    assert deploy.memory_statistics(lmu, steady, scale="window").rms == pytest.approx(abs(e_x))
    assert deploy.memory_statistics(lmu, loud).rms == pytest.approx(abs(e_x) * np.sqrt((3 + 9) / 4))
    assert deploy.memory_statistics(lmu, loud, scale="window").rms == pytest.approx(3 * abs(e_x))
    with pytest.raises(ValidationError, match=r"memory_statistics.memory_scale: must be one of \('rms', 'window', "
                       r"'peak'\)"):
        deploy.memory_statistics(lmu, loud, scale="loudest")


def test_memory_scaled_for_each_coefficients_peak():
    """``scale="peak"``: each coefficient's range is PEAK_MARGIN times the largest value the
    exact memory's state reaches on the data, whatever the input's loudness did."""
    lmu = LMU.load(TRAINED)
    window = round(lmu.theta / lmu.dt)
    u, _ = data.window_rms(4 * window, window=window, seed=3)
    x = u[None, :, None]
    x[0, window : 2 * window] *= 3
    states = deploy.exact_states(lmu, x)
    peak = np.abs(states).max(axis=(0, 1))
    stats = deploy.memory_statistics(lmu, x, scale="peak")
    scales = stats.scales(lmu.order, lmu.theta, lmu.dt, n_std=2.0)  # n_std is in the scales already
    assert np.allclose(scales, deploy.PEAK_MARGIN * peak)
    assert np.allclose(deploy.memory_statistics(lmu, x, scale="peak", states=states).scales(
        lmu.order, lmu.theta, lmu.dt, 2.0), scales)
    assert stats.rms == pytest.approx(deploy.memory_statistics(lmu, x).rms)
    # white noise at the input's RMS gives the coefficients other ranges than the data reach
    white = deploy.memory_statistics(lmu, x).scales(lmu.order, lmu.theta, lmu.dt, 2.0)
    assert not np.allclose(white, scales, rtol=0.5)
    recurrent = LMU(4, 4, 0.1, hidden_to_memory=True)
    with pytest.raises(ValidationError, match=r"memory_statistics.memory_scale: 'peak' needs a memory input that "
                       r"does not depend on the network"):
        deploy.memory_statistics(recurrent, x[:, :100], scale="peak")


def test_deploy_refuses_rates_the_chip_cannot_fire(monkeypatch):
    """Above one spike per step the fastest hidden neurons would saturate: refused before
    building, with the scale that fits (the shipped network peaks at about 350 Hz at scale 1000 here)."""
    pytest.importorskip("nengo_lmu.loihi")

    def never(*args, **kwargs):
        raise AssertionError("built before the check")

    monkeypatch.setattr(deploy, "build", never)
    with pytest.raises(ValidationError, match=r"deploy.firing_rate_scale: on Loihi a neuron spikes at most "
                       r"once per step \(1000 Hz.*nearest scale that fits: 2835$"):
        deploy.deploy(TRAINED, backend="loihi-sim", n_test=1200, firing_rate_scale=5000)


def test_trained_file_deploys_with_the_memory_on_the_chip(tmp_path, capsys):
    """The whole trained network on the bit-true emulator, from its parameter file: the
    spiking memory with the Loihi options feeding the hidden neurons neuron to neuron (no
    decode neurons, nothing from the memory through the host to the hidden layer, and no
    core spent on the memory's state, which nothing reads: no "to host" block of the
    memory; with them, 14 cores at 100 neurons per coefficient, without, 8).
    Measured NRMSE 0.086 here, the trained rate network's 0.010 (0.078 with 100 neurons
    per coefficient; 0.069 with the exact memory on the host)."""
    pytest.importorskip("nengo_loihi")
    args = ["deploy", "--params", TRAINED, "--n-test", "3000", "--backend", "loihi-sim", "--memory", "chip",
            "--memory-neurons", "50", "-o", str(tmp_path), "--no-progress"]
    assert cli.main(args) == 0
    with open(tmp_path / "deploy-window-rms-loihi-sim.json") as f:
        results = json.load(f)
    assert results["settings"]["memory"] == "chip" and results["settings"]["memory_neurons"] == 50
    blocks = results["resources"]["blocks"]
    assert "decode" not in {b["kind"] for b in blocks}
    assert [b["label"] for b in blocks if b["label"].startswith("memory") and b["kind"] == "to host"] == []
    hidden = next(b for b in blocks if b["label"] == "hidden")
    memory = [b for b in blocks if b["label"].startswith("memory x[") and b["kind"] == "neurons"]
    assert len(memory) >= 6  # one ensemble per coefficient (order 6), on the chip
    # the hidden neurons' axons: the memory's neurons (one each) and the input's on/off encoders
    assert hidden["in-axons"] >= sum(b["compartments"] for b in memory)
    layers = results["report"]["layers"]
    assert layers["memory"]["neurons"] == 50 * 6 and layers["hidden"]["neurons"] == 64
    for layer in layers.values():  # Loihi neurons: at most one spike per step
        assert 0 < layer["mean_spikes_per_step"] <= layer["max_spikes_per_step"] <= 1
    assert results["nrmse"] < 0.15, results["nrmse"]


def test_memory_synapse_is_the_spiking_memorys():
    """``memory_synapse`` sets the deployed spiking memory's synapse (the LMU's 50 ms
    otherwise), and is refused, before any work, without a spiking memory."""
    lmu = LMU.load(TRAINED)
    assert deploy.convert(lmu, memory_neurons=10, memory="chip").memory.tau == nengo_lmu.lmu.MEMORY_SYNAPSE
    assert deploy.convert(lmu, memory_neurons=10, memory="chip", memory_synapse=0.2).memory.tau == 0.2
    held = deploy.convert(lmu, memory_neurons=10, memory="chip", memory_synapse=0.2, steps_per_sample=2)
    assert held.memory.tau == pytest.approx(0.4)  # slowed with the held samples
    with pytest.raises(ValidationError, match=r"convert.memory_synapse: is the spiking memory's synapse"):
        deploy.convert(lmu, memory_synapse=0.2)
    results = deploy.deploy(TRAINED, memory="chip", memory_neurons=10, n_test=1200, memory_synapse=0.2)
    assert results["settings"]["memory_synapse"] == 0.2


def test_a_deployment_repeats_and_its_seed_seeds_the_build():
    """A loaded file has no seed: its spiking neurons are drawn from the deployment's
    ``seed``, so the same call gives the same outputs and another seed other neurons.
    Unseeded, the same deployment (window-rms whole on the Loihi emulator) gave NRMSE 0.049-0.071
    over four runs."""
    kwargs = dict(backend="nengo", memory="chip", memory_neurons=10, n_test=1200)
    first, again = deploy.deploy(TRAINED, **kwargs), deploy.deploy(TRAINED, **kwargs)
    assert np.array_equal(first["y"], again["y"]) and first["nrmse"] == again["nrmse"]
    net = deploy.convert(LMU.load(TRAINED), memory_neurons=10, memory="chip")
    u = first["test"]["u"]
    ys = [deploy.run_stream(net, u, seed=seed)["y"] for seed in (0, 0, 1)]
    assert np.array_equal(ys[0], ys[1]) and not np.array_equal(ys[0], ys[2])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(memory="chip"), r"memory='chip' is a spiking memory: give memory_neurons >= 1"),
        (dict(memory="host", memory_neurons=10), r"memory='host' is the exact memory"),
        (dict(memory="disk"), r"must be one of \('host', 'chip'\)"),
    ],
)
def test_memory_placement_refused_before_any_work(kwargs, message, monkeypatch):
    monkeypatch.setattr(deploy, "test_data", lambda *a, **k: pytest.fail("worked before the check"))
    with pytest.raises(ValidationError, match=message):
        deploy.deploy(TRAINED, backend="loihi-sim", **kwargs)


def test_deploy_trains_the_demo_for_the_chip(tmp_path, capsys):
    """--hardware loihi: the demo trained, fine-tuned on the chip's rates (its units as the
    two neurons each is deployed with), saved with that record and the plainly trained
    parameters, deployed at the scale and with the units it was trained for and compared
    with the plainly trained network; the file deploys with those units again."""
    pytest.importorskip("nengo_loihi")
    args = ["deploy", "--hardware", "loihi", "--demo-epochs", "3", "--n-test", "1200", "--backend", "loihi-sim",
            "--neurons-per-unit", "2", "-o", str(tmp_path), "--no-progress"]
    assert cli.main(args) == 0
    assert "x the plainly trained rate network's" in capsys.readouterr().out
    saved = LMU.load(tmp_path / "deploy-window-rms-params.npz")
    assert saved.metadata["hardware"]["target"] == "loihi"
    with open(tmp_path / "deploy-window-rms-loihi-sim.json") as f:
        results = json.load(f)
    assert results["report"]["metrics"]["plain_rate"] == results["plain_reference"]["nrmse"]
    assert results["settings"]["firing_rate_scale"] == saved.metadata["hardware"]["firing_rate_scale"]
    assert results["settings"]["neurons_per_unit"] == saved.metadata["hardware"]["neurons_per_unit"] == 2
    again = tmp_path / "again"
    assert cli.main(["deploy", "--params", str(tmp_path / "deploy-window-rms-params.npz"), "--n-test", "1200",
                     "-o", str(again), "--no-progress"]) == 0
    with open(again / "deploy-window-rms-nengo.json") as f:
        assert json.load(f)["settings"]["neurons_per_unit"] == 2  # as trained
    # the file keeps the plainly trained network it was fine-tuned from, and the deployment
    # scores it on the same data: the same figure as that network deployed on its own
    plain, _ = deploy.train_demo(epochs=3)  # seeded: the same plain training
    alone = deploy.deploy(plain, neurons="rate", n_test=1200)
    assert results["plain_reference"]["nrmse"] == pytest.approx(alone["reference"]["nrmse"], rel=1e-6)
    assert results["plain_reference"]["nrmse"] != results["reference"]["nrmse"]  # fine-tuning moved it
    assert "plain_reference" not in alone  # a plainly trained network keeps nothing to compare with


def _many_memories(memory_d=16, order=2, theta=0.05):
    """A window-rms network whose memory is 16 memories of order 2: its neurons all feed
    the hidden neurons' one core, whose 4,096 in-axons overflow from about 128 neurons per
    coefficient, while each memory's own recurrent weights stay small (cheap to build)."""
    lmu = LMU(4, order, theta, memory_d=memory_d, output_dimensions=1, seed=0)
    lmu.metadata = dict(task="window-rms", window=round(theta / lmu.dt))
    return lmu


def test_memory_too_large_for_the_chip_is_refused_before_building(monkeypatch):
    """A spiking memory that does not fit one chip is refused before any simulator is made,
    naming the limit and the largest memory_neurons that fits (found with a few resource
    builds: 127 here, the hidden core's in-axons 16 * 2 * 127 + 32 = 4096)."""
    pytest.importorskip("nengo_lmu.loihi")
    from nengo_lmu import backends

    def never(*args, **kwargs):
        raise AssertionError("a simulator was made before the check")

    monkeypatch.setattr(backends, "simulator", never)
    with pytest.raises(ValidationError, match=r"deploy\.memory_neurons: a spiking memory of memory_neurons=140 "
                       r"per coefficient does not fit one Loihi chip: a block exceeds a core's limits: hidden.*"
                       r"in-axons \d+ > 4096.*; the largest that fits is memory_neurons=127$"):
        deploy.deploy(_many_memories(), backend="loihi-sim", memory="chip", memory_neurons=140, n_test=110)
    # one that fits goes on to build (here: the patched simulator)
    with pytest.raises(AssertionError, match="simulator was made"):
        deploy.deploy(_many_memories(), backend="loihi-sim", memory="chip", memory_neurons=127, n_test=110)


def test_a_refusal_names_a_few_blocks_and_counts_the_rest(monkeypatch):
    """A memory too large for many cores' limits is refused in one line: the first three
    blocks, the count of the others, and the largest memory that fits."""
    loihi = pytest.importorskip("nengo_lmu.loihi")
    from types import SimpleNamespace

    def resources(network, dt, input_ranges):
        blocks = [{"label": f"memory x[{i}]", "overflow": ["out-axons"], "out-axons": 45 * network.n}
                  for i in range(7)] if network.n > 90 else []
        return SimpleNamespace(fits=not blocks, overflows=blocks, cores=20, cores_per_chip=128)

    monkeypatch.setattr(loihi, "lmu_input_ranges", lambda network, x, states=None: None)
    monkeypatch.setattr(loihi, "resources", resources)
    with pytest.raises(ValidationError, match=r"limits: memory x\[0\] \(out-axons 4500 > 4096\); memory x\[1\] "
                       r"\(out-axons 4500 > 4096\); memory x\[2\] \(out-axons 4500 > 4096\); and 4 more blocks; "
                       r"the largest that fits is memory_neurons=90$"):
        deploy.check_fits(lambda n: SimpleNamespace(n=n, dt=0.001), 100, np.zeros((1, 10, 1)))


def test_deploy_command_names_the_memory_that_fits(tmp_path, capsys):
    """The same refusal on the command line, as one line naming --memory-neurons."""
    pytest.importorskip("nengo_lmu.loihi")
    params = tmp_path / "many.npz"
    lmu = _many_memories()
    lmu.save_params(params, metadata=lmu.metadata)
    args = ["deploy", "--params", str(params), "--backend", "loihi-sim", "--memory", "chip",
            "--memory-neurons", "140", "--n-test", "110", "-o", str(tmp_path), "--no-progress"]
    assert cli.main(args) != 0
    err = capsys.readouterr().err
    assert "--memory-neurons" in err and "memory_neurons=127" in err


def test_spiking_memory_deployment_on_loihi_runs_the_exact_memory_once(exact_memory_runs):
    """The chip-fit check of a spiking memory (which reads the decoded state on the host)
    takes its input ranges from the same run of the exact memory."""
    pytest.importorskip("nengo_lmu.loihi")
    results = deploy.deploy(TRAINED, backend="loihi-simreal", memory_neurons=20, n_test=1100)
    assert results["resources"].fits and results["nrmse"] < 0.5
    assert len(exact_memory_runs) == 1


# --- held samples -------------------------------------------------------------------


def test_held_samples_are_exact_at_each_sample_boundary():
    """Holding each sample k steps with a k times longer window leaves the exact memory's
    state at the end of each sample as it was: the rate network's outputs there are the
    same (no hidden synapse, so nothing else is stretched)."""
    base = dict(neurons="rate", hidden_synapse=None, n_test=1200)
    once = deploy.deploy(TRAINED, **base)
    held = deploy.deploy(TRAINED, steps_per_sample=3, **base)
    assert held["n_steps"] == 3 * once["n_steps"] == 3600
    assert held["y"].shape == once["y"].shape
    assert np.allclose(held["y"], once["y"], atol=1e-5)
    assert held["settings"]["steps_per_sample"] == 3 and held["settings"]["seconds_per_sample"] == 0.003


def test_present_and_sampled():
    u = np.arange(6.0).reshape(3, 2)
    held = deploy.present(u, 4)
    assert held.shape == (12, 2) and (held[4:8] == u[1]).all()
    assert (deploy.sampled(held, 4) == u).all()
    assert (deploy.sampled(u) == u).all()


def test_convert_stretches_the_window_and_the_hidden_synapse():
    lmu = LMU.load(TRAINED)
    held = deploy.convert(lmu, hidden_synapse=0.05, steps_per_sample=5)
    assert held.theta == pytest.approx(5 * lmu.theta) and held.dt == lmu.dt
    assert held.hidden_synapse == pytest.approx(0.25)
    lowpass = deploy.convert(lmu, hidden_synapse=nengo.Lowpass(0.01), steps_per_sample=2)
    assert lowpass.hidden_synapse.tau == pytest.approx(0.02)
    with pytest.raises(ValidationError, match=r"convert.hidden_synapse: with steps_per_sample > 1 the hidden "
                       r"synapse must be None, a time constant or a nengo.Lowpass"):
        deploy.convert(lmu, hidden_synapse=nengo.Alpha(0.01), steps_per_sample=2)
    stats = deploy.memory_statistics(lmu, np.ones((1, 10, 1)), high=1.5, steps_per_sample=5)
    assert stats.high == pytest.approx(0.3)  # the held input is 5 times slower


def test_a_held_memory_on_the_chip_gets_the_chips_longest_synapse():
    # 1,000 steps per sample stretched the memory's synapse to 50 s, which nengo-loihi
    # refused mid-build ("Current (U) scaling is required"); the chip decays no slower
    # than its 12-bit register at 0 anyway
    pytest.importorskip("nengo_loihi")
    from nengo_lmu import loihi

    lmu = LMU.load(TRAINED)
    longest = loihi.longest_synapse(lmu.dt)
    assert loihi.chip_synapse_decay(longest) == loihi.chip_synapse_decay(1e6) == 4095 / 4096
    assert loihi.chip_synapse_decay(longest / 2) < 4095 / 4096  # its time constant: the decay it gives
    for backend, tau in (("nengo", 0.05 * 1000), ("loihi-sim", longest)):
        net = deploy.convert(lmu, memory_neurons=1, memory="chip", backend=backend, steps_per_sample=1000)
        assert net.memory.tau == pytest.approx(tau), backend
    with loihi.Simulator(net, dt=lmu.dt):  # builds
        pass


@pytest.mark.parametrize("value", [0, -1, 1.5, "2", 1001])
def test_steps_per_sample_refused_before_any_work(value, monkeypatch):
    monkeypatch.setattr(deploy, "test_data", lambda *a, **k: pytest.fail("worked before the check"))
    with pytest.raises(ValidationError, match=r"deploy.steps_per_sample: must be an integer in \[1, 1000\]"):
        deploy.deploy(TRAINED, steps_per_sample=value)


def test_deploy_command_refuses_too_many_steps(tmp_path, capsys):
    from nengo_lmu.bench import MAX_STEPS

    args = ["deploy", "--params", TRAINED, "--n-test", str(MAX_STEPS // 10), "--steps-per-sample", "20",
            "-o", str(tmp_path)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--steps-per-sample: with n_test=" in err and "nearest that fits: 10" in err
    assert not os.listdir(tmp_path)


def test_held_samples_lower_the_error_on_the_chip():
    """At most one spike per step: with 10 steps per sample the hidden neurons can fire at
    a quarter of the rate (finer steps of the chip's rate staircase) and still spike more
    per sample. Measured both ways (10,000 test steps: 0.075 -> 0.023)."""
    pytest.importorskip("nengo_loihi")
    once = deploy.deploy(TRAINED, backend="loihi-sim", n_test=2500)
    held = deploy.deploy(TRAINED, backend="loihi-sim", n_test=2500, steps_per_sample=10, firing_rate_scale=250)
    assert held["nrmse"] < 0.6 * once["nrmse"], (held["nrmse"], once["nrmse"])
    assert held["report"]["steps_per_inference"] == 10
    assert held["report"]["metrics"]["chip_rates"] < once["report"]["metrics"]["chip_rates"]


def test_memory_error_is_the_deployed_memorys():
    """The factor L of the deployed spiking memory's error covariance, measured on the
    reference simulator: lower triangular, each coefficient's error below its own RMS and
    above nothing; fewer neurons, more error."""
    lmu = LMU.load(TRAINED)
    small = deploy.memory_error(lmu, backend="nengo", memory_neurons=10, n_test=2500, seed=5)
    large = deploy.memory_error(lmu, backend="nengo", memory_neurons=60, n_test=2500, seed=5)
    assert small.shape == (6, 6) and np.allclose(small, np.tril(small))
    test = deploy.test_data("window-rms", lmu, 2500, seed=5)
    state_rms = np.sqrt(np.mean(deploy.exact_states(lmu, test["x"])[0, 1000:] ** 2, axis=0))
    std_small, std_large = (np.sqrt((L**2).sum(axis=1)) for L in (small, large))
    assert np.all(std_large > 0) and np.all(std_large < state_rms)
    assert std_large.sum() < std_small.sum()
    with pytest.raises(ValidationError, match=r"memory_error.memory_neurons: must be an integer >= 1"):
        deploy.memory_error(lmu, memory_neurons=0)
