"""Every use of nengo-loihi's internals, in one place.

nengo-loihi 1.1 has no public API for what :mod:`nengo_lmu.loihi` changes (its build
rules, discretisation and core limits), so the package builds on its internal modules.
They are imported here only, each re-exported under a plain name with the reason it is
needed: a new nengo-loihi release is checked (and, if needed, adapted) here.
"""

from nengo_loihi.block import (  # the per-core limits that resources() reports against
    MAX_COMPARTMENTS,
    MAX_IN_AXONS,
    MAX_OUT_AXONS,
    MAX_SYNAPSE_BITS,
    LoihiBlock,  # to recognise the block a connection targets (block fitting)
)
from nengo_loihi.builder import Model  # the build artifacts; make_model() fills one in
from nengo_loihi.builder import connection as _connection
from nengo_loihi.builder import discretize as _discretize
from nengo_loihi.builder import network as _network
# Builder: the base of the builder registry private to our simulators; ValidationLevel:
# resources() builds without validation, to report an overflow instead of raising it
from nengo_loihi.builder.builder import Builder, ValidationLevel
from nengo_loihi.decode_neurons import OnOffDecodeNeurons  # the host-to-chip spike encoders
from nengo_loihi.hardware import HAS_NXSDK  # whether target="loihi" can run here
from nengo_loihi.passthrough import base_obj  # the object behind a slice or Neurons

# --- build rules (build.py): nengo-loihi's own rules, which ours wrap or fall back to
#: nengo-loihi's connection rule: every connection that is not a host-to-chip input
build_loihi_connection = _connection.build_connection
#: builds a host-to-chip connection through on/off encoders (re-used with other encoders)
build_host_to_chip = _connection.build_host_to_chip
#: a connection built in place of the user's gets its seed and config, as in nengo-loihi
inherit_seed = _connection._inherit_seed
inherit_config = _connection._inherit_config
#: nengo-loihi's network rule (splitting, passthrough removal), run without discretising
build_loihi_network = _network.build_network

# --- discretisation (discretize.py): the chip's register formats, used as nengo-loihi does
discretize_compartment = _discretize.discretize_compartment
discretize_synapse = _discretize.discretize_synapse
discretize_weights = _discretize.discretize_weights
discretize_probe = _discretize.discretize_probe
array_to_int = _discretize.array_to_int
decay_magnitude = _discretize.decay_magnitude
#: the largest threshold and bias the chip's registers hold
VTH_MAX = _discretize.VTH_MAX
BIAS_MAX = _discretize.BIAS_MAX

__all__ = [
    "BIAS_MAX",
    "Builder",
    "HAS_NXSDK",
    "LoihiBlock",
    "MAX_COMPARTMENTS",
    "MAX_IN_AXONS",
    "MAX_OUT_AXONS",
    "MAX_SYNAPSE_BITS",
    "Model",
    "OnOffDecodeNeurons",
    "VTH_MAX",
    "ValidationLevel",
    "array_to_int",
    "base_obj",
    "build_host_to_chip",
    "build_loihi_connection",
    "build_loihi_network",
    "decay_magnitude",
    "discretize_compartment",
    "discretize_probe",
    "discretize_synapse",
    "discretize_weights",
    "inherit_config",
    "inherit_seed",
]
