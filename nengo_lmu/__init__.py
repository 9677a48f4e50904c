"""nengo_lmu: Legendre Memory Units as spiking Nengo networks.

The maths lives in :mod:`nengo_lmu.maths`, the networks in :mod:`nengo_lmu.networks`
(the delay network) and :mod:`nengo_lmu.lmu` (the LMU cell). Training through NengoDL is
:mod:`nengo_lmu.dl`, deployment to Loihi :mod:`nengo_lmu.loihi`; both import their
backend only when used.
"""

from .maths import discretize, legendre_readout, legendre_ss, principle3
from .networks import LegendreMemory
from .lmu import LMU
from .statistics import measure
from .version import version as __version__

__all__ = ["LMU", "LegendreMemory", "discretize", "legendre_readout", "legendre_ss", "measure", "principle3", "__version__"]
