import nengo
import numpy as np
import pytest
from nengo.exceptions import ValidationError

from nengo_lmu import LegendreMemory, discretize, legendre_readout, legendre_ss, maths, statistics
from nengo_lmu.networks import allocate_neurons


def zoh_states(u, order, theta, dt):
    """Reference: the ZOH state after each input sample, m[k+1] = Ad m[k] + Bd u[k]."""
    Ad, Bd = discretize(*legendre_ss(order, theta), dt)
    m, out = np.zeros((order, u.shape[1])), []
    for x in u:
        m = Ad @ m + Bd * x
        out.append(m.T.ravel())  # dimension-major, like LegendreMemory.state
    return np.array(out)


def exact_atol(Simulator, reference):
    """Tolerance of a state that should be exact: float64 rounding on nengo.Simulator,
    float32 rounding (relative to the state's size) on the others (NengoDL)."""
    return 1e-8 if Simulator is nengo.Simulator else 1e-5 * np.abs(reference).max()


def run(memory_factory, Simulator, duration=1.0, high=5, seed=0, signal_seed=1, dims=1):
    process = nengo.processes.WhiteSignal(duration, high=high, rms=0.3, seed=signal_seed)
    with nengo.Network(seed=seed) as model:
        stim = nengo.Node(process, size_out=dims)
        mem = memory_factory(process)
        nengo.Connection(stim, mem.input, synapse=None)
        probes = {
            "u": nengo.Probe(stim, synapse=None),
            "state": nengo.Probe(mem.state, synapse=None),
            "output": nengo.Probe(mem.output, synapse=0.01),
        }
    with Simulator(model, progress_bar=False) as sim:
        sim.run(duration)
    return mem, {k: sim.data[p] for k, p in probes.items()}


@pytest.mark.parametrize("neuron_type", [None, nengo.Direct()])
def test_ideal_modes_reproduce_zoh_state(neuron_type, Simulator):
    order, theta, dt = 6, 0.05, 1e-3
    mem, data = run(lambda p: LegendreMemory(order, theta, 6, neuron_type=neuron_type, mapping="discrete"), Simulator)
    ref = zoh_states(data["u"], order, theta, dt)
    assert np.allclose(data["state"], ref, atol=exact_atol(Simulator, ref))


def test_ideal_without_feedthrough_lags_one_step(Simulator):
    order, theta, dt = 4, 0.05, 1e-3
    mem, data = run(lambda p: LegendreMemory(order, theta, neuron_type=None, feedthrough=False), Simulator)
    ref = zoh_states(data["u"], order, theta, dt)
    assert np.allclose(data["state"][1:], ref[:-1], atol=exact_atol(Simulator, ref))


def test_multiple_dimensions_are_independent_memories(Simulator):
    order, theta, dt = 5, 0.05, 1e-3
    mem, data = run(lambda p: LegendreMemory(order, theta, neuron_type=None, dimensions=3), Simulator, dims=3)
    assert data["state"].shape[1] == 15 and data["output"].shape[1] == 3
    ref = zoh_states(data["u"], order, theta, dt)
    assert np.allclose(data["state"], ref, atol=exact_atol(Simulator, ref))


def test_add_readout_shapes_and_values(Simulator):
    order, theta = 8, 0.1
    r = np.array([0.0, 0.5, 1.0])
    process = nengo.processes.WhiteSignal(1.0, high=3, rms=0.3, seed=3)
    with nengo.Network(seed=0) as model:
        stim = nengo.Node(process, size_out=2)
        mem = LegendreMemory(order, theta, neuron_type=None, dimensions=2)
        nengo.Connection(stim, mem.input, synapse=None)
        window = mem.add_readout(r)
        single = mem.add_readout(0.25)
        p_window, p_state = nengo.Probe(window), nengo.Probe(mem.state)
    assert window.size_out == 6 and single.size_out == 2
    with Simulator(model, progress_bar=False) as sim:
        sim.run(1.0)
    C = legendre_readout(order, r)
    expected = np.concatenate([sim.data[p_state][:, k * order:(k + 1) * order] @ C.T for k in range(2)], axis=1)
    atol = 1e-10 if Simulator is nengo.Simulator else 1e-5 * np.abs(expected).max()
    assert np.allclose(sim.data[p_window], expected, atol=atol)


def test_neuron_counts_sum_to_n_neurons():
    mem = LegendreMemory(8, 0.1, 803, input_statistics=(5, 0.3))
    assert mem.n_neurons == 803 == sum(e.n_neurons for e in mem.coefficient_ensembles)
    # readout allocation: coefficients with larger scale get more neurons
    counts = mem.neuron_counts
    assert counts[0] > counts[-1] >= 10
    equal = LegendreMemory(8, 0.1, 800, allocation="equal")
    assert set(equal.neuron_counts) == {100}
    assert list(allocate_neurons(10, [1.0, 0.0, 3.0], min_per_ensemble=2)) == [3, 2, 5]


# (neuron type, bound on NRMSE against the delayed input, C2-like config, 3 s)
NEURON_TYPES = [
    (nengo.LIF(), 0.08),
    (nengo.LIFRate(), 0.05),
    (nengo.SpikingRectifiedLinear(), 0.08),
    (nengo.RectifiedLinear(), 0.05),
    (nengo.PoissonSpiking(nengo.LIFRate()), 0.3),
    ("lif", 0.08),
    (None, 0.02),
]


@pytest.mark.parametrize("neuron_type, bound", NEURON_TYPES)
def test_neuron_types_remember(neuron_type, bound, Simulator):
    mem, data = run(
        lambda p: LegendreMemory(4, 0.1, 800, neuron_type=neuron_type, input_statistics=p),
        Simulator,
        duration=3.0,
    )
    error = maths.delay_nrmse(data["u"][:, 0], data["output"][:, 0], 0.1, 1e-3)
    assert error < bound


def test_spiking_memory_beats_naive_construction():
    from nengo_lmu.bench.accuracy import run_config

    row = run_config("C2", duration=3.0)
    assert row["nrmse"] < 0.06
    assert row["naive_nrmse"] > 1.3 * row["nrmse"]


def test_runs_on_nengo_dl_like_reference():
    import nengo_dl

    def factory(p):
        return LegendreMemory(4, 0.1, 200, neuron_type=nengo.LIFRate(), input_statistics=p)

    # a comparison of two named backends: not for the Simulator fixture
    _, ref = run(factory, nengo.Simulator, duration=0.5)
    _, dl = run(factory, nengo_dl.Simulator, duration=0.5)
    # NengoDL computes in float32; the rate network is deterministic
    assert np.allclose(dl["state"], ref["state"], atol=2e-3 * np.abs(ref["state"]).max())


def test_runs_on_loihi_emulator():
    import nengo_loihi

    mem, data = run(
        lambda p: LegendreMemory(4, 0.1, 200, input_statistics=p),
        lambda model, **kw: nengo_loihi.Simulator(model, target="sim", **kw),
        duration=0.3,
    )
    assert data["state"].shape == (300, 4) and np.all(np.isfinite(data["state"]))


def test_continuous_mapping_is_classic_principle3():
    mem = LegendreMemory(3, 0.2, 30, synapse=0.05, mapping="continuous", n_std=1.0,
                         input_statistics=(2, 0.5))
    A, B = legendre_ss(3, 0.2)
    s = mem.scales
    assert np.allclose(mem.recurrent_transform, 0.05 * A * s[None, :] / s[:, None] + np.eye(3))
    assert np.allclose(mem.input_transform, 0.05 * B / s[:, None])


def test_weights_mode_uses_neuron_to_neuron_connections():
    mem = LegendreMemory(3, 0.1, 60, weights=True)
    recurrent = [c for c in mem.all_connections if isinstance(c.pre_obj, nengo.Ensemble)
                 and isinstance(c.post_obj, nengo.Ensemble)]
    assert len(recurrent) == 9 and all(c.solver.weights for c in recurrent)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(order=0), "order.*integer >= 1"),
        (dict(theta=0.0), "theta.*> 0"),
        (dict(theta=0.0005), "theta.*at least one time step"),
        (dict(n_neurons=3), r"n_neurons.*>= order \* dimensions = 4"),
        (dict(n_neurons=None), "n_neurons.*integer"),
        (dict(neuron_type="izhikevich"), "neuron_type.*one of"),
        (dict(neuron_type=nengo.LIF), r"neuron_type.*instance such as LIF\(\)"),
        (dict(synapse=nengo.Alpha(0.01)), "synapse.*lowpass"),
        (dict(synapse=-0.1), "synapse.*> 0"),
        (dict(mapping="bilinear"), "mapping.*one of"),
        (dict(allocation="greedy"), "allocation.*one of"),
        (dict(allocation=[10, 10]), "allocation.*4 positive integers"),
        (dict(input_statistics=(5,)), "input_statistics.*pair"),
        (dict(input_statistics=(5, -1)), "input_statistics.*pair"),
        (dict(dimensions=0), "dimensions.*integer >= 1"),
        (dict(n_std=0), "n_std.*> 0"),
        (dict(theta="0.1"), r"theta.*finite number > 0 \(got '0.1'\)"),
        (dict(synapse=nengo.Lowpass(0)), r"synapse.*> 0.*Lowpass\(tau=0\)"),
        (dict(synapse=np.inf), "synapse.*finite time constant"),
        (dict(synapse=np.nan), "synapse.*finite time constant"),
        (dict(n_std=np.nan), "n_std.*finite number > 0"),
        (dict(dimensions=1.5), "dimensions.*integer >= 1"),
        (dict(dimensions=True), "dimensions.*integer >= 1"),
        (dict(dt="0.001"), "dt.*finite number > 0"),
        (dict(input_statistics=(np.inf, 0.5)), "input_statistics.*pair"),
        (dict(input_statistics="white"), "input_statistics.*WhiteNoise, Measured, FixedScales"),
        (dict(synapse_decay=1.0), r"synapse_decay.*\(0, 1\)"),
        (dict(feedthrough="yes"), "feedthrough.*True or False"),
        (dict(solver="lstsq"), "solver.*Solver"),
        (dict(scales=[1.0, 2.0]), "scales.*4 finite numbers > 0"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = dict(order=4, theta=0.1, n_neurons=100)
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        LegendreMemory(**args)


@pytest.mark.parametrize(
    "kwargs",
    [dict(order=0), dict(synapse=np.inf), dict(allocation=[10, 10]), dict(ensemble_kwargs={"radius": "x"})],
)
def test_failed_memory_leaves_the_enclosing_network_unchanged(kwargs):
    args = dict(order=4, theta=0.1, n_neurons=100)
    args.update(kwargs)
    with nengo.Network() as net:
        nengo.Node(0)
        before = (list(net.networks), list(net.all_objects))
        with pytest.raises(Exception):
            LegendreMemory(**args)
    assert (net.networks, net.all_objects) == before
    with net:
        mem = LegendreMemory(4, 0.1, 100)
    assert net.networks == [mem]  # a complete memory joins it
    assert mem not in LegendreMemory(4, 0.1, 100, add_to_container=False).networks


def test_bad_readout():
    mem = LegendreMemory(4, 0.1, neuron_type=None)
    with pytest.raises(ValidationError, match=r"r.*\[0, 1\]"):
        mem.add_readout(1.2)


@pytest.mark.parametrize("order, theta, high", [(3, 0.05, 10.0), (10, 0.3, 5.0), (20, 1.0, 2.0)])
def test_scaled_state_fits_radius(order, theta, high, Simulator):
    # whatever order and theta, the represented coefficients m_i / s_i use the radius
    duration = max(3.0, 10 * theta)
    mem, data = run(lambda p: LegendreMemory(order, theta, neuron_type=None, input_statistics=p),
                    Simulator, duration=duration, high=high)
    # the stationary scales put n_std standard deviations on the radius...
    stationary = maths.state_scales(statistics.WhiteNoise(high, 0.3).covariance(order, theta, 1e-3), mem.n_std)
    state = data["state"][int(2 * theta / 1e-3):]
    std = (state / stationary).std(axis=0)
    assert np.all(std > 0.5 / mem_n_std(mem)) and np.all(std < 2.0 / mem_n_std(mem))
    # ...and the memory's own are those, widened at most twice to hold a switch-on
    assert np.all(mem.scales >= stationary) and np.all(mem.scales <= statistics.SWITCH_ON_CAP * stationary * 1.0001)
    assert np.abs(state / mem.scales).max() < 1.6


def mem_n_std(mem):
    return 3.25


def test_statistics_strategies_and_their_shorthands():
    from nengo_lmu.networks import data_scales, input_statistics

    process = nengo.processes.WhiteSignal(1.0, high=4, rms=0.3)
    white = LegendreMemory(5, 0.2, 100, input_statistics=process)
    for same in [(4, 0.3), statistics.WhiteNoise(4, 0.3)]:
        assert np.allclose(LegendreMemory(5, 0.2, 100, input_statistics=same).scales, white.scales)
    assert (white.input_high, white.input_rms) == (4, 0.3) == input_statistics(process, 5, 0.2)
    u = 0.5 + 0.3 * np.random.RandomState(0).rand(3, 400)
    measured = statistics.Measured(u)
    mem = LegendreMemory(5, 0.2, 100, input_statistics=measured)
    assert np.allclose(mem.scales, data_scales(u, 5, 0.2))
    assert mem.input_rms == measured.rms == pytest.approx(np.sqrt(np.mean(u**2)))
    # scales= is FixedScales; what is known of the input is kept
    fixed = LegendreMemory(5, 0.2, 100, input_statistics=(4, 0.3), scales=mem.scales)
    assert isinstance(fixed.statistics, statistics.FixedScales)
    assert np.allclose(fixed.scales, mem.scales) and fixed.input_rms == 0.3


def test_default_input_statistics_cover_the_memory_band():
    mem = LegendreMemory(6, 0.2, 600)
    high, rms = 6 / (2 * np.pi * 0.2), 0.5
    assert mem.input_high == pytest.approx(high) == pytest.approx(maths.memory_band(6, 0.2))
    cov = maths.white_noise_covariance(mem.A, mem.B, high, rms, dt=1e-3)
    stationary = 3.25 * np.sqrt(np.diag(cov))
    assert np.allclose(mem.scales, statistics.with_switch_on(stationary, 6, 0.2, 1e-3, rms))
    # at the whole band the low coefficients' ranges hold a switch-on already
    assert np.allclose(mem.scales[:4], stationary[:4])


def test_auto_mapping_avoids_an_unstable_continuous_loop():
    # order 64 over 64 steps: the continuous (Euler-like) mapping would diverge
    mem = LegendreMemory(64, theta=0.064, n_neurons=640, neuron_type=nengo.LIF(), synapse=0.05)
    assert mem.mapping == "discrete"
    assert LegendreMemory(6, theta=0.1, n_neurons=60, neuron_type=nengo.LIF()).mapping == "continuous"
    with pytest.raises(ValidationError, match="mapping: 'continuous' is unstable for order 64"):
        LegendreMemory(64, 0.064, n_neurons=640, neuron_type=nengo.LIF(), synapse=0.05, mapping="continuous")


def test_measured_continuing_matches_white_noise_statistics():
    # a long white signal measured as a continuing stretch gives the stationary scales;
    # measured from rest, the start-up step inflates the high coefficients
    order, theta, high, dt = 6, 0.1, 3.0, 1e-3
    process = nengo.processes.WhiteSignal(20.0, high=high, rms=0.3, seed=2)
    u = process.run_steps(20000, dt=dt)[:, 0]
    white = np.sqrt(np.diag(statistics.WhiteNoise(high, 0.3).covariance(order, theta, dt)))
    continuing = statistics.Measured(u[None], continuing=True)
    cont = continuing.coefficient_rms(order, theta, dt)
    rest = statistics.Measured(u[None]).coefficient_rms(order, theta, dt)
    assert np.allclose(cont[:3], white[:3], rtol=0.3)
    assert np.all(cont[3:] < rest[3:])
    # the scales: n_std times the RMS; a continuing signal's widened to hold it switching on
    assert np.allclose(continuing.scales(order, theta, dt, 2.0),
                       statistics.with_switch_on(2.0 * cont, order, theta, dt, continuing.rms))
    assert np.allclose(statistics.Measured(u[None]).scales(order, theta, dt, 2.0), 2.0 * rest)
    # measure(): the same from samples, a process or a function of time, times its margin
    measured = statistics.measure(u)
    assert measured.margin == statistics.measurement_margin(u, dt) > 1
    expected = statistics.with_switch_on(cont * measured.margin, order, theta, dt, continuing.rms)
    assert np.allclose(measured.scales(order, theta, dt, 1.0), expected)
    from_process = statistics.measure(process, duration=20.0)
    assert np.allclose(from_process.scales(order, theta, dt, 1.0), expected)
    assert statistics.measure(lambda t: np.sin(t), duration=1.0).u.shape == (1, 1000, 1)


def test_with_switch_on_widens_each_range_at_most_by_the_cap():
    order, theta, dt = 8, 0.3, 1e-3
    peak = maths.step_response_peak(*maths.legendre_ss(order, theta), dt, 460)
    # a step fills the window within theta; the state then settles at (1, 0, ..., 0)
    assert peak[0] == pytest.approx(1.0, abs=0.02) and np.all(peak[1:] > 0.05)
    stationary = statistics.WhiteNoise(0.1 * maths.memory_band(order, theta), 0.3)
    base = maths.state_scales(stationary.covariance(order, theta, dt), 3.25)
    widened = stationary.scales(order, theta, dt, 3.25)
    assert np.all(widened >= base) and np.all(widened <= statistics.SWITCH_ON_CAP * base + 1e-12)
    assert np.allclose(widened, np.maximum(base, np.minimum(0.3 * peak, 2 * base)))
    assert np.any(widened > base)  # a slow input's high coefficients are widened
    # a fast input's stationary ranges already hold a step of its RMS
    fast = statistics.WhiteNoise(maths.memory_band(order, theta), 0.3)
    assert np.allclose(fast.scales(order, theta, dt, 3.25)[:3],
                       maths.state_scales(fast.covariance(order, theta, dt), 3.25)[:3])


def test_switch_on_keeps_the_spiking_state_closer_to_the_ideal(Simulator, monkeypatch):
    """Issue 11: a memory scaled for a slow input, whose input switches on to its RMS from
    rest, holds the state closer to the ideal memory's with the switch-on ranges than
    with the stationary ones alone (measured about 0.8x the error)."""
    order, theta = 8, 0.3
    stats = (0.1 * maths.memory_band(order, theta), 0.3)

    def state_error(cap):
        monkeypatch.setattr(statistics, "SWITCH_ON_CAP", cap)
        states = {}
        for neuron_type in (None, nengo.LIF()):
            with nengo.Network(seed=0) as model:
                step = nengo.Node(0.3)
                mem = LegendreMemory(order, theta, 100 * order, neuron_type=neuron_type, input_statistics=stats)
                nengo.Connection(step, mem.input, synapse=None)
                probe = nengo.Probe(mem.state, synapse=0.01)
            with Simulator(model, progress_bar=False) as sim:
                sim.run(0.9)
            states[neuron_type is None] = sim.data[probe]
        return np.sqrt(np.mean((states[False] - states[True]) ** 2, axis=0))[1:].mean()

    assert state_error(statistics.SWITCH_ON_CAP) < 0.92 * state_error(1.0)


def test_measured_continuing_leaves_out_the_warm_up():
    # a continuing stretch starts from a guessed past (its first value held): the kink
    # where the real signal takes over inflated the high coefficients' scales of 10 s of a
    # slow input 27-200x over the stationary ones (issue 11); the first window is left out
    order, theta, dt, high = 16, 0.3, 1e-3, 0.85
    u = nengo.processes.WhiteSignal(100.0, high=high, rms=0.3, seed=101).run_steps(10_000, dt=dt)[:, 0]
    measured = statistics.Measured(u[None], continuing=True)
    assert measured.warmup_steps(theta, dt) == 300
    assert statistics.Measured(u[None, :400], continuing=True).warmup_steps(theta, dt) == 200  # half at most
    assert statistics.Measured(u[None]).warmup_steps(theta, dt) == 0  # from rest the start-up counts
    white = statistics.WhiteNoise(high, 0.3).scales(order, theta, dt, 1.0)
    ratio = measured.scales(order, theta, dt, 1.0) / white
    assert np.all(ratio[:5] < 2)
    assert np.all(ratio < 8), ratio  # measured 4.0 at most; 200 with the warm-up counted


def test_rice_bandwidth_and_the_measurement_margin():
    for high in (0.3, 3.0, 20.0):
        u = nengo.processes.WhiteSignal(40.0, high=high, rms=0.3, seed=4).run_steps(40000, dt=1e-3)[:, 0]
        assert abs(statistics.rice_bandwidth(u, 1e-3) / high - 1) < 0.15
    # the margin shrinks as the run holds more independent stretches of the input
    u = nengo.processes.WhiteSignal(40.0, high=1.0, rms=0.3, seed=4).run_steps(40000, dt=1e-3)[:, 0]
    margins = [statistics.measurement_margin(u[:n], 1e-3) for n in (5000, 10000, 40000)]
    assert margins[0] > margins[1] > margins[2] > 1
    assert abs(margins[2] - (1 + 2 / np.sqrt(2 * 40 * 1.0))) < 0.05
    with pytest.raises(ValidationError, match="margin.*>= 1"):
        statistics.Measured(u[None], margin=0.5)
    with pytest.raises(ValidationError, match="rice_bandwidth.u"):
        statistics.rice_bandwidth([1.0], 1e-3)


def test_measure_is_close_to_the_right_statistics(Simulator):
    """Issue 11: without knowing its input's statistics, one call (measure on another
    stretch of the same kind of input, run as long as measure wants) gives about the
    accuracy of the right statistics (``nengo-lmu accuracy --against statistics``: 0.77-1.26x
    on nine cases, 3 seeds; a generous bound here, two short seeds)."""
    from nengo_lmu import measure
    from nengo_lmu.statistics import MAX_MEASURE_SECONDS

    # another stretch of a 2 Hz white input: measure runs it 50 s (200 independent samples)
    other = nengo.processes.WhiteSignal(MAX_MEASURE_SECONDS, high=2.0, rms=0.3, seed=13)
    measured = measure(other)
    assert measured.u.shape[1] == pytest.approx(50_000, rel=0.2)
    errors = {"given": [], "measured": [], "default": []}
    for seed in (0, 1):
        for name, stats in [("given", "process"), ("measured", measured), ("default", None)]:
            mem, data = run(lambda p: LegendreMemory(4, 0.1, 200, input_statistics=p if stats == "process" else stats),
                            Simulator, duration=6.0, high=2.0, seed=seed, signal_seed=3)
            errors[name].append(maths.delay_nrmse(data["u"][:, 0], data["output"][:, 0], 0.1, 1e-3))
    mean = {k: np.mean(v) for k, v in errors.items()}
    assert mean["measured"] < 1.6 * mean["given"]
    assert mean["given"] < 0.1
    # the default assumes the memory's whole band: worse on this slower input, not broken
    assert mean["given"] < mean["default"] < 0.3


def test_synaptic_readout_is_the_default_and_works_with_weights(Simulator):
    errors = {}
    for weights in (False, True):
        mem, data = run(lambda p: LegendreMemory(3, 0.1, 150, weights=weights, input_statistics=p,
                                                 state_readout="synaptic"), Simulator, duration=2.0, high=2.0)
        errors[weights] = maths.delay_nrmse(data["u"][:, 0], data["output"][:, 0], 0.1, 1e-3)
    assert errors[False] < 0.1 and errors[True] < 0.1
    assert LegendreMemory(3, 0.05, 30).tau == 0.05 and LegendreMemory(3, 3.0, 30).tau == 0.2
    # the default: synaptic, but decoded with neuron-to-neuron weights (hardware)
    assert LegendreMemory(3, 0.1, 30).state_readout == "synaptic"
    assert LegendreMemory(3, 0.1, 30, weights=True).state_readout == "decoded"


def test_readout_auto_is_wiener_only_with_given_statistics():
    white = LegendreMemory(4, 0.1, 40, input_statistics=(5.0, 0.3))
    assert white.readout == "wiener"
    assert LegendreMemory(4, 0.1, 40).readout == "legendre"  # the default statistics
    assert LegendreMemory(4, 0.1, 40, scales=np.ones(4)).readout == "legendre"
    assert LegendreMemory(4, 0.1, 40, input_statistics=(5.0, 0.3), readout="legendre").readout == "legendre"
    measured = statistics.measure(nengo.processes.WhiteSignal(3.0, high=5, rms=0.3, seed=2), duration=3.0)
    assert LegendreMemory(4, 0.1, 40, input_statistics=measured).readout == "wiener"
    dataset = statistics.Measured(np.ones((2, 50)))  # a dataset's statistics: scales only
    assert LegendreMemory(4, 0.1, 40, input_statistics=dataset).readout == "legendre"
    with pytest.raises(ValidationError, match="readout.*'wiener' needs"):
        LegendreMemory(4, 0.1, 40, input_statistics=dataset, readout="wiener")
    with pytest.raises(ValidationError, match="readout.*one of"):
        LegendreMemory(4, 0.1, 40, readout="polynomial")
    # the readout rows: the statistics' Wiener readout with the Legendre prior, per dimension
    r = [1.0, 0.5]
    two = LegendreMemory(4, 0.1, 80, dimensions=2, input_statistics=(5.0, 0.3))
    rows = maths.wiener_readout(4, 0.1, r, 5.0, 1e-3, rms=0.3, state_noise=np.full(4, (0.2 * 0.3) ** 2 / 10),
                                prior=legendre_readout(4, r))
    assert np.allclose(two.readout_transform(r), np.kron(np.eye(2), rows))


def test_wiener_readout_lowers_the_spiking_memory_error_at_the_whole_band(Simulator):
    """Order 2, white input over the whole band the memory holds (issue 11: the grid's
    worst configs against nengolib were of this kind); the same network, two readouts."""
    order, theta, high = 2, 0.3, maths.memory_band(2, 0.3)
    process = nengo.processes.WhiteSignal(6.0, high=high, rms=0.3, seed=1)
    with nengo.Network(seed=0) as model:
        stim = nengo.Node(process)
        mem = LegendreMemory(order, theta, 400, input_statistics=process)
        nengo.Connection(stim, mem.input, synapse=None)
        legendre = nengo.Node(size_in=1)
        nengo.Connection(mem.state, legendre, transform=legendre_readout(order, 1.0)[None], synapse=None)
        p_u = nengo.Probe(stim, synapse=None)
        p_w, p_l = nengo.Probe(mem.output, synapse=0.01), nengo.Probe(legendre, synapse=0.01)
    assert mem.readout == "wiener"
    with Simulator(model, progress_bar=False) as sim:
        sim.run(6.0)
    u = sim.data[p_u][:, 0]
    err_w, err_l = (maths.delay_nrmse(u, sim.data[p][:, 0], theta, 1e-3) for p in (p_w, p_l))
    assert err_w < 0.75 * err_l


def test_measured_readout_matches_the_white_noise_one():
    """The readout learnt from a long run of white noise is close to the closed form."""
    order, theta, dt = 2, 0.3, 1e-3
    high = maths.memory_band(order, theta)
    measured = statistics.measure(nengo.processes.WhiteSignal(40.0, high=high, rms=0.3, seed=2), duration=40.0)
    r = [1.0, 0.5]
    learnt = measured.delay_readout(order, theta, dt, r)
    closed = maths.wiener_readout(order, theta, r, high, dt, rms=0.3)
    assert np.allclose(learnt, closed, atol=0.05)
    assert not np.allclose(learnt, legendre_readout(order, r), atol=0.05)
