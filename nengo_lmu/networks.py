"""Spiking Legendre delay networks, built with the NEF.

One builder serves every backend (nengo, NengoDL, nengo-loihi): the backend-specific
choices (neuron type, synapse, neuron-to-neuron weights) are constructor arguments.
"""

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from . import maths, statistics, validation

MAPPINGS = ("auto", "discrete", "continuous")
STATE_READOUTS = ("synaptic", "decoded", "neurons")
# the default synapse is min(theta, MAX_DEFAULT_TAU) seconds
MAX_DEFAULT_TAU = 0.2
ALLOCATIONS = ("readout", "equal")
READOUTS = ("auto", "legendre", "wiener")
#: the noise a spiking memory's state carries in each Legendre coefficient, assumed by its
#: Wiener readout: this times the input's RMS over sqrt(neurons per coefficient) (issue 11:
#: measured 0.025-0.77, median 0.13, on the 72 configs of bench/against_nengolib.py; the
#: readout's error there changed by under 2 % between 0.1 and 0.8)
READOUT_NOISE = 0.2
# decoders are solved over [-EVAL_RADIUS, EVAL_RADIUS] of the unit radius (see n_std)
EVAL_RADIUS = 1.2

# names accepted wherever a neuron type is asked for (CLI, configs); None means ideal
NEURON_TYPES = {
    "lif": lambda: nengo.LIF(),
    "lif-rate": lambda: nengo.LIFRate(),
    "poisson": lambda: nengo.PoissonSpiking(nengo.LIFRate()),
    "relu": lambda: nengo.RectifiedLinear(),
    "spiking-relu": lambda: nengo.SpikingRectifiedLinear(),
    "direct": lambda: nengo.Direct(),
    "ideal": lambda: None,
}



def _loihi_type(name):
    # imported on demand: nengo_loihi imports TensorFlow (through nengo_dl) when present
    def make():
        from nengo_loihi import neurons

        return getattr(neurons, name)()

    return make


NEURON_TYPES["loihi-lif"] = _loihi_type("LoihiLIF")
NEURON_TYPES["loihi-relu"] = _loihi_type("LoihiSpikingRectifiedLinear")


def neuron_type_from_name(neuron_type, obj=None):
    """A ``nengo.neurons.NeuronType`` (or None for ideal) from an instance or a name."""
    if neuron_type is None or isinstance(neuron_type, nengo.neurons.NeuronType):
        return neuron_type
    if isinstance(neuron_type, str) and neuron_type.lower() in NEURON_TYPES:
        return NEURON_TYPES[neuron_type.lower()]()
    if isinstance(neuron_type, type) and issubclass(neuron_type, nengo.neurons.NeuronType):
        hint = f"an instance such as {neuron_type.__name__}()"
    else:
        hint = f"a nengo NeuronType instance, None (ideal), or one of {sorted(NEURON_TYPES)}"
    raise ValidationError(f"must be {hint} (got {neuron_type!r})", "neuron_type", obj)


def lowpass_tau(synapse, obj=None, attr="synapse"):
    """The time constant of a lowpass synapse given as a number or ``nengo.Lowpass``."""
    tau = float(synapse.tau) if isinstance(synapse, nengo.Lowpass) else synapse
    if not (validation.is_number(tau) and np.isfinite(tau) and tau > 0):
        raise ValidationError(
            f"must be a finite time constant > 0, or a nengo.Lowpass with one (principle 3 "
            f"maps the memory onto a first-order lowpass); got {synapse!r}",
            attr,
            obj,
        )
    return float(tau)


def input_statistics(stats, order, theta):
    """``(high, rms)`` of the input from a ``WhiteSignal``, a pair, or None (default).

    Compatibility wrapper of :func:`nengo_lmu.statistics.from_argument` for white-noise
    statistics (the default: :meth:`nengo_lmu.statistics.WhiteNoise.default`).
    """
    stats = statistics.from_argument(stats, order, theta)
    if not isinstance(stats, statistics.WhiteNoise):
        raise validation.error(f"must describe white noise (got {stats!r})", "input_statistics", where="input_statistics")
    return stats.high, stats.rms


def default_reg(tau, neuron_type=None):
    """The default decoder regularisation for a memory whose synapse is ``tau`` seconds:
    ``min(0.1, 0.01 / tau)``, and 0.3 times that for nengo's (spiking) rectified-linear
    neurons, whose linear tuning curves the default over-regularises (issue 11: with
    tau 0.1 s, reg 0.03 took spiking ReLU's constant in ``c d / sqrt(m)`` from 0.18 to
    0.057). See ``LegendreMemory``'s ``solver``."""
    reg = 0.1 * min(1.0, 0.1 / float(tau))
    if type(neuron_type) in (nengo.SpikingRectifiedLinear, nengo.RectifiedLinear):
        reg *= 0.3
    return reg


def allocate_neurons(n_neurons, weights, min_per_ensemble=10):
    """Split ``n_neurons`` across ensembles in proportion to ``weights``.

    Each ensemble gets at least ``min(min_per_ensemble, n_neurons // len(weights))``;
    the counts sum to ``n_neurons`` exactly (largest-remainder rounding).
    """
    weights = np.asarray(weights, dtype=float)
    k = len(weights)
    base = min(min_per_ensemble, n_neurons // k)
    spare = n_neurons - base * k
    share = spare * weights / weights.sum() if weights.sum() > 0 else np.full(k, spare / k)
    counts = np.floor(share).astype(int)
    counts[np.argsort(counts - share)[: spare - counts.sum()]] += 1
    return counts + base


class LegendreMemory(nengo.Network):
    """The LMU memory ``dm/dt = A m + B u`` as a network of spiking neurons.

    The state is held in scaled Legendre coordinates ``x = m / s``, one 1-D ensemble per
    coefficient, where ``s`` maps ``n_std`` standard deviations of each coefficient (under
    the given input statistics) onto the neurons' radius; neurons are shared out in
    proportion to each coefficient's weight in the readouts. The recurrence follows NEF
    principle 3, exact for the discrete-time lowpass when ``mapping="discrete"``.
    Readouts (``state``, ``output``, :meth:`add_readout`) are in Legendre coordinates.

    Parameters
    ----------
    order : int
        Number of Legendre coefficients ``d``.
    theta : float
        Window length in seconds.
    n_neurons : int
        Total number of neurons ``m``, over all coefficients and dimensions; at least
        ``order * dimensions``. Ignored in ideal mode.
    neuron_type : NeuronType, str or None
        Any nengo neuron type (spiking, rate, Loihi types), ``nengo.Direct()``, or
        ``None`` for the ideal mode: the state is held exactly by nodes.
        Names such as ``"lif"`` or ``"poisson"`` are accepted (see ``NEURON_TYPES``).
    synapse : float, nengo.Lowpass or None
        The lowpass synapse on every connection into the memory's ensembles (one shared
        time constant: the input and recurrent paths both pass through it). ``None``
        picks ``min(theta, MAX_DEFAULT_TAU)`` seconds (``MAX_DEFAULT_TAU`` is 0.2 s): spike
        noise enters the memory scaled by ``1 / tau`` while the signal enters scaled by
        ``1 / theta``, so longer windows want slower synapses, up to a point (issue 11,
        measured with the synaptic readout on 48 configs with theta 0.3-1 s: ``tau =
        theta`` was better on 31, by up to 2.5x, but worse on 17, by up to 2x, mostly
        slow inputs over 1 s windows; the worst ratio to nengolib was the same).
    dimensions : int
        Number of independent input signals, each with its own memory. The state is
        laid out dimension-major: ``state[k * order + i]`` is coefficient ``i`` of input
        ``k``.
    mapping : {"auto", "discrete", "continuous"}
        Principle-3 mapping. ``"discrete"`` is exact for nengo's zero-order-hold lowpass
        with time step ``dt`` (and best for rate, ReLU and ideal neurons);
        ``"continuous"`` is the classic ``tau A + I``, which measured lower error with
        spiking LIF populations (whose spike output leads their input current by about
        half a step). ``"auto"`` picks ``"continuous"`` for spiking LIF types, unless
        it would be unstable at this ``dt`` (it steps like forward Euler: high orders
        with a short ``theta``), and ``"discrete"`` otherwise; ``self.mapping`` says which.
    dt : float
        Simulator time step the discrete mapping is computed for.
    input_statistics : InputStatistics, WhiteSignal, (high, rms) or None
        Where the state's scaling comes from (:mod:`nengo_lmu.statistics`): white noise
        (:class:`~nengo_lmu.statistics.WhiteNoise`, also given as a ``WhiteSignal`` or a
        ``(high_hz, rms)`` pair), example inputs
        (:class:`~nengo_lmu.statistics.Measured`) or given scales
        (:class:`~nengo_lmu.statistics.FixedScales`). None:
        :meth:`~nengo_lmu.statistics.WhiteNoise.default`. ``self.statistics`` is the
        strategy used.
    n_std : float
        How many standard deviations of each coefficient fit within the radius.
        Decoders are solved out to ``EVAL_RADIUS`` (unless ``ensemble_kwargs`` gives
        ``eval_points``), so rare excursions past the radius degrade gracefully instead
        of derailing the recurrent loop: together about 3.9 standard deviations.
    allocation : {"readout", "equal"} or array_like of int
        How neurons are shared among coefficients.
    feedthrough : bool
        If True the readouts add the input's one-step contribution ``Bd u`` to
        ``Ad m``, removing the one-step lag every recurrent loop has in discrete time.
    weights : bool
        If True the recurrent connections are neuron-to-neuron weight matrices
        (what neuromorphic hardware wants) rather than decoded connections.
    solver : nengo.solvers.Solver or None
        Solver for the decoders (and weights). None: ``LstsqL2(reg=default_reg(tau, neuron_type))``,
        ``min(0.1, 0.01 s / tau)`` (0.3 times that for rectified-linear neurons): nengo's 0.1 up to a 0.1 s synapse, less beyond, where
        the synapse filters the spike noise of the larger decoders a closer fit needs
        (issue 11, measured with the synaptic readout on six configs with theta 0.3-1 s:
        reg 0.03 gave 6-54 % lower error than 0.1; at tau 0.1 s, 0.1 was 10 % better on
        config C1 and kept the O(d / sqrt(m)) law to 1,600 neurons where 0.03 levelled
        off). With the default synapse it is 0.1 for theta up to 0.1 s, 0.05 at 0.2 s
        and beyond.
    ensemble_kwargs : dict
        Extra arguments for every ``nengo.Ensemble`` (e.g. ``max_rates``, ``intercepts``).
    synapse_decay : float, callable or None
        The per-step decay ``a`` of the synapse as the backend really implements it
        (``y[k] = a y[k-1] + (1 - a) x[k]``), when that differs from
        ``exp(-dt / tau)``, e.g. a quantised on-chip decay; a callable is called as
        ``synapse_decay(tau, dt)``. The mapping and readouts are computed for this
        decay; the connections keep ``synapse``. None: exact.
    scales : array_like or None
        Shorthand for ``input_statistics=FixedScales(scales)``: ``order`` per-coefficient
        scales ``s`` (``x = m / s``, shared by all dimensions), all > 0, used instead of
        the ones derived from ``input_statistics`` (whose band and RMS are kept as
        ``input_high``, ``input_rms``).
    state_readout : {"synaptic", "decoded", "neurons"} or None
        What ``state`` (and so ``output`` and every readout) reads in neuron mode.
        None: ``"synaptic"``, except with ``weights=True`` (neuromorphic hardware),
        where its host-side path from the input would stop nengo-loihi from
        precomputing the input: ``"decoded"``. ``"synaptic"``: the value the
        coefficient neurons themselves receive, i.e. the same spikes and input through
        the same transforms and synapse (what a downstream population wired like them
        sees): the ideal memory plus the noise the recurrence has accumulated, no lag.
        ``"decoded"``: the neurons' decoded output, unfiltered (one step's spikes: very
        noisy; issue 11 measured the synaptic readout 2-3x more accurate on the delay,
        e.g. config C1 0.017 against 0.039). ``"neurons"``: ``state`` as
        ``"synaptic"``, and :meth:`connect_state` wires downstream neurons to that value
        straight from the coefficient neurons (what a chip wants: no decoded value, so
        no decode neurons, in between).
    readout : {"auto", "legendre", "wiener"}
        How ``output`` and :meth:`add_readout` estimate ``u(t - r theta)`` from the state.
        ``"legendre"``: the shifted Legendre polynomials
        (:func:`~nengo_lmu.maths.legendre_readout`), exact for inputs the memory holds
        exactly, whatever the input. ``"wiener"``: the least-squares estimate for the
        input's statistics (:meth:`~nengo_lmu.statistics.InputStatistics.delay_readout`:
        closed form for white noise, from the run for
        :class:`~nengo_lmu.statistics.Measured`), with the Legendre polynomials as its
        prior where the spiking state's noise (``READOUT_NOISE``) swamps the signal: it
        weights the coefficients by what they carry of that input, which for inputs
        near the memory's band is much closer (issue 11, 200 LIF neurons per coefficient
        or 50: order 2, white input over the whole band, 0.54-0.82x the polynomials'
        error; of the 72 configs of ``bench/against_nengolib.py`` 12 better, 58 the same
        to 1 %, 2 worse by 4 and 7 %: order 4 over 0.05 s at the whole band). ``"auto"``: ``"wiener"`` when
        ``input_statistics`` is given and its strategy supports it
        (``WhiteNoise``, ``WhiteSignal``, ``(high, rms)``, ``Measured``), else
        ``"legendre"``: the readout for the default statistics (the whole band) is up to
        10x less accurate on much slower inputs at low orders. ``self.readout`` says
        which.
    decode_state : bool
        False (only with ``weights=True`` and ``state_readout="neurons"``, in neuron
        mode): the coefficient neurons are not decoded into the memory's nodes, so
        ``state``, ``output`` and ``x_hat`` are None and :meth:`add_readout` is refused;
        only :meth:`connect_state` reads the memory. For a memory whose state nothing
        probes: with ``weights=True`` the recurrence is neuron to neuron, so the decoded
        value ``x_hat`` serves only ``state``, and on Loihi each coefficient's decoded
        value is a "to host" block (a core) that the host reads every step.
    state_synapse : float or None
        With ``state_readout="neurons"``, the synapse of :meth:`connect_state`'s
        connections. None: the memory's own, and the value its neurons receive (no lag).
        A time constant: each coefficient's decoded value through that synapse instead,
        which lags the state by about that much and carries each coefficient's own
        decoding error, but gives the downstream neurons a synapse of their own (on Loihi
        every input of a block shares one synapse, and a long one costs its weights their
        precision: the synaptic current sums about ``synapse / dt`` steps of input).
    **kwargs
        Passed to ``nengo.Network`` (``label``, ``seed``, ``add_to_container``).

    Attributes
    ----------
    input : nengo.Node
        The signal ``u`` to remember (``dimensions`` wide).
    state : nengo.Node or None
        The memory ``m`` in Legendre coordinates (``order * dimensions`` wide); None
        with ``decode_state=False``.
    output : nengo.Node or None
        ``u(t - theta)`` (``dimensions`` wide); None with ``decode_state=False``.
    coefficient_ensembles : list of nengo.Ensemble
        The neurons holding each coefficient (empty in ideal mode).
    """

    def __init__(
        self,
        order,
        theta,
        n_neurons=None,
        neuron_type=nengo.LIF(),
        synapse=None,
        dimensions=1,
        mapping="auto",
        dt=0.001,
        input_statistics=None,
        n_std=3.25,
        allocation="readout",
        feedthrough=True,
        weights=False,
        solver=None,
        ensemble_kwargs=None,
        synapse_decay=None,
        scales=None,
        state_readout=None,
        decode_state=True,
        readout="auto",
        state_synapse=None,
        **kwargs,
    ):
        # Built detached and added to the enclosing network only once complete: a
        # misuse (checked below, before any maths) or a failed build leaves it unchanged.
        add_to_container = kwargs.pop("add_to_container", None)
        if add_to_container is None:
            add_to_container = len(nengo.Network.context) > 0
        super().__init__(add_to_container=False, **kwargs)

        # --- validation: every argument, before anything is computed or built
        self.order = validation.integer(order, "order", self)
        self.theta = validation.positive(theta, "theta", self)
        self.dt = validation.positive(dt, "dt", self)
        if self.theta < self.dt:
            raise validation.error(
                f"must be at least one time step dt={self.dt:g} (got {theta!r})", "theta", self
            )
        self.dimensions = validation.integer(dimensions, "dimensions", self)
        size = self.order * self.dimensions
        self.neuron_type = neuron_type_from_name(neuron_type, self)
        if self.neuron_type is not None and not (validation.is_integer(n_neurons) and n_neurons >= size):
            raise validation.error(
                f"must be an integer >= order * dimensions = {size}, at least one neuron per "
                f"coefficient (got {n_neurons!r})",
                "n_neurons",
                self,
            )
        self._n_neurons_given = n_neurons
        self.tau = min(self.theta, MAX_DEFAULT_TAU) if synapse is None else lowpass_tau(synapse, self)
        validation.choice(mapping, MAPPINGS, "mapping", self)
        self.n_std = validation.positive(n_std, "n_std", self)
        if isinstance(allocation, str):
            validation.choice(allocation, ALLOCATIONS, "allocation", self)
        elif self.neuron_type is not None:
            counts = np.asarray(allocation)
            if (
                counts.shape != (size,)
                or not np.issubdtype(counts.dtype, np.integer)
                or np.any(counts < 1)
                or counts.sum() != n_neurons
            ):
                raise validation.error(
                    f"as counts must be {size} positive integers summing to n_neurons="
                    f"{n_neurons} (got {allocation!r})",
                    "allocation",
                    self,
                )
        feedthrough = validation.boolean(feedthrough, "feedthrough", self)
        weights = validation.boolean(weights, "weights", self)
        if solver is None:
            solver = nengo.solvers.LstsqL2(reg=default_reg(self.tau, self.neuron_type))
        if not isinstance(solver, nengo.solvers.Solver):
            raise validation.error(f"must be a nengo.solvers.Solver (got {solver!r})", "solver", self)
        self._solver = solver  # the decoders of connect_state's connections are x_hat's
        if ensemble_kwargs is not None and not isinstance(ensemble_kwargs, dict):
            raise validation.error(f"must be a dict or None (got {ensemble_kwargs!r})", "ensemble_kwargs", self)
        decay = float(np.exp(-self.dt / self.tau)) if synapse_decay is None else synapse_decay
        if callable(decay):
            decay = decay(self.tau, self.dt)
        if not (validation.is_number(decay) and 0 < decay < 1):
            raise validation.error(
                f"must be a number in (0, 1), a callable (tau, dt) returning one, or None "
                f"(got {decay!r})",
                "synapse_decay",
                self,
            )
        self.synapse_decay = float(decay)
        if state_readout is None:
            state_readout = "decoded" if weights else "synaptic"
        self.state_readout = validation.choice(state_readout, STATE_READOUTS, "state_readout", self)
        self.decode_state = validation.boolean(decode_state, "decode_state", self)
        self.state_synapse = None if state_synapse is None else lowpass_tau(state_synapse, self, "state_synapse")
        if self.state_synapse is not None and self.state_readout != "neurons":
            raise validation.error(
                f"a synapse of its own needs state_readout='neurons' (got {self.state_readout!r})",
                "state_synapse", self,
            )
        if not self.decode_state and (self.neuron_type is None or not weights or self.state_readout != "neurons"):
            # without x_hat a decoded recurrence (weights=False), the ideal mode's nodes and
            # the other readouts would have nothing to read
            raise validation.error(
                "False needs a neuron-to-neuron memory read only through connect_state: "
                f"neurons, weights=True and state_readout='neurons' (got neuron_type={self.neuron_type}, "
                f"weights={weights}, state_readout={self.state_readout!r})",
                "decode_state",
                self,
            )
        self.statistics = statistics.from_argument(input_statistics, self.order, self.theta, obj=self)
        if scales is not None:  # shorthand for FixedScales, keeping what is known of the input
            self.statistics = statistics.FixedScales(scales, self.statistics.high, self.statistics.rms)
        validation.choice(readout, READOUTS, "readout", self)
        if readout == "auto":
            given = input_statistics is not None and scales is None
            readout = "wiener" if given and self.statistics.has_delay_readout else "legendre"
        elif readout == "wiener" and not self.statistics.has_delay_readout:
            raise validation.error(
                f"'wiener' needs input statistics that describe the input (white noise or measured "
                f"inputs; got {self.statistics!r})", "readout", self,
            )
        self.readout = readout
        scales = self.statistics.scales(self.order, self.theta, self.dt, self.n_std)
        if scales.shape != (self.order,):  # a user's own strategy
            raise validation.error(
                f"must give {self.order} scales (got shape {scales.shape})", "input_statistics", self
            )
        # what is known of the input, for backends that size their input paths from it
        # (a strategy that does not know it leaves the default design's)
        default = statistics.WhiteNoise.default(self.order, self.theta)
        self.input_high = default.high if self.statistics.high is None else self.statistics.high
        self.input_rms = default.rms if self.statistics.rms is None else self.statistics.rms

        # --- the maths: scaled coordinates x = m / s and their principle-3 mapping
        # the time constant whose exact exp(-dt / tau) is the decay the loop really has
        map_tau = -self.dt / np.log(self.synapse_decay)
        A, B = maths.legendre_ss(self.order, self.theta)
        self.A, self.B = A, B
        self.scales = np.tile(scales, self.dimensions)
        Ax, Bx = A * scales[None, :] / scales[:, None], B / scales[:, None]
        self.mapping = mapping
        if mapping == "auto":
            spiking_lif = isinstance(self.neuron_type, nengo.LIF)
            self.mapping = "continuous" if spiking_lif else "discrete"  # checked below
        if self.mapping == "continuous":
            # the continuous mapping steps like forward Euler on the loop's discrete
            # lowpass: unstable when theta is too short for the order and dt
            Ad, _ = maths.implemented_system(*maths.principle3(A, B, map_tau), map_tau, self.dt)
            radius = np.max(np.abs(np.linalg.eigvals(Ad)))
            if radius >= 1 and mapping == "auto":
                self.mapping = "discrete"
            elif radius >= 1:
                raise validation.error(
                    f"'continuous' is unstable for order {self.order}, theta {self.theta:g} at "
                    f"dt {self.dt:g} (the loop grows by {radius:.3g} per step): use 'discrete' "
                    "(exact) or 'auto'",
                    "mapping",
                    self,
                )
        map_dt = self.dt if self.mapping == "discrete" else None
        Ah, Bh = maths.principle3(Ax, Bx, map_tau, dt=map_dt)
        eye = np.eye(self.dimensions)
        self.recurrent_transform = np.kron(eye, Ah)
        self.input_transform = np.kron(eye, Bh)
        # readout of m (Legendre) from x (scaled), optionally one step ahead with the
        # discrete system the loop actually implements (exactly the ZOH one if discrete)
        if feedthrough:
            Ad, Bd = maths.implemented_system(Ah, Bh, map_tau, self.dt)
            self.state_from_x = np.kron(eye, scales[:, None] * Ad)
            self.state_from_input = np.kron(eye, scales[:, None] * Bd)
        else:
            self.state_from_x = np.kron(eye, np.diag(scales))
            self.state_from_input = None

        if self.neuron_type is None:
            counts = None
        elif isinstance(allocation, str):
            # |P_i(2r - 1)| <= 1 with equality at r = 1: weight each coefficient by its
            # scale, its worst-case contribution to any readout
            weights_ = self.scales if allocation == "readout" else np.ones(size)
            counts = allocate_neurons(int(n_neurons), weights_)
        self.neuron_counts = counts
        ensemble_kwargs = dict(ensemble_kwargs or {})
        ensemble_kwargs.setdefault("eval_points", nengo.dists.Uniform(-EVAL_RADIUS, EVAL_RADIUS))

        # --- the wiring
        with self:
            self.input = nengo.Node(size_in=self.dimensions, label="input")
            # summed (unfiltered) drive of the coefficients; the synapse is on x_in -> x
            x_in = nengo.Node(size_in=size, label="x_in")
            x_hat = nengo.Node(size_in=size, label="x_hat") if self.decode_state else None
            nengo.Connection(self.input, x_in, transform=self.input_transform, synapse=None)
            self.coefficient_ensembles = []
            if self.neuron_type is None:
                nengo.Connection(x_in, x_hat, synapse=self.tau)
                nengo.Connection(x_hat, x_in, transform=self.recurrent_transform, synapse=None)
            else:
                for i, n in enumerate(counts):
                    ens = nengo.Ensemble(
                        int(n), 1, neuron_type=self.neuron_type, label=f"x[{i}]", **ensemble_kwargs
                    )
                    self.coefficient_ensembles.append(ens)
                    nengo.Connection(x_in[i], ens, synapse=self.tau)
                    if self.decode_state:
                        nengo.Connection(ens, x_hat[i], synapse=None, solver=solver)
                if weights:
                    self._recurrent_weights(solver)
                else:
                    nengo.Connection(
                        x_hat, x_in, transform=self.recurrent_transform, synapse=None
                    )
            self.x_hat = x_hat
        self.state = self.output = None  # decode_state=False: nothing decoded to read
        if self.decode_state:
            self._state_readout_nodes(x_in, weights)
        if add_to_container:
            nengo.Network.add(self)

    def _state_readout_nodes(self, x_in, weights):
        """``state`` (read as ``state_readout`` says) and ``output``, from ``x_in`` and ``x_hat``."""
        size = self.order * self.dimensions
        with self:
            x_read = self.x_hat
            if self.neuron_type is not None and self.state_readout in ("synaptic", "neurons"):
                # the coefficient neurons' own filtered drive: x_in through their synapse
                x_read = nengo.Node(size_in=size, label="x_syn")
                nengo.Connection(x_in, x_read, synapse=self.tau)
                if weights:  # the recurrence bypasses x_in: add its decoded equivalent
                    nengo.Connection(self.x_hat, x_read, transform=self.recurrent_transform, synapse=self.tau)
            self.state = nengo.Node(size_in=size, label="state")
            nengo.Connection(x_read, self.state, transform=self.state_from_x, synapse=None)
            if self.state_from_input is not None:
                nengo.Connection(
                    self.input, self.state, transform=self.state_from_input, synapse=None
                )
            self.output = self.add_readout(1.0, label="output")

    @property
    def state_arrival_synapse(self):
        """The synapse on which :meth:`connect_state` delivers the state: None (unfiltered),
        or with ``state_readout="neurons"`` in neuron mode the memory's own (or
        ``state_synapse``). Other inputs of ``post`` belong on it too: a Loihi block filters
        all its inputs with one synapse (:func:`nengo_lmu.loihi.check_block_synapses`)."""
        if self.neuron_type is None or self.state_readout != "neurons":
            return None
        return self.tau if self.state_synapse is None else self.state_synapse

    def connect_state(self, post, transform):
        """Connect ``transform @ state`` into ``post``; returns the connections made.

        One connection from ``state`` (unfiltered), except with
        ``state_readout="neurons"`` in neuron mode: then ``post`` (e.g. an ensemble's
        ``neurons``) receives the same value without ``state``'s nodes, the way the
        coefficient neurons receive their own: from each coefficient ensemble its
        decoded output through ``transform @ state_from_x @ recurrent_transform[:, j]``,
        and from ``input`` through ``transform @ state_from_x @ input_transform``, all on
        the memory's synapse (plus ``transform @ state_from_input`` from ``input``,
        unfiltered, with ``feedthrough``). On Loihi a decoded connection from an
        ensemble into neurons is one weight matrix (decoders times transform), so the
        memory feeds ``post`` neuron to neuron; the first connection returned is the
        input's (the only one from outside the memory). With ``state_synapse``, each
        coefficient ensemble's decoded output through ``transform @ state_from_x[:, j]``
        on that synapse instead, and nothing from ``input`` but the feedthrough.
        """
        transform = np.asarray(transform, dtype=float)
        if self.neuron_type is None or self.state_readout != "neurons":
            # made in the caller's network, as a connection of its own
            return [nengo.Connection(self.state, post, transform=transform, synapse=None)]
        decoded = self.state_synapse is not None
        synapse = self.state_arrival_synapse
        with self:
            through = transform @ self.state_from_x
            conns = [] if decoded else [
                nengo.Connection(self.input, post, transform=through @ self.input_transform, synapse=synapse)
            ]
            for j, ens in enumerate(self.coefficient_ensembles):
                # decoded: each coefficient's value; else what the coefficient neurons receive
                column = through[:, j] if decoded else through @ self.recurrent_transform[:, j]
                if np.any(column != 0):
                    conns.append(nengo.Connection(ens, post, transform=column[:, None], synapse=synapse,
                                                  solver=self._solver))
            if self.state_from_input is not None:
                conns.append(nengo.Connection(self.input, post, transform=transform @ self.state_from_input,
                                              synapse=None))
        return conns

    def _recurrent_weights(self, solver):
        """Neuron-to-neuron recurrent connections, one per nonzero block of the transform."""
        weight_solver = with_weights(solver)
        for i, post in enumerate(self.coefficient_ensembles):
            for j, pre in enumerate(self.coefficient_ensembles):
                w = self.recurrent_transform[i, j]
                if w != 0:
                    nengo.Connection(pre, post, transform=w, synapse=self.tau, solver=weight_solver)

    def _wiener_rows(self, r):
        """The statistics' least-squares readout rows for delays ``r`` (or None)."""
        prior = np.atleast_2d(maths.legendre_readout(self.order, r))
        noise = None
        if self.neuron_type is not None and not isinstance(self.neuron_type, nengo.Direct):
            per_coefficient = self._n_neurons_given / (self.order * self.dimensions)
            rms = self.statistics.rms if self.statistics.rms is not None else statistics.DEFAULT_RMS
            noise = np.full(self.order, (READOUT_NOISE * rms) ** 2 / per_coefficient)
        return self.statistics.delay_readout(self.order, self.theta, self.dt, r, state_noise=noise, prior=prior)

    def readout_transform(self, r):
        """Transform from ``state`` to ``u(t - r theta)``, shape ``(dims * len(r), dims * order)``,
        as ``readout`` says."""
        if self.readout == "wiener":
            C = self._wiener_rows(r)
        else:
            C = np.atleast_2d(maths.legendre_readout(self.order, r))
        return np.kron(np.eye(self.dimensions), C)

    def add_readout(self, r, label=None):
        """A node carrying ``u(t - r theta)`` for each delay fraction in ``r``.

        Parameters
        ----------
        r : float or array_like
            Delay(s) as fractions of ``theta``, in ``[0, 1]``.

        Returns
        -------
        nengo.Node
            ``dimensions * len(r)`` wide (input-major), ready to probe or connect.
        """
        if not self.decode_state:
            raise validation.error(
                "a memory made with decode_state=False has no state to read out; make it with "
                "decode_state=True", "decode_state", self,
            )
        transform = self.readout_transform(r)
        with self:
            node = nengo.Node(size_in=transform.shape[0], label=label or f"readout({r})")
            nengo.Connection(self.state, node, transform=transform, synapse=None)
        return node


def data_scales(u, order, theta, dt=0.001, n_std=3.25, stride=1):
    """Per-coefficient scales of a Legendre memory from example input sequences.

    Compatibility wrapper: ``Measured(u, stride).scales(order, theta, dt, n_std)``
    (:class:`nengo_lmu.statistics.Measured`); pass the ``Measured`` itself as
    ``LegendreMemory(input_statistics=...)`` instead.
    """
    where = dict(where="data_scales")
    order = validation.integer(order, "order", **where)
    theta, dt = validation.positive(theta, "theta", **where), validation.positive(dt, "dt", **where)
    return statistics.Measured(u, stride=stride).scales(order, theta, dt, validation.positive(n_std, "n_std", **where))


def with_weights(solver):
    """A copy of a nengo solver that solves for full neuron-to-neuron weights."""
    args = {p.name: getattr(solver, p.name) for p in solver._params}
    args["weights"] = True
    return type(solver)(**args)


def memories(network):
    """Every :class:`~nengo_lmu.networks.LegendreMemory` in ``network`` (itself included), depth first."""
    if isinstance(network, LegendreMemory):
        yield network
    for sub in network.networks:
        yield from memories(sub)


def check_dt(memory, dt):
    """Refuse to simulate ``memory`` at a ``dt`` other than the one its mapping is for.

    The principle-3 mapping, the feedthrough and the state scaling are computed for
    ``memory.dt``; run at another step the memory silently has several times the error.
    Every backend's build calls this (nengo and NengoDL through the builder registered
    below, nengo-loihi through :mod:`nengo_lmu.loihi`).
    """
    if not np.isclose(memory.dt, dt, rtol=1e-9, atol=0):
        raise ValidationError(
            f"the simulator's dt={dt:g} s differs from the dt={memory.dt:g} s this memory was "
            f"built for; build it with dt={dt:g} (or run the simulator with dt={memory.dt:g})",
            "dt",
            memory,
        )


@nengo.builder.Builder.register(LegendreMemory)
def build_legendre_memory(model, memory, progress=None):
    """nengo's network builder, after :func:`check_dt` (NengoDL falls back to it too)."""
    check_dt(memory, model.dt)
    return nengo.builder.network.build_network(model, memory, progress=progress)
