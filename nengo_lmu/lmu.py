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

import json

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from . import maths
from .networks import LegendreMemory, neuron_type_from_name

# every parameter the cell can have, named as in the equations above
PARAM_NAMES = ("e_x", "e_h", "e_m", "W_x", "W_h", "W_m", "b", "W_o", "b_o")


def _check_int(value, attr, obj, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValidationError(f"must be an integer >= {low} (got {value!r})", attr, obj)
    return int(value)


def _glorot(rng, shape):
    """Glorot-uniform initial kernel of shape ``(fan_out, fan_in)`` (Keras' default)."""
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return rng.uniform(-limit, limit, size=shape)


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
        coefficients, dimension-major as in :class:`.LegendreMemory`.
    neuron_type : NeuronType or str
        The hidden nonlinearity ``f``. Rate types (``nengo.RectifiedLinear()``,
        ``nengo.Tanh(tau_ref=1)`` for ``tanh``) for training; spiking types for
        deployment (see :meth:`with_neurons`).
    memory : None or dict
        ``None``: the exact memory (a :class:`.LegendreMemory` in ideal mode, held by
        nodes). A dict: the keyword arguments of a spiking :class:`.LegendreMemory`
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
    params : dict or None
        Initial parameter values (see :attr:`params`); missing ones are drawn
        Glorot-uniform from ``seed`` (biases zero).
    **kwargs
        Passed to ``nengo.Network`` (``label``, ``seed``, ``add_to_container``).

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
        params=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = _check_int(units, "units", self)
        self.order = _check_int(order, "order", self)
        self.dt = maths._check_positive(dt, "dt", "LMU")
        self.theta = maths._check_positive(theta, "theta", "LMU")
        if self.theta < self.dt:
            raise ValidationError(
                f"must be at least one time step dt={self.dt:g} s (got {theta!r})", "theta", self
            )
        self.input_dimensions = _check_int(input_dimensions, "input_dimensions", self)
        self.memory_d = _check_int(memory_d, "memory_d", self)
        self.neuron_type = neuron_type_from_name(neuron_type, obj="LMU")
        if self.neuron_type is None or isinstance(self.neuron_type, nengo.Direct):
            raise ValidationError("the hidden layer needs a neuron type (got None/Direct)", "neuron_type", self)
        if not input_encoders and self.input_dimensions != self.memory_d:
            raise ValidationError(
                f"without input encoders, input_dimensions ({self.input_dimensions}) must "
                f"equal memory_d ({self.memory_d})",
                "input_encoders",
                self,
            )
        if memory is not None and not isinstance(memory, dict):
            raise ValidationError(
                f"must be None (exact memory) or a dict of LegendreMemory arguments (got {memory!r})",
                "memory",
                self,
            )
        self.memory_config = None if memory is None else dict(memory)
        self.paths = {
            "input_encoders": bool(input_encoders),
            "hidden_to_memory": bool(hidden_to_memory),
            "memory_to_memory": bool(memory_to_memory),
            "input_to_hidden": bool(input_to_hidden),
            "hidden_to_hidden": bool(hidden_to_hidden),
        }
        self.output_dimensions = (
            None
            if output_dimensions is None
            else _check_int(output_dimensions, "output_dimensions", self)
        )
        self.firing_rate_scale = maths._check_positive(firing_rate_scale, "firing_rate_scale", "LMU")
        self.hidden_synapse = hidden_synapse

        self.param_shapes = self._param_shapes()
        self.params = self._initial_params()
        if params is not None:
            self.params.update(self._checked_params(params, partial=True))

        s = self.firing_rate_scale
        p = self.params
        mem_size = self.memory_d * self.order
        rec_synapse = 0 if hidden_synapse is None else hidden_synapse
        self.param_connections = {}
        with self:
            self.input = nengo.Node(size_in=self.input_dimensions, label="x")
            self.u = nengo.Node(size_in=self.memory_d, label="u")
            mem_kwargs = dict(self.memory_config or {"neuron_type": None})
            mem_kwargs.setdefault("synapse", 0.05)
            self.memory = LegendreMemory(
                self.order, self.theta, dimensions=self.memory_d, dt=self.dt, label="memory", **mem_kwargs
            )
            nengo.Connection(self.u, self.memory.input, synapse=None)
            self.hidden = nengo.Ensemble(
                self.units,
                1,
                neuron_type=self.neuron_type,
                gain=nengo.dists.Choice([s]),
                bias=s * p["b"],
                label="h",
            )
            h = self.hidden.neurons
            conns = self.param_connections
            if "e_x" in p:
                conns["e_x"] = nengo.Connection(self.input, self.u, transform=p["e_x"], synapse=None)
            else:
                nengo.Connection(self.input, self.u, synapse=None)
            if "e_h" in p:
                conns["e_h"] = nengo.Connection(h, self.u, transform=p["e_h"] / s, synapse=rec_synapse)
            if "e_m" in p:
                conns["e_m"] = nengo.Connection(
                    self.memory.state, self.u, transform=p["e_m"], synapse=0
                )
            if "W_x" in p:
                conns["W_x"] = nengo.Connection(self.input, h, transform=p["W_x"], synapse=None)
            if "W_h" in p:
                conns["W_h"] = nengo.Connection(h, h, transform=p["W_h"] / s, synapse=rec_synapse)
            conns["W_m"] = nengo.Connection(self.memory.state, h, transform=p["W_m"], synapse=None)
            if self.output_dimensions is None:
                self.output = nengo.Node(size_in=self.units, label="h_out")
                nengo.Connection(h, self.output, transform=1.0 / s, synapse=hidden_synapse)
            else:
                self.output = nengo.Node(size_in=self.output_dimensions, label="y")
                conns["W_o"] = nengo.Connection(h, self.output, transform=p["W_o"] / s, synapse=hidden_synapse)
                one = nengo.Node(1.0, label="one")
                conns["b_o"] = nengo.Connection(one, self.output, transform=p["b_o"][:, None], synapse=None)
        assert mem_size == self.memory.state.size_out

    # --- parameters -------------------------------------------------------------------

    def _param_shapes(self):
        n, md, mem = self.units, self.memory_d, self.memory_d * self.order
        shapes = {}
        if self.paths["input_encoders"]:
            shapes["e_x"] = (md, self.input_dimensions)
        if self.paths["hidden_to_memory"]:
            shapes["e_h"] = (md, n)
        if self.paths["memory_to_memory"]:
            shapes["e_m"] = (md, mem)
        if self.paths["input_to_hidden"]:
            shapes["W_x"] = (n, self.input_dimensions)
        if self.paths["hidden_to_hidden"]:
            shapes["W_h"] = (n, n)
        shapes["W_m"] = (n, mem)
        shapes["b"] = (n,)
        if self.output_dimensions is not None:
            shapes["W_o"] = (self.output_dimensions, n)
            shapes["b_o"] = (self.output_dimensions,)
        return shapes

    def _initial_params(self):
        rng = np.random.RandomState(self.seed)
        return {
            name: np.zeros(shape) if len(shape) == 1 else _glorot(rng, shape)
            for name, shape in self.param_shapes.items()
        }

    def _checked_params(self, params, partial=False):
        unknown = sorted(set(params) - set(self.param_shapes))
        if unknown:
            raise ValidationError(
                f"unknown parameter(s) {unknown}: this network has {list(self.param_shapes)}",
                "params",
                self,
            )
        missing = sorted(set(self.param_shapes) - set(params))
        if missing and not partial:
            raise ValidationError(f"missing parameter(s) {missing}", "params", self)
        out = {}
        for name, value in params.items():
            value = np.asarray(value, dtype=float)
            if value.shape != self.param_shapes[name]:
                raise ValidationError(
                    f"{name} must have shape {self.param_shapes[name]} (got {value.shape})",
                    "params",
                    self,
                )
            if not np.all(np.isfinite(value)):
                raise ValidationError(f"{name} contains NaN or inf", "params", self)
            out[name] = value.copy()
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
        s = self.firing_rate_scale
        from_hidden = {"e_h", "W_h", "W_o"}
        for name, value in params.items():
            self.params[name] = value
            if name == "b":
                self.hidden.bias = s * value
            elif name == "b_o":
                self.param_connections[name].transform = value[:, None]
            else:
                self.param_connections[name].transform = value / s if name in from_hidden else value

    def signature(self):
        """What a saved parameter file must match: sizes and paths, not the values."""
        return {
            "units": self.units,
            "order": self.order,
            "input_dimensions": self.input_dimensions,
            "memory_d": self.memory_d,
            "output_dimensions": self.output_dimensions,
            "params": {k: list(v) for k, v in self.param_shapes.items()},
        }

    def save_params(self, path, metadata=None):
        """Save the parameters to an ``.npz`` file (no pickle), with :meth:`signature`.

        ``metadata`` (a JSON-serialisable dict, e.g. ``{"task": "psmnist"}``) is stored
        alongside; :meth:`load` returns it as ``lmu.metadata``.
        """
        extra = {} if metadata is None else {"__metadata__": np.array(json.dumps(metadata, sort_keys=True))}
        np.savez(
            path,
            __signature__=np.array(json.dumps(self.signature(), sort_keys=True)),
            __theta__=np.array(self.theta / self.dt),
            **extra,
            **self.params,
        )

    @classmethod
    def read_params_file(cls, path):
        """``(signature, theta_steps, params, metadata)`` from a :meth:`save_params` file.

        Raises ``ValidationError`` (one line) for a missing or foreign file.
        """
        try:
            f = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise ValidationError(f"no such file '{path}'", "path", cls) from None
        except (OSError, ValueError) as e:
            raise ValidationError(f"{path} is not an .npz file ({e})", "path", cls) from None
        with f:
            if "__signature__" not in f.files:
                raise ValidationError(f"{path} is not an LMU parameter file", "path", cls)
            signature = json.loads(str(f["__signature__"]))
            theta_steps = float(f["__theta__"]) if "__theta__" in f.files else None
            metadata = json.loads(str(f["__metadata__"])) if "__metadata__" in f.files else {}
            params = {k: f[k] for k in f.files if not k.startswith("__")}
        return signature, theta_steps, params, metadata

    def load_params(self, path):
        """Load parameters saved by :meth:`save_params` into this network.

        Refuses (``ValidationError``) a file saved from a network of different sizes.
        """
        saved, _, params, _ = self.read_params_file(path)
        mine = self.signature()
        if saved != mine:
            diff = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
            raise ValidationError(
                f"{path} was saved from a different network (differs in {diff}: "
                f"file {[saved.get(k) for k in diff]}, network {[mine.get(k) for k in diff]})",
                "path",
                self,
            )
        self.set_params(params)

    @classmethod
    def load(cls, path, dt=0.001, **kwargs):
        """The network a :meth:`save_params` file was saved from, rebuilt from the file.

        Sizes, window (``theta`` in steps, times ``dt``) and connection paths come from
        the file; ``kwargs`` (``neuron_type``, ``memory``, ``firing_rate_scale``,
        ``hidden_synapse``, ``seed``, ``label`` ...) are passed to the constructor. The
        file's ``metadata`` becomes ``lmu.metadata``.
        """
        signature, theta_steps, params, metadata = cls.read_params_file(path)
        shapes = signature.get("params", {})
        if theta_steps is None or "W_m" not in shapes:
            raise ValidationError(f"{path} lacks the window or the memory kernel", "path", cls)
        lmu = cls(
            units=signature["units"],
            order=signature["order"],
            theta=theta_steps * dt,
            input_dimensions=signature["input_dimensions"],
            memory_d=signature["memory_d"],
            output_dimensions=signature["output_dimensions"],
            input_encoders="e_x" in shapes,
            hidden_to_memory="e_h" in shapes,
            memory_to_memory="e_m" in shapes,
            input_to_hidden="W_x" in shapes,
            hidden_to_hidden="W_h" in shapes,
            dt=dt,
            params=params,
            **kwargs,
        )
        lmu.metadata = metadata
        return lmu

    # --- the rate network in numpy ------------------------------------------------------

    def memory_states(self, x):
        """Yield the exact memory state after each step of the sequences ``x``.

        ``x`` is ``(n, n_steps, input_dimensions)``; each yielded array is
        ``(n, memory_d * order)``, the memory of every sequence after one more step (from
        rest), as the network's exact memory holds it. Only for cells whose memory input
        does not depend on the past (no ``e_h``, ``e_m``).
        """
        if self.recurrent:
            raise ValidationError(
                "the memory input depends on the network's state (e_h or e_m)", "memory_states", self
            )
        x = np.asarray(x, dtype=float)
        if x.ndim == 2 and self.input_dimensions == 1:
            x = x[:, :, None]
        if x.ndim != 3 or x.shape[2] != self.input_dimensions:
            raise ValidationError(
                f"must have shape (n_sequences, n_steps, {self.input_dimensions}) (got {x.shape})",
                "x",
                self,
            )
        u = x @ self.params["e_x"].T if "e_x" in self.params else x  # (n, steps, memory_d)
        A, B = maths.legendre_ss(self.order, self.theta)
        for m in maths.zoh_states(A, B, u, self.dt):
            yield m.reshape(len(x), -1)

    def rate_outputs(self, x, every_step=False, peak_rate=False):
        """The outputs of the rate network with the exact memory, computed in numpy.

        What this network computes in rate mode (its own neuron type's rates, no
        synapses), for the sequences ``x`` (``(n, n_steps, input_dimensions)``), each
        from rest: ``(n, out)`` at the last step, or ``(n, n_steps, out)``. For cells
        without ``e_h``, ``e_m`` and ``W_h``; the reference a converted network is
        compared with. ``peak_rate=True`` also returns the hidden neurons' highest
        firing rate (their rate at ``firing_rate_scale``, in spikes per second).
        """
        if self.paths["hidden_to_hidden"]:
            raise ValidationError("the hidden layer is recurrent (W_h)", "rate_outputs", self)
        x = np.asarray(x, dtype=float)
        x = x[:, :, None] if x.ndim == 2 and self.input_dimensions == 1 else x
        s, p = self.firing_rate_scale, self.params
        outputs, peak = [], 0.0
        for k, m in enumerate(self.memory_states(x)):
            if every_step or peak_rate or k == x.shape[1] - 1:
                current = m @ p["W_m"].T + (x[:, k] @ p["W_x"].T if "W_x" in p else 0)
                rates = self.neuron_type.rates(current, np.full(self.units, s), s * p["b"])
                peak = max(peak, float(rates.max()))
                h = rates / s
                if every_step or k == x.shape[1] - 1:
                    outputs.append(h if self.output_dimensions is None else h @ p["W_o"].T + p["b_o"])
        outputs = np.stack(outputs, axis=1) if every_step else outputs[-1]
        return (outputs, peak) if peak_rate else outputs

    # --- variants ---------------------------------------------------------------------

    def config_kwargs(self):
        """The constructor arguments that rebuild this network (without ``params``)."""
        return dict(
            units=self.units,
            order=self.order,
            theta=self.theta,
            input_dimensions=self.input_dimensions,
            memory_d=self.memory_d,
            neuron_type=self.neuron_type,
            memory=self.memory_config,
            output_dimensions=self.output_dimensions,
            dt=self.dt,
            firing_rate_scale=self.firing_rate_scale,
            hidden_synapse=self.hidden_synapse,
            seed=self.seed,
            **self.paths,
        )

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

    # --- keras-lmu --------------------------------------------------------------------

    @classmethod
    def from_keras(cls, layer, dt=0.001, neuron_type=None, **kwargs):
        """The network equivalent to a built keras-lmu 0.7 ``LMU`` layer.

        Supports ``memory_d``, ``order``, ``theta`` (steps; becomes ``theta * dt``
        seconds), ``hidden_to_memory``, ``memory_to_memory``, ``input_to_hidden``,
        the input kernel (or none), ``discretizer="zoh"`` and a hidden cell that is a
        ``Dense`` or ``SimpleRNNCell`` with ``relu``, ``tanh`` or ``linear``-free
        activations. The keras output is :attr:`output` (``h``).

        Parameters
        ----------
        layer : keras_lmu.LMU
            A built layer (call it on data or ``build`` it first).
        dt : float
            Seconds per sample in the Nengo network.
        neuron_type : NeuronType or None
            Overrides the neuron type matching the cell's activation.
        """
        import tensorflow as tf  # only when importing from keras

        name = type(layer).__name__
        if name != "LMU" or not hasattr(layer, "memory_d"):
            raise ValidationError(f"must be a keras_lmu.LMU layer (got {name})", "layer", "LMU.from_keras")
        if not layer.built:
            raise ValidationError("must be built (call it on data first)", "layer", "LMU.from_keras")
        unsupported = {
            "trainable_theta": layer.trainable_theta,
            "use_bias": layer.use_bias,
            "discretizer='euler'": layer.discretizer != "zoh",
            "hidden_cell=None": layer.hidden_cell is None,
        }
        bad = [k for k, v in unsupported.items() if v]
        if bad:
            raise ValidationError(f"unsupported keras-lmu options: {bad}", "layer", "LMU.from_keras")
        inner = getattr(layer.layer, "cell", layer.layer)
        cell = layer.hidden_cell
        activations = {"relu": nengo.RectifiedLinear(), "tanh": nengo.Tanh(tau_ref=1.0)}
        act = getattr(cell, "activation", None)
        act_name = getattr(act, "__name__", str(act))
        if neuron_type is None:
            if act_name not in activations:
                raise ValidationError(
                    f"hidden activation {act_name!r} has no Nengo neuron type; pass neuron_type",
                    "layer",
                    "LMU.from_keras",
                )
            neuron_type = activations[act_name]
        if isinstance(cell, tf.keras.layers.SimpleRNNCell):
            recurrent_h = True
        elif isinstance(cell, tf.keras.layers.Dense):
            recurrent_h = False
        else:
            raise ValidationError(
                f"hidden cell must be Dense or SimpleRNNCell (got {type(cell).__name__})",
                "layer",
                "LMU.from_keras",
            )
        if getattr(cell, "use_bias", True) is False:
            bias = np.zeros(cell.units)
        else:
            bias = tf.keras.backend.get_value(cell.bias)
        W = tf.keras.backend.get_value(cell.kernel).T  # (units, mem [+ in])
        mem_size = layer.memory_d * layer.order
        in_d = int(inner.kernel.shape[0]) if inner.kernel is not None else layer.memory_d
        if layer.hidden_to_memory and inner.kernel is not None:
            in_d -= cell.units
        params = {"W_m": W[:, :mem_size], "b": bias}
        if layer.input_to_hidden:
            params["W_x"] = W[:, mem_size:]
        if recurrent_h:
            params["W_h"] = tf.keras.backend.get_value(cell.recurrent_kernel).T
        if inner.kernel is not None:
            K = tf.keras.backend.get_value(inner.kernel).T  # (memory_d, in [+ units])
            params["e_x"] = K[:, :in_d]
            if layer.hidden_to_memory:
                params["e_h"] = K[:, in_d:]
        elif layer.hidden_to_memory:
            raise ValidationError(
                "hidden_to_memory without an input kernel is not supported", "layer", "LMU.from_keras"
            )
        if layer.memory_to_memory:
            params["e_m"] = tf.keras.backend.get_value(inner.recurrent_kernel).T
        return cls(
            units=cell.units,
            order=layer.order,
            theta=float(layer.theta) * dt,
            input_dimensions=in_d,
            memory_d=layer.memory_d,
            neuron_type=neuron_type,
            input_encoders=inner.kernel is not None,
            hidden_to_memory=layer.hidden_to_memory,
            memory_to_memory=layer.memory_to_memory,
            input_to_hidden=layer.input_to_hidden,
            hidden_to_hidden=recurrent_h,
            dt=dt,
            params=params,
            **kwargs,
        )
