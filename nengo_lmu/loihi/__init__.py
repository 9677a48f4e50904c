"""Loihi deployment: the one package of nengo_lmu that knows nengo-loihi.

A :class:`~nengo_lmu.networks.LegendreMemory` runs on Loihi (or the nengo-loihi
emulator) in three steps::

    from nengo_lmu import loihi

    with nengo.Network(seed=0) as net:
        mem = loihi.LegendreMemory(order=6, theta=0.3, n_neurons=600)
        ...
    print(loihi.resources(net))            # cores, axons, synapse bits; fits?
    with loihi.Simulator(net, target="sim") as sim:   # "loihi" on a board
        sim.run(10.0)

:func:`memory_options` are the constructor arguments that make a memory accurate on
the chip, and :class:`~nengo_lmu.networks.LegendreMemory` the memory made with them (a subclass of
:class:`nengo_lmu.networks.LegendreMemory`); :class:`Simulator` (a subclass of
``nengo_loihi.Simulator``) builds any network with the model settings and build rules
below. Nothing here changes nengo's or nengo-loihi's global defaults
(``nengo_loihi.set_defaults`` is never called): every choice is made per object, or in
a builder registry private to the simulators made here.

The package is split by stage, the way nengo-loihi splits its builder:

* :mod:`~nengo_lmu.loihi.options`: memory options (:func:`memory_options`,
  :class:`~nengo_lmu.loihi.LegendreMemory`, :func:`chip_synapse_decay`,
  :func:`longest_synapse`) and the chip's neuron types (:func:`chip_neuron_type`);
* :mod:`~nengo_lmu.loihi.build`: build rules (host-to-chip inputs, block fitting,
  :func:`make_model`, :func:`lmu_input_ranges`, :func:`check_block_synapses`);
* :mod:`~nengo_lmu.loihi.discretize`: weight discretisation (``discretize_model``);
* :mod:`~nengo_lmu.loihi.emulator`: the emulator speed-up (:class:`FastEmulatorStep`);
* :mod:`~nengo_lmu.loihi.resources`: the resource report (:func:`resources`);
* :mod:`~nengo_lmu.loihi.activity`: operations counted in an emulator run and an energy
  estimate from them (:func:`activity`);
* :mod:`~nengo_lmu.loihi.simulator`: :class:`Simulator` and :func:`check_target`;
* :mod:`~nengo_lmu.loihi.compat`: every use of nengo-loihi's internals, and only there.


What goes wrong on the chip, and what is done about it:

* **Decode neurons.** nengo-loihi routes a decoded ensemble-to-ensemble connection
  through spiking on/off "decode neurons" with their own extra filter (``decode_tau``);
  in a recurrent memory that noise and that filter accumulate. The memory's recurrence
  is built as neuron-to-neuron weights instead (``weights=True``), so each block has a
  single first-order synapse, as principle 3 assumes.
* **Synapse decay.** The chip's synaptic decay is a 12-bit integer; the principle-3
  mapping is computed for the decay the chip really applies
  (:func:`chip_synapse_decay`), not for ``exp(-dt / tau)``. A memory is refused at a
  simulator ``dt`` other than its own (the mapping would be wrong).
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
  ``discretize_model`` gives each block the largest scale that the chip's
  registers allow (for these neurons, the bias register), each synapse the weight
  exponent of its own largest weight, and rounds the weights that still have fewer
  than 8 bits stochastically, so that the quantised weight matrix is right on
  average. Weights are also proportional to the post neuron's gain, so the memory's
  neurons all get one gain, intercepts in a moderate range (small biases) and
  moderate rates (fewer spikes per step, so larger weights per spike).
* **One synapse per block.** A block filters all its inputs with one time constant;
  nengo-loihi warns and applies the longest one asked for to every input. A network
  whose ensemble on the chip gets inputs on different synapses is refused before the
  build (:func:`check_block_synapses`, in :func:`make_model`), naming the time
  constants and the one that fits. An LMU's hidden layer fed by a memory wired neuron to
  neuron gets its input ``x`` on the memory's synapse
  (:attr:`nengo_lmu.networks.LegendreMemory.state_arrival_synapse`), as the chip would
  filter it anyway.
* **Passthrough nodes** are kept (see :class:`Simulator`).
* **Resources.** :func:`resources` names each core after the object it holds
  (``memory x[3]``, ``hidden``) and says what each kind of block is for: besides
  the ensembles' neurons, nengo-loihi adds a 2-compartment block per dimension of
  every value the host reads from the chip (an ensemble's decoded output to a node),
  and decode neurons for decoded connections on the chip.
* **Speed.** :class:`FastEmulatorStep` routes the emulator's spikes with one sparse
  product per step (bit-identical results).
"""

from .activity import ENERGY_PJ, activity
from .build import INPUT_RANGE_STD, check_block_synapses, fitting_block_shape, lmu_input_ranges, make_model
from .discretize import WEIGHT_BITS, discretize_model, round_to_weight_grid
from .emulator import FastEmulatorStep
from .options import (
    HOST_MEMORY_LAG_STEPS, MAX_SPIKES_PER_STEP, LegendreMemory, chip_neuron_type, chip_synapse_decay, longest_synapse,
    memory_options,
)
from .resources import CORES_PER_CHIP, LIMITS, Resources, resources
from .simulator import TARGETS, Simulator, check_target

__all__ = [
    "CORES_PER_CHIP",
    "ENERGY_PJ",
    "FastEmulatorStep",
    "INPUT_RANGE_STD",
    "LIMITS",
    "LegendreMemory",
    "HOST_MEMORY_LAG_STEPS",
    "MAX_SPIKES_PER_STEP",
    "Resources",
    "Simulator",
    "TARGETS",
    "WEIGHT_BITS",
    "check_target",
    "activity",
    "check_block_synapses",
    "chip_neuron_type",
    "chip_synapse_decay",
    "discretize_model",
    "fitting_block_shape",
    "lmu_input_ranges",
    "longest_synapse",
    "make_model",
    "memory_options",
    "resources",
    "round_to_weight_grid",
]
