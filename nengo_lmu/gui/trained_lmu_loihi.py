"""A trained LMU deployed as on Loihi, with the chip's neuron types, for Nengo GUI.

Open a copy of it with ``python -m nengo_lmu.gui trained_lmu_loihi`` (copies this script,
its layout ``trained_lmu_loihi.py.cfg`` and ``trained_lmu_loihi.npz`` into the current
folder and starts nengo-gui on the copy), then press play; double-click ``memory`` to open it.

The network is the window-RMS LMU of the ``trained_lmu`` model (64 ReLU units reading an
order-6 memory; its output ``y`` is the RMS of its input ``x`` over the last 0.5 s), trained
through NengoDL and then fine-tuned on the chip's rate curves (hardware-aware training,
``nengo_lmu.deploy.train_demo(hardware="loihi")``; ``trained_lmu_loihi.npz`` next to this
script was made by ``nengo_lmu.deploy.save_demo(path, hardware="loihi")``). It is built
here as ``nengo-lmu deploy --backend loihi-sim --memory chip`` builds it
(``nengo_lmu.deploy.convert(..., backend="loihi-sim", memory="chip")``), the whole network
as it would run on the chip:

* the memory is six populations ``x[0]`` ... ``x[5]`` of ``LoihiLIF`` neurons (one per
  Legendre coefficient; ``MEMORY_NEURONS`` per coefficient on average) with the chip's
  options (neuron-to-neuron recurrent weights, the chip's synaptic decay), feeding the
  hidden neurons neuron to neuron: no decoded memory state in between;
* the hidden layer ``h`` is 64 ``LoihiSpikingRectifiedLinear`` neurons, the chip's spiking
  ReLU (a whole number of steps between spikes, at most one spike per step, starting at
  zero), firing at the scale the network was trained for.

It runs on nengo's reference simulator, where these nengo-loihi types reproduce the chip's
rate quantisation (not its 8-bit weights: ``nengo-lmu deploy --backend loihi-sim`` runs the
bit-true emulator). The ``output vs target`` plot compares ``y`` with the exact windowed RMS;
the rasters show the hidden neurons' and the first memory population's spikes; drag the
``stimulus`` slider to drive the network by hand (the target then no longer applies).
"""

import os

from nengo_lmu.quiet import quiet_startup

quiet_startup()  # before nengo_lmu.deploy loads TensorFlow: no start-up log noise

import numpy as np  # noqa: E402
import nengo  # noqa: E402

import nengo_lmu  # noqa: E402
from nengo_lmu import LMU, data, loihi  # noqa: E402
from nengo_lmu.deploy import TASKS, convert, memory_statistics, trained_firing_rate_scale  # noqa: E402

MEMORY_NEURONS = 100  # LoihiLIF neurons per Legendre coefficient (on average)
HIDDEN_SYNAPSE = TASKS["window-rms"]["hidden_synapse"]  # lowpass (s) on the hidden spikes, as deployed

# next to this script, or (for a copy of the script) the one installed with nengo_lmu
params = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trained_lmu_loihi.npz")
if not os.path.exists(params):
    params = os.path.join(os.path.dirname(nengo_lmu.__file__), "gui", "trained_lmu_loihi.npz")
trained = LMU.load(params)
FIRING_RATE_SCALE = trained_firing_rate_scale(trained)  # the scale it was fine-tuned for (1000)
window = trained.metadata["window"]  # steps; the memory's theta is window * dt
dt = trained.dt

# one minute of the task's input, looped, and its exact windowed RMS
u, y = data.window_rms(60_000, window=window, seed=7, dt=dt)


def plot_limit(x):
    """A plot range that holds ``x``: its largest magnitude plus 10 %, rounded up to 0.1."""
    return float(np.ceil(11 * np.abs(x).max()) / 10)


# the plots' and the slider's ranges in trained_lmu_loihi.py.cfg: the input +-U_LIMIT, the
# output and its target 0 .. Y_LIMIT
U_LIMIT = plot_limit(u)
Y_LIMIT = plot_limit(y)

# the network nengo-lmu deploy runs on Loihi: spiking memory on the chip, neuron to neuron
model = convert(
    trained,
    "spiking",
    firing_rate_scale=FIRING_RATE_SCALE,
    hidden_synapse=HIDDEN_SYNAPSE,
    memory_neurons=MEMORY_NEURONS,
    # scaled for this input: white noise with its RMS (through e_x), up to the task's band
    memory_input_statistics=memory_statistics(trained, u[None, :, None], high=TASKS["window-rms"]["high"]),
    backend="loihi-sim",
    memory="chip",
)
# on the chip a spiking ReLU is the chip's; on nengo's simulator that is nengo-loihi's type
model.hidden.neuron_type = loihi.chip_neuron_type(model.hidden.neuron_type)
model.label = "trained LMU (Loihi neurons)"
with model:
    stimulus = nengo.Node(lambda t: u[int(round(t / dt)) % len(u)], label="stimulus")
    nengo.Connection(stimulus, model.input, synapse=None)
    target = nengo.Node(lambda t: y[int(round(t / dt)) % len(y)], label="target")
    compare = nengo.Node(size_in=2, label="output vs target")
    nengo.Connection(model.output, compare[0], synapse=None)  # filtered by HIDDEN_SYNAPSE
    nengo.Connection(target, compare[1], synapse=HIDDEN_SYNAPSE)
    memory = model.memory  # its populations feed the hidden neurons directly
    hidden = model.hidden
    first_coefficient = memory.coefficient_ensembles[0]  # x[0]: the window's mean
