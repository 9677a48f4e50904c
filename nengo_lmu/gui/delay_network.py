"""A spiking Legendre delay network, for Nengo GUI.

Open a copy of it with ``python -m nengo_lmu.gui delay_network`` (copies this script and
its layout ``delay_network.py.cfg`` into the current folder and starts nengo-gui on the
copy), then press play.

The memory holds the last ``theta`` seconds of its input in ``order`` Legendre
coefficients, one population of LIF neurons per coefficient (``x[0]`` ... ``x[5]``); the
``output`` node decodes ``u(t - theta)`` from them. The ``delayed vs target`` plot
compares it with the exact delay; drag the ``stimulus`` slider to drive the memory by hand
(right-click it and choose "Remove overrides" to go back to the built-in signal).
"""

from nengo_lmu.quiet import quiet_startup

quiet_startup()  # as every nengo_lmu entry point: no TensorFlow/nengo-loihi start-up noise

import numpy as np  # noqa: E402
import nengo  # noqa: E402

from nengo_lmu import LegendreMemory  # noqa: E402
from nengo_lmu.maths import memory_band  # noqa: E402

order = 6  # Legendre coefficients d
theta = 0.5  # window and delay, seconds; slow enough to follow by eye
n_neurons = 600  # shared among the coefficients
synapse = 0.05  # lowpass time constant the recurrence is mapped onto


def signal(t):
    """Two slow sines: well inside the band an order-6, 0.5-s memory delays (< 1.9 Hz).

    At most 0.8 in magnitude, and the state m(t) at most 0.75: inside the plots' +-1.
    """
    return 0.5 * np.sin(2 * np.pi * 0.5 * t) + 0.3 * np.sin(2 * np.pi * 1.1 * t + 1.0)


# the memory is the model itself, so its parts are the top level of the network graph
model = LegendreMemory(
    order,
    theta,
    n_neurons=n_neurons,
    neuron_type=nengo.LIF(),
    synapse=synapse,
    input_statistics=(memory_band(order, theta), 0.5),  # the band the memory delays
    label="Legendre delay network",
    seed=0,
)
with model:
    stim = nengo.Node(signal, label="stimulus")
    nengo.Connection(stim, model.input, synapse=None)

    # the exact answer, for comparison
    target = nengo.Node(lambda t: signal(t - theta) if t > theta else 0.0, label="target")
    compare = nengo.Node(size_in=2, label="delayed vs target")
    nengo.Connection(model.output, compare[0], synapse=0.01)
    nengo.Connection(target, compare[1], synapse=0.01)
    state = model.state  # the Legendre coefficients m(t)
