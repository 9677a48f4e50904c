"""A trained LMU running with spiking neurons, for Nengo GUI.

Open a copy of it with ``python -m nengo_lmu.gui trained_lmu`` (copies this script, its
layout ``trained_lmu.py.cfg`` and ``trained_lmu.npz`` into the current folder and starts
nengo-gui on the copy), then press play; double-click ``memory`` to open it.

The network was trained through NengoDL (rate ReLUs, exact memory) on the window-RMS
task: its output ``y`` is the RMS of its input ``x`` over the last ``theta`` = 0.5 s.
Its parameters are ``trained_lmu.npz`` next to this script (made by
``python -m nengo_lmu.deploy trained_lmu.npz``: 6 s of training, 18 s in all; a copy of
this script without it beside uses the installed one). Here the same parameters
run with spiking neurons: the memory is six populations of LIF neurons ``x[0]`` ...
``x[5]`` (one per Legendre coefficient; set ``SPIKING_MEMORY = False`` for the exact
memory) and the hidden layer ``h`` is 64 spiking ReLUs. The ``output vs target`` plot
compares ``y`` with the exact windowed RMS; drag the ``stimulus`` slider to drive the
network by hand (the target then no longer applies).
"""

import os

from nengo_lmu.quiet import quiet_startup

quiet_startup()  # before nengo_lmu.deploy loads TensorFlow: no start-up log noise

import numpy as np  # noqa: E402
import nengo  # noqa: E402

import nengo_lmu  # noqa: E402
from nengo_lmu import LMU, data  # noqa: E402
from nengo_lmu.deploy import TASKS, convert, memory_statistics  # noqa: E402

SPIKING_MEMORY = True  # False: the exact memory (nodes), as trained
MEMORY_NEURONS = 200  # LIF neurons per Legendre coefficient
FIRING_RATE_SCALE = 1000  # the hidden ReLUs fire this many times their trained rate
HIDDEN_SYNAPSE = 0.05  # lowpass (s) on the hidden spikes

# next to this script, or (for a copy of the script) the one installed with nengo_lmu
params = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trained_lmu.npz")
if not os.path.exists(params):
    params = os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu.npz")
trained = LMU.load(params)
window = trained.metadata["window"]  # steps; the memory's theta is window * dt
dt = trained.dt

# one minute of the task's input, looped, and its exact windowed RMS
u, y = data.window_rms(60_000, window=window, seed=7, dt=dt)


def plot_limit(x):
    """A plot range that holds ``x``: its largest magnitude plus 10 %, rounded up to 0.1."""
    return float(np.ceil(11 * np.abs(x).max()) / 10)


# the plots' and the slider's ranges in trained_lmu.py.cfg: the input +-U_LIMIT, the output
# and its target 0 .. Y_LIMIT (the spiking output overshoots the target a little)
U_LIMIT = plot_limit(u)
Y_LIMIT = plot_limit(y)

model = convert(
    trained,
    "spiking",
    firing_rate_scale=FIRING_RATE_SCALE,
    hidden_synapse=HIDDEN_SYNAPSE,
    memory_neurons=MEMORY_NEURONS if SPIKING_MEMORY else 0,
    # scaled for this input: white noise with its RMS (through e_x), up to the task's band
    memory_input_statistics=memory_statistics(trained, u[None, :, None], high=TASKS["window-rms"]["high"]),
)
model.label = "trained LMU (spiking)"
with model:
    stimulus = nengo.Node(lambda t: u[int(round(t / dt)) % len(u)], label="stimulus")
    nengo.Connection(stimulus, model.input, synapse=None)
    target = nengo.Node(lambda t: y[int(round(t / dt)) % len(y)], label="target")
    compare = nengo.Node(size_in=2, label="output vs target")
    nengo.Connection(model.output, compare[0], synapse=None)  # filtered by HIDDEN_SYNAPSE
    nengo.Connection(target, compare[1], synapse=HIDDEN_SYNAPSE)
    memory = model.memory  # its state is the Legendre coefficients m(t)
    hidden = model.hidden
