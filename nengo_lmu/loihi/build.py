"""Build rules: how a network is built for the chip (not how its weights are rounded).

A builder registry private to the models made by :func:`make_model` (:func:`_builder`)
replaces two of nengo-loihi's rules; nengo-loihi's own registry is left untouched:

* connections (:func:`build_connection`): a host-to-chip input is filtered once, on
  the chip, and its on/off spike encoders get the value range the input needs;
* networks (:func:`build_network`): every Legendre memory is checked against the
  simulator's ``dt``, and the model is discretised by
  :func:`~nengo_lmu.loihi.discretize.discretize_model`.

:func:`make_model` also fits large blocks onto cores (:func:`fitting_block_shape`), after
refusing blocks whose inputs ask for different synapses (:func:`check_block_synapses`).
"""

import nengo
import numpy as np
from nengo_loihi import BlockShape

from .. import networks, validation
from . import compat
from .discretize import discretize_model

#: the memory's input may reach this many of its standard deviations before the
#: host-to-chip encoders saturate (white noise rarely exceeds 3.5 sigma)
INPUT_RANGE_STD = 3.5


class RangedOnOffNeurons(compat.OnOffDecodeNeurons):
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
    for mem in networks.memories(network):
        u_range = INPUT_RANGE_STD * mem.input_rms
        drive = np.abs(mem.input_transform).sum(axis=1) * u_range
        for ens, k in zip(mem.coefficient_ensembles, drive):
            ranges[ens] = max(1.0, float(k))
    return ranges


def memory_input_ranges(memory, u, margin=1.2):
    """``{ensemble: k}`` for the coefficient ensembles of ``memory`` fed the input ``u``.

    ``u`` is ``(n, n_steps, memory.size_in)``; ``k`` is ``margin`` times the largest drive
    ``B_h[i] u`` of coefficient ``i`` over it (at least 1, as :func:`_input_ranges`).
    The statistics' range, ``INPUT_RANGE_STD`` standard deviations, assumes stationary
    white noise; an input whose loudness drifts exceeds it and the host-to-chip encoders
    clip (window-rms on the Loihi emulator, the seed-1 test stream, which has a loud
    stretch: the state errors of coefficients 4 and 5 were 1.3 and 6.6 times their RMS,
    0.54 and 1.6 times with the ranges of the data; the whole network with the memory
    scaled ``"peak"``, four build seeds, NRMSE 0.046-0.057 before, 0.035-0.051 with them).
    """
    drive = np.abs(np.asarray(u, dtype=float) @ memory.input_transform.T).max(axis=(0, 1))
    return {ens: max(1.0, float(margin * k)) for ens, k in zip(memory.coefficient_ensembles, drive)}


def lmu_input_ranges(lmu, x, margin=1.2, states=None):
    """``input_ranges`` for a Loihi ``Simulator`` running ``lmu`` with its hidden layer on chip.

    The exact memory and the input stay on the host; their values reach the hidden
    neurons through host-to-chip connections (with a spiking memory wired neuron to neuron,
    ``state_readout="neurons"``, the memory's input ``u`` does instead). For each of those connections this returns
    ``margin`` times the largest absolute value of each dimension (at least 1e-3) over
    the sequences ``x`` (``(n, n_steps, input_dimensions)``, as for :mod:`nengo_lmu.dl`);
    such a memory's coefficient ensembles, unless the cell is recurrent, get the ranges of
    their drives (:func:`memory_input_ranges`). ``states`` is the exact memory over ``x`` (``(n, n_steps, memory_d * order)``,
    :func:`nengo_lmu.deploy.exact_states`) if already computed; otherwise it is run here.
    """
    x = lmu.check_sequences(x)
    w_m = lmu.param_connections["W_m"]
    if isinstance(w_m, list):
        # a spiking memory on the chip feeding the hidden neurons directly: only the memory's
        # input u = e_x x (the first connection, unless the memory has a readout synapse of
        # its own: then none) crosses from the host
        u = x @ lmu.params["e_x"].T if "e_x" in lmu.params else x
        from_host = [c for c in w_m[:1] if isinstance(c.pre_obj, nengo.Node)]
        ranges = {c: np.maximum(margin * np.abs(u).max(axis=(0, 1)), 1e-3) for c in from_host}
        if not lmu.recurrent:
            # u is then the memory's whole input: its coefficients' drives get the ranges
            # the data reach, not INPUT_RANGE_STD standard deviations
            ranges.update(memory_input_ranges(lmu.memory, u, margin))
    else:
        if states is None:
            peak = 0
            for m in lmu.memory_states(x):
                peak = np.maximum(peak, np.abs(m).max(axis=0))
        else:
            peak = np.abs(states).max(axis=(0, 1))
        ranges = {w_m: np.maximum(margin * peak, 1e-3)}
    if "W_x" in lmu.param_connections:
        ranges[lmu.param_connections["W_x"]] = np.maximum(margin * np.abs(x).max(axis=(0, 1)), 1e-3)
    return ranges


class _NeuronInputEncoders(compat.OnOffDecodeNeurons):
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
    # a Lowpass moves to the chip, as for inputs into ensembles (build_connection): on the
    # host too, the input would be filtered twice
    on_chip = type(conn.synapse) is nengo.Lowpass
    scaled = nengo.Connection(
        conn.pre,
        conn.post,
        transform=W * k[None, :],
        synapse=None if on_chip else conn.synapse,
        label=conn.label,
        add_to_container=False,
    )
    compat.inherit_seed(model, scaled, model, conn)
    compat.inherit_config(model, scaled, model, conn)
    saved = model.node_neurons, model.decode_tau
    model.node_neurons = _NeuronInputEncoders(k, dt=model.dt)
    if on_chip:
        model.decode_tau = conn.synapse.tau
    try:
        compat.build_host_to_chip(model, scaled)
    finally:
        model.node_neurons, model.decode_tau = saved
    model.connection_decode_neurons[conn] = model.connection_decode_neurons.get(scaled)


def build_connection(model, conn):
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
        and not model.split.on_chip(compat.base_obj(conn.pre))
        and model.split.on_chip(post.ensemble)
    ):
        return _ranged_neuron_input(model, conn)
    if (
        isinstance(post, nengo.Ensemble)
        and type(conn.synapse) is nengo.Lowpass  # not Alpha etc.: the chip has lowpass only
        and conn.learning_rule_type is None
        and not model.split.on_chip(compat.base_obj(conn.pre))
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
        compat.inherit_seed(model, unfiltered, model, conn)
        compat.inherit_config(model, unfiltered, model, conn)
        ranges = getattr(model, "nengo_lmu_input_ranges", {})
        saved = model.decode_tau, model.node_neurons
        # the chip end of the input is filtered with model.decode_tau: make it this tau
        model.decode_tau = conn.synapse.tau
        model.node_neurons = RangedOnOffNeurons(ranges.get(post, 1.0), dt=model.dt)
        try:
            compat.build_host_to_chip(model, unfiltered)
        finally:
            model.decode_tau, model.node_neurons = saved
        model.connection_decode_neurons[conn] = model.connection_decode_neurons.get(unfiltered)
        return None
    return compat.build_loihi_connection(model, conn)


def build_network(model, network, precompute=None, remove_passthrough=True, discretize=True):
    """nengo-loihi's network rule, with memories' ``dt`` checked and :func:`discretize_model` last.

    A :class:`~nengo_lmu.networks.LegendreMemory` is refused (``ValidationError``) at a
    ``dt`` other than the one its mapping was computed for
    (:func:`nengo_lmu.networks.check_dt`), as on nengo and NengoDL.
    """
    if isinstance(network, networks.LegendreMemory):
        networks.check_dt(network, model.dt)
    compat.build_loihi_network(
        model,
        network,
        precompute=precompute,
        remove_passthrough=remove_passthrough,
        discretize=False,
    )
    if discretize and network is model.toplevel:
        discretize_model(model)


def _builder():
    """A nengo-loihi builder whose registry is private: other simulators are untouched."""

    class LMUBuilder(compat.Builder):
        builders = {
            **compat.Builder.builders,
            nengo.Connection: build_connection,
            nengo.Network: build_network,
        }

    return LMUBuilder()


def fitting_block_shape(block):
    """A ``BlockShape`` splitting ``block`` into the fewest cores that each fit, or None.

    nengo-loihi splits an oversized block into ``ceil(total bits / bits per core)``
    pieces, which ignores that every input axon's weights round up to whole 64-bit
    memory words in every piece: large recurrent weight matrices then overflow a core
    by a few percent. This counts the bits of a piece of each candidate size exactly.
    None means one core is enough, or the block cannot fit by splitting (too many input
    axons, or weights that are not one dense row per axon), which :func:`~nengo_lmu.loihi.resources`
    reports.
    """
    n = block.n_neurons
    synapses = block.synapses
    if sum(s.n_axons for s in synapses) > compat.MAX_IN_AXONS:
        return None
    if any(s.synapse_cfg is None or s.axon_to_weight_map is not None for s in synapses):
        return None

    def bits(size):
        return sum(
            s.synapse_cfg.bits_per_axon(min(w.shape[1], size)) for s in synapses for w in s.weights
        )

    for n_split in range(1, n + 1):
        size = -(-n // n_split)
        if size <= compat.MAX_COMPARTMENTS and bits(size) <= compat.MAX_SYNAPSE_BITS:
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
    if not isinstance(block, compat.LoihiBlock):
        return
    fitted = model.nengo_lmu_fitted_blocks
    if model.block_shapes.get(block) is not None and block not in fitted:
        return
    shape = fitting_block_shape(block)
    if shape is not None:
        model.block_shapes[block] = shape
        fitted.add(block)


def check_block_synapses(network, decode_tau=None):
    """Refuse ``network`` if an ensemble on the chip gets its inputs on different synapses.

    A Loihi block (an ensemble's neurons) filters every input with one synaptic time
    constant; nengo-loihi warns and applies the longest one asked for to all of them,
    so an input meant to arrive (nearly) unfiltered would arrive through a slow lowpass.
    Each input's time constant is its Lowpass's; without a synapse, 0 from the chip and
    ``decode_tau`` (nengo-loihi's filter on host-to-chip spikes; None: its default, 5 ms)
    from the host.
    Raised before the build, naming the ensemble, the time constants and their
    connections, and the setting that fits (one synapse on every input: the longest,
    which the chip would use).
    """
    if decode_tau is None:
        decode_tau = compat.Model().decode_tau
    on_chip = compat.HostChipSplit(network).on_chip
    inputs = {}
    for conn in network.all_connections:
        post = compat.base_obj(conn.post)
        if not isinstance(post, nengo.Ensemble) or not on_chip(post):
            continue
        if isinstance(conn.synapse, nengo.Lowpass):
            tau = float(conn.synapse.tau)
        elif conn.synapse is None:
            pre = compat.base_obj(conn.pre)
            tau = 0.0 if isinstance(pre, (nengo.Ensemble, nengo.Node)) and on_chip(pre) else float(decode_tau)
        else:
            continue  # nengo-loihi refuses other synapses itself
        inputs.setdefault(post, {}).setdefault(tau, []).append(conn)
    for ens, by_tau in inputs.items():
        if len(by_tau) < 2:
            continue
        longest = max(by_tau)
        listed = "; ".join(
            f"{tau:g} s from {', '.join(str(c.pre) for c in conns[:2])}{' ...' if len(conns) > 2 else ''}"
            for tau, conns in sorted(by_tau.items())
        )
        raise validation.error(
            f"{ens} is a block on the chip, which filters all its inputs with one synapse, but its inputs "
            f"ask for {len(by_tau)} ({listed}); nengo-loihi would filter every one with the longest, "
            f"{longest:g} s. Give its inputs one synapse (the nearest that fits: {longest:g} s on every one)",
            "synapse", by_tau[min(by_tau)][0],
        )


def make_model(network, dt=0.001, input_ranges=None):
    """A ``nengo_loihi.builder.Model`` with nengo_lmu's build rules, for ``network``.

    Pass it as ``nengo_loihi.Simulator(network, model=make_model(network))`` to combine
    these rules with other nengo-loihi options; :class:`~nengo_lmu.loihi.Simulator`
    does that for you. ``input_ranges`` (see :class:`~nengo_lmu.loihi.Simulator`) adds
    value ranges of host-to-chip inputs.
    """
    check_block_synapses(network)
    model = compat.Model(dt=float(dt), label=f"nengo_lmu: {network}", builder=_builder())
    model.nengo_lmu_input_ranges = _input_ranges(network)
    model.nengo_lmu_input_ranges.update(input_ranges or {})
    model.nengo_lmu_fitted_blocks = set()
    model.build_callback = lambda obj: _fit_blocks(model, obj)
    return model
