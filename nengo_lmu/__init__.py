"""nengo_lmu: Legendre Memory Units as spiking Nengo networks.

The maths lives in :mod:`nengo_lmu.maths`, the networks in :mod:`nengo_lmu.networks`.
"""

from .maths import discretize, legendre_readout, legendre_ss, principle3
from .networks import LegendreMemory
from .version import version as __version__
