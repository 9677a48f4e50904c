"""nengo_lmu.loihi: Loihi-ready memories, the emulator path, resources, hardware scripts."""

import importlib.util
import json
import os
import warnings

import nengo
import numpy as np
import pytest
from nengo.exceptions import BuildError, ValidationError

nengo_loihi = pytest.importorskip("nengo_loihi")

from nengo_loihi.builder.builder import Builder  # noqa: E402
from nengo_loihi.hardware import HAS_NXSDK  # noqa: E402

import nengo_lmu  # noqa: E402
from nengo_lmu import loihi, maths, networks  # noqa: E402
from nengo_lmu.bench.loihi import L1, delay_network, run_delay  # noqa: E402

HARDWARE_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "hardware")
needs_nxsdk = pytest.mark.skipif(not HAS_NXSDK, reason="nxsdk is not installed (no Loihi board)")


def small_memory_network(order=3, n_neurons=90, seed=0, **kwargs):
    with nengo.Network(seed=seed) as net:
        u = nengo.Node(nengo.processes.WhiteSignal(5.0, high=2, rms=0.3, seed=1))
        net.memory = loihi.LegendreMemory(order, 0.3, n_neurons, input_statistics=(2, 0.3), **kwargs)
        nengo.Connection(u, net.memory.input, synapse=None)
        net.p_out = nengo.Probe(net.memory.output, synapse=0.01)
        net.p_spikes = nengo.Probe(net.memory.coefficient_ensembles[0].neurons)
    return net


def test_chip_synapse_decay_is_what_the_emulator_applies():
    tau, dt = 0.05, 0.001
    net = small_memory_network(synapse=tau)
    with loihi.Simulator(net, target="sim") as sim:
        block = next(b for b in sim.model.blocks if "x[0]" in str(b.label))
        decay_u = int(block.compartment.decay_u[0])  # integer register after discretisation
    assert loihi.chip_synapse_decay(tau, dt) == (4095 - decay_u) / 4096
    # quantised, but close to the exact decay
    assert abs(loihi.chip_synapse_decay(tau, dt) - np.exp(-dt / tau)) < 1e-3
    assert loihi.chip_synapse_decay(tau, dt) != np.exp(-dt / tau)
    assert net.memory.synapse_decay == loihi.chip_synapse_decay(tau, dt)


@pytest.mark.parametrize("tau", [0, -1.0, "a"])
def test_chip_synapse_decay_rejects_bad_tau(tau):
    with pytest.raises(ValidationError, match="tau"):
        loihi.chip_synapse_decay(tau)


def test_synapse_decay_validation_names_the_parameter():
    with pytest.raises(ValidationError, match="synapse_decay"):
        networks.LegendreMemory(3, 0.3, 30, synapse_decay=1.5)
    with pytest.raises(ValidationError, match="synapse_decay"):
        networks.LegendreMemory(3, 0.3, 30, synapse_decay=lambda tau, dt: -1)


def test_synapse_decay_changes_the_mapping_only():
    exact = networks.LegendreMemory(4, 0.3, 40, synapse=0.05, mapping="discrete")
    chip = networks.LegendreMemory(
        4, 0.3, 40, synapse=0.05, mapping="discrete", synapse_decay=loihi.chip_synapse_decay
    )
    assert exact.tau == chip.tau == 0.05
    assert not np.allclose(exact.recurrent_transform, chip.recurrent_transform, rtol=0, atol=1e-6)
    # the chip mapping is exact for the chip's decay: the loop implements the ZOH system
    a = loihi.chip_synapse_decay(0.05)
    Ad = a * np.eye(4) + (1 - a) * chip.recurrent_transform
    s = chip.scales
    A, B = maths.legendre_ss(4, 0.3)
    Ad_true, _ = maths.discretize(A * s[None, :] / s[:, None], B / s[:, None], 0.001)
    assert np.allclose(Ad, Ad_true, atol=1e-9)


def test_memory_options_are_per_object():
    options = loihi.memory_options()
    assert isinstance(options["neuron_type"], nengo_loihi.LoihiLIF)
    assert options["weights"] is True
    assert options["synapse_decay"] is loihi.chip_synapse_decay
    mem = loihi.LegendreMemory(3, 0.3, 30, feedthrough=True)  # overrides win
    assert mem.state_from_input is not None


@pytest.mark.parametrize(
    "kwargs, attr",
    [({"gain": 0}, "gain"), ({"gain": "5"}, "gain"), ({"intercepts": (0.5, 0.2)}, "intercepts"),
     ({"intercepts": 0.3}, "intercepts"), ({"neuron_type": "hh"}, "neuron_type")],
)
def test_memory_options_validation(kwargs, attr):
    with pytest.raises(ValidationError, match=attr):
        loihi.memory_options(**kwargs)


def test_target_loihi_without_nxsdk_says_so():
    if HAS_NXSDK:
        pytest.skip("nxsdk is installed here")
    net = small_memory_network()
    with pytest.raises(ImportError, match=r"nxsdk.*missing.*target='sim'.*emulator"):
        loihi.Simulator(net, target="loihi")


def test_bad_target_is_a_validation_error():
    net = small_memory_network()
    with pytest.raises(ValidationError, match="target"):
        loihi.Simulator(net, target="chip")


def test_no_global_defaults_leak():
    before = (
        nengo.Ensemble.max_rates.default,
        nengo.Ensemble.intercepts.default,
        dict(nengo.LIF.state),
        dict(Builder.builders),
    )
    net = small_memory_network()
    with loihi.Simulator(net, target="sim") as sim:
        sim.run_steps(5)
    loihi.resources(net)
    after = (
        nengo.Ensemble.max_rates.default,
        nengo.Ensemble.intercepts.default,
        dict(nengo.LIF.state),
        dict(Builder.builders),
    )
    assert before[:3] == after[:3]
    assert before[3] == after[3]  # nengo-loihi's own registry: untouched
    # a network built afterwards gets nengo's defaults
    with nengo.Network() as other:
        ens = nengo.Ensemble(10, 1)
    assert other.config[nengo.Ensemble].max_rates is nengo.Ensemble.max_rates.default
    assert isinstance(ens.neuron_type, nengo.LIF) and not isinstance(ens.neuron_type, nengo_loihi.LoihiLIF)
    assert ens.max_rates == nengo.dists.Uniform(200, 400)


def test_host_input_is_filtered_once():
    """A step through a tau=50 ms synapse reaches 63 % at t = tau, as on nengo."""
    tau = 0.05
    with nengo.Network(seed=1) as net:
        step = nengo.Node(lambda t: 0.8 if t > 0.1 else 0)
        ens = nengo.Ensemble(200, 1, neuron_type=nengo_loihi.LoihiLIF(),
                             max_rates=nengo.dists.Uniform(100, 200))
        nengo.Connection(step, ens, synapse=tau)
        probe = nengo.Probe(ens, synapse=0.005)
    with loihi.Simulator(net, target="simreal") as sim:
        sim.run(0.1 + tau + 0.005)
    t = sim.trange()
    at_tau = sim.data[probe][(t > 0.1 + tau - 0.005) & (t < 0.1 + tau + 0.005)].mean()
    # one lowpass: 0.8 (1 - 1/e) = 0.51; twice filtered it would be 0.21
    assert 0.38 < at_tau < 0.62


def test_fast_emulator_is_bit_exact():
    net = small_memory_network(n_neurons=60)
    data = []
    for fast in (False, True):
        with loihi.Simulator(net, target="sim", fast_emulator=fast) as sim:
            sim.run(0.3)
        assert sim.fast_emulator is fast
        data.append((sim.data[net.p_spikes], sim.data[net.p_out]))
    assert data[0][0].sum() > 0
    assert np.array_equal(data[0][0], data[1][0])
    assert np.array_equal(data[0][1], data[1][1])


def _utilization_totals(blocks):
    totals = dict.fromkeys(loihi.LIMITS, 0)
    for block in blocks:
        for k, (used, _) in block.utilization().items():
            totals[k] += used
    return totals


def test_resources_match_nengo_loihi_builder():
    net = small_memory_network(order=4, n_neurons=600)
    res = loihi.resources(net)
    with loihi.Simulator(net, target="sim") as sim:
        built = sim.model.blocks
    assert res.cores == len(built)
    assert dict(res.total) == _utilization_totals(built)
    assert [b["compartments"] for b in res.blocks] == [b.n_neurons for b in built]
    assert res.fits and res.chips == 1
    assert all(b["compartments"] <= 1024 for b in res.blocks)
    text = str(res)
    assert "fits on one chip" in text and "x[0]" in text


def test_block_shapes_fit_where_nengo_loihi_overflows():
    """590 neurons with recurrent weights: nengo-loihi's own split overflows a core."""
    with nengo.Network(seed=0) as net:
        ens = nengo.Ensemble(590, 1, label="recurrent")
        nengo.Connection(ens, ens, synapse=0.1, solver=nengo.solvers.LstsqL2(weights=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(BuildError, match="synapse bits"):
            nengo_loihi.Simulator(net, target="sim")
    res = loihi.resources(net)
    assert res.fits and res.cores == 4
    assert all(b["synapses"] <= loihi.LIMITS["synapses"] for b in res.blocks)
    with loihi.Simulator(net, target="sim") as sim:
        assert len(sim.model.blocks) == res.cores


def test_resources_report_overflow_without_traceback():
    with nengo.Network(seed=0) as net:
        big = nengo.Ensemble(5000, 1, label="big")
        small = nengo.Ensemble(10, 1, label="small")
        # neuron-to-neuron weights: 5000 input axons into one core (max 4096)
        nengo.Connection(big.neurons, small.neurons, transform=np.zeros((10, 5000)) + 1e-3)
    res = loihi.resources(net)
    assert not res.fits
    bad = [b for b in res.overflows if "small" in b["label"]]
    assert bad and "in-axons" in bad[0]["overflow"]
    assert "does NOT fit" in str(res) and "small" in str(res)


def test_l1_runs_on_the_emulator_with_bounded_error():
    """Config L1, shortened to 3 s (2 s scored). The full run is the benchmark."""
    net, probes = delay_network(**L1)
    result = run_delay(net, probes, "loihi-sim", 3.0)
    assert result["fast_emulator"] and result["precompute"]
    assert result["nrmse"] < 0.2  # the naive construction measured 1.0 here


def _quantised_weight_gains(n_neurons):
    """Per synapse of a delay network: ``<W_float, W_chip> / <W_float, W_float>``."""
    net, _ = delay_network(**dict(L1, n_neurons=n_neurons))
    model = loihi.make_model(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build(net, discretize=False)
    floats = {s: np.concatenate([w.ravel() for w in s.weights]) for b in model.blocks for s in b.synapses}
    loihi.discretize_model(model)
    gains = {}
    for block in model.blocks:
        info = block.compartment.discretize_info
        # chip current units per unit of float weight
        scale = float(np.ravel(info["w_scale"])[0]) * 2.0 ** (6 + info["w_exp"])
        for s in block.synapses:
            wq = np.concatenate([w.ravel() for w in s.weights]) / scale
            wf = floats[s]
            gains[f"{block.label}: {s.label}"] = float(wf @ wq / (wf @ wf))
    return gains


def test_quantised_weights_keep_their_magnitude_in_large_memories():
    """The chip's integer weights match the float weights on average, also at 1,500 neurons.

    With nengo-loihi's scaling (each block's grid set by the host input's large
    weights, weights rounded to the nearest step) most recurrent weights of a memory
    this size rounded to 0: some synapses kept none of their weight (gain 0.000 here)
    and the bit-true emulator's delay NRMSE was 0.23 (0.39 at 3,000 neurons) against
    0.09 at 600.
    """
    gains = _quantised_weight_gains(1500)
    assert len(gains) > 36
    bad = {k: round(g, 3) for k, g in gains.items() if not 0.8 < g < 1.2}
    assert not bad


@pytest.mark.parametrize("bits", [2, 3, 8])
def test_weight_grid_has_the_bits_it_is_given(bits, rng):
    weights = rng.normal(size=(20, 30))
    rounded = loihi.round_to_weight_grid(weights, bits)
    step = np.abs(weights).max() / (2 ** (bits - 1) - 1)
    levels = np.round(rounded / step)
    assert np.allclose(rounded, levels * step)  # on the grid
    assert np.abs(levels).max() == 2 ** (bits - 1) - 1  # the largest weight fills it
    assert np.abs(rounded - weights).max() <= step / 2 + 1e-12  # to the nearest point
    assert len(np.unique(levels)) <= 2 ** bits - 1
    assert np.all(loihi.round_to_weight_grid(np.zeros(3), bits) == 0)


def test_backends_entry_point_uses_these_rules():
    from nengo_lmu.backends import simulator

    net = small_memory_network(n_neurons=60)
    with simulator(net, backend="loihi-sim") as sim:
        sim.run_steps(10)
    assert isinstance(sim, nengo_loihi.Simulator) and sim.fast_emulator
    assert sim.model.nengo_lmu_input_ranges  # built by nengo_lmu.loihi.make_model


def _load_hardware_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HARDWARE_DIR, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_hardware_script_runs_on_the_emulator(capsys, tmp_path):
    script = _load_hardware_script("run_delay")
    out = tmp_path / "fig.json"
    code = script.main(["--backend", "loihi-sim", "--duration", "1.5", "--order", "3",
                        "--n-neurons", "90", "--json", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "NRMSE=" in printed and "steps/s=" in printed and "fits on one chip" in printed
    assert out.exists()


def test_hardware_script_keeps_existing_json(tmp_path, capsys):
    out = tmp_path / "fig.json"
    out.write_text("saved by the user")
    with pytest.raises(SystemExit):
        _load_hardware_script("run_delay").main(["--backend", "loihi-sim", "--json", str(out)])
    assert "exists" in capsys.readouterr().err and out.read_text() == "saved by the user"


def test_trained_lmu_hardware_script_runs_on_the_emulator(tmp_path, capsys):
    script = _load_hardware_script("run_lmu")
    params = os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu.npz")
    code = script.main(["--backend", "loihi-sim", "--params", params, "--n-test", "3000", "-o", str(tmp_path)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "window-rms, spiking on loihi-sim: nrmse" in printed and "trained rate network" in printed
    with open(next(tmp_path.glob("deploy-window-rms-loihi-sim*.json"))) as f:
        saved = json.load(f)
    assert saved["resources"]["fits_one_chip"]
    # the shipped demo network: 0.012 as rates, 0.078 spiking on the emulator (10,000 steps)
    assert saved["nrmse"] < 0.2 and saved["reference"]["nrmse"] < 0.05


def test_hardware_script_without_nxsdk_explains(capsys):
    if HAS_NXSDK:
        pytest.skip("nxsdk is installed here")
    script = _load_hardware_script("run_delay")
    assert script.main(["--backend", "loihi", "--duration", "2"]) == 2
    assert "nxsdk" in capsys.readouterr().err
    assert _load_hardware_script("run_lmu").main(["--backend", "loihi"]) == 2
    assert "nxsdk" in capsys.readouterr().err


@pytest.mark.hardware
@needs_nxsdk
def test_l1_on_the_board():
    net, probes = delay_network(**L1)
    result = run_delay(net, probes, "loihi", 10.0)
    assert result["nrmse"] < 0.2


# --------------------------------------------------------------------------------------
# The package's shape: real classes, checked arguments, nengo-loihi internals in one place


def test_legendre_memory_is_a_real_subclass():
    mem = loihi.LegendreMemory(3, 0.3, 30, gain=4.0, ensemble_kwargs={"max_rates": nengo.dists.Choice([100])})
    assert isinstance(mem, loihi.LegendreMemory) and isinstance(mem, networks.LegendreMemory)
    assert issubclass(loihi.LegendreMemory, networks.LegendreMemory)
    assert isinstance(mem.neuron_type, nengo_loihi.LoihiLIF)
    assert mem.synapse_decay == loihi.chip_synapse_decay(mem.tau, mem.dt)
    ens = mem.coefficient_ensembles[0]
    assert ens.gain == nengo.dists.Choice([4.0])  # memory_options' gain argument
    assert ens.max_rates == nengo.dists.Choice([100])  # merged into the options' kwargs
    assert list(networks.memories(mem)) == [mem]


def test_simulator_is_a_real_subclass():
    assert issubclass(loihi.Simulator, nengo_loihi.Simulator)
    net = small_memory_network(n_neurons=30)
    with loihi.Simulator(net) as sim:
        sim.run_steps(3)
    assert isinstance(sim, nengo_loihi.Simulator) and sim.target == "sim" and sim.fast_emulator
    assert loihi.check_target("simreal") == "simreal"


@pytest.mark.parametrize("dt", [0, -0.001, float("nan"), "0.001"])
def test_simulator_dt_is_checked_first(dt):
    net = small_memory_network(n_neurons=30)
    with pytest.raises(ValidationError, match=r"Simulator\.dt: must be a finite number > 0"):
        loihi.Simulator(net, dt=dt)


def test_memory_at_another_dt_is_refused():
    net = small_memory_network(n_neurons=30)  # the memory is made for dt = 1 ms
    with pytest.raises(ValidationError, match=r"dt=0\.002 s differs from the dt=0\.001 s"):
        loihi.Simulator(net, dt=0.002)
    with pytest.raises(ValidationError, match="dt"):
        loihi.resources(net, dt=0.002)


def test_resource_report_reads_at_a_glance():
    net = small_memory_network(order=4, n_neurons=600)
    res = loihi.resources(net)
    text = str(res)
    labels = [b["label"] for b in res.blocks]
    # short names of the network's objects, written out in full
    assert "memory x[3]" in labels and any(label.startswith("memory x[0] -> ") for label in labels)
    assert any(label.endswith(", core 1/2") for label in labels)  # a block nengo-loihi split
    for label in labels:
        assert not any(s in label for s in ("<", ">>", " at 0x", "Ensemble", "unlabeled")), label
        assert any(line.startswith(label + "  ") for line in text.splitlines()), label
    # each kind of block is explained, and synapse memory has one name and unit
    assert {b["kind"] for b in res.blocks} == {"neurons", "to host"}
    for kind in ("neurons", "to host"):
        assert any(line.startswith(f"{kind}: ") for line in text.splitlines())
    head, limits = text.splitlines()[0], next(x for x in text.splitlines() if x.startswith("per-core limits"))
    assert "synapse bits" in head and "synapse bits 1048576" in limits and "synapses" not in text
    saved = res.as_dict()
    assert {"cores", "chips", "fits_one_chip", "total", "limits_per_core", "blocks"} <= set(saved)
    assert set(saved["block_kinds"]) == {"neurons", "to host"}
    assert {"label", "compartments", "in-axons", "out-axons", "synapses", "overflow"} <= set(saved["blocks"][0])


def test_hidden_layer_is_named_after_its_attribute():
    with nengo.Network() as net:
        net.hidden = nengo.Ensemble(20, 1, label="h", neuron_type=nengo_loihi.LoihiLIF())
        nengo.Connection(nengo.Node(0.5), net.hidden)
    assert [b["label"] for b in loihi.resources(net).blocks] == ["hidden"]


def test_inputs_on_different_synapses_are_refused_before_the_build(monkeypatch):
    """A block filters all its inputs with one synapse: an ensemble on the chip whose
    inputs ask for several is refused before anything is built (nengo-loihi would warn
    and filter the host's input with 0.1 s); on the host it is left alone; without a
    synapse, an input from the chip is unfiltered (0 s) and fits a block of such inputs."""
    with nengo.Network() as net:
        u = nengo.Node(0.5)
        a = nengo.Ensemble(10, 1, label="a")
        b = nengo.Ensemble(10, 1, label="b")
        nengo.Connection(u, a, synapse=0.01)
        nengo.Connection(u, b.neurons, transform=np.ones((10, 1)), synapse=None)
        nengo.Connection(a, b, synapse=0.1)
    # the host's input without a synapse: nengo-loihi's 5 ms filter on host-to-chip spikes
    message = (r"<Ensemble 'b'> is a block on the chip, which filters all its inputs with one synapse, but its "
               r"inputs ask for 2 \(0.005 s from <Node .*>; 0.1 s from <Ensemble 'a'>\); nengo-loihi would "
               r"filter every one with the longest, 0.1 s. Give its inputs one synapse \(the nearest that fits: "
               r"0.1 s")

    def never(*args, **kwargs):
        raise AssertionError("built before the check")

    monkeypatch.setattr(loihi.build, "_builder", never)
    for build in (loihi.Simulator, loihi.resources):
        with pytest.raises(ValidationError, match=message):
            build(net)
    monkeypatch.undo()
    nengo_loihi.add_params(net)
    net.config[b].on_chip = False
    with loihi.Simulator(net) as sim:  # b on the host: nengo filters each input as asked
        sim.run_steps(2)
    with nengo.Network() as net:
        a = nengo.Ensemble(10, 1, label="a")
        b = nengo.Ensemble(10, 1, label="b")
        nengo.Connection(nengo.Node(0.5), a)
        nengo.Connection(a.neurons, b.neurons, transform=np.eye(10), synapse=None)
        nengo.Connection(a, b, synapse=0.0)
    loihi.check_block_synapses(net)


def test_nengo_loihi_internals_only_in_compat():
    """nengo-loihi's public names (``Simulator``, ``neurons``...) anywhere; its internals in compat."""
    import ast
    import pkgutil

    private = {m.name for m in pkgutil.iter_modules(nengo_loihi.__path__)} - {"neurons", "simulator"}
    package = os.path.dirname(nengo_lmu.__file__)
    compat = os.path.join(package, "loihi", "compat.py")
    assert os.path.exists(compat)

    def internals(tree):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                yield from (a.name for a in node.names if a.name.split(".")[:2][-1] in private)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nengo_loihi"):
                parts = node.module.split(".")
                names = [a.name for a in node.names] if len(parts) == 1 else parts[1:2]
                yield from (f"{node.module}: {n}" for n in names if n in private)
            elif isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "nengo_loihi":
                if node.attr in private:
                    yield f"nengo_loihi.{node.attr}"

    offenders = []
    for root, _, files in os.walk(package):
        for name in files:
            path = os.path.join(root, name)
            if name.endswith(".py") and path != compat:
                with open(path) as f:
                    tree = ast.parse(f.read())
                offenders += [f"{os.path.relpath(path, package)}: {use}" for use in internals(tree)]
    assert not offenders


def test_host_memory_lag_is_what_the_emulator_shows():
    """``loihi.HOST_MEMORY_LAG_STEPS`` (what ``dl.Hardware(delay_steps=...)`` is told to
    train for) is the step at which a deployed network's output (memory on the host,
    hidden layer on the chip) first responds to an input impulse; the trained network
    responds at once. Deterministic on the bit-true emulator: the runs differ only by
    the impulse."""
    from nengo_lmu import deploy

    lmu = deploy.load(os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu_loihi.npz"))
    test = deploy.test_data("window-rms", lmu, 1100)
    states = deploy.exact_states(lmu, test["x"])
    at = 900
    outputs = {}
    for name, bump in (("plain", 0.0), ("impulse", 100.0)):
        u = test["u"].copy()
        u[at] += bump
        x = u[None].copy()
        outputs[("trained", name)] = lmu.rate_outputs(x, every_step=True)[0][:, 0]
        net = deploy.convert(lmu, "spiking", deploy.trained_firing_rate_scale(lmu), None, backend="loihi-sim")
        net.seed = 0
        ranges = loihi.lmu_input_ranges(net, test["x"], states=states)
        outputs[("chip", name)] = deploy.run_stream(net, u, "loihi-sim", input_ranges=ranges)["y"][:, 0]
    first = {}
    for where in ("trained", "chip"):
        changed = np.flatnonzero(outputs[(where, "impulse")] != outputs[(where, "plain")])
        assert len(changed) and changed[0] >= at, (where, changed[:3])
        first[where] = changed[0] - at
    assert first == {"trained": 0, "chip": loihi.HOST_MEMORY_LAG_STEPS}, first


def test_a_large_memory_never_overflows_the_chips_input_sums():
    """Every compartment's per-step input (a signed ``Q_BITS`` sum, which wraps around when
    it overflows) holds all its input axons spiking at once. An order-64 psMNIST memory of
    1,280 neurons overflowed it on about a tenth of its neuron-steps before; this order-32
    one of 640 neurons, fast white noise over a long window, did too."""
    from nengo_loihi.builder.discretize import Q_BITS

    from nengo_lmu.loihi.discretize import _largest_input_sum

    net, probes = delay_network(order=32, theta=0.784, n_neurons=640, high=50.0, rms=0.3)
    model = loihi.make_model(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build(net)
    sums = {block.label: _largest_input_sum(block) for block in model.blocks}  # integer weights now
    assert max(sums.values()) <= 2 ** (Q_BITS - 1) - 1, sums
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with loihi.Simulator(net, target="sim") as sim:
            sim.run_steps(300)
    assert not [str(w.message) for w in caught if "Overflow" in str(w.message)]


def test_memory_input_ranges_hold_what_the_data_reach():
    """A spiking memory on the chip gets its input from the host through on/off encoders
    that clip at their range: each coefficient's drive gets the range the data reach
    (``margin`` 1.2), where the statistics' ``INPUT_RANGE_STD`` standard deviations clip
    an input whose loudness drifts."""
    from nengo_lmu import LMU, data, deploy
    from nengo_lmu.loihi.build import _input_ranges

    lmu = deploy.load(os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu.npz"))
    u, _ = data.window_rms(3000, window=500, seed=3)
    x = u[None, :, None].copy()
    x[0, 1000:1050] += 3 * np.abs(u).max()  # a short loud burst
    stats = deploy.memory_statistics(lmu, x)
    net = deploy.convert(lmu, "spiking", 1000, 0.05, memory_neurons=10, memory_input_statistics=stats,
                         backend="loihi-sim", memory="chip")
    ranges = loihi.lmu_input_ranges(net, x)
    drive = np.abs((x @ lmu.params["e_x"].T) @ net.memory.input_transform.T).max(axis=(0, 1))
    ensembles = net.memory.coefficient_ensembles
    assert np.allclose([ranges[e] for e in ensembles], np.maximum(1.0, 1.2 * drive))
    assert any(d > _input_ranges(net)[e] for d, e in zip(drive, ensembles))  # these would clip
    # a cell whose memory input depends on the network keeps the statistics' ranges
    recurrent = deploy.convert(LMU(4, 4, 0.1, hidden_to_memory=True), "spiking", 1000, memory_neurons=10,
                               backend="loihi-sim", memory="chip")
    assert not set(recurrent.memory.coefficient_ensembles) & set(loihi.lmu_input_ranges(recurrent, x))
