"""Training :class:`nengo_lmu.LMU` networks through NengoDL.

The only module of the package that imports NengoDL / TensorFlow (on first use).

Two formulations, with identical outputs on identical weights:

``"parallel"``
    For cells whose memory input does not depend on the past (no ``e_h``, no ``e_m``)
    and without ``W_h``, the memory is a fixed linear filter of the input, so its
    state after a whole sequence is one matrix product with its impulse response
    (:func:`nengo_lmu.maths.impulse_response`). The training network presents the
    sequence as one vector in a single NengoDL timestep; a ``TensorNode`` computes the
    memory and the hidden layer is an ordinary ensemble of rate neurons. Only the last
    step's output is available, so targets are one per sequence.
``"step"``
    The :class:`.LMU` network itself, run one sample per simulator step. Needed for
    recurrent cells and for per-step targets; far slower on CPUs.

Usage::

    lmu = LMU(units=380, order=256, theta=784 * 0.001, output_dimensions=10)
    history = fit(lmu, x_train, y_train, epochs=10, loss="sparse_ce")
    acc = evaluate(lmu, x_test, y_test)["accuracy"]
    lmu.save_params("psmnist.npz")
    # spiking hidden neurons, read at the last step (a final-step readout is only
    # trained for that step, so no output filter: the scale sets spikes per step)
    spiking = lmu.with_neurons(nengo.SpikingRectifiedLinear(), firing_rate_scale=1000)
    y = predict(spiking, x_test[:1000], formulation="step")

``x`` is always ``(n_sequences, n_steps, input_dimensions)``; targets are
``(n_sequences, output_dimensions)`` (the last step) or, step formulation only,
``(n_sequences, n_steps, output_dimensions)``. ``fit`` writes the trained values into
the network (:meth:`.LMU.set_params`), so the same object then runs on any backend.
"""

import warnings

import numpy as np
import nengo

from . import backends, maths, validation
from .lmu import (MAX_NEURONS_PER_UNIT, TO_HIDDEN, build_hidden_layer, check_neurons_per_unit, check_synapse,
                  from_network, hidden_gains, unit_gains)

FORMULATIONS = ("auto", "parallel", "step")
LOSSES = ("mse", "sparse_ce")
#: the chips ``fit(hardware=...)`` trains for
HARDWARE = ("loihi",)
#: the most steps spike-aware training (``Hardware(spiking_steps=...)``) simulates
MAX_SPIKING_STEPS = 10_000


class Hardware:
    """The chip a network is trained for: ``fit(lmu, x, y, hardware=Hardware(...))``.

    ``hardware="loihi"`` is ``Hardware()``. Training then sees the hidden layer as the
    chip will run it, and :func:`fit` records these settings in ``lmu.metadata["hardware"]``
    (saved with :meth:`.LMU.save_params`; :func:`nengo_lmu.deploy.deploy` deploys at the
    same ``firing_rate_scale`` and ``neurons_per_unit``):

    * the hidden neurons have the chip's rate curve at the deployed firing rates
      (:func:`nengo_lmu.loihi.chip_neuron_type`: a whole number of steps between spikes,
      so rates are a staircase of the input current, saturating at one spike per step),
      trained with that staircase forward and the smooth curve's gradient
      (nengo-extras' NengoDL builders, which nengo-loihi installs); with
      ``neurons_per_unit = k`` each unit is the ``k`` chip neurons it is deployed with
      (:func:`_training_type`);
    * optionally, a firing-rate budget: a penalty ``rate_weight * d**2`` on each active
      hidden neuron's distance ``d`` from the band ``rate_target = (low, high)`` in
      spikes per step (the chip's cap of one spike per step is in the rate curve itself);
    * optionally, the deployed graph's lag: with ``delay_steps = k`` every training
      sequence reaches the network ``k`` steps late (``k`` zeros first), so it learns to
      give each target ``k`` steps early, as a network whose output reaches the host
      ``k`` steps after the trained one must;
    * optionally, weights trained for the chip's weight grid (``weight_bits = 8``): each
      minibatch runs with the hidden layer's input weights (``W_x``, ``W_h``, ``W_m``, the
      synapses into the chip's hidden block) rounded to ``weight_bits`` bits per
      connection (:func:`nengo_lmu.loihi.round_to_weight_grid`), and the update lands on
      full-precision copies (a straight-through estimate: the gradient at the rounded
      weights); the trained weights are those copies, which the deployment rounds to
      the chip's own grid. With the memory on the chip, ``W_m`` reaches the hidden
      neurons multiplied by the memory's decoders, a product this grid does not model;
    * optionally, spike-aware training (``spiking_steps = N``): the hidden neurons spike
      as the chip's do over the last ``N`` steps of each sequence (from rest, on the
      exact memory's states there), each step's spikes forward and the rate curve's
      gradient backward, and their output passes through the deployed ``synapse``; the
      loss compares it with the targets through the same synapse over the last eighth of
      those steps (the rest lets the neurons and the synapse settle). A chip neuron
      integrates its input current and resets to zero, its voltage floored at zero: over
      the many steps between its spikes that is not the rate of each step's current that
      rate training assumes (``max(0, J)`` averaged), and with fast-changing memory
      states the two part. Per-step targets ``(n, n_steps, out)`` are needed.

    Parameters
    ----------
    target : {"loihi"}
        The chip.
    firing_rate_scale : float
        The deployed hidden neurons fire this many times their trained rate
        (:func:`nengo_lmu.deploy.convert`); the staircase is the chip's at this scale.
        With ``dt = 1 ms`` a trained rate of 1 is then ``firing_rate_scale`` Hz.
    rate_target : (float, float) or None
        Band ``(low, high)`` of each active hidden neuron's rate, in spikes per step,
        ``0 <= low < high <= 1`` (a Loihi neuron spikes at most once per step). None: no
        budget.
    rate_weight : float
        Weight of the rate penalty (with ``rate_target``).
    spiking_steps : int
        0: rate training. ``N`` >= 1: spike-aware training over the last ``N`` steps of
        each sequence (at most :data:`MAX_SPIKING_STEPS`).
    synapse : float or None
        With ``spiking_steps``: the lowpass time constant (s) on the hidden neurons'
        outputs in deployment (``deploy(hidden_synapse=...)``; the window-rms task's is
        0.05); None: none.
    delay_steps : int
        Steps by which the deployed output lags the trained network's (0: none). With
        the memory on the host and the hidden layer on the chip it is
        :data:`nengo_lmu.loihi.HOST_MEMORY_LAG_STEPS` (3: host-to-chip spikes, the
        chip's synapse, chip-to-host; ``tests/test_loihi.py`` measures it on the
        emulator). For outputs read continuously (streams), not for an output held
        through a readout period (``deploy(readout_steps=...)``), where it would only
        hide the sequence's last samples from the network.
    weight_bits : int or None
        Train the hidden layer's input weights on a grid of this many bits, sign
        included, ``2 <= weight_bits <=`` :data:`nengo_lmu.loihi.WEIGHT_BITS` (the chip's
        8); None: full precision.
    neurons_per_unit : int
        Chip neurons per hidden unit in deployment (``deploy(neurons_per_unit=...)``,
        which then defaults to it; rectified linear units only): training sees each unit
        as those neurons, of spread gains (:func:`nengo_lmu.lmu.unit_gains`): their summed
        staircases as rates (in the limit of many neurons, continuous), and with
        ``spiking_steps`` their spikes. 1: one neuron, its staircase.

    Use it to fine-tune a network trained as usual: the staircase's straight-through
    gradient is too rough to train from scratch (from random weights the network settles
    on rates so slow that the staircase is fine but the spikes are too few to read), and
    a few epochs at a small learning rate adapt the trained weights to it::

        dl.fit(lmu, x, y, epochs=30)                                   # rates, as usual
        dl.fit(lmu, x, y, epochs=10, learning_rate=1e-4, hardware="loihi")

    On the window-rms demo (:func:`nengo_lmu.deploy.train_demo` with ``hardware=``) this
    lowered the NRMSE deployed on the bit-true emulator (hidden layer on chip, 3000 test
    steps) from 0.069 to 0.061 (seed 0) and from 0.073 to 0.047 (seed 1); over the default
    10,000 steps, from 0.075 to 0.052. The rate budget holds rates in a band; in the runs
    tried it did not lower that error. Spike-aware fine-tuning after the rate curves'
    (``spiking_steps``, :func:`nengo_lmu.deploy.train_demo` with ``hardware=`` such a
    ``Hardware``) is what brought the spiking network nearest its rates: see the README.

    Every argument is checked here, before any training.
    """

    def __init__(self, target="loihi", firing_rate_scale=1000.0, rate_target=None, rate_weight=1.0,
                 delay_steps=0, spiking_steps=0, synapse=None, neurons_per_unit=1, weight_bits=None):
        self.target = validation.choice(target, HARDWARE, "target", self)
        self.firing_rate_scale = validation.positive(firing_rate_scale, "firing_rate_scale", self)
        if rate_target is not None:
            try:
                low, high = (float(v) for v in rate_target)
            except (TypeError, ValueError):
                low = high = float("nan")
            if not 0 <= low < high:
                raise validation.error(
                    f"must be a pair (low, high) of spikes per neuron per step, 0 <= low < high "
                    f"(got {rate_target!r})",
                    "rate_target",
                    self,
                )
            rate_target = (low, high)
            from .loihi import MAX_SPIKES_PER_STEP

            if high > MAX_SPIKES_PER_STEP:
                raise validation.error(
                    f"a Loihi neuron spikes at most {MAX_SPIKES_PER_STEP} time per step: the rate "
                    f"target must be <= {MAX_SPIKES_PER_STEP} spike per neuron per step (got "
                    f"{high:g}; nearest that fits: ({low:g}, {MAX_SPIKES_PER_STEP}))",
                    "rate_target",
                    self,
                )
        self.rate_target = rate_target
        self.rate_weight = validation.non_negative(rate_weight, "rate_weight", self)
        self.delay_steps = validation.integer(delay_steps, "delay_steps", self, low=0)
        self.spiking_steps = validation.integer(spiking_steps, "spiking_steps", self, low=0, high=MAX_SPIKING_STEPS)
        self.synapse = None if synapse is None else validation.non_negative(synapse, "synapse", self)
        self.neurons_per_unit = validation.integer(neurons_per_unit, "neurons_per_unit", self,
                                                   high=MAX_NEURONS_PER_UNIT)
        self.weight_bits = check_weight_bits(weight_bits, self)
        if self.spiking_steps and self.rate_target is not None:
            raise validation.error(
                "the rate budget is for rate training: use it with spiking_steps=0 (spike-aware training "
                "fine-tunes a network already held in its band)", "rate_target", self,
            )

    def delayed(self, x):
        """The sequences ``x`` ``(n, n_steps, d)`` as the trained network sees them:
        ``delay_steps`` zeros first, their last ``delay_steps`` samples left out."""
        k = self.delay_steps
        if not k:
            return x
        return np.concatenate([np.zeros_like(x[:, :k]), x[:, :-k]], axis=1)

    @classmethod
    def from_argument(cls, hardware):
        """``hardware`` as given to :func:`fit`: None, a name in :data:`HARDWARE` or a ``Hardware``."""
        if hardware is None or isinstance(hardware, cls):
            return hardware
        if isinstance(hardware, str):
            return cls(validation.choice(hardware, HARDWARE, "hardware", where="fit"))
        raise validation.error(
            f"must be None, one of {HARDWARE} or a dl.Hardware (got {hardware!r})", "hardware", where="fit"
        )

    def cell(self, lmu):
        """The network trained in place of ``lmu``: its parameters, the chip's hidden neurons."""
        from .loihi import chip_neuron_type

        neuron_type = _training_type(chip_neuron_type(lmu.neuron_type), self.neurons_per_unit,
                                     spiking=bool(self.spiking_steps))
        return lmu.with_neurons(neuron_type, firing_rate_scale=self.firing_rate_scale)

    def as_dict(self):
        """The settings, as recorded in ``lmu.metadata["hardware"]``."""
        return dict(target=self.target, firing_rate_scale=self.firing_rate_scale, rate_target=self.rate_target,
                    rate_weight=self.rate_weight, delay_steps=self.delay_steps, spiking_steps=self.spiking_steps,
                    synapse=self.synapse, neurons_per_unit=self.neurons_per_unit, weight_bits=self.weight_bits)

    def __repr__(self):
        return "Hardware(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


def check_weight_bits(weight_bits, obj=None, where=None):
    """``weight_bits`` (:class:`Hardware`) as None (full precision) or an int in
    ``[2, nengo_lmu.loihi.WEIGHT_BITS]``."""
    from .loihi import WEIGHT_BITS

    if weight_bits is None:
        return None
    return validation.integer(weight_bits, "weight_bits", obj, low=2, high=WEIGHT_BITS, where=where)


def parallel_possible(lmu):
    """True if the parallel-in-time formulation is exact for ``lmu``."""
    return not lmu.recurrent and not lmu.paths["hidden_to_hidden"]


def _formulation(lmu, formulation, per_step_targets=False, where="fit"):
    validation.choice(formulation, FORMULATIONS, "formulation", where=where)
    if formulation == "auto":
        return "parallel" if parallel_possible(lmu) and not per_step_targets else "step"
    if formulation == "parallel":
        if not parallel_possible(lmu):
            raise validation.error(
                "the parallel formulation needs a cell without hidden->memory, "
                "memory->memory and hidden->hidden paths; use 'step'",
                "formulation",
                where=where,
            )
        if per_step_targets:
            raise validation.error(
                "the parallel formulation only has the last step's output; give one "
                "target per sequence or use 'step'",
                "formulation",
                where=where,
            )
    return formulation


def _spike_aware_formulation(lmu, hardware, x, per_step, formulation, loss, noise):
    """``"spiking"``, if spike-aware training (``hardware.spiking_steps``) can train ``lmu`` on
    this data; otherwise a ``ValidationError`` saying why."""
    def refuse(message, attr="hardware"):
        return validation.error(f"spike-aware training (spiking_steps={hardware.spiking_steps}) {message}",
                                attr, where="fit")

    if formulation != "auto":
        raise refuse("has a formulation of its own: leave formulation='auto'", "formulation")
    if not parallel_possible(lmu):
        raise refuse("starts the hidden layer from rest on the exact memory's states: it needs a cell "
                     "without hidden->memory, memory->memory and hidden->hidden paths")
    if not per_step:
        raise refuse("scores the output over the last steps: give per-step targets, shape "
                     f"(n, {x.shape[1]}, out)", "y")
    if hardware.spiking_steps > x.shape[1]:
        raise refuse(f"needs sequences of at least spiking_steps steps (got {x.shape[1]})")
    if loss != "mse":
        raise refuse(f"trains the mean squared error (got loss={loss!r})", "loss")
    if noise is not None:
        raise refuse("runs on the exact memory's states: drop memory_noise", "memory_noise")
    return "spiking"


def check_data(lmu, x, y=None, n_steps=None, name="x"):
    """Validate and convert training / test data, before any building or training.

    Returns ``x`` as float32 ``(n, n_steps, input_dimensions)`` (checked by
    :meth:`.LMU.check_sequences`) and ``y`` as float32 ``(n, out)`` or
    ``(n, n_steps, out)`` (or None).
    """
    from .lmu import LMU

    if not isinstance(lmu, LMU):
        raise validation.error(f"must be an LMU network (got {type(lmu).__name__})", "lmu", where="data")
    x = lmu.check_sequences(x, name, n_steps).astype(np.float32, copy=False)
    if y is None:
        return x, None
    try:
        y = np.asarray(y, dtype=np.float32)
    except (TypeError, ValueError):
        raise validation.error(f"must be an array of numbers (got {type(y).__name__})", "y", where="data") from None
    out_d = lmu.output_dimensions or lmu.units
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim == 0 or y.shape[0] != x.shape[0]:
        raise validation.error(
            f"has {len(y) if y.ndim else 0} targets for {x.shape[0]} input sequences", "y", where="data"
        )
    if not (
        (y.ndim == 2 and y.shape[1] in (1, out_d))
        or (y.ndim == 3 and y.shape[1:] == (x.shape[1], out_d))
    ):
        raise validation.error(
            f"must have shape (n, {out_d}), (n, 1) class labels, or (n, {x.shape[1]}, "
            f"{out_d}) per-step targets (got {y.shape})",
            "y",
            where="data",
        )
    if not np.all(np.isfinite(y)):
        raise validation.error("contains NaN or inf", "y", where="data")
    return x, y


# --- the parallel training network ------------------------------------------------------


def _memory_noise(lmu, memory_noise):
    """``memory_noise`` checked and as a float32 ``(mem, mem)`` matrix ``L`` (noise ``L z``)."""
    if memory_noise is None:
        return None
    mem = lmu.memory_d * lmu.order
    try:
        noise = np.asarray(memory_noise, dtype=float)
    except (TypeError, ValueError):
        noise = np.full(1, np.nan)  # refused below
    if noise.ndim == 0:
        noise = np.full(mem, float(noise))
    if noise.shape == (mem,) and (noise >= 0).all():
        noise = np.diag(noise)
    if noise.shape != (mem, mem) or not np.all(np.isfinite(noise)):
        raise validation.error(
            f"must be a standard deviation >= 0, {mem} of them (one per memory coefficient), "
            f"or a ({mem}, {mem}) matrix L (noise L z, z standard normal); got shape {noise.shape}",
            "memory_noise",
            where="fit",
        )
    return noise.astype(np.float32)


def _parallel_memory_layer(lmu, n_steps, noise=None):
    import tensorflow as tf

    kernel = lmu.memory_kernel(n_steps).astype(np.float32)
    in_d, md, order = lmu.input_dimensions, lmu.memory_d, lmu.order
    e_x = lmu.params.get("e_x")

    class ParallelMemory(tf.keras.layers.Layer):
        """Final memory state of every sequence: ``m = sum_t K[t] (e_x x[t])``."""

        def build(self, input_shape):
            self.kernel = tf.constant(kernel)
            self.e_x = (
                None
                if e_x is None
                else self.add_weight(
                    name="e_x",
                    shape=e_x.shape,
                    initializer=tf.constant_initializer(e_x),
                    # with memory noise e_x is held: the noise is matched to this input scale
                    trainable=noise is None,
                )
            )

        def call(self, inputs, training=None):
            x = tf.reshape(inputs, (-1, n_steps, in_d))
            u = x if self.e_x is None else tf.einsum("bti,ji->btj", x, self.e_x)
            m = tf.einsum("btj,tk->bjk", u, self.kernel)
            m = tf.reshape(m, (-1, md * order))
            if noise is None or training is None:
                return m
            # training only: Gaussian noise L z on the state (e.g. a spiking memory's error)
            z = tf.random.normal(tf.shape(m), dtype=m.dtype)
            return m + tf.cast(training, m.dtype) * tf.matmul(z, tf.constant(noise.T))

    return ParallelMemory()


def _weight_probes(net, conns):
    """Probes on the hidden layer's kernels (for the L2 penalty), last value only."""
    import nengo_dl

    probes = []
    with net:
        nengo_dl.configure_settings(keep_history=True)
        for name in TO_HIDDEN:
            if name in conns:
                probe = nengo.Probe(conns[name], "weights", label=f"{name} weights")
                net.config[probe].keep_history = False
                probes.append(probe)
    return probes


def _parallel_network(lmu, n_steps, memory_noise=None, probe_state=False):
    """NengoDL network computing the LMU's last-step output from a whole sequence.

    Returns ``net, input, output probe, memory state probe (or None), connections,
    hidden, layer``.
    """
    import nengo_dl

    layer = _parallel_memory_layer(lmu, n_steps, memory_noise)
    with nengo.Network(seed=lmu.seed, label="LMU (parallel in time)") as net:
        # one step stands for the whole sequence: spiking hidden neurons (the chip's, for
        # hardware-aware training) must give their rates there in every mode, or a
        # validation pass would see one step's spikes
        learning_phase = True if lmu.neuron_type.spiking else None
        nengo_dl.configure_settings(trainable=None, stateful=False, learning_phase=learning_phase)
        net.config[nengo.Connection].trainable = False
        net.config[nengo.Ensemble].trainable = False
        inp = nengo.Node(np.zeros(n_steps * lmu.input_dimensions), label="sequence")
        mem = nengo_dl.TensorNode(
            layer, shape_in=(n_steps * lmu.input_dimensions,), shape_out=(lmu.memory_d * lmu.order,),
            pass_time=False, label="memory",
        )
        nengo.Connection(inp, mem, synapse=None)
        # the hidden layer sees the last step's input (W_x) and the final memory state
        last = inp[(n_steps - 1) * lmu.input_dimensions :]
        hidden, output, conns = build_hidden_layer(lmu, mem, last)
        net.config[hidden.neurons].trainable = True
        for conn in conns.values():
            net.config[conn].trainable = True
        probe = nengo.Probe(output, synapse=None)
        state = nengo.Probe(mem, synapse=None) if probe_state else None
    return net, inp, probe, state, conns, hidden, layer


def _weight_grid_callback(sim, conns, bits):
    """A Keras callback training ``conns``' weights for a grid of ``bits`` bits
    (:func:`nengo_lmu.loihi.round_to_weight_grid`, per connection).

    Before each minibatch the weights are rounded to the grid, so the forward pass and
    the gradient are the rounded network's; after it the optimizer's update is moved onto
    full-precision copies, which are put back (at the end of training too): small
    updates accumulate in the copies instead of being rounded away.
    """
    import tensorflow as tf

    from .loihi import round_to_weight_grid

    graph = sim.tensor_graph
    slots = []
    for conn in conns:
        signal = graph.signals[sim.model.sig[conn]["weights"]]
        slots.append((graph.base_params[signal.key], signal.tf_indices_nd))

    class WeightGrid(tf.keras.callbacks.Callback):
        full = rounded = None

        def on_train_batch_begin(self, batch, logs=None):
            self.full = [tf.gather_nd(base, idx).numpy() for base, idx in slots]
            self.rounded = [round_to_weight_grid(w, bits).astype(w.dtype) for w in self.full]
            for (base, idx), w in zip(slots, self.rounded):
                base.scatter_nd_update(idx, w)

        def on_train_batch_end(self, batch, logs=None):
            for (base, idx), full, rounded in zip(slots, self.full, self.rounded):
                base.scatter_nd_update(idx, full + (tf.gather_nd(base, idx).numpy() - rounded))

    return WeightGrid()


# --- the chip's hidden neurons as NengoDL trains them (Hardware) -------------------------

_TRAINING_TYPES = {}


def _training_type(chip_type, neurons_per_unit=1, spiking=False):
    """``chip_type`` (a nengo-loihi neuron type) as :class:`Hardware` trains it in NengoDL.

    ``neurons_per_unit=1``, ``spiking=False``: ``chip_type`` itself (nengo-extras'
    builder: the chip's staircase of rates forward, the smooth curve's gradient).

    ``neurons_per_unit=k > 1`` (rectified linear only): each hidden unit is the ``k``
    chip neurons a deployment with ``neurons_per_unit=k`` runs it with, of gains
    :func:`nengo_lmu.lmu.unit_gains` ``c_j``, their spikes summed and weighted
    ``1 / sum(c)`` (:func:`nengo_lmu.lmu.to_network`); one state voltage per neuron,
    ``k`` per unit. Their rate, the mean of ``k`` staircases at spread gains, is trained
    as its limit for many neurons (:func:`_unit_spikes_per_step`): continuous, with the
    unit's own derivative, within 0.012 spikes per step of 16 neurons' (the smooth curve
    nengo-extras differentiates is 0.046 off; exploratory, over rates up to 0.6 per step).

    ``spiking=True``: spike-aware, the same type for every simulator but NengoDL, where
    its builder steps the chip's spiking neurons (the unit's ``k``) in training too
    (NengoDL otherwise trains a spiking type on its rates): the output is each step's
    spikes forward and the rate curve's gradient backward, ``rate + stop_gradient(spikes
    - rate)``; the voltages carry over from step to step and start at zero, as the
    chip's.
    """
    k = neurons_per_unit
    base = type(chip_type)
    if k == 1 and not spiking:
        return chip_type
    if (base, k, spiking) not in _TRAINING_TYPES:
        from nengo_dl.neuron_builders import SimNeuronsBuilder
        from nengo_loihi.neurons import install_dl_builders

        install_dl_builders()  # nengo-loihi's NengoDL builders of its types (nengo-extras')
        builder = SimNeuronsBuilder.TF_NEURON_IMPL[base]
        attrs = {"__module__": __name__}
        if k > 1:  # rectified linear only (check_neurons_per_unit)
            builder = _unit_builder(builder, unit_gains(k))
            attrs.update(neurons_per_unit=k, make_state=_unit_state, step=_unit_step, rates=_unit_rates)
        if spiking:
            builder = _spike_aware_builder(builder)
        name = ("SpikeAware" if spiking else "") + base.__name__ + (f"Unit{k}" if k > 1 else "")
        neuron_type = type(name, (base,), attrs)
        SimNeuronsBuilder.TF_NEURON_IMPL[neuron_type] = builder
        _TRAINING_TYPES[base, k, spiking] = neuron_type
    # the chip's parameters, and its zero initial voltage
    kwargs = {name: getattr(chip_type, name) for name in ("tau_rc", "tau_ref", "amplitude") if hasattr(chip_type, name)}
    return _TRAINING_TYPES[base, k, spiking](**kwargs)


def _unit_state(self, n_neurons, rng=np.random, dtype=None):
    """A unit's state: the voltages of its ``neurons_per_unit`` neurons, ``k`` per unit."""
    state = nengo.neurons.NeuronType.make_state(self, n_neurons, rng=rng, dtype=dtype)
    state["voltage"] = np.repeat(state["voltage"], self.neurons_per_unit)
    return state


def _unit_step(self, dt, J, output, voltage):
    """nengo's step of a unit: its neurons stepped as nengo-loihi's, summed and weighted."""
    from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

    k, gains = self.neurons_per_unit, hidden_gains(len(J), 1.0, self.neurons_per_unit)
    spikes = np.zeros_like(voltage)
    LoihiSpikingRectifiedLinear.step(self, dt, np.repeat(J, k) * gains, spikes, voltage)
    output[:] = spikes.reshape(len(J), k).sum(axis=1) / unit_gains(k).sum()


def _unit_rates(self, x, gain, bias, dt=0.001):
    """A unit's rate: its neurons' rates (nengo-loihi's staircase), summed and weighted."""
    from nengo_loihi.neurons import LoihiSpikingRectifiedLinear

    k, gains = self.neurons_per_unit, hidden_gains(len(gain), 1.0, self.neurons_per_unit)
    # each unit's neurons: its gain and bias times theirs
    rates = LoihiSpikingRectifiedLinear.rates(self, x, np.repeat(gain, k) * gains, np.repeat(bias, k) * gains, dt)
    return rates.reshape(rates.shape[:-1] + (len(gain), k)).sum(axis=-1) / unit_gains(k).sum()


def _unit_builder(builder, gains):
    """``builder`` (nengo-extras' ``LoihiSpikingRectifiedLinear``) for a unit of neurons of
    relative gains ``gains`` (:func:`_training_type`)."""
    import tensorflow as tf

    k, total = len(gains), float(gains.sum())

    class UnitBuilder(builder):
        def training_step(self, J, dt, **state):
            amplitude = self.one if self.amplitude is None else self.amplitude
            return (amplitude / dt) * _unit_spikes_per_step(J * dt, 1 - gains.min())

        def step(self, J, dt, voltage):
            shape = tf.concat([tf.shape(J), [k]], axis=0)
            v = tf.reshape(voltage, shape) + J[..., None] * tf.constant(gains, J.dtype) * dt
            spiked = v > self.one
            spikes = tf.reduce_sum(tf.cast(spiked, J.dtype), axis=-1) * (self.alpha / total)
            v = tf.where(spiked, tf.zeros_like(v), tf.maximum(v, 0))
            return tf.stop_gradient(spikes), tf.stop_gradient(tf.reshape(v, tf.shape(voltage)))

    return UnitBuilder


def _unit_spikes_per_step(x, spread):
    """The rate, in spikes per step, of a unit of chip neurons whose gains are spread
    evenly over ``[1 - spread, 1]`` (in the limit of many neurons), at input ``x = J dt``.

    A chip neuron fires ``stair(c x) = 1 / ceil(1 / (c x))`` spikes per step at gain ``c``;
    the unit's output, weighted ``1 / sum(c)``, is their mean over ``c`` divided by the
    mean gain: ``(S(x) - S((1 - spread) x)) / (spread x (1 - spread / 2))`` with ``S`` the
    integral of ``stair``, ``S(z) = 1/n - psi1(n + 1) + (z - 1/n) / n`` for ``n = ceil(1 /
    min(z, 1))`` (the whole steps below ``1/n`` sum to ``sum_{m > n} 1 / (m^2 (m - 1)) = 1/n
    - psi1(n + 1)``, ``psi1`` the trigamma function). Continuous, with the unit's own
    derivative (``dS/dz = stair(z)``); below 1e-3 spikes per step it is ``x`` (the
    difference of two nearly equal terms loses its precision there).
    """
    import tensorflow as tf

    def integral(z):
        n = tf.stop_gradient(tf.math.ceil(tf.math.reciprocal(tf.minimum(z, 1.0))))
        return 1 / n - tf.math.polygamma(tf.ones_like(n), n + 1) + (z - 1 / n) / n

    safe = tf.maximum(x, 1e-3)
    rate = (integral(safe) - integral((1 - spread) * safe)) / (spread * safe * (1 - spread / 2))
    return tf.where(x > 1e-3, rate, tf.maximum(x, 0))


def _spike_aware_builder(builder):
    """``builder`` stepping its spiking neurons in training too, with its rates' gradient."""
    import tensorflow as tf

    class SpikeAwareBuilder(builder):
        spiking = False  # NengoDL calls step() in training as in inference

        def step(self, J, dt, **state):
            spikes, *states = super().step(J, dt, **state)
            rates = self.training_step(J, dt, **state)
            return (rates + tf.stop_gradient(spikes - rates), *states)

    return SpikeAwareBuilder


def _spiking_data(lmu, x, y, n_steps, synapse):
    """Inputs and targets of spike-aware training: the last ``n_steps`` steps of each sequence.

    Inputs ``(n, n_steps, memory_d * order + input_dimensions)``: the exact memory's state
    and the input at each step; targets ``(n, n_steps, out)``: ``y`` per step through
    ``synapse`` (the deployed one, as the output is), from the start of each sequence.
    """
    if synapse:
        y = nengo.Lowpass(synapse).filt(y, dt=lmu.dt, axis=1, y0=0)
    first = x.shape[1] - n_steps
    states = np.stack([m for k, m in enumerate(lmu.memory_states(x)) if k >= first], axis=1)
    inputs = np.concatenate([states, x[:, -n_steps:]], axis=-1).astype(np.float32)
    return inputs, y[:, -n_steps:].astype(np.float32)


def _spiking_network(cell, synapse):
    """NengoDL network of ``cell``'s hidden layer fed the memory's states and the input by a
    node, its output through ``synapse``; returns ``net, input, probe, connections, hidden``."""
    import nengo_dl

    mem = cell.memory_d * cell.order
    with nengo.Network(seed=cell.seed, label="LMU hidden layer (spike-aware)") as net:
        nengo_dl.configure_settings(trainable=None, stateful=False)
        net.config[nengo.Connection].trainable = False
        net.config[nengo.Ensemble].trainable = False
        inp = nengo.Node(np.zeros(mem + cell.input_dimensions), label="memory state and input")
        hidden, output, conns = build_hidden_layer(cell, inp[:mem], inp[mem:], synapse)
        net.config[hidden.neurons].trainable = True
        for conn in conns.values():
            net.config[conn].trainable = True
        probe = nengo.Probe(output, synapse=None)
    return net, inp, probe, conns, hidden


def _last_steps_loss(n_scored):
    """Mean squared error over the last ``n_scored`` steps (the earlier ones let the spiking
    neurons and the synapse settle from rest)."""
    import tensorflow as tf

    def last_steps_mse(y_true, y_pred):
        return tf.reduce_mean(tf.square(y_true[:, -n_scored:] - y_pred[:, -n_scored:]))

    return last_steps_mse


def _wrapper_seed(lmu):
    return None if lmu.seed is None else (lmu.seed + 7919) % 2**31


def _step_network(lmu, probe_synapse=None, probe_state=False, final_only=False):
    """A wrapper feeding data into ``lmu`` and probing its output (and memory state);
    ``lmu`` is not copied. Returns ``net, input, output probe, memory state probe (or
    None)``. ``final_only`` keeps only the probes' last step (prediction only: a loss on
    every step needs them all)."""
    import nengo_dl

    # a seed of its own: equal seeds would give the probe the seed of an LMU connection,
    # which NengoDL then takes for a probe connection and freezes
    with nengo.Network(seed=_wrapper_seed(lmu), label="LMU (step by step)") as net:
        nengo_dl.configure_settings(trainable=None, stateful=False, keep_history=not final_only)
        net.config[nengo.Connection].trainable = False
        net.config[nengo.Ensemble].trainable = False
        inp = nengo.Node(np.zeros(lmu.input_dimensions), label="x")
        nengo.Connection(inp, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output, synapse=probe_synapse)
        state = nengo.Probe(lmu.memory.state, synapse=None) if probe_state else None
    net.networks.append(lmu)
    net.config[lmu.hidden.neurons].trainable = True
    for conn in lmu.param_connections.values():
        net.config[conn].trainable = True
    return net, inp, probe, state


def _read_params(lmu, sim, conns, hidden, layer=None):
    """Trained values from a NengoDL simulator, in :attr:`.LMU.params` units."""
    s = lmu.firing_rate_scale
    names = list(conns)
    values = sim.get_nengo_params([conns[n] for n in names] + [hidden])
    params = {name: from_network(name, v["transform"], s, lmu.param_shapes[name]) for name, v in zip(names, values)}
    params["b"] = from_network("b", values[-1]["bias"], s, lmu.param_shapes["b"])
    if layer is not None and layer.e_x is not None:
        params["e_x"] = layer.e_x.numpy().astype(float)
    return params


# --- losses -------------------------------------------------------------------------


def _keras_loss(loss, final_only):
    import tensorflow as tf

    # ``loss`` was checked by fit: a callable or one of LOSSES
    if callable(loss):
        fn = loss
    elif loss == "mse":
        fn = tf.keras.losses.MeanSquaredError()
    else:
        fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if not final_only:
        return fn

    def final_step_loss(y_true, y_pred):
        return fn(y_true[:, -1], y_pred[:, -1])

    return final_step_loss


def _sum_of_squares(y_true, y_pred):
    import tensorflow as tf

    flat = tf.reshape(y_pred, (tf.shape(y_pred)[0], -1))
    return tf.reduce_mean(tf.reduce_sum(tf.square(flat), axis=1))


def _keras_metrics(loss, final_only):
    import tensorflow as tf

    if loss != "sparse_ce":
        return []
    acc = tf.keras.metrics.sparse_categorical_accuracy
    if not final_only:
        return [acc]

    def accuracy(y_true, y_pred):
        return acc(y_true[:, -1], y_pred[:, -1])

    return [accuracy]


def _batches(n, batch_size, where="fit"):
    return min(validation.integer(batch_size, "batch_size", where=where), n)


def _pad(x, batch):
    """Pad the first axis to a multiple of ``batch`` (NengoDL's batch size is fixed)."""
    extra = (-len(x)) % batch
    if extra:
        x = np.concatenate([x, np.repeat(x[-1:], extra, axis=0)])
    return x


# --- public API ---------------------------------------------------------------------


def fit(
    lmu,
    x,
    y,
    epochs=1,
    batch_size=100,
    loss="mse",
    optimizer=None,
    learning_rate=1e-3,
    formulation="auto",
    validation_data=None,
    l2=0.0,
    verbose=0,
    callbacks=None,
    memory_noise=None,
    hardware=None,
):
    """Train ``lmu``'s parameters through NengoDL, then write them into ``lmu``.

    Parameters
    ----------
    lmu : LMU
        Trained in rate mode: its neuron type must have a rate (non-spiking) response,
        its memory must be exact (``memory=None``), one neuron per unit.
    x : array_like, shape (n, n_steps, input_dimensions)
        Input sequences.
    y : array_like
        ``(n, out)`` targets at the last step, ``(n,)`` integer labels with
        ``loss="sparse_ce"``, or ``(n, n_steps, out)`` per-step targets (``"step"``).
    epochs, batch_size : int
        Passes over the data and sequences per minibatch (the remainder of ``n`` that
        does not fill a minibatch is left out of training, with a warning).
    loss : {"mse", "sparse_ce"} or callable
        ``"sparse_ce"`` is softmax cross-entropy on integer labels (outputs are logits).
    optimizer : tf.keras.optimizers.Optimizer or None
        Default Adam with ``learning_rate`` (a float or a Keras schedule).
    formulation : {"auto", "parallel", "step"}
        ``"auto"`` is parallel whenever it is exact (see module docstring).
    validation_data : (x, y) or None
        Evaluated after every epoch (in the same formulation).
    l2 : float
        Weight of an L2 penalty (sum of squares) on the hidden kernels ``W_x, W_h, W_m``.
    memory_noise : float, array_like or None
        Noise-aware training (parallel formulation): Gaussian noise added to the memory
        state on every training example, never when evaluating. A standard deviation
        (all coefficients), one per coefficient (``memory_d * order``), or a square
        matrix ``L`` (noise ``L z``, covariance ``L L^T``), e.g. matched to a spiking
        memory's measured error, so the hidden layer learns to tolerate it. The input
        encoders ``e_x`` are then held fixed (scaling the memory up would otherwise
        outgrow noise that is matched to the memory at its present scale).
    hardware : None, "loihi" or Hardware
        Hardware-aware training (:class:`Hardware`): the hidden layer is trained as the
        chip runs it (its rate curve at the deployed ``firing_rate_scale``; optionally a
        firing-rate budget, the deployed output's lag, its spikes and its weight grid); the
        settings are recorded in ``lmu.metadata["hardware"]``.
        ``lmu`` itself keeps its rate neurons (convert it for deployment as usual).

    Returns
    -------
    history : dict
        Keras' per-epoch ``loss`` (and ``accuracy``, ``val_*``), plus ``formulation``,
        ``n_trained``, ``n_parameters`` and ``seconds`` (training wall time); with a
        rate budget, ``rate`` (the hidden layer's mean spikes per neuron per step,
        per epoch).
    """
    import time

    x, y = check_data(lmu, x, y)
    per_step = y.ndim == 3
    form = _formulation(lmu, formulation, per_step_targets=per_step)
    epochs = validation.integer(epochs, "epochs", where="fit")
    if lmu.neuron_type.spiking or lmu.memory_config is not None:
        raise validation.error(
            "train in rate mode: a rate neuron type and the exact memory (memory=None); "
            "convert afterwards with lmu.with_neurons(...)",
            "lmu",
            where="fit",
        )
    if lmu.neurons_per_unit != 1:
        raise validation.error(
            f"fit trains each hidden unit's parameters (got neurons_per_unit={lmu.neurons_per_unit}); "
            "train with neurons_per_unit=1 (for units of several chip neurons: hardware=dl.Hardware("
            "neurons_per_unit=...)) and deploy more with lmu.with_neurons(neurons_per_unit=...)",
            "lmu",
            where="fit",
        )
    l2 = validation.non_negative(l2, "l2", where="fit")
    if validation.is_number(learning_rate):
        validation.positive(learning_rate, "learning_rate", where="fit")
    if not callable(loss):
        validation.choice(loss, LOSSES, "loss", where="fit")
    if loss == "sparse_ce" and y.shape[-1] != 1:
        raise validation.error("sparse_ce needs integer class labels, shape (n,)", "y", where="fit")
    if validation_data is not None:
        if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
            raise validation.error("must be a pair (x, y) or None", "validation_data", where="fit")
        vx, vy = check_data(lmu, *validation_data, n_steps=x.shape[1], name="validation x")
    hardware = Hardware.from_argument(hardware)
    if hardware is not None:
        check_neurons_per_unit(hardware.neurons_per_unit, lmu.neuron_type, where="fit")
    # the network trained: lmu itself, or its chip version (same parameters, chip neurons)
    cell = lmu if hardware is None else hardware.cell(lmu)
    if hardware is not None and hardware.delay_steps:
        if hardware.delay_steps >= x.shape[1]:
            raise validation.error(
                f"delay_steps must be shorter than the sequences ({x.shape[1]} steps; got "
                f"{hardware.delay_steps})", "hardware", where="fit",
            )
        # the deployed network answers delay_steps late: train it to answer that early
        x = hardware.delayed(x)
        if validation_data is not None:
            vx = hardware.delayed(vx)
    noise = _memory_noise(lmu, memory_noise)
    if hardware is not None and hardware.spiking_steps:
        form = _spike_aware_formulation(lmu, hardware, x, per_step, formulation, loss, noise)
        x, y = _spiking_data(lmu, x, y, hardware.spiking_steps, hardware.synapse)
        if validation_data is not None:
            vx, vy = _spiking_data(lmu, vx, vy, hardware.spiking_steps, hardware.synapse)
    if noise is not None and form != "parallel":
        raise validation.error("memory noise needs the parallel formulation", "memory_noise", where="fit")
    batch = _batches(len(x), batch_size)
    n_used = len(x) - len(x) % batch
    if n_used < len(x):
        warnings.warn(f"training on {n_used} of {len(x)} sequences (whole minibatches of {batch})")
    if form == "spiking":
        loss_fn = _last_steps_loss(max(1, hardware.spiking_steps // 8))
    else:
        loss_fn = _keras_loss(loss, final_only=form == "step" and not per_step)
    metrics = _keras_metrics(loss, final_only=form == "step" and not per_step)
    opt = _optimizer(optimizer, learning_rate)

    budget = hardware is not None and hardware.rate_target is not None
    context = _simulator(cell, x.shape[1], form, batch, l2=l2, memory_noise=noise, probe_rates=budget,
                         synapse=hardware.synapse if form == "spiking" else None)
    with context as (sim, inp, probe, read):
        losses, weights = {probe: loss_fn}, {probe: 1.0}
        for wp in context.weight_probes:
            losses[wp], weights[wp] = _sum_of_squares, float(l2)
        metric_fns = {probe: metrics} if metrics else {}
        if budget:
            rate_loss, rate_metric = _rate_budget(hardware.rate_target, cell.dt)
            losses[context.rate_probe], weights[context.rate_probe] = rate_loss, hardware.rate_weight
            metric_fns[context.rate_probe] = [rate_metric]
        sim.compile(
            optimizer=opt, loss=losses, loss_weights=weights, metrics=metric_fns or None,
        )

        def targets(y_, n):
            t = {probe: _as_target(y_[:n], form, x.shape[1])}
            t.update({wp: np.zeros((n, 1, 1), np.float32) for wp in context.weight_probes})
            if budget:  # the rate loss reads its target from the Hardware, not from data
                t[context.rate_probe] = np.zeros((n, 1, 1), np.float32)
            return t

        data_x = _as_input(x[:n_used], form)
        data_y = targets(y, n_used)
        val = None
        if validation_data is not None:
            n_val = len(vx) - len(vx) % batch
            val = ({inp: _as_input(vx[:n_val], form)}, targets(vy, n_val))
        if hardware is not None and hardware.weight_bits:
            grid = [context.conns[name] for name in TO_HIDDEN if name in context.conns]
            callbacks = list(callbacks or []) + [_weight_grid_callback(sim, grid, hardware.weight_bits)]
        start = time.perf_counter()
        hist = sim.fit(
            {inp: data_x}, data_y, epochs=epochs, validation_data=val,
            verbose=verbose, callbacks=callbacks, shuffle=True,
        )
        seconds = time.perf_counter() - start
        trained = read()
    # spike-aware training leaves e_x as it was
    lmu.set_params(trained, partial=form == "spiking")
    if hardware is not None:
        lmu.metadata = dict(getattr(lmu, "metadata", None) or {}, hardware=hardware.as_dict())
    history = {_clean_key(k): [float(v) for v in vals] for k, vals in hist.history.items()}
    history.update(formulation=form, n_trained=n_used, n_parameters=lmu.n_trainable, seconds=seconds)
    return history


def _clean_key(key):
    # NengoDL prefixes metrics with the probe's name ("probe_accuracy"); "loss" is the total
    prefix = "val_" if key.startswith("val_") else ""
    if key.endswith("accuracy"):
        return prefix + "accuracy"
    if key.endswith("spikes_per_step"):
        return prefix + "rate"
    return key


def _rate_budget(rate_target, dt):
    """The rate penalty and its metric: the hidden layer's mean spikes per neuron per step."""
    import tensorflow as tf

    def spikes_per_step(y_true, y_pred):
        # the neurons' output is their rate in Hz (amplitude 1): times dt, spikes per step
        return tf.reduce_mean(y_pred) * dt

    low, high = rate_target

    def rate_budget(y_true, y_pred):
        # each active neuron's distance from the band, not the layer's mean: fast neurons,
        # where the chip's staircase of rates is coarse (1, 1/2, 1/3 ... spikes per
        # step), are brought down; slow ones, whose few spikes are noisy, up; silent ones
        # (no gradient) are left alone
        r = y_pred * dt
        below = tf.where(r > 0, tf.nn.relu(low - r), tf.zeros_like(r))
        return tf.reduce_mean(tf.square(tf.nn.relu(r - high)) + tf.square(below))

    return rate_budget, spikes_per_step


def cosine_decay(learning_rate, epochs, n_sequences, batch_size):
    """A learning rate for :func:`fit`: ``learning_rate`` falling to 0 along a cosine over
    ``epochs`` passes of ``n_sequences`` in minibatches of ``batch_size`` (a Keras
    ``CosineDecay``, one step per minibatch)."""
    import tensorflow as tf

    steps = epochs * (n_sequences // _batches(n_sequences, batch_size, where="cosine_decay"))
    return tf.keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1))


def _optimizer(optimizer, learning_rate):
    import tensorflow as tf

    if optimizer is not None:
        return optimizer
    return tf.optimizers.Adam(learning_rate)


def _as_input(x, form):
    if form == "parallel":
        return x.reshape(len(x), 1, -1)
    return x


def _as_target(y, form, n_steps):
    if form == "parallel":
        return y.reshape(len(y), 1, -1) if y.ndim == 2 else y
    if y.ndim == 3:
        return y
    # the step formulation's loss reads only the last step
    out = np.zeros((len(y), n_steps, y.shape[-1]), dtype=np.float32)
    out[:, -1] = y
    return out


class _simulator:
    """Context manager: a NengoDL simulator of ``lmu`` in either formulation.

    Entering gives ``(sim, input, output probe, read)``; ``read()`` returns the trained
    parameters, ``state_probe`` probes the memory state if ``probe_state``, and
    ``rate_probe`` the hidden neurons' output (Hz) if ``probe_rates``.
    """

    def __init__(self, lmu, n_steps, form, batch, probe_synapse=None, l2=0, memory_noise=None,
                 probe_state=False, final_only=False, probe_rates=False, synapse=None):
        self.args = (lmu, n_steps, form, batch, probe_synapse)
        self.synapse = synapse
        self.l2 = l2
        self.memory_noise = memory_noise
        self.probe_state = probe_state
        self.final_only = final_only
        self.probe_rates = probe_rates
        self.weight_probes = []
        self.rate_probe = None

    def __enter__(self):
        lmu, n_steps, form, batch, probe_synapse = self.args
        if form == "parallel":
            net, inp, probe, self.state_probe, conns, hidden, layer = _parallel_network(
                lmu, n_steps, self.memory_noise, self.probe_state
            )
        elif form == "spiking":
            net, inp, probe, conns, hidden = _spiking_network(lmu, self.synapse)
            self.state_probe, layer = None, None
            # e_x is not trained here (the states are the exact memory's, computed once)
            conns = {name: conn for name, conn in conns.items() if name in lmu.param_shapes}
        else:
            net, inp, probe, self.state_probe = _step_network(
                lmu, probe_synapse, self.probe_state, self.final_only
            )
            conns, hidden, layer = lmu.param_connections, lmu.hidden, None
        self.conns = conns
        if self.l2 > 0:
            self.weight_probes = _weight_probes(net, conns)
        if self.probe_rates:
            with net:
                self.rate_probe = nengo.Probe(hidden.neurons, synapse=None, label="hidden rates")
        self.sim = backends.simulator(net, "dl", dt=lmu.dt, minibatch_size=batch, seed=lmu.seed)
        self.sim.__enter__()
        return self.sim, inp, probe, lambda: _read_params(lmu, self.sim, conns, hidden, layer)

    def __exit__(self, *exc):
        return self.sim.__exit__(*exc)


def predict(lmu, x, formulation="auto", batch_size=100, final_only=True, probe_synapse=None,
            return_state=False):
    """Outputs of ``lmu`` for the sequences ``x``, run through NengoDL.

    Parameters
    ----------
    formulation : {"auto", "parallel", "step"}
        ``"step"`` runs the network in the time domain, one sample per step, with its
        own neuron types (spiking neurons spike, a spiking memory is used) — the way
        to test a converted network. ``"auto"`` is parallel when exact and the network
        is in rate mode.
    final_only : bool
        Return ``(n, out)`` at the last step; otherwise ``(n, n_steps, out)``
        (step formulation only).
    probe_synapse : Synapse or None
        Filter on the output probe (step formulation).
    return_state : bool
        Also return the memory state ``lmu.memory.state`` (unfiltered; for a spiking
        memory, what its readout gives), ``(n, memory_d * order)`` at the last step or
        ``(n, n_steps, memory_d * order)``.

    Returns
    -------
    outputs : ndarray
    memory_state : ndarray
        Only with ``return_state=True``.
    """
    x, _ = check_data(lmu, x)
    final_only = validation.boolean(final_only, "final_only", where="predict")
    return_state = validation.boolean(return_state, "return_state", where="predict")
    check_synapse(probe_synapse, "probe_synapse", where="predict")
    rate_mode = not lmu.neuron_type.spiking and lmu.memory_config is None
    if formulation == "auto" and not rate_mode:
        formulation = "step"
    form = _formulation(lmu, formulation, per_step_targets=not final_only, where="predict")
    if form == "parallel" and not rate_mode:
        raise validation.error(
            "the parallel formulation is rate-mode only (exact memory, rate neurons)",
            "formulation",
            where="predict",
        )
    batch = _batches(len(x), batch_size, where="predict")
    xp = _pad(x, batch)
    context = _simulator(lmu, x.shape[1], form, batch, probe_synapse, probe_state=return_state,
                         final_only=final_only)
    with context as (sim, inp, probe, _):
        n_steps = 1 if form == "parallel" else x.shape[1]
        data = sim.predict({inp: _as_input(xp, form)}, n_steps=n_steps, verbose=0)
    probes = [probe, context.state_probe] if return_state else [probe]
    results = [data[p][: len(x), -1] if final_only else data[p][: len(x)] for p in probes]
    return tuple(results) if return_state else results[0]


def evaluate(lmu, x, y, formulation="auto", batch_size=100, average_last=1, probe_synapse=None):
    """Accuracy (integer labels) or NRMSE (real targets) of ``lmu`` on ``(x, y)``.

    ``average_last`` > 1 averages the output over the last that many steps (step
    formulation), which smooths a spiking network's output.

    Returns
    -------
    dict
        ``{"accuracy": ...}`` for integer labels, else ``{"nrmse": ..., "mse": ...}``.
    """
    x, y = check_data(lmu, x, y)
    average_last = validation.integer(average_last, "average_last", where="evaluate", high=x.shape[1])
    if average_last > 1:
        out = predict(lmu, x, "step", batch_size, final_only=False, probe_synapse=probe_synapse)
        out = out[:, -average_last:].mean(axis=1)
    else:
        out = predict(lmu, x, formulation, batch_size, probe_synapse=probe_synapse)
    labels = np.asarray(y)
    out_d = lmu.output_dimensions or lmu.units
    if labels.ndim == 2 and labels.shape[1] == 1 and out_d > 1:
        return {"accuracy": float(np.mean(np.argmax(out, axis=-1) == labels[:, 0]))}
    target = labels if labels.ndim == 2 else labels[:, -1]
    return {"nrmse": maths.nrmse(out, target), "mse": float(np.mean((out - target) ** 2))}
