"""Spiking Legendre delay networks, built with the NEF.

One builder serves every backend (nengo, NengoDL, nengo-loihi): the backend-specific
choices (neuron type, synapse, neuron-to-neuron weights) are constructor arguments.
"""

import functools

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from . import maths

MAPPINGS = ("auto", "discrete", "continuous")
STATE_READOUTS = ("decoded", "synaptic")
ALLOCATIONS = ("readout", "equal")
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


def lowpass_tau(synapse, obj=None):
    """The time constant of a lowpass synapse given as a number or ``nengo.Lowpass``."""
    if isinstance(synapse, nengo.Lowpass):
        return float(synapse.tau)
    if isinstance(synapse, (int, float, np.floating)) and not isinstance(synapse, bool):
        if synapse > 0:
            return float(synapse)
    raise ValidationError(
        f"must be a time constant > 0 or a nengo.Lowpass (principle 3 maps the memory "
        f"onto a first-order lowpass); got {synapse!r}",
        "synapse",
        obj,
    )


def input_statistics(stats, order, theta):
    """``(high, rms)`` of the input from a ``WhiteSignal``, a pair, or None (default).

    The default is white noise with RMS 0.5 over the band the memory can hold,
    ``order / (2 theta)`` Hz: d Legendre polynomials over theta seconds resolve about
    d / 2 cycles.
    """
    if stats is None:
        return order / (2.0 * theta), 0.5
    if isinstance(stats, nengo.processes.WhiteSignal):
        return float(stats.high), float(stats.rms)
    try:
        high, rms = (float(v) for v in stats)
    except (TypeError, ValueError):
        high = rms = None
    if high is None or not (high > 0 and rms > 0):
        raise ValidationError(
            "must be a nengo.processes.WhiteSignal, a pair (high_hz, rms) with both > 0, "
            f"or None; got {stats!r}",
            "input_statistics",
        )
    return high, rms


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


@functools.lru_cache(maxsize=16)
def _state_covariance(order, theta, high, rms, dt):
    """:func:`nengo_lmu.maths.white_noise_covariance` of the Legendre system, memoised:
    a network and its variants (``LMU.with_neurons``) share it, and at high orders it
    takes seconds."""
    A, B = maths.legendre_ss(order, theta)
    cov = maths.white_noise_covariance(A, B, high, rms, dt=dt)
    cov.flags.writeable = False
    return cov


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
        picks ``min(theta, 0.2)`` seconds: spike noise enters the memory scaled by
        ``1 / tau`` while the signal enters scaled by ``1 / theta``, so longer windows
        want slower synapses (measured on the reference simulator, see README).
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
    input_statistics : WhiteSignal, (high, rms) or None
        The statistics the state's scaling is designed for (see :func:`input_statistics`).
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
    solver : nengo.solvers.Solver
        Solver for the decoders (and weights).
    ensemble_kwargs : dict
        Extra arguments for every ``nengo.Ensemble`` (e.g. ``max_rates``, ``intercepts``).
    synapse_decay : float, callable or None
        The per-step decay ``a`` of the synapse as the backend really implements it
        (``y[k] = a y[k-1] + (1 - a) x[k]``), when that differs from
        ``exp(-dt / tau)``, e.g. a quantised on-chip decay; a callable is called as
        ``synapse_decay(tau, dt)``. The mapping and readouts are computed for this
        decay; the connections keep ``synapse``. None: exact.
    scales : array_like or None
        ``order`` per-coefficient scales ``s`` (``x = m / s``, shared by all dimensions),
        all > 0, used instead of the ones derived from ``input_statistics``: e.g.
        ``n_std`` times each coefficient's RMS measured on the real input
        (:func:`data_scales`), when the input is far from white noise.
    state_readout : {"decoded", "synaptic"}
        What ``state`` reads in neuron mode. ``"decoded"``: the neurons' decoded output,
        unfiltered (one step's spikes: very noisy). ``"synaptic"``: the value the
        coefficient neurons themselves receive, i.e. the same spikes and input through
        the same transforms and synapse (what a downstream population wired like them
        sees): the ideal memory plus the noise the recurrence has accumulated, no lag.
    **kwargs
        Passed to ``nengo.Network`` (``label``, ``seed``, ``add_to_container``).

    Attributes
    ----------
    input : nengo.Node
        The signal ``u`` to remember (``dimensions`` wide).
    state : nengo.Node
        The memory ``m`` in Legendre coordinates (``order * dimensions`` wide).
    output : nengo.Node
        ``u(t - theta)`` (``dimensions`` wide).
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
        solver=nengo.solvers.LstsqL2(reg=0.1),
        ensemble_kwargs=None,
        synapse_decay=None,
        scales=None,
        state_readout="decoded",
        **kwargs,
    ):
        super().__init__(**kwargs)
        # --- validation: everything is checked before anything is built
        self.order = maths._check_order(order, self)
        self.theta = maths._check_positive(theta, "theta", self)
        self.dt = maths._check_positive(dt, "dt", self)
        if self.theta < self.dt:
            raise ValidationError(
                f"must be at least one time step dt={self.dt:g} (got {theta!r})",
                "theta",
                self,
            )
        if isinstance(dimensions, bool) or not isinstance(dimensions, (int, np.integer)) or dimensions < 1:
            raise ValidationError(f"must be an integer >= 1 (got {dimensions!r})", "dimensions", self)
        self.dimensions = int(dimensions)
        self.neuron_type = neuron_type_from_name(neuron_type, self)
        self.tau = min(self.theta, 0.2) if synapse is None else lowpass_tau(synapse, self)
        if mapping not in MAPPINGS:
            raise ValidationError(f"must be one of {MAPPINGS} (got {mapping!r})", "mapping", self)
        self.mapping = mapping
        if mapping == "auto":
            spiking_lif = isinstance(self.neuron_type, nengo.LIF)
            self.mapping = "continuous" if spiking_lif else "discrete"  # checked below
        size = self.order * self.dimensions
        if self.neuron_type is not None:
            if (
                isinstance(n_neurons, bool)
                or not isinstance(n_neurons, (int, np.integer))
                or n_neurons < size
            ):
                raise ValidationError(
                    f"must be an integer >= order * dimensions = {size}, at least one "
                    f"neuron per coefficient (got {n_neurons!r})",
                    "n_neurons",
                    self,
                )
        if not (np.isscalar(n_std) and n_std > 0):
            raise ValidationError(f"must be a number > 0 (got {n_std!r})", "n_std", self)
        high, rms = globals()["input_statistics"](input_statistics, self.order, self.theta)
        # kept for backends that size their input paths from them
        self.input_high, self.input_rms, self.n_std = high, rms, float(n_std)
        if synapse_decay is None:
            synapse_decay = float(np.exp(-self.dt / self.tau))
        elif callable(synapse_decay):
            synapse_decay = synapse_decay(self.tau, self.dt)
        if np.isscalar(synapse_decay) and 0 < synapse_decay < 1:
            self.synapse_decay = float(synapse_decay)
        else:
            raise ValidationError(
                f"must be a number in (0, 1), a callable (tau, dt) returning one, or None "
                f"(got {synapse_decay!r})",
                "synapse_decay",
                self,
            )
        if state_readout not in STATE_READOUTS:
            raise ValidationError(
                f"must be one of {STATE_READOUTS} (got {state_readout!r})", "state_readout", self
            )
        self.state_readout = state_readout
        if scales is not None:
            scales = np.asarray(scales, dtype=float)
            if scales.shape != (self.order,) or not np.all(np.isfinite(scales) & (scales > 0)):
                raise ValidationError(
                    f"must be {self.order} finite numbers > 0 (got shape {scales.shape})", "scales", self
                )
        # the time constant whose exact exp(-dt / tau) is the decay the loop really has
        map_tau = -self.dt / np.log(self.synapse_decay)

        # --- the maths: scaled coordinates x = m / s and their principle-3 mapping
        A, B = maths.legendre_ss(self.order, self.theta)
        self.A, self.B = A, B
        if scales is None:
            cov = _state_covariance(self.order, self.theta, high, rms, self.dt)
            scales = maths.state_scales(cov, n_std)
        self.scales = np.tile(scales, self.dimensions)
        Ax, Bx = A * scales[None, :] / scales[:, None], B / scales[:, None]
        if self.mapping == "continuous":
            # the continuous mapping steps like forward Euler on the loop's discrete
            # lowpass: unstable when theta is too short for the order and dt
            Ad, _ = maths.implemented_system(*maths.principle3(A, B, map_tau), map_tau, self.dt)
            radius = np.max(np.abs(np.linalg.eigvals(Ad)))
            if radius >= 1 and mapping == "auto":
                self.mapping = "discrete"
            elif radius >= 1:
                raise ValidationError(
                    f"'continuous' is unstable for order {self.order}, theta {self.theta:g} at "
                    f"dt {self.dt:g} (the loop grows by {radius:.3g} per step): use 'discrete' "
                    "(exact) or 'auto'",
                    "mapping",
                    self,
                )
        mapping = self.mapping
        map_dt = self.dt if mapping == "discrete" else None
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
            if allocation not in ALLOCATIONS:
                raise ValidationError(
                    f"must be one of {ALLOCATIONS} or a list of counts (got {allocation!r})",
                    "allocation",
                    self,
                )
            # |P_i(2r - 1)| <= 1 with equality at r = 1: weight each coefficient by its
            # scale, its worst-case contribution to any readout
            weights_ = self.scales if allocation == "readout" else np.ones(size)
            counts = allocate_neurons(int(n_neurons), weights_)
        else:
            counts = np.asarray(allocation)
            if counts.shape != (size,) or np.any(counts < 1) or counts.sum() != n_neurons:
                raise ValidationError(
                    f"as counts must be {size} positive integers summing to n_neurons="
                    f"{n_neurons} (got {allocation!r})",
                    "allocation",
                    self,
                )
        self.neuron_counts = counts
        ensemble_kwargs = dict(ensemble_kwargs or {})
        ensemble_kwargs.setdefault("eval_points", nengo.dists.Uniform(-EVAL_RADIUS, EVAL_RADIUS))

        # --- the wiring
        with self:
            self.input = nengo.Node(size_in=self.dimensions, label="input")
            # summed (unfiltered) drive of the coefficients; the synapse is on x_in -> x
            x_in = nengo.Node(size_in=size, label="x_in")
            x_hat = nengo.Node(size_in=size, label="x_hat")
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
                    nengo.Connection(ens, x_hat[i], synapse=None, solver=solver)
                if weights:
                    self._recurrent_weights(solver)
                else:
                    nengo.Connection(
                        x_hat, x_in, transform=self.recurrent_transform, synapse=None
                    )
            self.x_hat = x_hat
            x_read = x_hat
            if self.neuron_type is not None and state_readout == "synaptic":
                # the coefficient neurons' own filtered drive: x_in through their synapse
                x_read = nengo.Node(size_in=size, label="x_syn")
                nengo.Connection(x_in, x_read, synapse=self.tau)
            self.state = nengo.Node(size_in=size, label="state")
            nengo.Connection(x_read, self.state, transform=self.state_from_x, synapse=None)
            if self.state_from_input is not None:
                nengo.Connection(
                    self.input, self.state, transform=self.state_from_input, synapse=None
                )
            self.output = self.add_readout(1.0, label="output")

    def _recurrent_weights(self, solver):
        """Neuron-to-neuron recurrent connections, one per nonzero block of the transform."""
        weight_solver = with_weights(solver)
        for i, post in enumerate(self.coefficient_ensembles):
            for j, pre in enumerate(self.coefficient_ensembles):
                w = self.recurrent_transform[i, j]
                if w != 0:
                    nengo.Connection(pre, post, transform=w, synapse=self.tau, solver=weight_solver)

    def readout_transform(self, r):
        """Transform from ``state`` to ``u(t - r theta)``, shape ``(dims * len(r), dims * order)``."""
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
        transform = self.readout_transform(r)
        with self:
            node = nengo.Node(size_in=transform.shape[0], label=label or f"readout({r})")
            nengo.Connection(self.state, node, transform=transform, synapse=None)
        return node


def data_scales(u, order, theta, dt=0.001, n_std=3.25, stride=1):
    """Per-coefficient scales of a Legendre memory from example input sequences.

    Runs the exact (zero-order-hold) memory over ``u`` and returns ``n_std`` times the
    RMS (about zero, so a mean counts) of each coefficient over all sequences and time
    steps, for ``LegendreMemory(scales=...)``.

    Parameters
    ----------
    u : array_like, shape (n_sequences, n_steps) or (n_sequences, n_steps, 1)
        The memory's input (already multiplied by any input encoder), one step per ``dt``.
    stride : int
        Use every ``stride``-th time step (the memory is still run on all of them).
    """
    u = np.asarray(u, dtype=float)
    if u.ndim == 3 and u.shape[2] == 1:
        u = u[:, :, 0]
    if u.ndim != 2 or u.size == 0 or not np.all(np.isfinite(u)):
        raise ValidationError(f"must be finite, shape (n_sequences, n_steps) (got {u.shape})", "u", "data_scales")
    A, B = maths.legendre_ss(maths._check_order(order), maths._check_positive(theta, "theta"))
    sq, count = np.zeros(A.shape[0]), 0
    for t, m in enumerate(maths.zoh_states(A, B, u[:, :, None], maths._check_positive(dt, "dt"))):
        if t % int(stride) == 0:
            sq += np.sum(m[:, 0] ** 2, axis=0)
            count += len(m)
    return float(n_std) * np.sqrt(np.maximum(sq / count, 1e-12))


def with_weights(solver):
    """A copy of a nengo solver that solves for full neuron-to-neuron weights."""
    args = {p.name: getattr(solver, p.name) for p in solver._params}
    args["weights"] = True
    return type(solver)(**args)


def memories(network):
    """Every :class:`LegendreMemory` in ``network`` (itself included), depth first."""
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
