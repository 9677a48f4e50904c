"""The LMU network: its equations, its parameters (set, save, load) and its variants."""

import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import lmu as lmu_module, maths
from nengo_lmu.lmu import LMU


def reference(lmu, x, act):
    """The cell's equations in numpy, one sequence ``x`` of shape (T, input_dimensions)."""
    p = lmu.params
    Ad, Bd = maths.discretize(*maths.legendre_ss(lmu.order, lmu.theta), lmu.dt)
    m, h, ys = np.zeros((lmu.memory_d, lmu.order)), np.zeros(lmu.units), []
    for xk in x:
        u = p["e_x"] @ xk if "e_x" in p else xk.copy()
        u = u + (p["e_h"] @ h if "e_h" in p else 0) + (p["e_m"] @ m.ravel() if "e_m" in p else 0)
        m = m @ Ad.T + u[:, None] * Bd[:, 0]
        J = p["W_m"] @ m.ravel() + p["b"]
        J = J + (p["W_x"] @ xk if "W_x" in p else 0) + (p["W_h"] @ h if "W_h" in p else 0)
        h = act(J)
        ys.append(p["W_o"] @ h + p["b_o"] if "W_o" in p else h)
    return np.array(ys)


def simulate(lmu, x, synapse=None):
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, lmu.dt))
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output, synapse=synapse)
    net.networks.append(lmu)
    with nengo.Simulator(net, dt=lmu.dt, progress_bar=False) as sim:
        sim.run_steps(len(x))
    return sim.data[probe]


def random_biases(lmu, rng):
    lmu.set_params({"b": 0.3 * rng.randn(lmu.units)}, partial=True)
    if "b_o" in lmu.params:
        lmu.set_params({"b_o": rng.randn(lmu.output_dimensions)}, partial=True)


@pytest.mark.parametrize(
    "paths, neuron_type, act",
    [
        ({}, nengo.RectifiedLinear(), lambda J: np.maximum(J, 0)),
        (
            dict(hidden_to_memory=True, memory_to_memory=True, input_to_hidden=True, hidden_to_hidden=True),
            nengo.Tanh(tau_ref=1.0),
            np.tanh,
        ),
    ],
)
def test_matches_equations(paths, neuron_type, act, rng):
    lmu = LMU(6, 5, 0.012, input_dimensions=2, memory_d=3, neuron_type=neuron_type, output_dimensions=2, seed=1, **paths)
    random_biases(lmu, rng)
    x = rng.randn(40, 2)
    assert np.allclose(simulate(lmu, x), reference(lmu, x, act), atol=1e-10)


def test_no_encoders_and_hidden_output(rng):
    lmu = LMU(4, 3, 0.005, input_dimensions=2, memory_d=2, input_encoders=False, seed=0)
    assert "e_x" not in lmu.params and lmu.output.size_out == 4
    x = rng.randn(20, 2)
    assert np.allclose(simulate(lmu, x), reference(lmu, x, lambda J: np.maximum(J, 0)), atol=1e-10)


def test_firing_rate_scale_keeps_rates(rng):
    """Scaling gains up and outputs down leaves a ReLU network's output unchanged."""
    lmu = LMU(5, 4, 0.01, hidden_to_hidden=True, hidden_to_memory=True, output_dimensions=2, seed=3)
    random_biases(lmu, rng)
    x = rng.randn(30, 1)
    scaled = lmu.with_neurons(firing_rate_scale=37.0)
    assert np.allclose(simulate(scaled, x), simulate(lmu, x), atol=1e-10)


def test_spiking_hidden_approximates_rates(rng):
    lmu = LMU(20, 4, 0.05, output_dimensions=1, seed=2)
    random_biases(lmu, rng)
    x = np.sin(np.linspace(0, 6, 300))[:, None]
    rate = simulate(lmu, x, synapse=0.01)
    spiking = simulate(
        lmu.with_neurons(nengo.SpikingRectifiedLinear(), firing_rate_scale=2000, hidden_synapse=None), x, synapse=0.01
    )
    assert maths.nrmse(spiking[50:], rate[50:]) < 0.1
    unscaled = simulate(lmu.with_neurons(nengo.SpikingRectifiedLinear(), hidden_synapse=None), x, synapse=0.01)
    assert maths.nrmse(unscaled[50:], rate[50:]) > maths.nrmse(spiking[50:], rate[50:])


@pytest.mark.parametrize("paths", [{}, dict(hidden_to_hidden=True, hidden_to_memory=True, input_to_hidden=True)])
def test_neurons_per_unit_compute_the_units_rates(paths, rng):
    """Each unit run by several rate neurons of spread gains: the same network, in numpy
    and simulated, recurrent paths included (a ReLU's rate scales with its gain)."""
    lmu = LMU(6, 4, 0.02, output_dimensions=2, seed=4, **paths)
    random_biases(lmu, rng)
    x = rng.randn(60, 1)
    many = lmu.with_neurons(neurons_per_unit=5, firing_rate_scale=20.0)
    assert many.hidden.n_neurons == 30
    assert np.allclose(simulate(many, x), simulate(lmu, x), atol=1e-10)
    if not paths:
        assert np.allclose(many.rate_outputs(x[None], every_step=True), lmu.rate_outputs(x[None], every_step=True))
    # the unit's own neuron has the highest gain: no neuron fires faster than the unit would
    gains = many.hidden.gain
    assert np.max(gains) == 20.0 and np.min(gains) == pytest.approx(20.0 * (1 - lmu_module.UNIT_GAIN_SPREAD))


def test_neurons_per_unit_carry_the_rates_with_less_spike_noise(rng):
    """Spiking ReLUs starting at the same voltage (as a chip starts them): eight neurons per
    unit, firing at different rates, carry the rates with less noise than one. Measured
    here: output NRMSE against the rate network 0.079 with one neuron per unit, 0.033
    with eight."""
    lmu = LMU(20, 4, 0.05, output_dimensions=1, seed=2)
    random_biases(lmu, rng)
    x = np.sin(np.linspace(0, 6, 600))[:, None]
    rate = simulate(lmu, x, synapse=0.02)
    chip_like = nengo.SpikingRectifiedLinear(initial_state={"voltage": nengo.dists.Choice([0])})
    errors = {}
    for k in (1, 8):
        spiking = lmu.with_neurons(chip_like, firing_rate_scale=200, neurons_per_unit=k)
        errors[k] = maths.nrmse(simulate(spiking, x, synapse=0.02)[100:], rate[100:])
    assert errors[8] < 0.75 * errors[1], errors


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(neurons_per_unit=0), r"LMU.neurons_per_unit: must be an integer in \[1, 1000\] \(got 0\)"),
        (dict(neurons_per_unit=2.5), r"LMU.neurons_per_unit: must be an integer"),
        (dict(neurons_per_unit=3, neuron_type=nengo.LIFRate()),
         r"LMU.neurons_per_unit: several neurons per unit need rectified linear hidden neurons.*LIFRate"),
    ],
)
def test_neurons_per_unit_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        LMU(3, 4, 0.1, **kwargs)


def test_save_load_roundtrip(tmp_path, rng):
    lmu = LMU(5, 4, 0.01, input_to_hidden=True, output_dimensions=3, seed=0)
    random_biases(lmu, rng)
    path = tmp_path / "p.npz"
    lmu.save_params(path)
    other = LMU(5, 4, 0.01, input_to_hidden=True, output_dimensions=3, seed=9)
    assert not np.allclose(other.params["W_m"], lmu.params["W_m"])
    other.load_params(path)
    for name, value in lmu.params.items():
        assert np.array_equal(other.params[name], value)
    x = rng.randn(15, 1)
    assert np.allclose(simulate(other, x), simulate(lmu, x))
    with np.load(path, allow_pickle=False) as f:  # readable without pickle
        assert set(f.files) >= set(lmu.params)


def test_load_refuses_other_network(tmp_path):
    path = tmp_path / "p.npz"
    LMU(5, 4, 0.01, output_dimensions=3).save_params(path)
    with pytest.raises(ValidationError, match=r"different network \(differs in \['params', 'units'\]"):
        LMU(6, 4, 0.01, output_dimensions=3).load_params(path)
    with pytest.raises(ValidationError, match="different network"):
        LMU(5, 4, 0.01, output_dimensions=3, hidden_to_hidden=True).load_params(path)
    np.savez(tmp_path / "other.npz", W_m=np.zeros((5, 4)))
    with pytest.raises(ValidationError, match="not an LMU parameter file"):
        LMU(5, 4, 0.01).load_params(tmp_path / "other.npz")


def test_set_params_errors():
    lmu = LMU(5, 4, 0.01, output_dimensions=2)
    with pytest.raises(ValidationError, match=r"W_m must have shape \(5, 4\)"):
        lmu.set_params({"W_m": np.zeros((4, 5))}, partial=True)
    with pytest.raises(ValidationError, match="b contains NaN"):
        lmu.set_params({"b": np.full(5, np.nan)}, partial=True)
    with pytest.raises(ValidationError, match=r"unknown parameter\(s\) \['W_h'\]"):
        lmu.set_params({"W_h": np.zeros((5, 5))}, partial=True)
    with pytest.raises(ValidationError, match="missing parameter"):
        lmu.set_params({"b": np.zeros(5)})


def test_constructor_errors():
    with pytest.raises(ValidationError, match="units"):
        LMU(0, 4, 0.1)
    with pytest.raises(ValidationError, match="at least one time step"):
        LMU(3, 4, 0.0005, dt=0.001)
    with pytest.raises(ValidationError, match="without input encoders"):
        LMU(3, 4, 0.1, input_dimensions=2, memory_d=1, input_encoders=False)
    with pytest.raises(ValidationError, match="dict of LegendreMemory"):
        LMU(3, 4, 0.1, memory="spiking")
    with pytest.raises(ValidationError, match="needs a neuron type"):
        LMU(3, 4, 0.1, neuron_type=None)


def test_readout_outside_window():
    lmu = LMU(3, 4, 0.1)
    with pytest.raises(ValidationError, match=r"must lie in \[0, 1\]"):
        lmu.memory.add_readout(1.5)


def test_spiking_memory_variant():
    lmu = LMU(3, 4, 0.1, seed=0)
    spiking = lmu.with_neurons(memory=dict(n_neurons=40, neuron_type=nengo.LIF()))
    assert len(spiking.memory.coefficient_ensembles) == 4
    assert all(np.array_equal(spiking.params[k], v) for k, v in lmu.params.items())
    assert lmu.with_neurons(memory=None).memory.coefficient_ensembles == []


def _memory_states(lmu, x):
    """The LMU's memory state at every step, reference simulator."""
    with nengo.Network() as net:
        stim = nengo.Node(nengo.processes.PresentInput(x, lmu.dt))
        nengo.Connection(stim, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.memory.state, synapse=None)
    net.networks.append(lmu)
    with nengo.Simulator(net, dt=lmu.dt, progress_bar=False, seed=1) as sim:
        sim.run_steps(len(x))
    return sim.data[probe]


def test_synaptic_state_readout_and_data_scales(rng):
    """The synaptic readout is exact with Direct ensembles and far less noisy with spikes;
    data scales fit the actual input (here with a large mean)."""
    from nengo_lmu.networks import LegendreMemory, data_scales

    x = 0.5 + 0.3 * rng.rand(200, 1)
    lmu = LMU(3, 6, 0.2, seed=0)
    exact = _memory_states(lmu, x)
    scales = data_scales(lmu.params["e_x"][0, 0] * x.T, 6, 0.2, lmu.dt)
    assert scales.shape == (6,)
    # data_scales is n_std times each coefficient's RMS over the run
    assert np.allclose(scales, 3.25 * np.sqrt(np.mean(exact**2, axis=0)), rtol=1e-3)
    direct = lmu.with_neurons(
        memory=dict(n_neurons=6, neuron_type=nengo.Direct(), scales=scales, state_readout="synaptic")
    )
    assert np.allclose(direct.memory.scales, scales)
    assert np.allclose(_memory_states(direct, x), exact, atol=1e-6 * np.abs(exact).max())
    errors = {}
    for readout in ("decoded", "synaptic"):
        spiking = lmu.with_neurons(
            memory=dict(n_neurons=300, neuron_type=nengo.LIF(), scales=scales, state_readout=readout)
        )
        errors[readout] = np.sqrt(np.mean((_memory_states(spiking, x)[-50:] - exact[-50:]) ** 2))
    assert errors["synaptic"] < 0.3 * errors["decoded"]
    with pytest.raises(ValidationError, match="must be one of"):
        LegendreMemory(6, 0.2, 60, state_readout="filtered")
    with pytest.raises(ValidationError, match="6 finite numbers > 0"):
        LegendreMemory(6, 0.2, 60, scales=[1.0, 2.0])
    with pytest.raises(ValidationError, match="finite"):
        data_scales(np.full((2, 5), np.nan), 6, 0.2)


@pytest.mark.parametrize("weights", [False, True])
def test_neuron_to_neuron_state_is_the_synaptic_state(weights):
    """state_readout="neurons" feeds the hidden layer from the coefficient neurons directly;
    it receives W_m times the memory's (synaptic) state: same spikes, same synapse."""
    memory = dict(n_neurons=120, neuron_type=nengo.LIF(), weights=weights, state_readout="neurons")
    lmu = LMU(10, 4, 0.05, memory=memory, output_dimensions=2, seed=4)
    with nengo.Network(seed=5) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=5, rms=0.5, seed=3))
        nengo.Connection(stim, lmu.input, synapse=None)
        p_in = nengo.Probe(lmu.hidden.neurons, "input", synapse=None)
        p_state = nengo.Probe(lmu.memory.state, synapse=None)
    net.networks.append(lmu)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(300)
    expected = sim.data[p_state] @ lmu.params["W_m"].T
    assert np.std(expected) > 0.01
    assert np.allclose(sim.data[p_in], expected, atol=1e-8)
    # W_m: from the memory's input, from each coefficient ensemble, and the feedthrough
    # (on by default) from the input again
    assert len(lmu.param_connections["W_m"]) == 1 + 4 + 1
    assert all(c.post_obj.ensemble is lmu.hidden for c in lmu.param_connections["W_m"])
    with pytest.raises(ValidationError, match="neuron-to-neuron"):
        lmu.set_params({"W_m": lmu.params["W_m"]}, partial=True)


def test_memory_without_a_decoded_state():
    """decode_state=False: a neuron-to-neuron memory read only by connect_state makes no
    decoded state (on Loihi: no "to host" block per coefficient); the hidden neurons
    still receive W_m times the memory's state, the same as with it."""
    from nengo_lmu.networks import LegendreMemory

    def hidden_input(decode_state):
        # the ensembles' own seed: the connections left out would shift the seeds nengo deals
        memory = dict(n_neurons=120, neuron_type=nengo.LIF(), weights=True, state_readout="neurons",
                      decode_state=decode_state, ensemble_kwargs=dict(seed=1))
        lmu = LMU(10, 4, 0.05, memory=memory, output_dimensions=2, seed=4)
        with nengo.Network(seed=5) as net:
            stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=5, rms=0.5, seed=3))
            nengo.Connection(stim, lmu.input, synapse=None)
            p_in = nengo.Probe(lmu.hidden.neurons, "input", synapse=None)
        net.networks.append(lmu)
        with nengo.Simulator(net, progress_bar=False) as sim:
            sim.run_steps(300)
        return lmu, sim.data[p_in]

    lmu, without = hidden_input(False)
    assert lmu.memory.state is None and lmu.memory.output is None and lmu.memory.x_hat is None
    # nothing leaves the coefficient neurons but the recurrence and the hidden layer's input
    posts = {c.post_obj for c in lmu.all_connections if c.pre_obj in lmu.memory.coefficient_ensembles}
    assert all(isinstance(p, (nengo.Ensemble, nengo.ensemble.Neurons)) for p in posts)
    _, with_state = hidden_input(True)
    assert np.std(with_state) > 0.01
    assert np.allclose(without, with_state, atol=1e-8)
    with pytest.raises(ValidationError, match="no state to read out"):
        lmu.memory.add_readout(0.5)
    for bad in (dict(weights=False, state_readout="neurons"), dict(weights=True, state_readout="synaptic")):
        with pytest.raises(ValidationError, match="decode_state: False needs a neuron-to-neuron memory"):
            LegendreMemory(4, 0.05, 40, decode_state=False, **bad)
    with pytest.raises(ValidationError, match="e_m"):
        LMU(10, 4, 0.05, memory_to_memory=True, memory=dict(n_neurons=40, weights=True, state_readout="neurons",
                                                             decode_state=False))


@pytest.mark.parametrize("state_synapse", [None, 0.01])
def test_input_arrives_on_the_synapse_of_the_memory_state(state_synapse):
    """With the memory wired neuron to neuron, W_x x reaches the hidden neurons on the
    synapse the memory's state does (a Loihi block filters all its inputs with one);
    with the exact memory, unfiltered, as the state."""
    memory = dict(n_neurons=120, neuron_type=nengo.LIF(), weights=True, state_readout="neurons",
                  state_synapse=state_synapse, feedthrough=False)
    lmu = LMU(10, 4, 0.05, input_to_hidden=True, memory=memory, output_dimensions=1, seed=4)
    expected = lmu.memory.tau if state_synapse is None else state_synapse
    assert lmu.memory.state_arrival_synapse == expected
    into_hidden = [c for c in lmu.all_connections if c.post_obj in (lmu.hidden, lmu.hidden.neurons)]
    assert lmu.param_connections["W_x"] in into_hidden and len(into_hidden) > 2
    assert {c.synapse.tau for c in into_hidden} == {expected}
    exact = LMU(10, 4, 0.05, input_to_hidden=True, output_dimensions=1)
    assert exact.memory.state_arrival_synapse is None and exact.param_connections["W_x"].synapse is None


def test_neuron_to_neuron_state_through_a_synapse_of_its_own():
    """state_synapse: the hidden neurons receive each coefficient's decoded value through
    that synapse (on Loihi the hidden block's one synapse need not be the memory's),
    which is the memory's decoded state x_hat through the same synapse."""
    from nengo_lmu.networks import LegendreMemory

    memory = dict(n_neurons=120, neuron_type=nengo.LIF(), weights=True, state_readout="neurons", state_synapse=0.01,
                  feedthrough=False)
    lmu = LMU(10, 4, 0.05, memory=memory, output_dimensions=2, seed=4)
    with nengo.Network(seed=5) as net:
        stim = nengo.Node(nengo.processes.WhiteSignal(1.0, high=5, rms=0.5, seed=3))
        nengo.Connection(stim, lmu.input, synapse=None)
        p_in = nengo.Probe(lmu.hidden.neurons, "input", synapse=None)
        p_x = nengo.Probe(lmu.memory.x_hat, synapse=0.01)
    net.networks.append(lmu)
    with nengo.Simulator(net, progress_bar=False) as sim:
        sim.run_steps(300)
    expected = sim.data[p_x] @ lmu.memory.state_from_x.T @ lmu.params["W_m"].T
    assert np.std(expected) > 0.01
    assert np.allclose(sim.data[p_in], expected, atol=1e-6)
    conns = lmu.param_connections["W_m"]
    # one per coefficient ensemble on that synapse, none from the input
    assert len(conns) == 4 and all(c.pre_obj in lmu.memory.coefficient_ensembles for c in conns)
    assert all(c.synapse.tau == 0.01 for c in conns)
    with pytest.raises(ValidationError, match=r"state_synapse: a synapse of its own needs state_readout='neurons'"):
        LegendreMemory(4, 0.05, 40, state_synapse=0.01)
    with pytest.raises(ValidationError, match=r"state_synapse: must be a finite time constant > 0"):
        LegendreMemory(4, 0.05, 40, weights=True, state_readout="neurons", state_synapse=-1)
