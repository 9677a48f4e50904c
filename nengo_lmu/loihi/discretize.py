"""Weight discretisation: how a built model's weights become the chip's integers.

:func:`discretize_model` replaces nengo-loihi's ``discretize_model`` as the last build
step (see :func:`nengo_lmu.loihi.build.build_network`): each block's weight grid is
chosen for its own weights, and weights with few bits are rounded stochastically.
"""

import warnings

import numpy as np

from . import compat
from .options import MAX_DECAY

#: nengo-loihi's smallest synapse weight exponent is -6
_MIN_WEIGHT_EXP_OFFSET = 6

#: the threshold register may use this fraction of its range (the rest is headroom for
#: the synaptic current, which shares its scale)
_VTH_HEADROOM = 0.5

#: one spike adds at most 2**this to a compartment's input (21-bit sum per step); kept
#: beside the all-inputs-at-once bound of _block_weight_scale, which is the looser of the
#: two for blocks with few input axons
_MAX_SPIKE_BITS = 18

#: the per-step input sum of all input axons spiking at once may use this fraction of
#: its range (weights rounded up to the 8-bit grid, stochastically, can exceed it by a
#: few steps)
_INPUT_SUM_HEADROOM = 0.9

#: seed of the stochastic rounding of weak synapses' weights (builds are reproducible)
_DITHER_SEED = 0x10141

#: bits of a synapse's weights on the chip, sign included (mixed-sign synapses: 7 and a sign)
WEIGHT_BITS = 8


def round_to_weight_grid(weights, bits=WEIGHT_BITS):
    """``weights`` (one synapse's) rounded to a grid of ``bits`` bits, sign included.

    The grid's step is ``max|weights| / (2**(bits - 1) - 1)``: at ``bits = 8`` the finest
    a mixed-sign synapse of the chip can be, its largest weight filling 7 bits and a sign
    (:func:`_discretize_synapse`). The chip's own step for the synapse is a power of two
    set by its block's scale, between this and twice it (weights left with fewer bits
    are rounded stochastically there); this is the grid that
    ``nengo_lmu.dl.Hardware(weight_bits=...)`` trains the hidden layer's weights for.
    """
    weights = np.asarray(weights, dtype=np.float64)
    w_max = np.max(np.abs(weights)) if weights.size else 0.0
    if not w_max > 0:
        return weights.copy()
    step = w_max / (2 ** (bits - 1) - 1)
    return np.round(weights / step) * step


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
            info = compat.discretize_compartment(block.compartment, w_max)
            for synapse in block.synapses:
                _discretize_synapse_nengo_loihi(synapse, w_max, info["w_scale"], info["w_exp"])
        else:
            # nengo-loihi's compartment discretisation at w_exp = 0 gives current units
            # per unit weight of 2**6 * 255 / w_max_eff: choose w_max_eff for ``scale``
            info = compat.discretize_compartment(block.compartment, 255.0 * 64 / scale)
            scale = float(np.ravel(info["w_scale"])[0]) * 2.0 ** (6 + info["w_exp"])
            rng = np.random.RandomState(_DITHER_SEED + i)
            for synapse in block.synapses:
                _discretize_synapse(synapse, scale, rng)
        v_scales[block] = info["v_scale"]
    for probe in model.probes:
        for i, block in enumerate(probe.target):
            compat.discretize_probe(probe, i, v_scales[block])


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
    decay_u = np.clip(np.round(comp.decay_u * MAX_DECAY - 1), 0, MAX_DECAY)
    decay_v = np.round(comp.decay_v * MAX_DECAY)
    u_infactor = (
        1.0 / compat.decay_magnitude(decay_u, x0=2097152, offset=1)
        if comp.scale_u else np.ones(comp.decay_u.shape)
    )
    v_infactor = (
        1.0 / compat.decay_magnitude(decay_v, x0=2097152)
        if comp.scale_v else np.ones(comp.decay_v.shape)
    )
    s_scale = 1.0 / (u_infactor * v_infactor)
    if not np.allclose(s_scale, s_scale[0], rtol=1e-6):
        return None
    s_scale = float(s_scale[0])
    v_inf = float(np.max(v_infactor))
    limits = [255.0 * 2 ** 13 / w_maxs.max(), 2.0 ** _MAX_SPIKE_BITS / w_maxs.max()]
    # the per-step input sum (signed, Q_BITS) wraps around when it overflows: it must
    # hold every input axon spiking at once (a large memory's recurrent input overflowed
    # it on a tenth of its neuron-steps, psMNIST order 64), with a margin for weights
    # rounded up
    limits.append(_INPUT_SUM_HEADROOM * (2.0 ** (compat.Q_BITS - 1) - 1) / _largest_input_sum(block))
    vth = float(np.max(comp.vth))
    if vth > 0:
        limits.append(_VTH_HEADROOM * compat.VTH_MAX / (vth * s_scale))
    b_max = float(np.max(np.abs(comp.bias)))
    if b_max > 0:
        limits.append(0.99 * compat.BIAS_MAX / (b_max * s_scale * v_inf))
    needed = 255.0 * 64 / w_maxs.min()
    return min(needed, *limits)


def _largest_input_sum(block):
    """The largest sum of absolute weights into one of ``block``'s compartments: its
    per-step input, per unit of scale, if every input axon spiked at once."""
    total = np.zeros(block.compartment.n_compartments)
    for synapse in block.synapses:
        bases = synapse.axon_compartment_bases
        for axon in range(synapse.n_axons):
            base = 0 if bases is None else bases[axon]
            if base is None or base < 0:
                continue
            for atom in range(synapse.axon_populations(axon)):
                w, idx = synapse.axon_weights_indices(axon, atom=atom)
                np.add.at(total, base + idx, np.abs(w))
    return max(float(total.max()), 1e-16)


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
    ints = compat.discretize_weights(synapse.synapse_cfg, x)
    ends = np.cumsum([w.size for w in weights])
    for w, row in zip(weights, np.split(ints, ends[:-1])):
        compat.array_to_int(w, row.reshape(w.shape))


def _discretize_synapse_nengo_loihi(synapse, w_max, w_scale, w_exp):
    """nengo-loihi's synapse discretisation (blocks without a scale of their own).

    nengo-loihi 1.1 clips a weak synapse's weight exponent at -6 *after* scaling its
    weights for the unclipped one, making that synapse too strong; here the scaling is
    limited instead.
    """

    w_max_i = synapse.max_abs_weight()
    if synapse.learning or not w_max_i > 1e-16:
        return compat.discretize_synapse(synapse, w_max, w_scale, w_exp)
    dw_exp = int(np.floor(np.log2(w_max / w_max_i)))
    dw_exp = min(dw_exp, w_exp + _MIN_WEIGHT_EXP_OFFSET)
    synapse.format(weight_exp=w_exp - dw_exp)
    with warnings.catch_warnings():
        # "Lost N extra bits": the chip's weight grid, expected here (one per weight row)
        warnings.filterwarnings("ignore", message="Lost .* extra bits")
        for w, idxs in zip(synapse.weights, synapse.indices):
            ws = w_scale[idxs] if np.ndim(w_scale) > 0 else w_scale
            compat.array_to_int(
                w, compat.discretize_weights(synapse.synapse_cfg, w * ws * 2.0**dw_exp)
            )
    return None
