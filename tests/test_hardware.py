"""Hardware-aware training (``dl.fit(..., hardware=...)``): the chip's rate curve, the rate
budget, and options the chip cannot do refused before training; and the board script
``hardware/run_lmu.py`` taking the same options as ``nengo-lmu deploy``."""

import importlib.util
import json
import os

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import deploy, dl
from nengo_lmu.lmu import LMU

pytest.importorskip("nengo_loihi")
pytest.importorskip("nengo_extras")  # nengo-loihi's NengoDL builders for its neuron types
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


def test_hardware_aware_training_lowers_the_deployed_error():
    """The demo network trained as usual, and the same fine-tuned on the chip's rates
    (:class:`dl.Hardware`), both deployed on the bit-true emulator (hidden layer on chip,
    memory on host), same seeds and test data. Measured: NRMSE 0.0699 plain, 0.0592
    hardware-aware; the bound only asks for a lower error. Then with 16 neurons per unit:
    fine-tuned on one neuron's staircase, and on the unit of 16 chip neurons it is
    deployed with (``Hardware(neurons_per_unit=16)``, which the deployment then takes).
    Measured: their 16 neurons' rates 0.0317 and 0.0163, deployed 0.0412 and 0.0390 (the
    bound on the deployed figures is looser than that gain: spikes and training vary)."""
    small = dict(n_train=1000, seed=0)
    plain, _ = deploy.train_demo(**small)
    aware, history = deploy.train_demo(hardware="loihi", **small)
    unit, _ = deploy.train_demo(hardware=dl.Hardware(neurons_per_unit=16), **small)
    assert deploy.trained_neurons_per_unit(unit) == 16 and deploy.trained_neurons_per_unit(aware) == 1
    assert aware.metadata["hardware"] == dl.Hardware().as_dict()
    assert aware.metadata["task"] == "window-rms"  # train_demo keeps what fit recorded
    assert "hardware" not in plain.metadata
    assert deploy.trained_firing_rate_scale(aware) == 1000.0
    assert not aware.neuron_type.spiking  # the trained network keeps its rate neurons
    reports = {name: deploy.deploy(lmu, backend="loihi-sim", n_test=3000)["report"]
               for name, lmu in (("plain", plain), ("aware", aware))}
    deployed = {name: r["metrics"]["deployed"] for name, r in reports.items()}
    # the network as trained: the chip's rates for the one trained for the chip
    assert reports["aware"]["metrics"]["trained"] == reports["aware"]["metrics"]["chip_rates"]
    assert deployed["aware"] < deployed["plain"] < 0.1, deployed
    per_unit = {name: deploy.deploy(lmu, backend="loihi-sim", n_test=3000, neurons_per_unit=k)
                for name, lmu, k in (("aware", aware, 16), ("unit", unit, None))}
    assert per_unit["unit"]["settings"]["neurons_per_unit"] == 16  # as trained
    metrics = {name: r["report"]["metrics"] for name, r in per_unit.items()}
    # the network as trained: the rates of its units of 16 chip neurons
    assert metrics["unit"]["trained"] == metrics["unit"]["chip_rates"] < 0.8 * metrics["aware"]["chip_rates"], metrics
    assert metrics["unit"]["deployed"] < 1.05 * metrics["aware"]["deployed"] < 0.1, metrics


def test_weights_trained_for_a_grid_keep_their_accuracy_on_it():
    """The demo network fine-tuned on the chip's rates twice, with full-precision weights
    and for a 3-bit grid (``Hardware(weight_bits=3)``), then both with their hidden layer's
    input weights rounded to that grid, scored on the chip's rates. Measured: NRMSE 0.224
    fine-tuned at full precision and rounded, 0.068 trained for the grid. At 8 bits, the
    chip's, rounding costs the demo little either way (an exploratory run of the full-size
    demo: 0.049 and 0.051), so the test uses a coarse grid, where training for it must
    show."""
    from nengo_lmu import data, loihi
    from nengo_lmu.lmu import TO_HIDDEN

    bits, window = 3, deploy.DEMO["window"]
    plain, _ = deploy.train_demo(n_train=1000, seed=0)
    u, y = data.window_rms(2 * window + 100 * 999, window=window, seed=0)
    x, y = data.stream_windows(u, y, 2 * window, 100)
    u, y_test = data.window_rms(2 * window + 30 * 199, window=window, seed=100)
    x_test, y_test = data.stream_windows(u, y_test, 2 * window, 30)

    def on_the_grid(lmu):
        rounded = lmu.with_neurons(loihi.chip_neuron_type(lmu.neuron_type), firing_rate_scale=1000.0)
        rounded.set_params({name: loihi.round_to_weight_grid(value, bits) if name in TO_HIDDEN else value
                            for name, value in lmu.params.items()})
        return rounded

    def nrmse(lmu):
        return float(np.sqrt(np.mean((lmu.rate_outputs(x_test) - y_test) ** 2)) / np.std(y_test))

    errors = {}
    for weight_bits in (None, bits):
        lmu = plain.with_neurons(plain.neuron_type)
        lmu.set_params(plain.params)
        dl.fit(lmu, x, y, epochs=10, batch_size=50, learning_rate=1e-4,
               hardware=dl.Hardware(weight_bits=weight_bits))
        errors[weight_bits] = nrmse(on_the_grid(lmu))
    assert lmu.metadata["hardware"]["weight_bits"] == bits
    # the trained weights are the full-precision copies, not the rounded ones
    assert not np.allclose(lmu.params["W_m"], loihi.round_to_weight_grid(lmu.params["W_m"], bits))
    assert errors[bits] < 0.9 * errors[None], errors


def test_delay_aware_training_answers_early():
    """A network whose output arrives ``k`` steps late (as on the chip) scores better if
    it was trained for the lag (``Hardware(delay_steps=k)``): here the target is the
    input's last sample, so the lag-aware network must predict ``k`` steps ahead.
    Measured: NRMSE 0.59 plainly fine-tuned, 0.24 lag-aware, both seen through a lag of 10
    steps (0.17 and 0.49 without the lag); the bound asks for a clear gain only."""
    u = nengo.processes.WhiteSignal(100, high=15, rms=0.5, seed=0).run(60.0, dt=0.001)[:, 0]
    n_steps, lag = 60, 10
    x = np.stack([u[s : s + n_steps] for s in range(0, len(u) - n_steps, 20)])[:, :, None]
    train, test = slice(0, 2000), slice(2000, None)
    nrmse = {}
    for delay in (0, lag):
        lmu = LMU(32, 6, 0.06, output_dimensions=1, seed=0)
        dl.fit(lmu, x[train], x[train, -1], epochs=20, batch_size=50, learning_rate=3e-3)
        dl.fit(lmu, x[train], x[train, -1], epochs=5, batch_size=50, learning_rate=1e-4,
               hardware=dl.Hardware(delay_steps=delay))
        assert lmu.metadata["hardware"]["delay_steps"] == delay
        seen = dl.Hardware(delay_steps=lag).delayed(x[test])  # the input, as the late output sees it
        assert np.array_equal(seen[:, lag:], x[test, :-lag]) and not seen[:, :lag].any()
        nrmse[delay] = np.sqrt(np.mean((dl.predict(lmu, seen) - x[test, -1]) ** 2)) / np.std(x[test, -1])
    assert nrmse[lag] < 0.6 * nrmse[0], nrmse


def test_rate_budget_is_reported_and_recorded(tmp_path):
    rng = np.random.RandomState(0)
    lmu = LMU(8, 3, 0.01, output_dimensions=1, seed=0)
    x = rng.uniform(-1, 1, (40, 10, 1))
    hardware = dl.Hardware(firing_rate_scale=500, rate_target=(0.01, 0.2), rate_weight=10.0)
    history = dl.fit(lmu, x, x.mean(axis=1), epochs=2, batch_size=20, hardware=hardware)
    assert len(history["rate"]) == 2 and all(0 <= r <= 1 for r in history["rate"])
    assert lmu.metadata["hardware"]["rate_target"] == (0.01, 0.2)
    path = lmu.save_params(tmp_path / "p.npz", metadata=lmu.metadata)
    assert deploy.trained_firing_rate_scale(LMU.load(path)) == 500.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(rate_target=(0.1, 2.0)), r"at most 1 time per step.*nearest that fits: \(0.1, 1\)"),
        (dict(rate_target=0.5), r"must be a pair \(low, high\)"),
        (dict(rate_target=(0.3, 0.2)), r"0 <= low < high"),
        (dict(target="truenorth"), r"target: must be one of \('loihi',\)"),
        (dict(firing_rate_scale=0), r"firing_rate_scale: must be a finite number > 0"),
        (dict(rate_weight=-1), r"rate_weight: must be a finite number >= 0"),
        (dict(delay_steps=-1), r"delay_steps: must be an integer >= 0 \(got -1\)"),
        (dict(delay_steps=2.5), r"delay_steps: must be an integer >= 0 \(got 2.5\)"),
        (dict(spiking_steps=-1), r"spiking_steps: must be an integer in \[0, 10000\] \(got -1\)"),
        (dict(spiking_steps=10, synapse=-0.1), r"synapse: must be a finite number >= 0"),
        (dict(spiking_steps=10, rate_target=(0.1, 0.5)), r"rate_target: the rate budget is for rate training"),
        (dict(neurons_per_unit=0), r"neurons_per_unit: must be an integer in \[1, 1000\] \(got 0\)"),
        (dict(weight_bits=1), r"weight_bits: must be an integer in \[2, 8\] \(got 1\)"),
        (dict(weight_bits=9), r"weight_bits: must be an integer in \[2, 8\] \(got 9\)"),
        (dict(weight_bits=7.5), r"weight_bits: must be an integer in \[2, 8\] \(got 7.5\)"),
    ],
)
def test_hardware_options_the_chip_cannot_do_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        dl.Hardware(**kwargs)


def test_bad_hardware_refused_before_training(monkeypatch):
    lmu = LMU(4, 2, 0.01, output_dimensions=1)
    x = np.zeros((4, 10, 1))

    def never(*args, **kwargs):
        raise AssertionError("trained before the check")

    monkeypatch.setattr(dl, "_simulator", never)
    with pytest.raises(ValidationError, match="fit.hardware: must be one of"):
        dl.fit(lmu, x, x[:, -1], hardware="spinnaker")
    with pytest.raises(ValidationError, match="fit.hardware: must be None"):
        dl.fit(lmu, x, x[:, -1], hardware=3)
    with pytest.raises(ValidationError, match=r"fit.hardware: delay_steps must be shorter than the sequences \(10 steps"):
        dl.fit(lmu, x, x[:, -1], hardware=dl.Hardware(delay_steps=10))
    with pytest.raises(ValidationError, match=r"fit.neurons_per_unit: several neurons per unit need rectified "
                                              r"linear hidden neurons.*got neuron_type=LIFRate"):
        dl.fit(LMU(4, 2, 0.01, output_dimensions=1, neuron_type=nengo.LIFRate()), x, x[:, -1],
               hardware=dl.Hardware(neurons_per_unit=4))
    with pytest.raises(ValidationError, match="Loihi runs ReLU and LIF neurons only"):
        dl.fit(LMU(4, 2, 0.01, output_dimensions=1, neuron_type=nengo.Tanh(tau_ref=1.0)), x, x[:, -1], hardware="loihi")


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(y="last"), r"fit.y: spike-aware training \(spiking_steps=20\) scores the output over the last "
                         r"steps: give per-step targets, shape \(n, 30, out\)"),
        (dict(hardware=dl.Hardware(spiking_steps=31)), r"fit.hardware: .*needs sequences of at least spiking_steps"),
        (dict(formulation="step"), r"fit.formulation: .*has a formulation of its own"),
        (dict(memory_noise=0.1), r"fit.memory_noise: .*runs on the exact memory's states: drop memory_noise"),
        (dict(lmu=LMU(4, 2, 0.01, output_dimensions=1, hidden_to_hidden=True)),
         r"fit.hardware: .*without hidden->memory, memory->memory and hidden->hidden paths"),
    ],
)
def test_spike_aware_training_refuses_what_it_cannot_train(change, message, monkeypatch):
    monkeypatch.setattr(dl, "_simulator", lambda *a, **k: pytest.fail("trained before the check"))
    x = np.zeros((4, 30, 1))
    args = dict(lmu=LMU(4, 2, 0.01, output_dimensions=1), y=np.zeros((4, 30, 1)),
                hardware=dl.Hardware(spiking_steps=20, synapse=0.01))
    args.update(change)
    if isinstance(args["y"], str):
        args["y"] = np.zeros((4, 1))
    with pytest.raises(ValidationError, match=message):
        dl.fit(args.pop("lmu"), x, args.pop("y"), **args)


def test_spike_aware_neurons_spike_as_the_chips():
    """In NengoDL the spike-aware type steps the chip's neuron, voltage carried over: the
    same spikes as nengo-loihi's type on nengo's simulator (at most one per step)."""
    import nengo_dl
    from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

    chip = LoihiSpikingRectifiedLinear()
    aware = dl._training_type(chip, spiking=True)
    assert isinstance(aware, LoihiSpikingRectifiedLinear) and aware.spiking
    assert dl._training_type(chip) is chip  # one neuron, rates: nengo-loihi's own type
    currents = np.linspace(-100, 900, 12)
    spikes = {}
    for name, neuron_type in (("chip", chip), ("aware", aware)):
        with nengo.Network(seed=0) as net:
            ens = nengo.Ensemble(len(currents), 1, neuron_type=neuron_type, gain=np.ones(len(currents)),
                                 bias=currents)
            probe = nengo.Probe(ens.neurons)
        simulator = nengo_dl.Simulator if name == "aware" else nengo.Simulator
        with simulator(net, progress_bar=False) as sim:
            sim.run_steps(200)
        spikes[name] = np.reshape(sim.data[probe], (200, -1))
    assert np.allclose(spikes["aware"], spikes["chip"])
    assert spikes["chip"].max() == 1000 and 0 < spikes["chip"].mean() < 1000


@pytest.mark.parametrize("spiking", [False, True])
def test_a_unit_trained_as_its_chip_neurons_spikes_as_they_do(spiking):
    """``Hardware(neurons_per_unit=k)`` trains each unit as the ``k`` chip neurons a
    deployment runs it with (gains ``unit_gains(k)``, spikes summed and weighted
    ``1 / sum(gains)``): the unit type on nengo's simulator gives those neurons' output
    exactly, and in NengoDL (spike-aware, or at inference) the same spikes up to float32
    rounding of the voltages (a spike one step early or late, rarely); its rate is the
    neurons' summed staircases, and its training curve that rate for many neurons."""
    import nengo_dl
    import tensorflow as tf
    from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

    from nengo_lmu.lmu import unit_gains

    k, steps = 4, 400
    currents = np.linspace(-100, 1500, 12)
    gains = unit_gains(k)
    chip = LoihiSpikingRectifiedLinear()
    unit = dl._training_type(chip, k, spiking=spiking)
    assert isinstance(unit, LoihiSpikingRectifiedLinear) and unit.neurons_per_unit == k
    assert unit.make_state(len(currents))["voltage"].shape == (k * len(currents),)
    out = {}
    for name in ("neurons", "unit", "unit in nengo_dl"):
        with nengo.Network(seed=0) as net:
            if name == "neurons":  # the deployment's: k neurons per unit (lmu.to_network's rule)
                ens = nengo.Ensemble(k * len(currents), 1, neuron_type=chip, gain=np.tile(gains, len(currents)),
                                     bias=np.repeat(currents, k) * np.tile(gains, len(currents)))
                summed = nengo.Node(size_in=len(currents))
                nengo.Connection(ens.neurons, summed, synapse=None,
                                 transform=np.kron(np.eye(len(currents)), np.ones((1, k)) / gains.sum()))
                probe = nengo.Probe(summed)
            else:
                ens = nengo.Ensemble(len(currents), 1, neuron_type=unit, gain=np.ones(len(currents)), bias=currents)
                probe = nengo.Probe(ens.neurons)
        simulator = nengo_dl.Simulator if name == "unit in nengo_dl" else nengo.Simulator
        with simulator(net, progress_bar=False) as sim:
            sim.run_steps(steps)
        out[name] = np.reshape(sim.data[probe], (steps, -1))
    assert np.array_equal(out["unit"], out["neurons"])
    assert np.mean(~np.isclose(out["unit in nengo_dl"], out["neurons"], atol=1e-3)) < 0.02
    assert np.allclose(out["unit in nengo_dl"].mean(axis=0), out["neurons"].mean(axis=0), atol=1000 / steps)
    assert 0 < out["neurons"].mean() and out["neurons"].max() <= 1000 * k / gains.sum()
    # rates: the neurons' staircases (nengo-loihi's rates), summed and weighted
    staircases = chip.rates(np.zeros(1), np.tile(gains, len(currents)), np.repeat(currents, k) * np.tile(gains, len(currents)))
    expected = staircases.reshape(len(currents), k).sum(axis=1) / gains.sum()
    assert np.allclose(unit.rates(np.zeros(1), np.ones(len(currents)), currents), expected)
    # over the steps, the run's rates are the staircases' (from rest: the first spike is late)
    assert np.allclose(out["neurons"].mean(axis=0), expected, rtol=0.05, atol=1000 / steps * k)
    # training: the rate of many such neurons, continuous, with its own derivative
    builder = nengo_dl.neuron_builders.SimNeuronsBuilder.TF_NEURON_IMPL[type(unit)]
    fake = builder.__new__(builder)
    fake.one, fake.amplitude = tf.constant(1.0), None
    J = tf.constant(np.linspace(-100, 1500, 1601), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(J)
        trained = fake.training_step(J, 0.001)
    slope = tape.gradient(trained, J).numpy()
    many = dl._training_type(chip, 1000).rates(np.zeros(1), np.ones(len(J)), J.numpy())
    assert np.allclose(trained.numpy(), many, atol=2)  # Hz, out of up to 1,143
    assert np.all(trained.numpy()[J.numpy() <= 0] == 0) and np.all(slope[J.numpy() < 0] == 0)
    assert np.all(slope > -1e-4) and np.all(slope[(J.numpy() > 0) & (J.numpy() < 440)] > 0.3)
    # flat where all the unit's neurons (gains 0.75-1) fire every third step (J 445-500 Hz)
    # or every second (667-1000 Hz), as the unit on the chip is
    for low, high in ((446, 499), (668, 999)):
        assert np.allclose(slope[(J.numpy() > low) & (J.numpy() < high)], 0, atol=1e-3), (low, high)


def test_spike_aware_training_learns_through_the_spikes():
    """Spiking forward, rate gradient: the hidden layer's weights move and the loss on the
    last steps falls; e_x (the memory's input, not simulated here) stays as it was."""
    rng = np.random.RandomState(1)
    lmu = LMU(16, 4, 0.05, output_dimensions=1, seed=0)
    x = rng.uniform(-1, 1, (40, 120, 1)).cumsum(axis=1) * 0.05
    y = np.abs(x)  # per-step targets
    dl.fit(lmu, x, y[:, -1], epochs=30, batch_size=20, learning_rate=1e-2)
    before = lmu.get_params()
    history = dl.fit(lmu, x, y, epochs=5, batch_size=20, learning_rate=1e-3,
                     hardware=dl.Hardware(firing_rate_scale=300, spiking_steps=80, synapse=0.01))
    after = lmu.get_params()
    assert np.array_equal(after["e_x"], before["e_x"])
    assert not np.allclose(after["W_m"], before["W_m"]) and not np.allclose(after["W_o"], before["W_o"])
    assert history["loss"][-1] < history["loss"][0], history["loss"]
    assert lmu.metadata["hardware"]["spiking_steps"] == 80 and lmu.metadata["hardware"]["synapse"] == 0.01


HARDWARE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "hardware")


def run_lmu_script():
    """``hardware/run_lmu.py`` as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("run_lmu", os.path.join(HARDWARE_DIR, "run_lmu.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_board_script_trains_for_the_chip_and_deploys_the_memory_on_it(tmp_path, capsys):
    """``run_lmu.py --hardware loihi --memory chip --memory-neurons N --attribute`` at a tiny
    size on the bit-true emulator: the demo network fine-tuned for the chip, saved with that
    record, deployed whole on the chip (a spiking memory of N neurons per coefficient), and
    the report's intermediate runs; its weights trained for the chip's 8-bit grid. Measured:
    deployed NRMSE about 0.7 at 20 neurons per coefficient and 1,100 test steps (the memory
    barely filled; the bound is loose)."""
    args = ["--backend", "loihi-sim", "--hardware", "loihi", "--demo-epochs", "2", "--memory", "chip",
            "--memory-neurons", "20", "--n-test", "1100", "--attribute", "--weight-bits", "8", "-o", str(tmp_path),
            "--no-progress"]
    assert run_lmu_script().main(args) == 0
    printed = capsys.readouterr().out
    assert "window-rms, spiking on loihi-sim: nrmse" in printed and "on the chip's rate curves" in printed
    assert LMU.load(tmp_path / "deploy-window-rms-params.npz").metadata["hardware"] == dl.Hardware(
        weight_bits=8).as_dict()
    with open(tmp_path / "deploy-window-rms-loihi-sim.json") as f:
        saved = json.load(f)
    assert saved["backend"] == "loihi-sim"
    assert saved["settings"]["memory"] == "chip" and saved["settings"]["memory_neurons"] == 20
    report = saved["report"]
    assert report["layers"]["memory"]["neurons"] == 20 * 6  # order 6, one memory: on the chip
    assert report["layers"]["hidden"]["neurons"] == 64
    for layer in report["layers"].values():  # Loihi neurons spike at most once per step
        assert 0 < layer["mean_spikes_per_step"] <= layer["max_spikes_per_step"] <= 1
    assert {"trained", "chip_rates", "deployed", "spikes_float_weights", "memory_on_host"} <= set(report["metrics"])
    assert report["metrics"]["trained"] == report["metrics"]["chip_rates"]  # trained for the chip
    assert saved["resources"]["fits_one_chip"] and saved["nrmse"] < 1.5


@pytest.mark.parametrize(
    "args, message",
    [
        (["--memory", "chip"], r"--memory: memory='chip' is a spiking memory: give memory_neurons"),
        (["--memory", "host", "--memory-neurons", "10"], r"--memory: memory='host' is the exact memory"),
        (["--hardware", "truenorth"], r"--hardware: invalid choice: 'truenorth'"),
        (["--hardware", "loihi", "--params", os.path.join(os.path.dirname(deploy.__file__), "gui", "trained_lmu.npz")],
         r"--hardware: trains the demo network only"),
        (["--backend", "nengo"], r"--backend: invalid choice: 'nengo'"),
        (["--weight-bits", "8"], r"--weight-bits: is trained by hardware-aware fine-tuning: add --hardware loihi"),
        (["--hardware", "loihi", "--weight-bits", "1"], r"--weight-bits: must be an integer in \[2, 8\] \(got 1\)"),
    ],
)
def test_board_script_refuses_bad_options_before_training(args, message, tmp_path, capsys, monkeypatch):
    import re

    monkeypatch.setattr(deploy, "train_demo", lambda *a, **k: pytest.fail("trained before the check"))
    try:
        code = run_lmu_script().main(args + ["-o", str(tmp_path / "out")])
    except SystemExit as e:  # argparse's own errors
        code = e.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(message, err), err
    assert not (tmp_path / "out").exists() or not os.listdir(tmp_path / "out")


def test_board_script_help_lists_the_deploy_options(capsys):
    with pytest.raises(SystemExit) as e:
        run_lmu_script().main(["--help"])
    assert e.value.code == 0
    printed = capsys.readouterr().out
    for option in ("--backend {loihi-sim,loihi-simreal,loihi}", "--memory {host,chip}", "--memory-neurons",
                   "--hardware {none,loihi}", "--attribute", "--params"):
        assert option in printed, option
