"""Loihi deployment: the one module of nengo_lmu that knows nengo-loihi.

A :class:`~nengo_lmu.networks.LegendreMemory` runs on Loihi (or the nengo-loihi
emulator) in three steps::

    from nengo_lmu import loihi

    with nengo.Network(seed=0) as net:
        mem = loihi.LegendreMemory(order=6, theta=0.3, n_neurons=600)
        ...
    print(loihi.resources(net))            # cores, axons, synapse memory; fits?
    with loihi.Simulator(net, target="sim") as sim:   # "loihi" on a board
        sim.run(10.0)

:func:`memory_options` are the constructor arguments that make a memory accurate on
the chip; :func:`Simulator` builds any network with the model settings and build rules
below. Nothing here changes nengo's or nengo-loihi's global defaults
(``nengo_loihi.set_defaults`` is never called): every choice is made per object, or in
a builder registry private to the simulators made here.

What goes wrong on the chip, and what is done about it:

* **Decode neurons.** nengo-loihi routes a decoded ensemble-to-ensemble connection
  through spiking on/off "decode neurons" with their own extra filter (``decode_tau``);
  in a recurrent memory that noise and that filter accumulate. The memory's recurrence
  is built as neuron-to-neuron weights instead (``weights=True``), so each block has a
  single first-order synapse, as principle 3 assumes.
* **Synapse decay.** The chip's synaptic decay is a 12-bit integer; the principle-3
  mapping is computed for the decay the chip really applies
  (:func:`chip_synapse_decay`), not for ``exp(-dt / tau)``.
* **Host-to-chip input.** nengo-loihi filters a host-to-chip connection twice: by its
  own synapse on the host, then again on the chip by the block's synapse. Here the
  host side is left unfiltered and the chip's synapse (the same time constant) does
  the filtering once. The on/off spike encoders that carry the value to the chip
  saturate at one spike per step (a value of 1); the memory's input drive ``B_h u`` is
  larger than that for the higher coefficients, so each coefficient's encoders are
  given the range that its drive needs (from the memory's input statistics).
* **Weight resolution.** A weight adds a multiple of 64 (128 for mixed-sign synapses)
  to the chip's synaptic current, whatever the synapse's weight exponent below 0; the
  scale of that current is shared with the biases and thresholds and the synaptic
  decay. nengo-loihi scales each block so that its largest weight (here the host
  input's encoders) fills 8 bits, which leaves a memory's recurrent weights a few
  steps -- and as populations grow each weight shrinks (decoders go as ``1 / n``), so
  from about 1,500 neurons most of them rounded to 0 and the memory failed.
  :func:`discretize_model` gives each block the largest scale that the chip's
  registers allow (for these neurons, the bias register), each synapse the weight
  exponent of its own largest weight, and rounds the weights that still have fewer
  than 8 bits stochastically, so that the quantised weight matrix is right on
  average. Weights are also proportional to the post neuron's gain, so the memory's
  neurons all get one gain, intercepts in a moderate range (small biases) and
  moderate rates (fewer spikes per step, so larger weights per spike).
* **Passthrough nodes** are kept (see :func:`Simulator`).
* **Speed.** :class:`FastEmulatorStep` routes the emulator's spikes with one sparse
  product per step (bit-identical results).
"""

import math
import warnings
from collections import OrderedDict

import numpy as np
import nengo
from nengo.exceptions import ValidationError

import nengo_loihi
from nengo_loihi import BlockShape
from nengo_loihi.block import (
    MAX_COMPARTMENTS,
    MAX_IN_AXONS,
    MAX_OUT_AXONS,
    MAX_SYNAPSE_BITS,
    LoihiBlock,
)
from nengo_loihi.builder import Model
from nengo_loihi.builder.builder import Builder, ValidationLevel
from nengo_loihi.builder import connection as loihi_connection
from nengo_loihi.builder import discretize as loihi_discretize
from nengo_loihi.builder import network as loihi_network
from nengo_loihi.decode_neurons import OnOffDecodeNeurons
from nengo_loihi.hardware import HAS_NXSDK
from nengo_loihi.passthrough import base_obj

from . import networks

TARGETS = ("sim", "simreal", "loihi")

#: cores on one Loihi chip (nengo-loihi's allocators place one block per core)
CORES_PER_CHIP = 128

#: the largest value of the chip's 12-bit decay registers
_MAX_DECAY = 2**12 - 1

#: nengo-loihi's smallest synapse weight exponent is -6
_MIN_WEIGHT_EXP_OFFSET = 6

#: the threshold register may use this fraction of its range (the rest is headroom for
#: the synaptic current, which shares its scale)
_VTH_HEADROOM = 0.5

#: one spike adds at most 2**this to a compartment's input (21-bit sum per step)
_MAX_SPIKE_BITS = 18

#: seed of the stochastic rounding of weak synapses' weights (builds are reproducible)
_DITHER_SEED = 0x10141

#: the memory's input may reach this many of its standard deviations before the
#: host-to-chip encoders saturate (white noise rarely exceeds 3.5 sigma)
INPUT_RANGE_STD = 3.5


# --------------------------------------------------------------------------------------
# What the chip really does


def _is_number(x):
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def chip_synapse_decay(tau, dt=0.001):
    """The per-step decay of a Lowpass synapse ``tau`` as the chip implements it.

    nengo-loihi stores ``1 - exp(-dt / tau)`` in a 12-bit register and the chip decays
    the synaptic current as ``u[k] = u[k-1] * (4095 - decay_u) / 4096`` (see
    ``nengo_loihi.builder.discretize``); this is that ratio, to pass as
    ``LegendreMemory(synapse_decay=...)``.

    Parameters
    ----------
    tau : float
        Synapse time constant in seconds, > 0.
    dt : float
        Time step in seconds.

    Returns
    -------
    float
        ``a`` in ``u[k] = a u[k-1] + (1 - a) x[k]``.
    """
    if not (_is_number(tau) and tau > 0):
        raise ValidationError(f"must be a time constant > 0 (got {tau!r})", "tau", "chip_synapse_decay")
    if not (_is_number(dt) and dt > 0):
        raise ValidationError(f"must be a time step > 0 (got {dt!r})", "dt", "chip_synapse_decay")
    decay_u = float(np.clip(np.round(-math.expm1(-dt / tau) * _MAX_DECAY - 1), 0, _MAX_DECAY))
    return (_MAX_DECAY - decay_u) / (_MAX_DECAY + 1)


def memory_options(neuron_type="loihi-lif", gain=5.0, intercepts=(-0.5, 0.9), **overrides):
    """Constructor arguments that make a ``LegendreMemory`` accurate on Loihi.

    Parameters
    ----------
    neuron_type : NeuronType or str
        A type the chip runs: ``"loihi-lif"`` (``nengo_loihi.LoihiLIF``, the default)
        or ``"loihi-relu"``. On ``nengo.Simulator`` these types reproduce the chip's
        rate quantisation, so the reference run is the same network.
    gain : float
        The one gain of every neuron (per ensemble, through ``ensemble_kwargs``).
        The chip quantises all the weights into a core on one grid, whose step is set
        by the core's largest bias; weights are proportional to the post neuron's gain,
        so a spread of gains leaves the low-gain neurons with weights that round to
        nothing. A constant gain keeps every neuron's weights on the same footing.
    intercepts : (low, high)
        Intercepts are uniform over this range (through the biases). A narrow range
        of mostly positive intercepts keeps the biases, hence the weight grid, small
        and the spike counts (which set how small each weight is) moderate.
    **overrides
        Any other ``LegendreMemory`` argument; these win.

    Returns
    -------
    dict
        ``neuron_type``, ``weights=True`` (neuron-to-neuron recurrence: no decode
        neurons), ``synapse_decay=chip_synapse_decay`` (mapping for the chip's decay),
        ``feedthrough=False`` (the input then reaches the host only through the chip,
        so nengo-loihi can precompute it), ``n_std=2.0`` (each coefficient's
        radius is 2 standard deviations: with these neurons that measured lower error
        than 2.5, where spike noise is larger relative to the signal, or 1.5, where the
        state saturates) and ``ensemble_kwargs``.
    """
    neuron_type = networks.neuron_type_from_name(neuron_type)
    if not (_is_number(gain) and gain > 0):
        raise ValidationError(f"must be a number > 0 (got {gain!r})", "gain", "memory_options")
    try:
        low, high = (float(v) for v in intercepts)
    except (TypeError, ValueError):
        low = high = None
    if low is None or not -1 <= low < high < 1:
        raise ValidationError(
            f"must be a pair (low, high) with -1 <= low < high < 1 (got {intercepts!r})",
            "intercepts",
            "memory_options",
        )
    # the input current at which a neuron starts firing: 1 for LIF types, 0 for ReLU
    threshold = 1.0 if isinstance(neuron_type, (nengo.LIF, nengo.LIFRate)) else 0.0
    ensemble_kwargs = {
        "gain": nengo.dists.Choice([float(gain)]),
        "bias": nengo.dists.Uniform(threshold - high * gain, threshold - low * gain),
    }
    ensemble_kwargs.update(overrides.pop("ensemble_kwargs", None) or {})
    options = {
        "neuron_type": neuron_type,
        "weights": True,
        "synapse_decay": chip_synapse_decay,
        "feedthrough": False,
        "n_std": 2.0,
        "ensemble_kwargs": ensemble_kwargs,
    }
    options.update(overrides)
    return options


def LegendreMemory(order, theta, n_neurons=None, **kwargs):
    """A :class:`nengo_lmu.networks.LegendreMemory` built with :func:`memory_options`.

    The same network class (and wiring) as on every other backend; only the
    constructor arguments differ. Keyword arguments (including those of
    :func:`memory_options`) override the options.
    """
    option_names = ("neuron_type", "gain", "intercepts")
    options = memory_options(**{k: kwargs.pop(k) for k in option_names if k in kwargs})
    if "ensemble_kwargs" in kwargs:
        options["ensemble_kwargs"].update(kwargs.pop("ensemble_kwargs") or {})
    options.update(kwargs)
    return networks.LegendreMemory(order, theta, n_neurons, **options)


# --------------------------------------------------------------------------------------
# Building


class RangedOnOffNeurons(OnOffDecodeNeurons):
    """nengo-loihi's host-to-chip on/off spike encoders, for values in ``[-k, k]``.

    The host neurons see ``x / k`` (so they never exceed one spike per step) and the
    chip's encoders are scaled by ``k``: same value on the chip, no saturation.
    """

    def __init__(self, value_range, dt=0.001):
        super().__init__(dt=dt, is_input=True)
        self.value_range = float(value_range)
        self.gain = self.gain / self.value_range
        self.scale = self.scale * self.value_range


def _input_ranges(network):
    """``{ensemble: k}`` for the coefficient ensembles of every memory in ``network``.

    The drive of coefficient ``i`` is ``B_h[i] u``; it is sent to the chip in full
    (the filter is on the chip), so its range is ``|B_h[i]|`` times the input's range.
    """
    ranges = {}
    for mem in _memories(network):
        u_range = INPUT_RANGE_STD * mem.input_rms
        drive = np.abs(mem.input_transform).sum(axis=1) * u_range
        for ens, k in zip(mem.coefficient_ensembles, drive):
            ranges[ens] = max(1.0, float(k))
    return ranges


def _memories(network):
    if isinstance(network, networks.LegendreMemory):
        yield network
    for sub in network.networks:
        yield from _memories(sub)


def lmu_input_ranges(lmu, x, margin=1.2):
    """``input_ranges`` for :func:`Simulator` running ``lmu`` with its hidden layer on chip.

    The exact memory and the input stay on the host; their values reach the hidden
    neurons through host-to-chip connections. This runs the memory over the sequences
    ``x`` (``(n, n_steps, input_dimensions)``, as for :mod:`nengo_lmu.dl`) and returns,
    for each of those connections, ``margin`` times the largest absolute value of each
    dimension (at least 1e-3).
    """
    x = np.asarray(x, dtype=float)
    x = x[:, :, None] if x.ndim == 2 and lmu.input_dimensions == 1 else x
    peak = 0
    for m in lmu.memory_states(x):
        peak = np.maximum(peak, np.abs(m).max(axis=0))
    ranges = {lmu.param_connections["W_m"]: np.maximum(margin * peak, 1e-3)}
    if "W_x" in lmu.param_connections:
        ranges[lmu.param_connections["W_x"]] = np.maximum(margin * np.abs(x).max(axis=(0, 1)), 1e-3)
    return ranges


class _NeuronInputEncoders(OnOffDecodeNeurons):
    """Host-to-chip on/off encoders for values in ``[-k_i, k_i]``, one ``k_i`` per dimension.

    The host neurons see ``x_i / k_i``; the chip's weights must be multiplied by ``k``.
    """

    def __init__(self, value_ranges, dt=0.001):
        super().__init__(dt=dt, is_input=True)
        self.value_ranges = np.asarray(value_ranges, dtype=float)

    def get_ensemble(self, dim, add_to_container=True):
        ens = super().get_ensemble(dim, add_to_container=add_to_container)
        k = np.broadcast_to(self.value_ranges, (dim,))
        ens.gain = np.asarray(ens.gain) / np.concatenate([k, k])  # on neurons, then off
        return ens


def _ranged_neuron_input(model, conn):
    """A host-to-chip connection into neurons, sent as ``x / k`` with weights ``W k``.

    nengo-loihi sends a host value to the chip through on/off neurons that fire at most
    one spike per step, so every dimension saturates at 1. With per-dimension ranges
    ``k`` (from ``input_ranges``, see :func:`lmu_input_ranges`) each dimension is scaled
    into the encoders' range on the host and back by the chip's weights.
    """
    k = np.broadcast_to(np.asarray(model.nengo_lmu_input_ranges[conn], dtype=float), (conn.size_mid,))
    init = 1.0 if isinstance(conn.transform, nengo.transforms.NoTransform) else conn.transform.init
    W = np.asarray(init, dtype=float)
    if W.ndim < 2:
        W = W * np.eye(conn.size_out, conn.size_mid)
    scaled = nengo.Connection(
        conn.pre,
        conn.post,
        transform=W * k[None, :],
        synapse=conn.synapse,
        label=conn.label,
        add_to_container=False,
    )
    loihi_connection._inherit_seed(model, scaled, model, conn)
    loihi_connection._inherit_config(model, scaled, model, conn)
    saved = model.node_neurons
    model.node_neurons = _NeuronInputEncoders(k, dt=model.dt)
    try:
        loihi_connection.build_host_to_chip(model, scaled)
    finally:
        model.node_neurons = saved
    model.connection_decode_neurons[conn] = model.connection_decode_neurons.get(scaled)


def _build_connection(model, conn):
    """nengo-loihi's connection builder, except for host-to-chip inputs.

    For those into ensembles, the connection's Lowpass moves from the host to the chip
    (nengo-loihi would apply it on the host and then the block's synapse again on the
    chip), and the on/off encoders get the post ensemble's value range. Those into
    neurons given a range in ``input_ranges`` are scaled to it
    (:func:`_ranged_neuron_input`).
    """
    post = conn.post_obj
    if (
        conn in getattr(model, "nengo_lmu_input_ranges", {})
        and isinstance(post, nengo.ensemble.Neurons)
        and not isinstance(conn.pre_obj, nengo.ensemble.Neurons)
        and conn.function is None
        and conn.learning_rule_type is None
        and conn.pre_slice == slice(None)
        and (
            isinstance(conn.transform, nengo.transforms.NoTransform)
            or (
                isinstance(conn.transform, nengo.transforms.Dense)
                and not isinstance(conn.transform.init, nengo.dists.Distribution)
            )
        )
        and not model.split.on_chip(base_obj(conn.pre))
        and model.split.on_chip(post.ensemble)
    ):
        return _ranged_neuron_input(model, conn)
    if (
        isinstance(post, nengo.Ensemble)
        and type(conn.synapse) is nengo.Lowpass  # not Alpha etc.: the chip has lowpass only
        and conn.learning_rule_type is None
        and not model.split.on_chip(base_obj(conn.pre))
        and model.split.on_chip(post)
    ):
        unfiltered = nengo.Connection(
            conn.pre,
            conn.post,
            transform=conn.transform,
            function=conn.function,
            solver=conn.solver,
            eval_points=conn.eval_points,
            scale_eval_points=conn.scale_eval_points,
            synapse=None,
            label=conn.label,
            add_to_container=False,
        )
        loihi_connection._inherit_seed(model, unfiltered, model, conn)
        loihi_connection._inherit_config(model, unfiltered, model, conn)
        ranges = getattr(model, "nengo_lmu_input_ranges", {})
        saved = model.decode_tau, model.node_neurons
        # the chip end of the input is filtered with model.decode_tau: make it this tau
        model.decode_tau = conn.synapse.tau
        model.node_neurons = RangedOnOffNeurons(ranges.get(post, 1.0), dt=model.dt)
        try:
            loihi_connection.build_host_to_chip(model, unfiltered)
        finally:
            model.decode_tau, model.node_neurons = saved
        model.connection_decode_neurons[conn] = model.connection_decode_neurons.get(unfiltered)
        return None
    return loihi_connection.build_connection(model, conn)


def _build_network(model, network, precompute=None, remove_passthrough=True, discretize=True):
    """nengo-loihi's network builder, with :func:`discretize_model` as the last step."""
    loihi_network.build_network(
        model,
        network,
        precompute=precompute,
        remove_passthrough=remove_passthrough,
        discretize=False,
    )
    if discretize and network is model.toplevel:
        discretize_model(model)


def discretize_model(model):
    """nengo-loihi's ``discretize_model``, with each block's weight grid chosen for its weights.

    On the chip a weight adds ``w * 2**(6 + weight_exp)`` to the synaptic current,
    ``w`` an 8-bit integer; for ``weight_exp < 0`` the low bits are shifted away, so the
    finest step of any synapse is 64 current units (128 for mixed-sign synapses, whose
    weights are 7 bits and a sign). nengo-loihi scales each block so
    that its largest weight -- here the host input's on/off encoders -- fills 8 bits at
    ``weight_exp <= 0``, which leaves a memory's recurrent weights (smaller by 1-2 orders
    of magnitude, and smaller still per neuron as populations grow) a few steps of 64 or
    nothing at all: from about 1,500 neurons most of them rounded to zero. Here (see
    :func:`_block_weight_scale`) each block's scale is as large as the chip allows
    (threshold, bias and current ranges; for a memory's neurons the bias register
    binds), up to where its weakest synapse fills 8 bits,
    and each synapse gets the weight exponent of its own largest weight (positive
    exponents for the strong input synapses). Weights that still have fewer than 8 bits
    are rounded stochastically (:func:`_discretize_synapse`), so that the quantised
    matrix is unbiased instead of losing all its small entries.
    """
    v_scales = {}
    for i, block in enumerate(model.blocks):
        w_maxs = [s.max_abs_weight() for s in block.synapses]
        w_max = max(w_maxs) if w_maxs else 0
        scale = _block_weight_scale(block) if w_max > 1e-8 else None
        if scale is None:
            info = loihi_discretize.discretize_compartment(block.compartment, w_max)
            for synapse in block.synapses:
                _discretize_synapse_nengo_loihi(synapse, w_max, info["w_scale"], info["w_exp"])
        else:
            # nengo-loihi's compartment discretisation at w_exp = 0 gives current units
            # per unit weight of 2**6 * 255 / w_max_eff: choose w_max_eff for ``scale``
            info = loihi_discretize.discretize_compartment(block.compartment, 255.0 * 64 / scale)
            scale = float(np.ravel(info["w_scale"])[0]) * 2.0 ** (6 + info["w_exp"])
            rng = np.random.RandomState(_DITHER_SEED + i)
            for synapse in block.synapses:
                _discretize_synapse(synapse, scale, rng)
        v_scales[block] = info["v_scale"]
    for probe in model.probes:
        for i, block in enumerate(probe.target):
            loihi_discretize.discretize_probe(probe, i, v_scales[block])


def _block_weight_scale(block):
    """Chip current units per unit of float weight for ``block``, or None (nengo-loihi's).

    The largest scale that keeps the block inside the chip's ranges:

    * threshold ``vth`` at most ``_VTH_HEADROOM`` of its register's range (nengo-loihi
      allows all of it; the 23-bit current shares the scale, so this doubles its
      headroom),
    * biases within the 12-bit-mantissa bias register (for a memory's neurons this is
      the limit that binds),
    * every synapse's weight exponent at most 7, and one spike of the largest weight at
      most ``2**_MAX_SPIKE_BITS`` current units (the per-step input sum has 21 bits),

    and no larger than needed for the weakest synapse to fill its 8 bits.
    """
    comp = block.compartment
    if any(s.learning for s in block.synapses):
        return None
    w_maxs = np.array([s.max_abs_weight() for s in block.synapses])
    w_maxs = w_maxs[w_maxs > 1e-16]
    if len(w_maxs) == 0:
        return None
    decay_u = np.clip(np.round(comp.decay_u * _MAX_DECAY - 1), 0, _MAX_DECAY)
    decay_v = np.round(comp.decay_v * _MAX_DECAY)
    u_infactor = (
        1.0 / loihi_discretize.decay_magnitude(decay_u, x0=2097152, offset=1)
        if comp.scale_u else np.ones(comp.decay_u.shape)
    )
    v_infactor = (
        1.0 / loihi_discretize.decay_magnitude(decay_v, x0=2097152)
        if comp.scale_v else np.ones(comp.decay_v.shape)
    )
    s_scale = 1.0 / (u_infactor * v_infactor)
    if not np.allclose(s_scale, s_scale[0], rtol=1e-6):
        return None
    s_scale = float(s_scale[0])
    v_inf = float(np.max(v_infactor))
    limits = [255.0 * 2 ** 13 / w_maxs.max(), 2.0 ** _MAX_SPIKE_BITS / w_maxs.max()]
    vth = float(np.max(comp.vth))
    if vth > 0:
        limits.append(_VTH_HEADROOM * loihi_discretize.VTH_MAX / (vth * s_scale))
    b_max = float(np.max(np.abs(comp.bias)))
    if b_max > 0:
        limits.append(0.99 * loihi_discretize.BIAS_MAX / (b_max * s_scale * v_inf))
    needed = 255.0 * 64 / w_maxs.min()
    return min(needed, *limits)


def _discretize_synapse(synapse, scale, rng):
    """Integer weights for ``synapse``: ``scale`` current units per unit weight.

    The synapse's exponent is the smallest (at least 0: below that the chip only drops
    bits) at which its largest weight fits 8 bits. If its weights have fewer than 8
    bits at that exponent (a weak synapse in a block with stronger ones), they are
    rounded up or down at random with the probabilities that make each weight right on
    average: rounding to the nearest would set every weight below half a step to 0.
    """
    w_max_i = synapse.max_abs_weight()
    exp = 0
    if w_max_i > 1e-16:
        exp = int(np.clip(np.ceil(np.log2(w_max_i * scale / (255.0 * 64))), 0, 7))
    synapse.format(weight_exp=exp)
    step = 2.0 ** (6 + exp)
    dither = w_max_i * scale / step < 128  # fewer than 8 bits used
    # weights of mixed-sign synapses are stored as 7 bits and a sign: steps of 2 here
    q = 2.0 ** synapse.synapse_cfg.shift_bits
    weights = list(synapse.weights)
    if not weights:
        return
    # all rows at once (the discretisation is elementwise), then back into each row
    x = np.concatenate([w.ravel() for w in weights]).astype(np.float64) * (scale / step)
    if dither:
        x = q * np.floor(x / q + rng.uniform(size=x.shape))
    ints = loihi_discretize.discretize_weights(synapse.synapse_cfg, x)
    ends = np.cumsum([w.size for w in weights])
    for w, row in zip(weights, np.split(ints, ends[:-1])):
        loihi_discretize.array_to_int(w, row.reshape(w.shape))


def _discretize_synapse_nengo_loihi(synapse, w_max, w_scale, w_exp):
    """nengo-loihi's synapse discretisation (blocks without a scale of their own).

    nengo-loihi 1.1 clips a weak synapse's weight exponent at -6 *after* scaling its
    weights for the unclipped one, making that synapse too strong; here the scaling is
    limited instead.
    """

    w_max_i = synapse.max_abs_weight()
    if synapse.learning or not w_max_i > 1e-16:
        return loihi_discretize.discretize_synapse(synapse, w_max, w_scale, w_exp)
    dw_exp = int(np.floor(np.log2(w_max / w_max_i)))
    dw_exp = min(dw_exp, w_exp + _MIN_WEIGHT_EXP_OFFSET)
    synapse.format(weight_exp=w_exp - dw_exp)
    with warnings.catch_warnings():
        # "Lost N extra bits": the chip's weight grid, expected here (one per weight row)
        warnings.filterwarnings("ignore", message="Lost .* extra bits")
        for w, idxs in zip(synapse.weights, synapse.indices):
            ws = w_scale[idxs] if np.ndim(w_scale) > 0 else w_scale
            loihi_discretize.array_to_int(
                w, loihi_discretize.discretize_weights(synapse.synapse_cfg, w * ws * 2.0**dw_exp)
            )
    return None


def _builder():
    """A nengo-loihi builder whose registry is private: other simulators are untouched."""

    class LMUBuilder(Builder):
        builders = {
            **Builder.builders,
            nengo.Connection: _build_connection,
            nengo.Network: _build_network,
        }

    return LMUBuilder()


def fitting_block_shape(block):
    """A ``BlockShape`` splitting ``block`` into the fewest cores that each fit, or None.

    nengo-loihi splits an oversized block into ``ceil(total bits / bits per core)``
    pieces, which ignores that every input axon's weights round up to whole 64-bit
    memory words in every piece: large recurrent weight matrices then overflow a core
    by a few percent. This counts the bits of a piece of each candidate size exactly.
    None means one core is enough, or the block cannot fit by splitting (too many input
    axons, or weights that are not one dense row per axon), which :func:`resources`
    reports.
    """
    n = block.n_neurons
    synapses = block.synapses
    if sum(s.n_axons for s in synapses) > MAX_IN_AXONS:
        return None
    if any(s.synapse_cfg is None or s.axon_to_weight_map is not None for s in synapses):
        return None

    def bits(size):
        return sum(
            s.synapse_cfg.bits_per_axon(min(w.shape[1], size)) for s in synapses for w in s.weights
        )

    for n_split in range(1, n + 1):
        size = -(-n // n_split)
        if size <= MAX_COMPARTMENTS and bits(size) <= MAX_SYNAPSE_BITS:
            return None if n_split == 1 else BlockShape((size,), (n,))
    return None


def _fit_blocks(model, obj):
    """Build callback: after each connection, re-fit the shape of the block it targets.

    Blocks whose shape the user set (``BlockShape`` in the network config) are left
    alone.
    """
    if not isinstance(obj, nengo.Connection):
        return
    targets = model.objs.get(obj.post_obj, {})
    block = targets.get("in") if isinstance(targets, dict) else None
    if not isinstance(block, LoihiBlock):
        return
    fitted = model.nengo_lmu_fitted_blocks
    if model.block_shapes.get(block) is not None and block not in fitted:
        return
    shape = fitting_block_shape(block)
    if shape is not None:
        model.block_shapes[block] = shape
        fitted.add(block)


def make_model(network, dt=0.001, input_ranges=None):
    """A ``nengo_loihi.builder.Model`` with nengo_lmu's build rules, for ``network``.

    Pass it as ``nengo_loihi.Simulator(network, model=make_model(network))`` to combine
    these rules with other nengo-loihi options; :func:`Simulator` does that for you.
    ``input_ranges`` (see :func:`Simulator`) adds value ranges of host-to-chip inputs.
    """
    model = Model(dt=float(dt), label=f"nengo_lmu: {network}", builder=_builder())
    model.nengo_lmu_input_ranges = _input_ranges(network)
    model.nengo_lmu_input_ranges.update(input_ranges or {})
    model.nengo_lmu_fitted_blocks = set()
    model.build_callback = lambda obj: _fit_blocks(model, obj)
    return model


def _check_target(target):
    if target not in TARGETS:
        raise ValidationError(f"must be one of {TARGETS} (got {target!r})", "target", "Simulator")
    if target == "loihi" and not HAS_NXSDK:
        raise ImportError(
            "target='loihi' needs Intel's nxsdk, which is missing (not importable) on "
            "this machine; target='sim' runs the same network on the nengo-loihi "
            "emulator, and hardware/README.md explains how to run on a board"
        )


def Simulator(
    network,
    target="sim",
    dt=0.001,
    precompute=None,
    progress_bar=None,
    remove_passthrough=False,
    fast_emulator=True,
    input_ranges=None,
    **kwargs,
):
    """Build ``network`` for Loihi and return a ``nengo_loihi.Simulator``.

    Parameters
    ----------
    network : nengo.Network
        Any network; memories made with :func:`memory_options` are the accurate ones.
    target : {"sim", "simreal", "loihi"}
        ``"sim"``: the emulator, bit-true to the chip's integer arithmetic;
        ``"simreal"``: the emulator in floating point (no quantisation);
        ``"loihi"``: a Loihi board, through nxsdk.
    dt : float
        Time step, in seconds.
    precompute : bool or None
        Run host inputs ahead of the chip when they do not depend on its output
        (much faster). None: whenever possible.
    progress_bar : None or False
        nengo-loihi has no progress bar; anything true is ignored.
    remove_passthrough : bool
        nengo-loihi's option to compile passthrough nodes away. Off by default: with
        it, a probed passthrough node with no outgoing connection (such as a memory's
        ``output``) silently loses its input in nengo-loihi 1.1, and a memory built
        with ``weights=True`` has no passthrough node inside its on-chip loop anyway.
    fast_emulator : bool
        On the emulator, route spikes with :class:`FastEmulatorStep` (same arithmetic,
        several times faster). ``sim.fast_emulator`` says whether it was used.
    input_ranges : dict or None
        ``{connection: k}``: host-to-chip connections into neurons whose input reaches
        ``k`` (a number or one per dimension) in absolute value, so that nengo-loihi's
        one-spike-per-step input encoders do not saturate past 1; see
        :func:`lmu_input_ranges` for an :class:`~nengo_lmu.lmu.LMU`. Memories made
        with :func:`memory_options` get theirs from their input statistics.
    **kwargs
        Passed to ``nengo_loihi.Simulator`` (``seed``, ``hardware_options``, ...).
    """
    _check_target(target)
    model = make_model(network, dt=dt, input_ranges=input_ranges)
    # nengo-loihi's "tau_s is already set" warnings are kept: they mean that a block
    # gets inputs with different synapses, and all of them will use the longest
    sim = nengo_loihi.Simulator(
        network,
        dt=dt,
        target=target,
        model=model,
        precompute=precompute,
        remove_passthrough=remove_passthrough,
        **kwargs,
    )
    emulator = sim.sims.get("emulator")
    sim.fast_emulator = bool(fast_emulator and emulator is not None and FastEmulatorStep.attach(emulator))
    return sim


# --------------------------------------------------------------------------------------
# A faster emulator step


class FastEmulatorStep:
    """The nengo-loihi emulator's step, with spike routing as one sparse product.

    nengo-loihi's emulator delivers spikes one Python object at a time (a ``Spike``
    per spike per axon, then one fancy-indexed add each), which dominates its run
    time for recurrent weight matrices. All routing here is fixed after the build, so
    it folds into one sparse matrix from spiking compartments (and input axons) to
    the compartments they drive; the integer (or, for ``simreal``, float) sums are
    the same, and every other part of the step is nengo-loihi's own code.

    Only models without learning and without population (convolutional) axons are
    eligible; :meth:`attach` leaves other emulators unchanged and returns False.
    """

    def __init__(self, emulator):
        import scipy.sparse

        self.emulator = emulator
        info = emulator.block_info
        n = info.n_compartments
        dtype = np.int64 if info.dtype == np.int32 else np.float64
        slices = {syn: sl for syn, sl in emulator.synapses.items()}

        def routing(axons, n_sources, source_start):
            rows, cols, vals = [], [], []
            for axon in axons:
                syn = axon.target
                for c in range(n_sources):
                    a = axon.map_axon(np.array([c]))[0]
                    if a < 0:
                        continue
                    base = syn.axon_compartment_base(a)
                    if base is None:
                        continue
                    w, idx = syn.axon_weights_indices(a, atom=0)
                    rows.append(np.full(len(idx), source_start + c))
                    cols.append(slices[syn].start + base + idx)
                    vals.append(np.asarray(w, dtype=dtype))
            if not rows:
                return scipy.sparse.csr_matrix((n, max(n_sources + source_start, 1)), dtype=dtype)
            rows, cols, vals = (np.concatenate(x) for x in (rows, cols, vals))
            # (target, source): input = matrix @ spikes
            return scipy.sparse.csr_matrix(
                (vals, (cols, rows)), shape=(n, source_start + n_sources), dtype=dtype
            )

        recurrent = scipy.sparse.csr_matrix((n, n), dtype=dtype)
        for block, sl in info.slices.items():
            m = routing(block.axons, block.n_neurons, sl.start)
            m.resize((n, n))
            recurrent = recurrent + m
        self.n = n
        self.recurrent = recurrent.tocsc()
        # all host inputs in one matrix: input i's neurons are sources offsets[i]...
        self.input_offsets = np.cumsum([0] + [inp.n_neurons for inp in emulator.inputs])
        inputs = scipy.sparse.csr_matrix((n, max(self.input_offsets[-1], 1)), dtype=dtype)
        for inp, offset in zip(emulator.inputs, self.input_offsets):
            m = routing(inp.axons, inp.n_neurons, offset)
            m.resize(inputs.shape)
            inputs = inputs + m
        self.inputs = inputs.tocsc()
        self.dtype = info.dtype

    def _drive(self, matrix, sources):
        """``matrix[:, sources].sum(axis=1)``, summing only the stored entries needed."""
        starts = matrix.indptr[sources]
        lengths = matrix.indptr[np.asarray(sources) + 1] - starts
        total = lengths.sum()
        if total == 0:
            return 0
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        picked = offsets + np.arange(total)
        # float64 sums of integer weights are exact (far below 2**53)
        return np.bincount(
            matrix.indices[picked], weights=matrix.data[picked], minlength=self.n
        )

    @staticmethod
    def eligible(emulator):
        synapses = [s for s, _ in emulator.synapses.items()]
        axons = [a for a, _ in emulator.axons.items()]
        axons += [a for inp in emulator.inputs for a in inp.axons]
        return (
            all(not s.learning and s.pop_type == 0 for s in synapses)
            and all(a.compartment_atoms is None or not np.any(a.compartment_atoms) for a in axons)
            and all(hasattr(inp, "n_neurons") for inp in emulator.inputs)
        )

    @classmethod
    def attach(cls, emulator):
        """Replace ``emulator.step`` on this instance (not the class) if eligible."""
        if not cls.eligible(emulator):
            return False
        emulator.step = cls(emulator)
        return True

    def __call__(self):
        emu = self.emulator
        emu.t += 1
        comp = emu.compartment
        comp.advance_input()
        drive = self._drive(self.recurrent, np.flatnonzero(comp.spiked))
        if emu.t >= 2:  # input spikes take one time-step to arrive (as in nengo-loihi)
            sources = [
                offset + np.asarray(inp.spike_idxs(emu.t - 1), dtype=int)
                for inp, offset in zip(emu.inputs, self.input_offsets)
            ]
            if sources:
                drive = drive + self._drive(self.inputs, np.concatenate(sources))
        if not np.isscalar(drive):
            if self.dtype == np.int32:
                drive = drive.astype(np.int64)  # then wrap to int32 as the chip's sum would
            comp.input[0] += drive.astype(self.dtype)
        comp.update(emu.rng)
        emu.probes.update(emu.t, comp)


# --------------------------------------------------------------------------------------
# Resources


def resources(network, dt=0.001, cores_per_chip=CORES_PER_CHIP, remove_passthrough=False, input_ranges=None):
    """What ``network`` needs on Loihi, without running it.

    Builds the network the way :func:`Simulator` does (including nengo-loihi's
    splitting of large blocks over cores) and reads each block's use of its core.

    Returns
    -------
    Resources
        ``blocks`` (one row per core: label, compartments, in-axons, out-axons,
        synapse bits, and ``overflow``, the limits it exceeds), ``total``, ``cores``,
        ``chips`` and ``fits`` (on one chip). ``str()`` gives a table.
    """
    model = make_model(network, dt=dt, input_ranges=input_ranges)
    model.validation_level = ValidationLevel.NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.build(network, discretize=False, remove_passthrough=remove_passthrough)
    rows = []
    for block in model.blocks:
        use = block.utilization()
        row = OrderedDict(label=str(block.label or block))
        row.update((k, int(v[0])) for k, v in use.items())
        row["overflow"] = [k for k, v in use.items() if v[0] > v[1]]
        rows.append(row)
    return Resources(rows, cores_per_chip)


LIMITS = OrderedDict(
    [
        ("compartments", MAX_COMPARTMENTS),
        ("in-axons", MAX_IN_AXONS),
        ("out-axons", MAX_OUT_AXONS),
        ("synapses", MAX_SYNAPSE_BITS),
    ]
)


class Resources:
    """A network's use of Loihi cores; see :func:`resources`."""

    def __init__(self, blocks, cores_per_chip=CORES_PER_CHIP):
        self.blocks = blocks
        self.total = OrderedDict((k, sum(b[k] for b in blocks)) for k in LIMITS)
        self.cores = len(blocks)
        self.cores_per_chip = cores_per_chip
        self.chips = max(1, -(-self.cores // cores_per_chip))
        self.overflows = [b for b in blocks if b["overflow"]]
        self.fits = not self.overflows and self.cores <= cores_per_chip

    def as_dict(self):
        return {
            "cores": self.cores,
            "chips": self.chips,
            "fits_one_chip": self.fits,
            "total": dict(self.total),
            "limits_per_core": dict(LIMITS),
            "blocks": [dict(b) for b in self.blocks],
        }

    def __str__(self):
        head = f"{'block':56s} {'compartments':>12s} {'in-axons':>9s} {'out-axons':>9s} {'synapse bits':>13s}"
        lines = [head]
        for b in self.blocks:
            flag = f"  OVERFLOW: {', '.join(b['overflow'])}" if b["overflow"] else ""
            lines.append(
                f"{b['label'][:56]:56s} {b['compartments']:12d} {b['in-axons']:9d} "
                f"{b['out-axons']:9d} {b['synapses']:13d}{flag}"
            )
        t = self.total
        lines.append(
            f"{'total':56s} {t['compartments']:12d} {t['in-axons']:9d} {t['out-axons']:9d} {t['synapses']:13d}"
        )
        lim = "per-core limits: " + ", ".join(f"{k} {v}" for k, v in LIMITS.items())
        lines.append(lim)
        if self.overflows:
            names = "; ".join(f"{b['label']} ({', '.join(b['overflow'])})" for b in self.overflows)
            lines.append(f"does NOT fit: {len(self.overflows)} block(s) exceed a core: {names}")
        else:
            lines.append(
                f"{self.cores} cores on {self.chips} chip(s) of {self.cores_per_chip} cores: "
                + ("fits on one chip" if self.fits else f"needs {self.chips} chips")
            )
        return "\n".join(lines)
