"""Every use of nengo-loihi's internals, in one place.

nengo-loihi 1.1 has no public API for what :mod:`nengo_lmu.loihi` changes (its build
rules, its discretisation, its per-core limits), so the package builds on internal
modules. They are imported here only, under plain names, each with the reason it is
needed: a new nengo-loihi release is checked (and, if needed, adapted to) here.
"""

# the per-core limits that resources() reports against; LoihiBlock to recognise the
# block a connection targets (block fitting)
from nengo_loihi.block import MAX_COMPARTMENTS, MAX_IN_AXONS, MAX_OUT_AXONS, MAX_SYNAPSE_BITS, LoihiBlock

# the build artifacts, which make_model() fills in with our rules
from nengo_loihi.builder import Model

# Builder: the base of the builder registry private to our models; ValidationLevel:
# resources() builds without validation, to report an overflow instead of raising it
from nengo_loihi.builder.builder import Builder, ValidationLevel

# build.py wraps nengo-loihi's connection rule (and falls back to it), re-uses its
# host-to-chip rule with other encoders, and gives the connection built in place of the
# user's the user's seed and config, as nengo-loihi does
from nengo_loihi.builder.connection import _inherit_config as inherit_config
from nengo_loihi.builder.connection import _inherit_seed as inherit_seed
from nengo_loihi.builder.connection import build_connection as build_loihi_connection
from nengo_loihi.builder.connection import build_host_to_chip

# discretize.py writes the chip's registers in nengo-loihi's formats; VTH_MAX and
# BIAS_MAX are the largest threshold and bias those registers hold, Q_BITS the width of
# a compartment's per-step input sum
from nengo_loihi.builder.discretize import (
    BIAS_MAX,
    Q_BITS,
    VTH_MAX,
    array_to_int,
    decay_magnitude,
    discretize_compartment,
    discretize_probe,
    discretize_synapse,
    discretize_weights,
)

# nengo-loihi's network rule (splitting blocks, passthrough removal), which build.py runs
# without discretising, to discretise with its own rule afterwards
from nengo_loihi.builder.network import build_network as build_loihi_network

# the host-to-chip on/off spike encoders, given value ranges by build.py
from nengo_loihi.decode_neurons import OnOffDecodeNeurons

# whether target="loihi" can run here
from nengo_loihi.hardware import HAS_NXSDK

# the object behind a slice or a Neurons (which side of the chip a connection ends on)
from nengo_loihi.passthrough import base_obj

# which ensembles nengo-loihi puts on the chip (its own rules: on_chip config, Direct mode,
# learning), so that a check before the build sees the blocks the build will make
from nengo_loihi.splitter import HostChipSplit

__all__ = [
    "BIAS_MAX", "HAS_NXSDK", "Q_BITS", "MAX_COMPARTMENTS", "MAX_IN_AXONS", "MAX_OUT_AXONS", "MAX_SYNAPSE_BITS",
    "VTH_MAX", "Builder", "HostChipSplit", "LoihiBlock", "Model", "OnOffDecodeNeurons", "ValidationLevel",
    "array_to_int", "base_obj", "build_host_to_chip", "build_loihi_connection", "build_loihi_network",
    "decay_magnitude", "discretize_compartment", "discretize_probe", "discretize_synapse",
    "discretize_weights", "inherit_config", "inherit_seed",
]
