"""The LMU cell (Voelker, Kajić & Eliasmith, 2019) as a Nengo network.

One time step of the cell, for an input ``x[k]``:

.. code-block:: text

    u[k] = e_x x[k] + e_h h[k-1] + e_m m[k-1]            (memory input, memory_d wide)
    m[k] = Ad m[k-1] + Bd u[k]                            (Legendre memory, fixed Ad, Bd)
    h[k] = f(W_x x[k] + W_h h[k-1] + W_m m[k] + b)        (hidden layer, neuron type f)
    y[k] = W_o h[k] + b_o                                 (optional linear readout)

``Ad, Bd`` are the zero-order-hold discretization of the Legendre system with step
``dt`` (what keras-lmu uses with ``dt = 1`` step). The network runs one input sample
per simulator step, so a window of ``n`` samples is ``theta = n * dt`` seconds.

Every kernel is a ``nengo.Connection`` transform and the bias is the hidden
ensemble's bias, so trained values (see :mod:`nengo_lmu.dl`) live in the network itself
and it runs unchanged on nengo, NengoDL and nengo-loihi.
"""

import inspect

import numpy as np
import nengo

from . import maths, paramfile, validation
from .networks import LegendreMemory, neuron_type_from_name

# every parameter the cell can have, named as in the equations above
PARAM_NAMES = ("e_x", "e_h", "e_m", "W_x", "W_h", "W_m", "b", "W_o", "b_o")
#: the optional connection paths: constructor flag -> the parameter it adds
PATHS = {
    "input_encoders": "e_x",
    "hidden_to_memory": "e_h",
    "memory_to_memory": "e_m",
    "input_to_hidden": "W_x",
    "hidden_to_hidden": "W_h",
}
#: the constructor arguments that fix the cell's structure: what a parameter file records
#: and :meth:`LMU.load` rebuilds
STRUCTURE = ("units", "order", "theta", "input_dimensions", "memory_d", "output_dimensions", "dt", *PATHS)
#: the constructor arguments that say how the cell runs (:meth:`LMU.with_neurons` changes them)
NEURONS = ("neuron_type", "memory", "firing_rate_scale", "hidden_synapse", "neurons_per_unit")
#: the synapse (s) of an LMU's spiking memory unless its ``memory`` arguments give one
MEMORY_SYNAPSE = 0.05
#: parameters applied to the hidden neurons' outputs. The neurons fire ``firing_rate_scale``
#: times their trained rate, so the network holds these divided by the scale (and the hidden
#: gain and bias multiplied by it): :func:`to_network` and :func:`from_network` are the rule.
FROM_HIDDEN = ("e_h", "W_h", "W_o")
#: parameters applied to the hidden neurons' inputs (one row per unit)
TO_HIDDEN = ("W_x", "W_h", "W_m")
#: a hidden unit run by several neurons (``neurons_per_unit``): their gains, relative to
#: the unit's, are spread evenly over ``[1 - UNIT_GAIN_SPREAD, 1]`` (:func:`unit_gains`).
#: Measured (window-rms, spike-aware, 16 per unit, whole network on the bit-true chip):
#: NRMSE 0.040 / 0.034 / 0.034 / 0.042 / 0.047 at spreads 0.02 / 0.1 / 0.25 / 0.5 / 0.75:
#: too narrow and the neurons spike together, too wide and most fire far from the rates
#: the unit was trained at
UNIT_GAIN_SPREAD = 0.25
#: the most neurons per hidden unit the constructor accepts
MAX_NEURONS_PER_UNIT = 1000
#: the memory's discretisation (keras-lmu's default); recorded in parameter files
DISCRETIZER = "zoh"
#: neuron types :meth:`LMU.load` rebuilds from a file's record (their ``repr``)
LOADABLE_NEURON_TYPES = {
    repr(t): t
    for t in (nengo.RectifiedLinear(), nengo.SpikingRectifiedLinear(), nengo.Tanh(tau_ref=1.0), nengo.LIFRate(), nengo.LIF())
}
# LegendreMemory arguments the LMU sets itself
_MEMORY_FIXED = ("self", "order", "theta", "dimensions", "dt", "label")


def unit_gains(neurons_per_unit):
    """The gains of the neurons that run one hidden unit, relative to the unit's.

    Evenly spread over ``[1 - UNIT_GAIN_SPREAD, 1]`` (just 1 for one neuron). A rectified
    linear rate is positively homogeneous, ``max(0, c J) = c max(0, J)``, so neurons with
    gains ``c_j`` whose outputs are weighted ``1 / sum(c)`` compute the unit's rate
    exactly. As spiking neurons they fire at different rates, so their spikes fall at
    different phases (a chip starts every neuron at the same voltage) and their sum
    carries the rate with less noise; none fires faster than the unit would alone, so
    the chip's limit of one spike per step holds wherever the unit's does.
    """
    if neurons_per_unit == 1:
        return np.ones(1)
    return np.linspace(1 - UNIT_GAIN_SPREAD, 1, neurons_per_unit)


def to_network(name, value, firing_rate_scale, neurons_per_unit=1):
    """What the network holds for parameter ``name``: a transform, or for ``b`` the bias.

    With ``neurons_per_unit`` > 1 each unit's row (its inputs) is repeated for its
    neurons, whose gains (:func:`unit_gains`) the simulator applies, and each unit's
    column (its output) is shared among them, weighted ``1 / sum(gains)``.
    """
    k = neurons_per_unit
    if name == "b":
        return firing_rate_scale * np.repeat(value, k) * np.tile(unit_gains(k), len(value))
    if name == "b_o":
        return value[:, None]
    if name in TO_HIDDEN:
        value = np.repeat(value, k, axis=0)
    if name in FROM_HIDDEN:
        value = np.repeat(value, k, axis=1) / (firing_rate_scale * unit_gains(k).sum())
    return value


def check_neurons_per_unit(neurons_per_unit, neuron_type, obj=None, where=None):
    """``neurons_per_unit`` as an int in ``[1, MAX_NEURONS_PER_UNIT]``, more than one only
    for rectified linear hidden neurons: only a homogeneous rate, ``max(0, c J) =
    c max(0, J)``, is computed exactly by neurons of spread gains (:func:`unit_gains`)."""
    k = validation.integer(neurons_per_unit, "neurons_per_unit", obj, high=MAX_NEURONS_PER_UNIT, where=where)
    # SpikingRectifiedLinear (and nengo-loihi's) subclass RectifiedLinear
    if k > 1 and not isinstance(neuron_type, nengo.RectifiedLinear):
        raise validation.error(
            f"several neurons per unit need rectified linear hidden neurons, whose rate scales with "
            f"their gain (got neuron_type={neuron_type}); use neurons_per_unit=1",
            "neurons_per_unit",
            obj,
            where,
        )
    return k


def hidden_gains(units, firing_rate_scale, neurons_per_unit=1):
    """The hidden neurons' gains: ``firing_rate_scale`` times each one's :func:`unit_gains`."""
    return firing_rate_scale * np.tile(unit_gains(neurons_per_unit), units)


def from_network(name, held, firing_rate_scale, shape):
    """The parameter ``name`` (of ``shape``) from what the network holds (:func:`to_network`)."""
    # size-1 transforms come back from simulators as scalars: restore the declared shape
    value = np.reshape(np.asarray(held, dtype=float), shape)
    if name == "b":
        return value / firing_rate_scale
    return value * firing_rate_scale if name in FROM_HIDDEN else value


def param_shapes(units, order, input_dimensions, memory_d, output_dimensions, paths):
    """``name -> shape`` of every parameter of a cell with this structure."""
    n, mem = units, memory_d * order
    optional = {
        "e_x": (memory_d, input_dimensions),
        "e_h": (memory_d, n),
        "e_m": (memory_d, mem),
        "W_x": (n, input_dimensions),
        "W_h": (n, n),
    }
    shapes = {name: optional[name] for flag, name in PATHS.items() if paths[flag]}
    shapes.update(W_m=(n, mem), b=(n,))
    if output_dimensions is not None:
        shapes.update(W_o=(output_dimensions, n), b_o=(output_dimensions,))
    return {name: shapes[name] for name in PARAM_NAMES if name in shapes}


def check_synapse(synapse, attr, obj=None, where=None):
    """``synapse`` if it is None, a time constant >= 0 or a nengo Synapse with finite values."""
    if synapse is None:
        return None
    if validation.is_number(synapse):
        return validation.non_negative(synapse, attr, obj, where=where)
    if isinstance(synapse, nengo.synapses.LinearFilter):
        values = np.concatenate([np.ravel(synapse.num), np.ravel(synapse.den)])
        if np.all(np.isfinite(values)) and np.isfinite(getattr(synapse, "tau", 0)):
            return synapse
    elif isinstance(synapse, nengo.synapses.Synapse):
        return synapse
    raise validation.error(
        f"must be None, a finite time constant >= 0 or a nengo Synapse with finite values (got {synapse!r})",
        attr, obj, where,
    )


def _glorot(rng, shape):
    """Glorot-uniform initial kernel of shape ``(fan_out, fan_in)`` (Keras' default)."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape)


def _connect(connections, name, pre, post, cell, synapse):
    connections[name] = nengo.Connection(
        pre, post, transform=to_network(name, cell.params[name], cell.firing_rate_scale, cell.neurons_per_unit),
        synapse=synapse,
    )


def _delayed(synapse):
    # a recurrent connection needs at least a one-step delay: h[k-1]
    return 0 if synapse is None else synapse


def build_hidden_layer(cell, memory_state, x, hidden_synapse=None):
    """The hidden layer and readout of ``cell``, built in the current network.

    ``h = f(W_x x + W_h h + W_m m + b)`` and ``y = W_o h + b_o`` (or ``y = h``), with
    ``m`` from ``memory_state`` and ``x`` from ``x`` (any nengo objects or slices of
    the right widths); the hidden gain and bias are scaled up by the cell's
    ``firing_rate_scale`` and what leaves the neurons scaled down (:func:`to_network`);
    with the cell's ``neurons_per_unit`` > 1 each unit is that many neurons
    (:func:`unit_gains`). ``x`` arrives on the synapse ``m`` does
    (:attr:`.LegendreMemory.state_arrival_synapse`: a spiking memory wired neuron to neuron
    delivers its state on its own synapse). The one wiring of the hidden layer: the step network
    (:class:`LMU`) and the
    parallel training network (:mod:`nengo_lmu.dl`) both build it here.

    Parameters
    ----------
    cell : LMU
        Gives the sizes, neuron type, ``firing_rate_scale``, ``neurons_per_unit`` and
        :attr:`~LMU.params`.
    memory_state, x : nengo object
        Sources of ``m`` (``memory_d * order`` wide) and ``x`` (``input_dimensions``).
        A :class:`~nengo_lmu.networks.LegendreMemory` connects its own state
        (:meth:`.LegendreMemory.connect_state`: neuron to neuron with
        ``state_readout="neurons"``).
    hidden_synapse : Synapse, float or None
        On every connection out of the hidden neurons.

    Returns
    -------
    hidden : nengo.Ensemble
    output : nengo.Node
        ``y`` (or ``h``).
    connections : dict
        ``name -> nengo.Connection`` for ``W_x``, ``W_h``, ``W_m``, ``W_o``, ``b_o``
        (``W_m``: a list of them when wired neuron to neuron).
    """
    s, p, k = cell.firing_rate_scale, cell.params, cell.neurons_per_unit
    hidden = nengo.Ensemble(
        cell.units * k, 1, neuron_type=cell.neuron_type, gain=hidden_gains(cell.units, s, k),
        bias=to_network("b", p["b"], s, k), label="h",
    )
    h, connections = hidden.neurons, {}
    if "W_x" in p:
        # on the synapse the memory's state arrives on: on Loihi the hidden block filters
        # every input with one synapse (nengo-loihi would give x the memory's anyway)
        arrival = memory_state.state_arrival_synapse if isinstance(memory_state, LegendreMemory) else None
        _connect(connections, "W_x", x, h, cell, arrival)
    if "W_h" in p:
        _connect(connections, "W_h", h, h, cell, _delayed(hidden_synapse))
    if isinstance(memory_state, LegendreMemory):
        # the memory wires W_m m into the neurons itself: one connection from its state, or
        # (state_readout="neurons") neuron to neuron from its coefficient ensembles
        conns = memory_state.connect_state(h, to_network("W_m", p["W_m"], s, k))
        connections["W_m"] = conns[0] if len(conns) == 1 else conns
    else:
        _connect(connections, "W_m", memory_state, h, cell, None)
    if cell.output_dimensions is None:
        output = nengo.Node(size_in=cell.units, label="h_out")
        # h itself: each unit's neurons summed as its readout would be
        nengo.Connection(h, output, transform=to_network("W_o", np.eye(cell.units), s, k), synapse=hidden_synapse)
    else:
        output = nengo.Node(size_in=cell.output_dimensions, label="y")
        _connect(connections, "W_o", h, output, cell, hidden_synapse)
        _connect(connections, "b_o", nengo.Node(1.0, label="one"), output, cell, None)
    return hidden, output, connections


class LMU(nengo.Network):
    """The Legendre Memory Unit cell as a Nengo network.

    Parameters
    ----------
    units : int
        Number of hidden neurons ``n``.
    order : int
        Order ``d`` of each Legendre memory.
    theta : float
        Memory window in seconds (``n_samples * dt`` for a window of ``n_samples``).
    input_dimensions : int
        Width of the input ``x``.
    memory_d : int
        Number of memories (width of ``u``); the memory holds ``memory_d * order``
        coefficients, dimension-major as in :class:`~nengo_lmu.networks.LegendreMemory`.
    neuron_type : NeuronType or str
        The hidden nonlinearity ``f``. Rate types (``nengo.RectifiedLinear()``,
        ``nengo.Tanh(tau_ref=1)`` for ``tanh``) for training; spiking types for
        deployment (see :meth:`with_neurons`).
    memory : None or dict
        ``None``: the exact memory (a :class:`~nengo_lmu.networks.LegendreMemory` in ideal mode, held by
        nodes). A dict: the keyword arguments of a spiking :class:`~nengo_lmu.networks.LegendreMemory`
        (``n_neurons``, ``neuron_type``, ``synapse``, ``input_statistics`` ...).
    input_encoders : bool
        If True ``u`` gets the trainable encoders ``e_x``; if False ``u = x`` (then
        ``input_dimensions`` must equal ``memory_d``).
    hidden_to_memory, memory_to_memory : bool
        Include ``e_h`` (hidden to memory) / ``e_m`` (memory to memory). Either one
        makes the cell truly recurrent, so it must be trained step by step.
    input_to_hidden, hidden_to_hidden : bool
        Include ``W_x`` (input to hidden) / ``W_h`` (hidden to hidden).
    output_dimensions : int or None
        If given, ``output`` is the linear readout ``W_o h + b_o``; otherwise ``output``
        is ``h`` itself.
    dt : float
        Simulator time step (seconds per input sample).
    firing_rate_scale : float
        Hidden input currents (gain and bias) are multiplied by this and the hidden
        outputs divided by it: no change for rate ReLUs, but spiking neurons fire this
        many times faster, so they approximate the rates more closely.
    hidden_synapse : Synapse, float or None
        Synapse on every connection out of the hidden neurons (``None`` for rates; a
        lowpass smooths spikes). Recurrent hidden connections always get at least a
        one-step delay (``synapse=0``), which is ``h[k-1]``.
    neurons_per_unit : int
        Neurons running each hidden unit (rectified linear types only): the unit's
        inputs reach all of them, with gains spread below the unit's
        (:func:`unit_gains`), and their outputs are summed, so the rates compute the same
        function and spiking neurons carry it with less noise. For deployment (see
        :meth:`with_neurons`); :func:`nengo_lmu.dl.fit` trains one neuron per unit.
    params : dict or None
        Initial parameter values (see :attr:`params`); missing ones are drawn
        Glorot-uniform from ``seed`` (biases zero).
    **kwargs
        Passed to ``nengo.Network`` (``label``, ``seed``, ``add_to_container``).

    Every argument is checked before anything is built: a refused ``LMU(...)`` raises
    ``ValidationError`` naming the argument and adds nothing to an enclosing network.

    Attributes
    ----------
    input : nengo.Node
        ``x`` (``input_dimensions`` wide).
    output : nengo.Node
        ``y`` (or ``h``), unfiltered in rate mode.
    hidden : nengo.Ensemble
        The hidden neurons; ``hidden.neurons`` is ``h``.
    memory : LegendreMemory
        The memory; ``memory.state`` is ``m`` in Legendre coordinates.
    param_connections : dict
        ``name -> nengo.Connection`` for every kernel in :attr:`params`.
    """

    def __init__(
        self,
        units,
        order,
        theta,
        input_dimensions=1,
        memory_d=1,
        neuron_type=nengo.RectifiedLinear(),
        memory=None,
        input_encoders=True,
        hidden_to_memory=False,
        memory_to_memory=False,
        input_to_hidden=False,
        hidden_to_hidden=False,
        output_dimensions=None,
        dt=0.001,
        firing_rate_scale=1.0,
        hidden_synapse=None,
        neurons_per_unit=1,
        params=None,
        **kwargs,
    ):
        arguments = {name: value for name, value in locals().items() if name in STRUCTURE + NEURONS}
        # all checks before nengo.Network.__init__, which adds self to an enclosing network
        self._arguments = self._checked_arguments(arguments, obj=self)
        for name in STRUCTURE + NEURONS:
            if name not in PATHS and name != "memory":
                setattr(self, name, self._arguments[name])
        self.memory_config = self._arguments["memory"]
        self.paths = {flag: self._arguments[flag] for flag in PATHS}
        self.param_shapes = param_shapes(
            self.units, self.order, self.input_dimensions, self.memory_d, self.output_dimensions, self.paths
        )
        given = {} if params is None else self._checked_params(params, partial=True)

        super().__init__(**kwargs)
        self.params = self._initial_params()
        self.params.update(given)
        try:
            with self:
                self._build()
        except BaseException:
            # a memory refusing its arguments: leave no partial network behind
            parent = nengo.Network.context[-1] if nengo.Network.context else None
            if parent is not None and self in parent.networks:
                parent.networks.remove(self)
            raise

    @classmethod
    def _checked_arguments(cls, arguments, obj=None):
        """The structural and neuron arguments in ``arguments``, checked and converted."""
        obj = cls if obj is None else obj
        out = {}
        for name, value in arguments.items():
            if name in ("units", "order", "input_dimensions", "memory_d"):
                out[name] = validation.integer(value, name, obj)
            elif name == "output_dimensions":
                out[name] = None if value is None else validation.integer(value, name, obj)
            elif name in ("theta", "dt", "firing_rate_scale"):
                out[name] = validation.positive(value, name, obj)
            elif name in PATHS:
                out[name] = validation.boolean(value, name, obj)
            elif name == "neuron_type":
                out[name] = neuron_type_from_name(value, obj=obj)
                if out[name] is None or isinstance(out[name], nengo.Direct):
                    raise validation.error(
                        "the hidden layer needs a neuron type (got None/Direct)", name, obj
                    )
            elif name == "memory":
                out[name] = cls._checked_memory(value, obj)
            elif name == "hidden_synapse":
                out[name] = check_synapse(value, name, obj)
            elif name == "neurons_per_unit":
                out[name] = value
        if "theta" in out and "dt" in out and out["theta"] < out["dt"]:
            raise validation.error(
                f"must be at least one time step dt={out['dt']:g} s (got {arguments['theta']!r})", "theta", obj
            )
        if "neurons_per_unit" in out:
            out["neurons_per_unit"] = check_neurons_per_unit(out["neurons_per_unit"], out.get("neuron_type"), obj)
        if out.get("input_encoders") is False and out.get("input_dimensions") != out.get("memory_d"):
            raise validation.error(
                f"without input encoders, input_dimensions ({out['input_dimensions']}) must "
                f"equal memory_d ({out['memory_d']})",
                "input_encoders",
                obj,
            )
        return out

    @staticmethod
    def _checked_memory(memory, obj):
        if memory is None:
            return None
        if not isinstance(memory, dict):
            raise validation.error(
                f"must be None (exact memory) or a dict of LegendreMemory arguments (got {memory!r})",
                "memory",
                obj,
            )
        allowed = set(inspect.signature(LegendreMemory).parameters) - set(_MEMORY_FIXED)
        unknown = sorted(set(memory) - allowed)
        if unknown:
            raise validation.error(
                f"unknown LegendreMemory argument(s) {unknown} (the LMU sets order, theta, dimensions, dt)",
                "memory",
                obj,
            )
        return dict(memory)

    def _build(self):
        p = self.params
        self.input = nengo.Node(size_in=self.input_dimensions, label="x")
        self.u = nengo.Node(size_in=self.memory_d, label="u")
        mem_kwargs = dict(self.memory_config or {"neuron_type": None})
        mem_kwargs.setdefault("synapse", MEMORY_SYNAPSE)
        if "e_m" in p and mem_kwargs.get("decode_state") is False:
            raise validation.error(
                "decode_state=False leaves no memory state for the memory-to-memory path (e_m) to read",
                "memory",
                self,
            )
        self.memory = LegendreMemory(
            self.order, self.theta, dimensions=self.memory_d, dt=self.dt, label="memory", **mem_kwargs
        )
        nengo.Connection(self.u, self.memory.input, synapse=None)
        self.hidden, self.output, conns = build_hidden_layer(self, self.memory, self.input, self.hidden_synapse)
        h = self.hidden.neurons
        if "e_x" in p:
            _connect(conns, "e_x", self.input, self.u, self, None)
        else:
            nengo.Connection(self.input, self.u, synapse=None)
        if "e_h" in p:
            _connect(conns, "e_h", h, self.u, self, _delayed(self.hidden_synapse))
        if "e_m" in p:
            _connect(conns, "e_m", self.memory.state, self.u, self, 0)
        self.param_connections = {name: conns[name] for name in self.param_shapes if name in conns}

    # --- parameters -------------------------------------------------------------------

    def _initial_params(self):
        rng = np.random.RandomState(self.seed)
        return {
            name: np.zeros(shape) if len(shape) == 1 else _glorot(rng, shape)
            for name, shape in self.param_shapes.items()
        }

    def _checked_params(self, params, partial=False):
        if not isinstance(params, dict):
            raise validation.error(f"must be a dict name -> array (got {type(params).__name__})", "params", self)
        unknown = sorted(set(params) - set(self.param_shapes))
        if unknown:
            raise validation.error(
                f"unknown parameter(s) {unknown}: this network has {list(self.param_shapes)}",
                "params",
                self,
            )
        missing = sorted(set(self.param_shapes) - set(params))
        if missing and not partial:
            raise validation.error(f"missing parameter(s) {missing}", "params", self)
        out = {}
        for name, value in params.items():
            try:
                value = np.array(value, dtype=float)
            except (TypeError, ValueError):
                raise validation.error(f"{name} must be an array of numbers (got {value!r:.60})", "params", self) from None
            if value.shape != self.param_shapes[name]:
                raise validation.error(
                    f"{name} must have shape {self.param_shapes[name]} (got {value.shape})",
                    "params",
                    self,
                )
            if not np.all(np.isfinite(value)):
                raise validation.error(f"{name} contains NaN or inf", "params", self)
            out[name] = value
        return out

    @property
    def recurrent(self):
        """True if the memory's input depends on the past (``e_h`` or ``e_m``).

        Only then must training run step by step: otherwise the memory is a fixed
        linear filter of ``x`` and can be computed for a whole sequence at once.
        """
        return self.paths["hidden_to_memory"] or self.paths["memory_to_memory"]

    @property
    def n_trainable(self):
        """Number of trainable parameters (the sizes of :attr:`params`)."""
        return int(sum(np.prod(s) for s in self.param_shapes.values()))

    def get_params(self):
        """A copy of the parameters, ``name -> ndarray`` (unscaled, as in the equations)."""
        return {k: v.copy() for k, v in self.params.items()}

    def set_params(self, params, partial=False):
        """Write parameter values into the network's connections and hidden biases.

        The network must not have been built yet by the simulator that should see them
        (a simulator copies parameters when it is built).
        """
        params = self._checked_params(params, partial=partial)
        if "W_m" in params and isinstance(self.param_connections["W_m"], list):
            raise validation.error(
                "W_m is spread over the neuron-to-neuron connections of a spiking memory "
                "(state_readout='neurons'); make the network with these parameters instead "
                "(with_neurons, or LMU(params=...))",
                "params",
                self,
            )
        for name, value in params.items():
            self.params[name] = value
            held = to_network(name, value, self.firing_rate_scale, self.neurons_per_unit)
            if name == "b":
                self.hidden.bias = held
            else:
                self.param_connections[name].transform = held

    # --- parameter files ----------------------------------------------------------------

    def signature(self):
        """What a parameter file records: every value that changes what the parameters mean.

        Sizes, the window in steps and ``dt``, the paths, the discretiser, the neuron type
        (its ``repr``), the parameter shapes; and ``firing_rate_scale`` (for the record:
        parameters are stored unscaled, so it changes spike rates, not the function).
        """
        return dict(
            version=paramfile.FORMAT_VERSION,
            units=self.units,
            order=self.order,
            theta_steps=round(self.theta / self.dt, 9),
            dt=self.dt,
            input_dimensions=self.input_dimensions,
            memory_d=self.memory_d,
            output_dimensions=self.output_dimensions,
            paths=dict(self.paths),
            discretizer=DISCRETIZER,
            neuron_type=repr(self.neuron_type),
            firing_rate_scale=self.firing_rate_scale,
            params={k: list(v) for k, v in self.param_shapes.items()},
        )

    @classmethod
    def _structure(cls, signature, dt=None):
        """The structural constructor arguments (:data:`STRUCTURE`) a file's signature records,
        checked; ``dt`` (if given) replaces the file's, the window staying the same in steps."""
        declared = signature["params"]
        paths = signature["paths"]
        if paths is None:  # format 1: the paths are the parameters present
            paths = {flag: isinstance(declared, dict) and name in declared for flag, name in PATHS.items()}
        if not isinstance(paths, dict) or set(paths) != set(PATHS):
            raise validation.error(f"must name the paths {list(PATHS)} (got {paths!r})", "paths", cls)
        if signature["discretizer"] != DISCRETIZER:
            raise validation.error(f"must be {DISCRETIZER!r} (got {signature['discretizer']!r})", "discretizer", cls)
        if dt is None:
            dt = 0.001 if signature["dt"] is None else signature["dt"]  # format 1 had no dt: its default
        dt = validation.positive(dt, "dt", cls)
        theta_steps = validation.positive(signature["theta_steps"], "theta_steps", cls)
        structure = {name: signature[name] for name in STRUCTURE if name not in PATHS and name != "theta"}
        structure.update(paths, theta=theta_steps * dt, dt=dt)
        return cls._checked_arguments(structure)

    @classmethod
    def _shapes_of(cls, signature):
        s = cls._structure(signature)
        paths = {flag: s[flag] for flag in PATHS}
        return param_shapes(s["units"], s["order"], s["input_dimensions"], s["memory_d"], s["output_dimensions"], paths)

    def save_params(self, path, metadata=None, overwrite=False, new_name=False):
        """Save the parameters and :meth:`signature` to an ``.npz`` file (no pickle).

        ``metadata`` (a JSON-serialisable dict, e.g. ``{"task": "psmnist"}``) is stored
        alongside; :meth:`load` returns it as ``lmu.metadata``. The file is written
        atomically, at exactly ``path``; an existing file is refused unless ``overwrite``,
        or kept with ``new_name``, which takes the first free ``name-k.npz`` instead.
        Returns the path written.
        """
        return paramfile.write(
            path, self.signature(), self.params, metadata, overwrite, new_name, obj=self
        )

    def load_params(self, path):
        """Load parameters saved by :meth:`save_params` into this network.

        Refuses (``ValidationError``) a file saved from a different network: another
        size, window (``theta`` in steps), ``dt``, path, discretiser or neuron type.
        """
        saved = paramfile.read(path, self._shapes_of, obj=self)
        mine = self.signature()
        # the format version and the firing-rate scale do not change what parameters mean
        differ = [k for k in paramfile.differences(saved.signature, mine) if k not in ("version", "firing_rate_scale")]
        if differ:
            raise validation.error(
                f"'{path}' was saved from a different network (differs in {differ}: "
                f"file {[saved.signature.get(k) for k in differ]}, network {[mine.get(k) for k in differ]})",
                "path",
                self,
            )
        self.set_params(saved.params)

    @classmethod
    def load(cls, path, dt=None, **kwargs):
        """The network a :meth:`save_params` file was saved from, rebuilt from the file.

        Sizes, window, paths, ``dt`` and neuron type come from the file; ``dt`` given
        here replaces the file's (the window stays the same number of steps), and
        ``kwargs`` (``neuron_type``, ``memory``, ``firing_rate_scale``,
        ``hidden_synapse``, ``seed``, ``label`` ...) are passed to the constructor. The
        file's ``metadata`` becomes ``lmu.metadata``.
        """
        saved = paramfile.read(path, cls._shapes_of, obj=cls)
        recorded = saved.signature["neuron_type"]
        if "neuron_type" not in kwargs and recorded is not None:
            if recorded not in LOADABLE_NEURON_TYPES:
                raise validation.error(
                    f"'{path}' was saved with neuron type {recorded}, which load does not rebuild; "
                    "pass neuron_type",
                    "neuron_type",
                    cls,
                )
            kwargs["neuron_type"] = LOADABLE_NEURON_TYPES[recorded]
        lmu = cls(params=saved.params, **cls._structure(saved.signature, dt), **kwargs)
        lmu.metadata = saved.metadata
        return lmu

    # --- the rate network in numpy ------------------------------------------------------

    def check_sequences(self, x, name="x", n_steps=None):
        """``x`` checked as input sequences: a float array ``(n, n_steps, input_dimensions)``.

        A 2-D ``x`` is read as ``(n, n_steps)`` when ``input_dimensions`` is 1. Refuses
        (``ValidationError`` naming ``name``) other shapes, empty data, another number of
        steps than ``n_steps`` (if given) and NaN or inf.
        """
        try:
            x = np.asarray(x)
            x = x if x.dtype.kind == "f" else x.astype(float)
        except (TypeError, ValueError):
            raise validation.error(f"must be an array of numbers (got {type(x).__name__})", name, self) from None
        if x.ndim == 2 and self.input_dimensions == 1:
            x = x[:, :, None]
        if x.ndim != 3 or x.shape[2] != self.input_dimensions:
            raise validation.error(
                f"must have shape (n_sequences, n_steps, {self.input_dimensions}) (got {x.shape})", name, self
            )
        if x.shape[0] < 1 or x.shape[1] < 1:
            raise validation.error(f"is empty (shape {x.shape})", name, self)
        if n_steps is not None and x.shape[1] != n_steps:
            raise validation.error(f"must have {n_steps} steps per sequence (got {x.shape[1]})", name, self)
        if not np.all(np.isfinite(x)):
            bad = int(np.sum(~np.all(np.isfinite(x), axis=(1, 2))))
            raise validation.error(f"contains NaN or inf (in {bad} sequences)", name, self)
        return x

    def _memory_input(self, x, what):
        """``u = e_x x`` (or ``x``) of checked sequences, for a cell whose memory input
        does not depend on the past."""
        if self.recurrent:
            raise validation.error("the memory input depends on the network's state (e_h or e_m)", what, self)
        x = self.check_sequences(x)
        return x @ self.params["e_x"].T if "e_x" in self.params else x  # (n, steps, memory_d)

    def memory_states(self, x):
        """Yield the exact memory state after each step of the sequences ``x``.

        ``x`` is ``(n, n_steps, input_dimensions)``; each yielded array is
        ``(n, memory_d * order)``, the memory of every sequence after one more step (from
        rest), as the network's exact memory holds it. Only for cells whose memory input
        does not depend on the past (no ``e_h``, ``e_m``).
        """
        u = self._memory_input(x, "memory_states")
        A, B = maths.legendre_ss(self.order, self.theta)
        for m in maths.zoh_states(A, B, u, self.dt):
            yield m.reshape(len(u), -1)

    def memory_kernel(self, n_steps):
        """``K``, ``(n_steps, order)``: after ``n_steps`` inputs ``u[t]`` from rest, each
        memory holds ``sum_t K[t] u[t]``.

        The memory's impulse response, time-reversed: the parallel formulation
        (:mod:`nengo_lmu.dl`) and :meth:`final_memory_state` compute the memory with it.
        """
        n_steps = validation.integer(n_steps, "n_steps", self)
        A, B = maths.legendre_ss(self.order, self.theta)
        response = maths.impulse_response(A, B, self.dt, n_steps)[:, :, 0]
        return np.ascontiguousarray(response[::-1])

    def final_memory_state(self, x):
        """The exact memory state after the whole sequences ``x``: ``(n, memory_d * order)``.

        ``x`` is ``(n, n_steps, input_dimensions)``, each sequence from rest; the state is
        dimension-major as :attr:`memory` ``.state`` holds it. One product with
        :meth:`memory_kernel`, for cells without ``e_h``, ``e_m``.
        """
        u = self._memory_input(x, "final_memory_state")
        return np.einsum("ntj,tk->njk", u, self.memory_kernel(u.shape[1])).reshape(len(u), -1)

    def rate_outputs(self, x, every_step=False, peak_rate=False, states=None):
        """The outputs of the rate network with the exact memory, computed in numpy.

        What this network computes in rate mode (its own neuron type's rates, no
        synapses), for the sequences ``x`` (``(n, n_steps, input_dimensions)``), each
        from rest: ``(n, out)`` at the last step, or ``(n, n_steps, out)``. For cells
        without ``e_h``, ``e_m`` and ``W_h``; the reference a converted network is
        compared with. ``peak_rate=True`` also returns the hidden neurons' highest
        firing rate (their rate at ``firing_rate_scale``, in spikes per second).
        ``states`` is the exact memory over ``x`` (``(n, n_steps, memory_d * order)``)
        if already computed (e.g. :func:`nengo_lmu.deploy.exact_states`).
        """
        if self.paths["hidden_to_hidden"]:
            raise validation.error("the hidden layer is recurrent (W_h)", "rate_outputs", self)
        x = self.check_sequences(x)
        if states is not None and np.shape(states) != x.shape[:2] + (self.memory_d * self.order,):
            raise validation.error(
                f"must have shape {x.shape[:2] + (self.memory_d * self.order,)} (got {np.shape(states)})",
                "states",
                self,
            )
        s, p, per_unit = self.firing_rate_scale, self.params, self.neurons_per_unit
        gains, bias = hidden_gains(self.units, s, per_unit), to_network("b", p["b"], s, per_unit)
        # each unit's neurons summed, as the network's readout sums them
        summed = to_network("W_o", np.eye(self.units), s, per_unit).T
        memory = self.memory_states(x) if states is None else np.moveaxis(states, 1, 0)
        outputs, peak = [], 0.0
        for k, m in enumerate(memory):
            if every_step or peak_rate or k == x.shape[1] - 1:
                current = m @ p["W_m"].T + (x[:, k] @ p["W_x"].T if "W_x" in p else 0)
                rates = self.neuron_type.rates(np.repeat(current, per_unit, axis=1), gains, bias)
                peak = max(peak, float(rates.max()))
                h = rates @ summed
                if every_step or k == x.shape[1] - 1:
                    outputs.append(h if self.output_dimensions is None else h @ p["W_o"].T + p["b_o"])
        outputs = np.stack(outputs, axis=1) if every_step else outputs[-1]
        return (outputs, peak) if peak_rate else outputs

    # --- variants ---------------------------------------------------------------------

    def config_kwargs(self):
        """The constructor arguments that rebuild this network (without ``params``)."""
        args = dict(self._arguments, seed=self.seed)
        args["memory"] = None if self.memory_config is None else dict(self.memory_config)
        return args

    def with_neurons(self, neuron_type=None, memory="same", firing_rate_scale=None, hidden_synapse="same", **kwargs):
        """A new LMU with the same parameters and different neurons.

        Examples: spiking hidden neurons,
        ``lmu.with_neurons(nengo.SpikingRectifiedLinear(), firing_rate_scale=1000)``;
        a slower presentation, ``k`` steps per sample (feed ``np.repeat(x, k, axis=1)``),
        ``lmu.with_neurons(theta=k * lmu.theta)``, exact at every sample boundary;
        a spiking memory,
        ``lmu.with_neurons(memory=dict(n_neurons=..., neuron_type=nengo.LIF()))``.
        Arguments left out keep this network's values (``memory=None`` is exact).
        """
        args = self.config_kwargs()
        if neuron_type is not None:
            args["neuron_type"] = neuron_type
        if memory != "same":
            args["memory"] = memory
        if firing_rate_scale is not None:
            args["firing_rate_scale"] = firing_rate_scale
        if hidden_synapse != "same":
            args["hidden_synapse"] = hidden_synapse
        args.update(kwargs)
        return LMU(params=self.get_params(), **args)

    @classmethod
    def from_keras(cls, layer, dt=0.001, neuron_type=None, **kwargs):
        """The network equivalent to a built keras-lmu ``LMU`` layer: see
        :func:`nengo_lmu.keras.from_keras`."""
        from .keras import from_keras

        return from_keras(layer, dt=dt, neuron_type=neuron_type, lmu_class=cls, **kwargs)
