"""Deploying a trained :class:`~nengo_lmu.lmu.LMU`: the same network, spiking, step by step.

A network trained through NengoDL (:mod:`nengo_lmu.dl`) is saved as a parameter file
(:meth:`.LMU.save_params`). Deploying it means rebuilding it from that file
(:meth:`.LMU.load`), giving it spiking neurons (:func:`convert`) and running it one
input sample per simulator step on a backend (:func:`run_stream`): the reference
simulator, NengoDL, the Loihi emulator or a Loihi board. :func:`deploy` does it all and
scores the result against the trained rate network on the same data::

    from nengo_lmu import LMU, deploy

    lmu = LMU.load("results/tasks/psmnist-params.npz")
    results = deploy.deploy(lmu, backend="loihi-sim", n_test=20)
    print(results["accuracy"], results["reference"]["accuracy"])

Three tasks are known (:data:`TASKS`):

``window-rms``
    The sliding-window RMS of a slowly modulated noise signal
    (:func:`nengo_lmu.data.window_rms`), a small continuous task that trains in seconds
    (:func:`train_demo`): the quick demo of ``nengo-lmu deploy`` and the GUI's trained
    LMU. Scored by the NRMSE of the output over a continuous test signal.
``mackey-glass``
    Predicting the Mackey-Glass series ``horizon`` steps ahead (``nengo-lmu
    mackey-glass``), its test part presented as one stream, the memory never reset
    (:func:`nengo_lmu.data.mackey_glass_stream`); scored by the NRMSE of the output at
    every step from the end of the first window on.
``psmnist``
    Permuted sequential MNIST (``nengo-lmu psmnist`` trains it). The test digits are
    presented back to back as one stream, as a deployed network sees them (the memory
    is not reset between digits); scored by the accuracy of the output at each digit's
    last pixel, or, with ``readout_steps``, of the output averaged over a readout period
    after it through which the host holds the digit's last pixel and memory state
    (:func:`hold_readout`): on Loihi, where a neuron spikes at most once per step, one
    step's spikes cannot carry the hidden layer's rates, a period's spike counts can.

Nothing here imports TensorFlow except :func:`train_demo`; the Loihi backends import
nengo-loihi when used.
"""

import math
import os
import time

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from . import backends, data, maths, networks, statistics, validation
from .lmu import LMU, check_neurons_per_unit

#: what each task needs from a network, and the deployment defaults for it
TASKS = {
    "window-rms": dict(
        input_dimensions=1, output_dimensions=1, kind="stream", metric="nrmse",
        high=1.5, hidden_synapse=0.05, n_test=10_000,
        help="sliding-window RMS of a modulated noise signal (the quick demo)",
    ),
    "mackey-glass": dict(
        input_dimensions=1, output_dimensions=1, kind="stream", metric="nrmse",
        high=None, hidden_synapse=None, n_test=None,
        help="Mackey-Glass, 15 steps ahead: the benchmark's test part as one stream",
    ),
    "psmnist": dict(
        input_dimensions=1, output_dimensions=10, kind="sequences", metric="accuracy",
        high=None, hidden_synapse=None, n_test=100,
        help="permuted sequential MNIST, digits back to back",
    ),
}

#: the demo network of :func:`train_demo` (and of nengo_lmu/gui/trained_lmu.npz)
DEMO = dict(units=64, order=6, window=500, n_train=2000, epochs=30, batch_size=50,
            learning_rate=3e-3, stride=100, seed=0, hardware_epochs=10, hardware_learning_rate=1e-4,
            spiking_epochs=10)

#: the metadata key of the plainly trained parameters a hardware-aware file keeps (:func:`train_demo`)
PLAIN_PARAMS = "plain_params"

#: spiking versions of the rate neuron types a network is trained with
SPIKING = {
    nengo.RectifiedLinear: nengo.SpikingRectifiedLinear,
    nengo.LIFRate: nengo.LIF,
}

NEURONS = ("rate", "spiking")


def train_demo(units=DEMO["units"], order=DEMO["order"], window=DEMO["window"],
               n_train=DEMO["n_train"], epochs=DEMO["epochs"], batch_size=DEMO["batch_size"],
               learning_rate=DEMO["learning_rate"], stride=DEMO["stride"], seed=DEMO["seed"],
               dt=0.001, verbose=0, callbacks=None, hardware=None, memory_noise=None):
    """Train a small LMU on the ``window-rms`` task through NengoDL.

    The memory's window is the task's (``window`` steps); ``n_train`` sequences of
    ``2 * window`` steps are cut (every ``stride`` steps) from one stream, each with the
    target at its last step. With the defaults: 64 ReLU units, order 6, about 10 s of
    training on two CPU cores, output NRMSE about 0.01. ``hardware`` (e.g. ``"loihi"``,
    :class:`nengo_lmu.dl.Hardware`) then fine-tunes it hardware-aware, for
    ``DEMO["hardware_epochs"]`` epochs at ``DEMO["hardware_learning_rate"]``, and with
    ``spiking_steps`` then spike-aware for ``DEMO["spiking_epochs"]`` more (targets through
    the hardware's ``synapse``, the task's ``hidden_synapse`` for a deployment of the
    task's defaults); ``history`` is then the last fine-tuning's (``seconds``: all the
    trainings, ``fine_tuning_seconds``: the fine-tunings'). ``memory_noise`` (with
    ``hardware``) is the deployed spiking memory's error for the fine-tuning on the chip's
    rates (:func:`memory_error`; ``dl.fit(..., memory_noise=...)``). With ``hardware`` the
    plainly trained parameters, before any fine-tuning, are kept in
    ``lmu.metadata[PLAIN_PARAMS]``: :func:`deploy` scores that network too
    (``plain_reference``), the baseline the deployed figure is compared with.

    Returns
    -------
    lmu : LMU
        Trained (rate mode, exact memory), with ``lmu.metadata`` naming the task.
    history : dict
        From :func:`nengo_lmu.dl.fit`.
    """
    from . import dl

    length = 2 * window
    u, y = data.window_rms(length + stride * (n_train - 1), window=window, seed=seed, dt=dt)
    x_train, y_train = data.stream_windows(u, y, length, stride)
    lmu = LMU(units, order, window * dt, output_dimensions=1, dt=dt, seed=seed, label="window-RMS LMU")
    history = dl.fit(
        lmu, x_train, y_train, epochs=epochs, batch_size=batch_size, loss="mse",
        learning_rate=learning_rate, verbose=verbose, callbacks=callbacks,
    )
    plain = None
    if hardware is not None:
        hardware = dl.Hardware.from_argument(hardware)
        first = history["seconds"]
        # the plainly trained network, kept in the file: the deployment's baseline
        plain = {name: np.asarray(value).tolist() for name, value in lmu.params.items()}
        # on the chip's rate curves first; then, if asked, spike-aware from there
        rates = dl.Hardware(**dict(hardware.as_dict(), spiking_steps=0, synapse=None))
        history = dl.fit(
            lmu, x_train, y_train, epochs=DEMO["hardware_epochs"], batch_size=batch_size, loss="mse",
            learning_rate=DEMO["hardware_learning_rate"], verbose=verbose, hardware=rates,
            memory_noise=memory_noise,
        )
        if hardware.spiking_steps:
            rate_seconds = history["seconds"]
            _, y_steps = data.stream_windows(u, y, length, stride, per_step=True)
            # decayed to zero: the spikes make the gradient noisy, and a constant rate
            # left the loss wandering up in the last epochs
            epochs = DEMO["spiking_epochs"]
            rate = dl.cosine_decay(DEMO["hardware_learning_rate"], epochs, len(x_train), batch_size)
            history = dl.fit(
                lmu, x_train, y_steps, epochs=epochs, batch_size=batch_size, loss="mse",
                learning_rate=rate, verbose=verbose, hardware=hardware,
            )
            history["seconds"] += rate_seconds
        # the time a user waits is all the trainings'
        history.update(seconds=first + history["seconds"], fine_tuning_seconds=history["seconds"])
    # fit records hardware-aware settings in the metadata: keep them
    lmu.metadata = dict(getattr(lmu, "metadata", None) or {}, task="window-rms", window=int(window), seed=int(seed))
    if plain is not None:
        lmu.metadata[PLAIN_PARAMS] = plain
    return lmu, history


def save_demo(path, **kwargs):
    """Train the demo network (:func:`train_demo`) and save it with its metadata."""
    lmu, history = train_demo(**kwargs)
    lmu.save_params(path, metadata=lmu.metadata)
    return lmu, history


# --- tasks and data ---------------------------------------------------------------


def task_of(lmu, task=None):
    """The task ``lmu`` is deployed on: ``task``, its file's metadata, or its shape.

    A file without metadata whose sizes are psMNIST's (one input, ten outputs, a
    784-step window) is taken for ``psmnist``. Raises ``ValidationError`` if the task is
    unknown or the network does not fit it.
    """
    metadata = getattr(lmu, "metadata", None) or {}
    if task is None:
        task = metadata.get("task")
    if task is None and (lmu.input_dimensions, lmu.output_dimensions) == (1, 10) and round(lmu.theta / lmu.dt) == 784:
        task = "psmnist"
    if task is None:
        raise validation.error(
            f"cannot tell which task this network was trained for (no metadata); "
            f"name one of {sorted(TASKS)}",
            "task",
            where="deploy",
        )
    if task not in TASKS:
        raise validation.error(f"must be one of {sorted(TASKS)} (got {task!r})", "task", where="deploy")
    spec = TASKS[task]
    shape = (lmu.input_dimensions, lmu.output_dimensions)
    if shape != (spec["input_dimensions"], spec["output_dimensions"]):
        raise validation.error(
            f"{task} needs {spec['input_dimensions']} input(s) and {spec['output_dimensions']} "
            f"output(s); this network has {shape[0]} and {shape[1]}",
            "task",
            where="deploy",
        )
    return task


def test_data(task, lmu, n_test=None, seed=1, readout_steps=0):
    """The test stream of ``task`` for ``lmu``.

    Returns a dict: ``u`` (``(steps, 1)``, the input stream), ``x`` (the same as
    sequences, ``(n, steps, 1)``), and ``y`` (``window-rms``: the target at every step;
    ``psmnist``: one label per digit), ``n_steps`` (steps per sequence), ``skip``
    (steps left out of the score while the memory fills), ``readout_steps`` and ``dt``.
    ``readout_steps`` (``psmnist`` only): in ``u`` each digit's last pixel is held that
    many more steps, the readout period its output is averaged over
    (:func:`with_readout`, :func:`hold_readout`, :func:`score`); ``x`` stays the digits
    and ``n_steps`` counts the steps per digit in ``u``.
    """
    readout_steps = check_readout_steps(readout_steps, where="deploy")
    if readout_steps and TASKS[task]["kind"] != "sequences":
        raise validation.error(f"a readout period is for tasks of sequences (psmnist), not {task}",
                               "readout_steps", where="deploy")
    if task == "mackey-glass":
        return dict(mackey_glass_test(getattr(lmu, "metadata", None), lmu.dt, n_test), readout_steps=0)
    n_test = validation.integer(TASKS[task]["n_test"] if n_test is None else n_test, "n_test", where="deploy")
    if task == "window-rms":
        window = int((getattr(lmu, "metadata", None) or {}).get("window", round(lmu.theta / lmu.dt)))
        if n_test <= 2 * window:
            raise validation.error(
                f"the test signal must be longer than two windows ({2 * window} steps)", "n_test", where="deploy"
            )
        u, y = data.window_rms(n_test, window=window, seed=1000 + seed, dt=lmu.dt)
        return dict(u=u[:, None], x=u[None, :, None], y=y[:, None], n_steps=len(u), skip=2 * window,
                    readout_steps=0, dt=lmu.dt)
    x, y = data.psmnist("test", n=n_test)
    u = with_readout(x, readout_steps)
    return dict(u=u.reshape(-1, 1), x=x, y=y, n_steps=u.shape[1], skip=0, readout_steps=readout_steps, dt=lmu.dt)


#: most readout steps :func:`with_readout` adds to a sequence
MAX_READOUT_STEPS = 1000


def check_readout_steps(readout_steps, where):
    """``readout_steps`` as an int in ``[0, MAX_READOUT_STEPS]``."""
    return validation.integer(readout_steps, "readout_steps", low=0, high=MAX_READOUT_STEPS, where=where)


def with_readout(x, readout_steps):
    """The sequences ``x`` (``(n, n_steps, d)``) with their last sample held ``readout_steps`` more steps.

    The stream a network with a readout period (:func:`hold_readout`) is shown: the
    input (and, held on the host, the memory's state) stays at its value at the end of
    each sequence while the output is averaged (:func:`read_out`).
    """
    x = np.asarray(x)
    readout_steps = check_readout_steps(readout_steps, where="with_readout")
    return np.concatenate([x, np.repeat(x[:, -1:], readout_steps, axis=1)], axis=1)


def hold_readout(lmu, n_steps, readout_steps):
    """Hold ``lmu``'s exact memory state through a readout period after every sequence.

    ``lmu`` (a converted network, the exact memory on the host) is shown sequences of
    ``n_steps`` samples back to back, each followed by ``readout_steps`` steps
    (:func:`with_readout`). The memory's ``state`` node then passes the memory's state
    on for the ``n_steps`` steps of a sequence and holds its value at the sequence's last
    step through the readout, a sample-and-hold on the host: for ``readout_steps`` steps
    the hidden neurons get the very input they were trained to classify at the last
    step, so their spikes over the period count their trained rates (at most one spike
    per step on Loihi, the rate read to ``1 / readout_steps``). Without the hold the
    memory would move on, and an LMU trained at the last step is lost within a few steps
    (psMNIST, order 256: 97 % at the last pixel, 39 % two zero-input steps later,
    measured). The memory itself runs on, unchanged (it is not reset between sequences).
    On Loihi the output lags the host by the host-to-chip and chip-to-host hops (a step
    each), so the first steps of the averaged period still read the digit's last pixels.
    """
    memory = getattr(lmu, "memory", None)
    if getattr(memory, "neuron_type", True) is not None or getattr(memory, "state", None) is None:
        raise validation.error(
            "a held readout needs the exact memory (on the host): memory_neurons=0", "readout_steps",
            where="deploy",
        )
    period, dt, held = n_steps + readout_steps, lmu.dt, {}

    def state(t, x):
        step = int(round(t / dt)) - 1  # nengo's first step is at t = dt
        if step % period < n_steps:
            held["state"] = np.array(x)
        return held["state"]

    memory.state.output = state
    return lmu


#: the data of ``nengo-lmu mackey-glass`` (its defaults), for a file whose metadata lacks them
MACKEY_GLASS = dict(window=32, horizon=15, n_samples=6000, valid_fraction=0.15, data_seed=0)


def mackey_glass_test(metadata=None, dt=0.001, n_test=None):
    """The ``mackey-glass`` test stream of :func:`test_data`: the benchmark's test part.

    The series and split are the ones the network was trained on (its ``metadata``,
    else :data:`MACKEY_GLASS`); ``n_test`` samples of it (None: all), scored from the
    end of the first ``window`` on, as the benchmark's test windows are.
    """
    where = {**MACKEY_GLASS, **(metadata or {})}
    series = data.mackey_glass_parts(where["n_samples"], where["valid_fraction"], seed=where["data_seed"])["test"]
    u, y = data.mackey_glass_stream(series, where["horizon"])
    window = int(where["window"])
    if n_test is not None:
        n_test = validation.integer(n_test, "n_test", low=window + 1, high=len(u), where="deploy")
        u, y = u[:n_test], y[:n_test]
    return dict(u=u[:, None], x=u[None, :, None], y=y[:, None], n_steps=len(u), skip=window - 1, dt=dt)


# --- the stages ---------------------------------------------------------------------


def load(lmu):
    """Stage 1: the trained network, from an :class:`~nengo_lmu.lmu.LMU` or its parameter file."""
    if isinstance(lmu, LMU):
        return lmu
    if isinstance(lmu, (str, os.PathLike)):
        return LMU.load(lmu)
    raise validation.error(f"must be an LMU or the path of its parameter file (got {lmu!r})", "lmu", where="deploy")


def exact_states(lmu, x):
    """The exact memory's state over the sequences ``x``, ``(n, n_steps, memory_d * order)``.

    Run once per deployment: the trained rate network's reference outputs and the Loihi
    input ranges are both read from it. None for a cell whose memory input depends on
    its state (``e_h``, ``e_m``), which has neither.
    """
    if lmu.recurrent:
        return None
    return np.stack(list(lmu.memory_states(x)), axis=1)


#: how a spiking memory's range is set from the data (:func:`memory_statistics`)
MEMORY_SCALES = ("rms", "window", "peak")
#: ``memory_scale="peak"``: each coefficient's range is this many times its largest value
PEAK_MARGIN = 1.2


def memory_statistics(lmu, x, high=None, steps_per_sample=1, scale="rms", states=None):
    """The statistics a spiking memory of ``lmu`` is scaled for, from the sequences ``x``.

    White noise (:class:`~nengo_lmu.statistics.WhiteNoise`) with the RMS of the memory's
    input over ``x`` (``x`` through the input encoders ``e_x``,
    :class:`~nengo_lmu.statistics.Measured`), up to ``high`` Hz (None: the Nyquist
    frequency ``0.5 / dt``), divided by ``steps_per_sample`` (each sample held that many
    steps, :func:`convert`). The one place the deployment, the GUI model and the
    benchmark get it from.

    ``scale="window"``: the RMS of the loudest stretch of the memory's window (``theta``)
    instead, for inputs whose loudness drifts: a memory scaled for the whole input's RMS
    saturates where the input is loud (window-rms, seed 1: whole-chip NRMSE 0.196, 0.049
    scaled for the loudest window with 200 neurons per coefficient). It costs precision
    where the input is quiet, so give the memory more neurons (the README's figures).

    ``scale="peak"``: each coefficient's range is ``PEAK_MARGIN`` times the largest value
    the exact memory's state reaches over ``x`` (``states``, :func:`exact_states`, if
    already run), :class:`~nengo_lmu.statistics.FixedScales`: no coefficient saturates
    on ``x``, and none is given the range white noise or a switch-on would need and
    ``x`` does not reach. Needs a memory input that does not depend on the network.
    Window-rms whole on the Loihi emulator (100 neurons per coefficient, 16 per hidden
    unit, five build seeds; README): on the seed-1 stream, which has a loud stretch,
    NRMSE 0.035-0.051 against 0.186-0.192 with ``"rms"`` (and 0.042-0.076 with
    ``"window"``); on the steadier seed-0 stream 0.046-0.072 against 0.033-0.042: where
    the input is steady the wider ranges cost precision.
    """
    validation.choice(scale, MEMORY_SCALES, "memory_scale", where="memory_statistics")
    x = np.asarray(x, dtype=float)
    u = x @ lmu.params["e_x"].T if "e_x" in lmu.params else x
    white = statistics.Measured(u, high=(high or 0.5 / lmu.dt) / steps_per_sample).white_noise()
    if scale == "rms":
        return white
    if scale == "peak":
        if lmu.recurrent:
            raise validation.error("'peak' needs a memory input that does not depend on the network (no e_h, e_m)",
                                   "memory_scale", where="memory_statistics")
        states = exact_states(lmu, x) if states is None else np.asarray(states)
        # one range per coefficient, shared by the memory's input dimensions
        peak = np.abs(states).reshape(-1, lmu.memory_d, lmu.order).max(axis=(0, 1))
        return statistics.FixedScales(PEAK_MARGIN * np.maximum(peak, 1e-6 * peak.max()), white.high, white.rms)
    # the mean square over every window of theta steps, each input dimension and sequence
    window = min(max(round(lmu.theta / lmu.dt), 1), u.shape[1])
    total = np.concatenate([np.zeros_like(u[:, :1]), np.cumsum(u**2, axis=1)], axis=1)
    loudest = np.sqrt(((total[:, window:] - total[:, :-window]) / window).max())
    return statistics.WhiteNoise(white.high, max(loudest, white.rms))


#: where the memory runs: ``host``, the exact memory (on the host, beside a chip);
#: ``chip``, a spiking memory with the backend's options feeding the hidden neurons
#: neuron to neuron
MEMORY = ("host", "chip")


def memory_error(lmu, backend="loihi-sim", memory_neurons=100, steps_per_sample=1, task=None, n_test=None,
                 seed=0, memory_scale="rms", memory_synapse=None):
    """The error of the spiking memory a deployment builds, as the hidden neurons receive it.

    The memory of ``deploy(lmu, backend=backend, memory="chip", memory_neurons=...,
    steps_per_sample=..., memory_scale=..., memory_synapse=...)`` (same options, statistics and
    input ranges), run on
    ``backend`` over the task's test stream (``seed`` picks it and seeds the build; use another
    seed than the deployment's test), its state read at the end of each sample through the same
    connections that feed the hidden neurons (:meth:`LegendreMemory.connect_state`, into
    a host node), against the exact memory, after the first two windows.

    Returns
    -------
    L : (memory_d * order, memory_d * order) array
        A factor of the error's covariance (``L @ L.T``, lower triangular): the
        ``memory_noise`` of :func:`nengo_lmu.dl.fit`, so training sees noise with the
        deployed memory's per-coefficient variances and correlations.
    """
    lmu = load(lmu)
    task = task_of(lmu, task)
    backends.check_backend(backend, where="memory_error")
    memory_neurons = validation.integer(memory_neurons, "memory_neurons", where="memory_error")
    steps_per_sample = check_steps_per_sample(steps_per_sample, where="memory_error")
    if lmu.recurrent:
        raise validation.error("needs a memory input that does not depend on the network (no e_h, e_m)",
                               "lmu", where="memory_error")
    spec = TASKS[task]
    test = test_data(task, lmu, n_test, seed=seed)
    states = exact_states(lmu, test["x"])
    stats = memory_statistics(lmu, test["x"], spec["high"], steps_per_sample, memory_scale, states)
    # the network as deployed (its hidden layer too: on Loihi the memory shares the chip with it)
    net = convert(lmu, firing_rate_scale=trained_firing_rate_scale(lmu), memory_neurons=memory_neurons,
                  memory_input_statistics=stats, backend=backend, memory="chip", steps_per_sample=steps_per_sample,
                  memory_synapse=memory_synapse, neurons_per_unit=trained_neurons_per_unit(lmu))
    ranges = None
    if backends.is_loihi(backend):
        from . import loihi

        ranges = loihi.lmu_input_ranges(net, test["x"], states=states)
    size = lmu.memory_d * lmu.order
    with net:
        sink = nengo.Node(size_in=size, label="memory state")
        net.memory.connect_state(sink, np.eye(size))
        probe = nengo.Probe(sink, synapse=None)
    u = present(test["u"], steps_per_sample)
    sim, _, _ = build(net, u, backend, ranges, seed)
    with sim:
        backends.run_steps(sim, len(u))
        m = sampled(sim.data[probe], steps_per_sample)
    keep = slice(test["skip"] or 2 * round(lmu.theta / lmu.dt), None)
    error = m[keep] - states.reshape(-1, size)[keep]
    cov = np.cov(error, rowvar=False).reshape(size, size)
    return np.linalg.cholesky(cov + 1e-12 * np.trace(cov) * np.eye(size))


def convert(lmu, neurons="spiking", firing_rate_scale=1000.0, hidden_synapse=None,
            memory_neurons=0, memory_input_statistics=None, loihi=False, backend=None, memory=None,
            steps_per_sample=1, neurons_per_unit=1, memory_synapse=None):
    """Stage 2: the network to deploy, ``lmu``'s parameters with the chosen neurons.

    Parameters
    ----------
    neurons : {"rate", "spiking"}
        ``"spiking"`` swaps the hidden rate neurons for their spiking version (ReLU to
        spiking ReLU, LIF rate to LIF), firing ``firing_rate_scale`` times faster.
    hidden_synapse : float or None
        Lowpass (s) on the hidden neurons' outputs; smooths spikes for outputs read
        continuously. None: unfiltered (for an output trained at one step).
    memory_neurons : int
        0: the exact memory. Otherwise a spiking memory of this many neurons per
        coefficient, with the options of ``backend``
        (:func:`nengo_lmu.backends.memory_options`; where it brings none, LIF neurons
        on a 50 ms synapse), scaled for ``memory_input_statistics`` (anything
        ``LegendreMemory(input_statistics=...)`` takes, e.g. :func:`memory_statistics`).
    backend : str or None
        The backend the network is for (:data:`nengo_lmu.backends.BACKENDS`); None:
        ``"loihi-sim"`` if ``loihi`` else ``"nengo"``.
    memory : {"host", "chip"} or None
        ``"chip"``: the spiking memory (``memory_neurons`` >= 1) feeds the hidden neurons
        neuron to neuron (``state_readout="neurons"``: on Loihi, no decode neurons and no
        trip through the host between them); unless the memory-to-memory path ``e_m``
        reads it, its state is not decoded (``decode_state=False``: no core spent sending
        it to the host; ``memory.state`` is None). ``"host"``: the exact memory
        (``memory_neurons`` must be 0). None: ``"chip"`` if ``memory_neurons`` else
        ``"host"``, the spiking memory then read through its ``state`` node.
    loihi : bool
        Shorthand for a Loihi backend (kept for existing callers).
    steps_per_sample : int
        Each input sample is held for this many simulator steps (:func:`present`): the
        memory's window becomes ``steps_per_sample * theta`` (so its state at the end of
        each held sample is exactly the trained memory's, the input being a zero-order
        hold either way) and the hidden synapse ``steps_per_sample`` times longer (the
        same filter in time per sample). The hidden neurons then have that many steps to
        spike for each sample: at most one spike per step on Loihi, more steps carry a
        rate more finely. Read the outputs with :func:`sampled`.
    neurons_per_unit : int
        Spiking neurons running each hidden unit (:attr:`.LMU.neurons_per_unit`: gains
        spread below the unit's, outputs summed): the same rates, less spike noise.
    memory_synapse : float or None
        The spiking memory's synapse (s); None: the LMU's,
        :data:`nengo_lmu.lmu.MEMORY_SYNAPSE`. Spike noise
        enters the memory's state in proportion to its window over its synapse (the
        state integrates it): window-rms whole on the Loihi emulator, 200 neurons per
        coefficient, scaled ``"peak"``, NRMSE 0.036-0.051 at 0.05 s, 0.022-0.036 at 0.1-0.2
        s (README).
    """
    backend = backends.check_backend(backend or ("loihi-sim" if loihi else "nengo"), where="convert")
    validation.choice(neurons, NEURONS, "neurons", where="convert")
    if memory is not None:
        check_memory(memory, memory_neurons, where="convert")
    steps_per_sample = check_steps_per_sample(steps_per_sample, where="convert")
    memory_synapse = check_memory_synapse(memory_synapse, memory_neurons, backend, lmu.dt, where="convert")
    kwargs = dict(hidden_synapse=_slower(hidden_synapse, steps_per_sample), neurons_per_unit=neurons_per_unit)
    if steps_per_sample > 1:
        kwargs["theta"] = lmu.theta * steps_per_sample
    if neurons == "spiking":
        spiking_type = _spiking_type(lmu.neuron_type)
        if backends.is_loihi(backend) and "voltage" in spiking_type.state:
            # the chip starts every neuron at zero (nengo-loihi warns about anything else)
            spiking_type = type(spiking_type)(initial_state={"voltage": nengo.dists.Choice([0])})
        kwargs.update(neuron_type=spiking_type, firing_rate_scale=firing_rate_scale)
    if memory_neurons:
        options = backends.memory_options(backend) or dict(neuron_type=nengo.LIF(), synapse=0.05)
        kwargs["memory"] = dict(
            options, n_neurons=int(memory_neurons) * lmu.order * lmu.memory_d,
            input_statistics=memory_input_statistics,
        )
        if memory_synapse is not None:
            kwargs["memory"]["synapse"] = memory_synapse
        if steps_per_sample > 1:
            # the whole memory slowed with its input, synapse included: the state then sees
            # the same decoding errors and spike noise per sample (they enter the state in
            # proportion to window / synapse, which a longer window alone would raise)
            # (window-rms, 100 neurons per coefficient on Loihi, 10 steps per sample: the
            # state's error fell from 0.42-3.1 to 0.02-1.2 of each coefficient's RMS). On
            # Loihi the hidden block then shares that long synapse, which costs its weights
            # their precision (the synaptic current sums synapse / dt steps): the whole
            # network on the bit-true chip did worse held than at one step per sample
            tau = (kwargs["memory"].get("synapse") or min(lmu.theta, networks.MAX_DEFAULT_TAU)) * steps_per_sample
            if backends.is_loihi(backend):
                from .loihi import longest_synapse

                # no longer than the chip's slowest decay, which it would apply anyway
                # (nengo-loihi refuses longer ones: Mackey-Glass held 1,000 steps asked 20 s)
                tau = min(tau, longest_synapse(lmu.dt))
            kwargs["memory"]["synapse"] = tau
        if memory == "chip":
            # neuron to neuron, on every backend (the Loihi options already have weights=True)
            kwargs["memory"].update(state_readout="neurons", weights=True)
            # nothing reads the state but the hidden neurons (and e_m): its decoded value
            # would cost the chip a "to host" block per coefficient
            kwargs["memory"]["decode_state"] = bool(lmu.paths["memory_to_memory"])
    return lmu.with_neurons(**kwargs)


#: the most simulator steps per input sample :func:`convert` accepts
MAX_STEPS_PER_SAMPLE = 1000


def check_steps_per_sample(steps_per_sample, where):
    """``steps_per_sample`` as an int in ``[1, MAX_STEPS_PER_SAMPLE]``."""
    return validation.integer(steps_per_sample, "steps_per_sample", high=MAX_STEPS_PER_SAMPLE, where=where)


def _slower(synapse, factor):
    """``synapse`` with its time constant ``factor`` times longer (None, seconds or a Lowpass)."""
    if synapse is None or factor == 1:
        return synapse
    if isinstance(synapse, nengo.Lowpass):
        return nengo.Lowpass(synapse.tau * factor)
    if isinstance(synapse, nengo.synapses.Synapse):
        raise validation.error(
            f"with steps_per_sample > 1 the hidden synapse must be None, a time constant or a "
            f"nengo.Lowpass, to be slowed with the samples (got {synapse!r})",
            "hidden_synapse",
            where="convert",
        )
    return float(synapse) * factor


def present(u, steps_per_sample=1):
    """The stream ``u`` (``(samples, d)``) with each sample held ``steps_per_sample`` steps."""
    return np.repeat(np.asarray(u), steps_per_sample, axis=0)


def sampled(y, steps_per_sample=1):
    """The outputs ``y`` of a :func:`present` ed stream at the last step of each sample."""
    return np.asarray(y)[steps_per_sample - 1 :: steps_per_sample]


def check_memory(memory, memory_neurons, where):
    """``memory`` if it agrees with ``memory_neurons`` (see :func:`convert`)."""
    validation.choice(memory, MEMORY, "memory", where=where)
    if memory == "chip" and not memory_neurons:
        raise validation.error(
            "memory='chip' is a spiking memory: give memory_neurons >= 1 (neurons per coefficient)",
            "memory", where=where,
        )
    if memory == "host" and memory_neurons:
        raise validation.error(
            f"memory='host' is the exact memory, without neurons (got memory_neurons={memory_neurons}); "
            "a spiking memory is memory='chip'",
            "memory", where=where,
        )
    return memory


def check_memory_synapse(memory_synapse, memory_neurons, backend, dt=0.001, where="deploy"):
    """``memory_synapse`` (s) checked for a spiking memory of ``memory_neurons`` per
    coefficient on ``backend``; None stays None (the LMU's, :data:`nengo_lmu.lmu.MEMORY_SYNAPSE`)."""
    if memory_synapse is None:
        return None
    memory_synapse = validation.positive(memory_synapse, "memory_synapse", where=where)
    if not memory_neurons:
        raise validation.error("is the spiking memory's synapse: give memory_neurons >= 1", "memory_synapse",
                               where=where)
    if backends.is_loihi(backend):
        from .loihi import longest_synapse

        longest = longest_synapse(dt)
        if memory_synapse > longest:
            raise validation.error(
                f"the chip's slowest synaptic decay is a time constant of {longest:.2f} s (got {memory_synapse}); "
                f"the nearest that fits: {math.floor(longest * 100) / 100}", "memory_synapse", where=where,
            )
    return memory_synapse


class DoesNotFit(ValidationError):
    """:func:`check_fits`' refusal of a spiking memory too large for one Loihi chip.

    A ``ValidationError`` about ``memory_neurons`` whose message names the limit and the
    largest number that fits; ``largest`` holds that number (0: even 1 does not fit),
    ``exact`` whether the search closed in on it (else only ``largest`` is known to fit,
    and ``largest + 1`` to ``memory_neurons - 1`` were not all tried), ``cores`` the cores
    the memory asked for needs and ``reason`` the limit it exceeds, in a few words. A
    benchmark over several sizes catches this one refusal, and nothing else, to record a
    cell as not fitting.
    """

    largest = None
    exact = False
    cores = None
    reason = None


#: most builds :func:`check_fits` spends looking for the largest memory that fits
#: (a bisection: 10 halve a range of 1,024 neurons per coefficient)
FIT_BUILDS = 10


def check_fits(make, memory_neurons, x, where="deploy", max_builds=FIT_BUILDS, states=None):
    """Refuse a spiking memory that does not fit one Loihi chip, naming the largest that does.

    Each candidate network is measured by :func:`nengo_lmu.loihi.resources` (built without
    discretising, nothing run); when ``memory_neurons`` does not fit, a search over
    ``1 .. memory_neurons - 1`` (a proportional guess, then a bisection; at most
    ``max_builds`` builds in all) finds the largest number of neurons per coefficient
    that fits: fewer neurons mean fewer in-axons on the hidden neurons' core and smaller
    synapse memories, so fewer cores.

    Parameters
    ----------
    make : callable
        ``make(n)``: the network to deploy with ``n`` memory neurons per coefficient
        (:func:`convert`).
    memory_neurons : int
        The number asked for.
    x : array_like
        Input sequences ``(n, steps, input_dimensions)``, for the host-to-chip input
        ranges (:func:`nengo_lmu.loihi.lmu_input_ranges`).
    states : array_like or None
        The exact memory over ``x`` (:func:`exact_states`), if already computed: the input
        ranges are then read from it instead of running the memory again for each build.

    Returns
    -------
    Resources
        Those of ``make(memory_neurons)``, if it fits; else :class:`DoesNotFit` (a
        ``ValidationError`` about ``memory_neurons``), naming the limit, what was asked for
        and the largest that fits (its ``largest``).
    """
    from . import loihi

    def use(n):
        network = make(n)
        ranges = loihi.lmu_input_ranges(network, x, states=states)
        return loihi.resources(network, dt=network.dt, input_ranges=ranges)

    asked = use(memory_neurons)
    if asked.fits:
        return asked
    if asked.overflows:
        exceeded = sorted({k for b in asked.overflows for k in b["overflow"]})
        reason = f"a block exceeds a core's {'/'.join(exceeded)} limit"
        names = "; ".join(f"{b['label']} ({', '.join(f'{k} {b[k]} > {loihi.LIMITS[k]}' for k in b['overflow'])})"
                          for b in asked.overflows[:3])
        more = len(asked.overflows) - 3
        # a one-line error: the first blocks name the limit, the count says how widely
        limit = f"a block exceeds a core's limits: {names}" + (f"; and {more} more blocks" if more > 0 else "")
    else:
        limit = reason = f"it needs {asked.cores} cores, more than one chip's {asked.cores_per_chip}"
    # a first guess, as if every count grew in proportion to the neurons (in-axons do;
    # synapse memory grows faster, so then it is high), and the one above it: most often
    # the answer in two builds; else the bisection closes in
    over = max([asked.cores / asked.cores_per_chip]
               + [b[k] / loihi.LIMITS[k] for b in asked.overflows for k in b["overflow"]])
    guess = min(max(int(memory_neurons / over), 1), memory_neurons - 1)
    fits, fails, builds = 0, memory_neurons, 1  # the largest known to fit (0: none), the smallest known not to
    while fails - fits > 1 and builds < max_builds:
        n = guess if builds == 1 else fits + 1 if builds == 2 and fits == guess else (fits + fails) // 2
        fits, fails = (n, fails) if use(n).fits else (fits, n)
        builds += 1
    if fails - fits == 1:
        nearest = (f"the largest that fits is memory_neurons={fits}" if fits else
                   "even memory_neurons=1 does not fit: lower the order or the number of memories")
    else:  # the search stopped before it closed in
        nearest = (f"memory_neurons={fits} fits ({fails} does not)" if fits else
                   f"memory_neurons={fails} does not fit either; try fewer")
    refusal = validation.error(
        f"a spiking memory of memory_neurons={memory_neurons} per coefficient does not fit one Loihi chip: "
        f"{limit}; {nearest}",
        "memory_neurons",
        where=where,
        kind=DoesNotFit,
    )
    refusal.largest, refusal.exact, refusal.cores, refusal.reason = fits, fails - fits == 1, asked.cores, reason
    raise refusal


def _spiking_type(neuron_type):
    if neuron_type.spiking:
        return neuron_type
    if type(neuron_type) in SPIKING:
        return SPIKING[type(neuron_type)]()
    raise validation.error(
        f"no spiking version of {neuron_type} (known: {', '.join(t.__name__ for t in SPIKING)})",
        "neurons",
        where="convert",
    )


def stream_network(lmu, u, dt=None, seed=0):
    """A network presenting the stream ``u`` (``(steps, input_dimensions)``) to ``lmu``.

    ``lmu`` is added to it, not copied. Returns ``(net, probe)``, the probe on
    ``lmu.output`` (unfiltered: the network's own ``hidden_synapse`` filters).
    ``seed`` seeds the build where ``lmu`` has no seed of its own (a loaded file has
    none): the spiking memory's neurons are drawn from it, and unseeded they differed on
    every run (window-rms whole on the Loihi emulator, the same deployment run four times: NRMSE
    0.049-0.071).
    """
    dt = lmu.dt if dt is None else dt
    seed = lmu.seed if lmu.seed is not None else seed
    with nengo.Network(label=f"{lmu.label or 'LMU'} on a stream", seed=seed) as net:
        net.stimulus = nengo.Node(nengo.processes.PresentInput(np.asarray(u), dt), label="stimulus")
        nengo.Connection(net.stimulus, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output, synapse=None)
    net.networks.append(lmu)
    return net, probe


def build(lmu, u, backend="nengo", input_ranges=None, seed=0):
    """Stage 3: ``lmu`` on the stream ``u``, built for ``backend``.

    ``input_ranges`` (Loihi backends only): see :func:`nengo_lmu.loihi.Simulator`;
    ``seed``: see :func:`stream_network`. Returns ``(sim, probe, build_s)``.
    """
    net, probe = stream_network(lmu, u, seed=seed)
    kwargs = {"input_ranges": input_ranges} if backends.is_loihi(backend) and input_ranges else {}
    t0 = time.perf_counter()
    sim = backends.simulator(net, backend=backend, dt=lmu.dt, **kwargs)
    return sim, probe, time.perf_counter() - t0


def run(sim, probe, n_steps, progress=False, desc=None):
    """Stage 4: run a built stream ``n_steps``; returns ``(y, run_s)``, ``y`` ``(steps, out)``."""
    t0 = time.perf_counter()
    backends.run_steps(sim, n_steps, progress=progress, desc=desc)
    y = np.asarray(sim.data[probe]).reshape(n_steps, -1)
    return y, time.perf_counter() - t0


def run_stream(lmu, u, backend="nengo", progress=False, input_ranges=None, seed=0):
    """Build and run ``lmu`` on the stream ``u``, one sample per step, on ``backend``.

    Parameters
    ----------
    backend : str
        One of :data:`nengo_lmu.backends.BACKENDS`.
    progress : bool
        Show a progress bar (tqdm) over the steps (:func:`nengo_lmu.backends.run_steps`).
    input_ranges : dict or None
        For the Loihi backends, see :func:`nengo_lmu.loihi.Simulator`.
    seed : int
        The build's seed where ``lmu`` has none (:func:`stream_network`).

    Returns
    -------
    dict
        ``y`` (``(steps, out)``), ``build_s``, ``run_s``, ``steps_per_s``.
    """
    sim, probe, build_s = build(lmu, u, backend, input_ranges, seed)
    with sim:
        y, run_s = run(sim, probe, len(u), progress=progress, desc=backend)
    return {"y": y, "build_s": build_s, "run_s": run_s, "steps_per_s": len(u) / run_s}


def score(task, y, test, synapse=None):
    """Stage 5: the task's figure for outputs ``y`` (``(steps, out)``) on ``test`` (:func:`test_data`).

    ``window-rms``: ``{"nrmse"}`` against the target through the same ``synapse`` (a time
    constant or a nengo Synapse) as the output (a lowpass lags; the score should not
    count the lag as error).
    ``psmnist``: ``{"accuracy"}`` of the output at each digit's last step, or averaged over
    its readout period (``test["readout_steps"]`` > 0, :func:`read_out`).
    """
    if TASKS[task]["metric"] == "nrmse":
        target = test["y"] if synapse is None else _filter(synapse).filt(test["y"], dt=test["dt"], y0=0)
        keep = slice(test["skip"], None)
        return {"nrmse": maths.nrmse(y[keep], target[keep])}
    return _accuracy(read_out(y.reshape(len(test["y"]), test["n_steps"], -1), test), test["y"])


def read_out(outputs, test):
    """Each sequence's answer from its outputs ``(n, n_steps, out)``: ``(n, out)``.

    The mean over the last ``test["readout_steps"]`` steps (the readout period of
    :func:`test_data`), or the last step without one.
    """
    return np.asarray(outputs)[:, -max(test.get("readout_steps", 0), 1):].mean(axis=1)


def _accuracy(outputs, labels):
    return {"accuracy": float(np.mean(np.argmax(outputs, axis=-1) == labels))}


def reference(lmu, task, test, states, synapse=None, steps_per_sample=1):
    """The task's figure of the trained rate network with the exact memory, and its peak rate.

    Computed in numpy (:meth:`.LMU.rate_outputs`) from the exact ``states`` of the test
    data, each sequence from rest; ``(None, None)`` for a cell it cannot compute. With a
    readout period (``test["readout_steps"]``) the peak is the last step's, the rates
    held through the period (:func:`last_step_outputs`). A stream's outputs pass through
    the deployed output's ``synapse`` with its samples held ``steps_per_sample`` steps
    (:func:`through_synapse`) and are scored as the deployed network's are
    (:func:`score`): a lowpass also smooths the rate network's own error, so comparing a
    filtered deployment with an unfiltered rate network would credit the filter to the
    deployment.
    """
    if states is None or lmu.paths["hidden_to_hidden"]:
        return None, None
    stream = TASKS[task]["kind"] == "stream"
    if stream:
        outputs, peak = lmu.rate_outputs(test["x"], every_step=True, peak_rate=True, states=states)
        y = through_synapse(outputs[0], synapse, test["dt"], steps_per_sample)
        return score(task, y, test, synapse=synapse), peak
    if test.get("readout_steps", 0):
        # held through the readout: the last step's outputs, and the rates read there
        outputs, peak = last_step_outputs(lmu, test["x"], states[:, -1])
    else:
        outputs, peak = lmu.rate_outputs(test["x"], peak_rate=True, states=states)
    return _accuracy(outputs, test["y"]), peak


def _filter(synapse):
    """``synapse`` (a time constant or a nengo Synapse) as a nengo Synapse."""
    return synapse if isinstance(synapse, nengo.synapses.Synapse) else nengo.Lowpass(synapse)


def plain_reference(lmu, task, test, synapse=None, steps_per_sample=1):
    """:func:`reference`'s figure for the plainly trained network a hardware-aware file keeps
    (``lmu.metadata[PLAIN_PARAMS]``, :func:`train_demo`); None for a file without one.

    Hardware-aware training moves every parameter (the memory's encoder too), so the
    fine-tuned network's own rate figure is no baseline: this is the network it started from.
    """
    params = (getattr(lmu, "metadata", None) or {}).get(PLAIN_PARAMS)
    if params is None:
        return None
    plain = lmu.with_neurons()
    plain.set_params({name: np.asarray(value, dtype=float) for name, value in params.items()})
    return reference(plain, task, test, exact_states(plain, test["x"]), synapse, steps_per_sample)[0]


def through_synapse(y, synapse, dt, steps_per_sample=1):
    """Outputs ``y`` (``(samples, out)``) as a deployed network's output connection delivers them.

    Each sample held ``steps_per_sample`` steps of ``dt`` (:func:`present`), through
    ``synapse`` slowed as :func:`convert` slows it, read at each sample's last step
    (:func:`sampled`). A nengo connection's synapse filters what its source gave the
    step before: one step later than ``Synapse.filt``. ``synapse=None`` passes ``y``.
    """
    if synapse is None:
        return y
    filtered = _filter(_slower(synapse, steps_per_sample)).filt(present(y, steps_per_sample), dt=dt, y0=0)
    return sampled(np.concatenate([np.zeros_like(filtered[:1]), filtered[:-1]]), steps_per_sample)


def peak_rate(lmu, peak, firing_rate_scale):
    """The peak hidden rate ``peak`` of :func:`reference` (Hz at ``lmu``'s own
    ``firing_rate_scale``) at ``firing_rate_scale``; None if unknown."""
    return None if peak is None else peak / lmu.firing_rate_scale * firing_rate_scale


def check_peak_rate(lmu, peak_hz, firing_rate_scale, where="deploy"):
    """Refuse a ``firing_rate_scale`` at which the hidden neurons would need more than
    one spike per step on Loihi (``peak_hz``: :func:`peak_rate`; None passes), naming
    the scale that fits."""
    if peak_hz is not None and peak_hz > 1 / lmu.dt:
        raise validation.error(
            f"on Loihi a neuron spikes at most once per step ({1 / lmu.dt:g} Hz at dt={lmu.dt:g}), but at "
            f"firing_rate_scale={firing_rate_scale:g} the hidden neurons would need up to {peak_hz:.0f} Hz "
            f"on this test data; nearest scale that fits: {firing_rate_scale / peak_hz / lmu.dt:.4g}",
            "firing_rate_scale",
            where=where,
        )


def last_step_outputs(lmu, x, final_states=None):
    """The rate network's outputs at the last step of the sequences ``x``, and its peak rate there.

    Like :meth:`.LMU.rate_outputs`, but the peak hidden rate (Hz at the network's
    ``firing_rate_scale``) is the last step's only: the rates a held readout
    (:func:`hold_readout`) reads. ``final_states``: the exact memory after ``x``
    (``(n, memory_d * order)``), if known.
    """
    final = lmu.final_memory_state(x) if final_states is None else np.asarray(final_states)
    return lmu.rate_outputs(np.asarray(x)[:, -1:], peak_rate=True, states=final[:, None])


# --- the pipeline -------------------------------------------------------------------


def trained_hardware(lmu):
    """The :class:`nengo_lmu.dl.Hardware` settings ``lmu`` was trained for (a dict), or None.

    Hardware-aware training (:func:`nengo_lmu.dl.fit` with ``hardware=``) records them in
    ``lmu.metadata["hardware"]``.
    """
    return (getattr(lmu, "metadata", None) or {}).get("hardware")


def trained_for(lmu, name, default):
    """The setting ``name`` of the chip ``lmu`` was trained for (:func:`trained_hardware`),
    else ``default`` (no hardware-aware training, or a file saved before the setting existed)."""
    return (trained_hardware(lmu) or {}).get(name, default)


def trained_firing_rate_scale(lmu, default=1000.0):
    """The ``firing_rate_scale`` ``lmu`` was trained to be deployed at, else ``default``:
    the chip's staircase of rates it trained with is the one at that scale, so deploying
    at another would undo the training."""
    return float(trained_for(lmu, "firing_rate_scale", default))


def trained_neurons_per_unit(lmu, default=1):
    """The chip neurons per hidden unit ``lmu`` was trained to be deployed with, else
    ``default``: their summed staircases, and spikes, are what it trained with."""
    return int(trained_for(lmu, "neurons_per_unit", default))


def deployed_neurons_per_unit(lmu, neurons_per_unit=None, where="deploy"):
    """``neurons_per_unit`` checked for deploying ``lmu``; None: as many as it was trained
    for (:func:`trained_neurons_per_unit`), else one. ``lmu`` None: a network still to be
    trained (the demos', rectified linear)."""
    if neurons_per_unit is None:
        neurons_per_unit = 1 if lmu is None else trained_neurons_per_unit(lmu)
    neuron_type = nengo.RectifiedLinear() if lmu is None else lmu.neuron_type
    return check_neurons_per_unit(neurons_per_unit, neuron_type, where=where)


def deploy(lmu, task=None, backend="nengo", neurons="spiking", firing_rate_scale=None,
           hidden_synapse="task", memory_neurons=0, n_test=None, seed=0, progress=False, memory=None,
           attribute=False, steps_per_sample=1, readout_steps=0, neurons_per_unit=None, memory_scale="rms",
           memory_synapse=None):
    """Convert ``lmu``, run it on ``backend`` over the task's test stream, and score it.

    The stages, each once: load the parameters (``lmu`` may be a parameter file), run
    the exact memory over the test data (:func:`exact_states`), convert the neurons
    (:func:`convert`, with ``backend``'s memory options), build for ``backend``
    (:func:`build`; on Loihi also its ``resources``, from the same build), run, and
    score against the trained rate network (:func:`reference`).

    ``memory="chip"`` deploys the whole network (:func:`convert`): the spiking memory of
    ``memory_neurons`` neurons per coefficient, with the backend's options, feeding the
    hidden neurons neuron to neuron (on Loihi both on the chip, only the input and output
    crossing to and from the host); ``memory="host"`` the exact memory on the host.
    ``attribute=True`` (Loihi backends) adds intermediate runs to the report, each a
    further build and run: on ``loihi-sim`` the same network on the float emulator
    (``loihi-simreal``: spikes, no quantised weights), and with ``memory="chip"`` the
    exact memory on the host instead.
    ``steps_per_sample`` holds each input sample for that many simulator steps
    (:func:`convert`: the memory's window and the hidden synapse stretched to match; the
    figures are read at the last step of each sample), so a sample takes
    ``steps_per_sample * dt`` of chip time.
    ``readout_steps`` (``psmnist``, exact memory): after each digit its last pixel and
    the memory's state are held that many steps on the host (:func:`hold_readout`) and the
    digit is scored by its output averaged over them (:func:`read_out`): spike counts over
    the period instead of one step's spikes, for the network as trained (at the last
    step). Not with ``steps_per_sample`` > 1 (an alternative) or a spiking memory.
    ``neurons_per_unit`` runs each hidden unit with that many spiking neurons
    (:func:`convert`; None: as many as the network was trained for,
    :func:`trained_neurons_per_unit`, else one); ``memory_scale`` sets a spiking memory's range from the test
    input's RMS, from its loudest window or from each coefficient's peak
    (:func:`memory_statistics`); ``memory_synapse`` is a spiking memory's synapse
    (:func:`convert`; checked against the chip's longest on Loihi).
    ``seed`` picks the test stream and seeds the build of a network without a seed of its
    own (:func:`stream_network`: a loaded file's spiking neurons), so a run repeats.
    ``hidden_synapse="task"`` takes the task's default (:data:`TASKS`);
    ``firing_rate_scale=None`` the scale the network was trained for
    (:func:`trained_firing_rate_scale`; 1000 if none). On the Loihi
    backends the hidden neurons must spike; they run on the chip, the exact memory on
    the host, and the host-to-chip inputs are scaled to the ranges the test data reach
    (:func:`nengo_lmu.loihi.lmu_input_ranges`). A ``firing_rate_scale`` at which the
    trained network's hidden neurons would need more than one spike per step on the test
    data is refused there (``ValidationError`` naming the scale that fits) before
    anything is built, and so is a spiking memory that does not fit one chip
    (:func:`check_fits`: :class:`DoesNotFit`, a ``ValidationError`` naming the largest
    ``memory_neurons`` that fits; a few resource builds, nothing run).

    Returns
    -------
    dict
        The task's figure (``nrmse`` or ``accuracy``) for the deployed network, the same
        figure of the trained rate network with the exact memory on the same data
        (``reference``), and of the plainly trained network a hardware-aware file was
        fine-tuned from (``plain_reference``, when the file keeps it), the Loihi
        ``resources`` (Loihi backends), timings and settings, and the arrays ``y`` and
        ``test`` (left out of saved JSON).
    """
    # 1. load, and check everything before any work
    lmu = load(lmu)
    task = task_of(lmu, task)
    backends.check_backend(backend, where="deploy")
    validation.choice(neurons, NEURONS, "neurons", where="deploy")
    if memory is not None:
        check_memory(memory, memory_neurons, where="deploy")
    attribute = validation.boolean(attribute, "attribute", where="deploy")
    steps_per_sample = check_steps_per_sample(steps_per_sample, where="deploy")
    readout_steps = check_readout_steps(readout_steps, where="deploy")
    # checked here (an LMU checks it again), before the test data and the reference are made
    neurons_per_unit = deployed_neurons_per_unit(lmu, neurons_per_unit, where="deploy")
    validation.choice(memory_scale, MEMORY_SCALES, "memory_scale", where="deploy")
    memory_synapse = check_memory_synapse(memory_synapse, memory_neurons, backend, lmu.dt, where="deploy")
    if readout_steps and (memory_neurons or steps_per_sample > 1):
        raise validation.error(
            "a held readout needs the exact memory and one step per sample (memory_neurons=0, "
            "steps_per_sample=1)", "readout_steps", where="deploy",
        )
    on_loihi = backends.is_loihi(backend)
    if on_loihi and neurons != "spiking":
        raise validation.error("Loihi runs spiking neurons only: use neurons='spiking'", "neurons", where="deploy")
    spec = TASKS[task]
    if firing_rate_scale is None:
        firing_rate_scale = trained_firing_rate_scale(lmu)
    synapse = spec["hidden_synapse"] if hidden_synapse == "task" else hidden_synapse
    test = test_data(task, lmu, n_test, seed=seed, readout_steps=readout_steps)
    states = exact_states(lmu, test["x"])

    # 2. convert the neurons
    # the trained rate network on the test data (numpy, cheap): its peak rate is checked
    # against the chip's limit before anything is built
    ref, peak = reference(lmu, task, test, states, synapse, steps_per_sample)
    plain_ref = plain_reference(lmu, task, test, synapse, steps_per_sample)
    peak_hz = None if neurons != "spiking" else peak_rate(lmu, peak, firing_rate_scale)
    if on_loihi:
        check_peak_rate(lmu, peak_hz, firing_rate_scale, where="deploy")
    stats = (memory_statistics(lmu, test["x"], spec["high"], steps_per_sample, memory_scale, states)
             if memory_neurons else None)

    def make(n, memory=memory):
        network = convert(lmu, neurons, firing_rate_scale, synapse, n, stats, backend=backend, memory=memory,
                          steps_per_sample=steps_per_sample, neurons_per_unit=neurons_per_unit,
                          memory_synapse=memory_synapse if n else None)
        return hold_readout(network, test["x"].shape[1], readout_steps) if readout_steps else network

    if on_loihi and memory_neurons:
        # a spiking memory too large for the chip is refused before the long build and run
        check_fits(make, memory_neurons, test["x"], states=states)
    net = make(memory_neurons)

    # 3. build for the backend (the Loihi one with its input ranges; resources read from it)
    ranges = None
    if on_loihi:
        from . import loihi  # imports nengo-loihi: only when used

        ranges = loihi.lmu_input_ranges(net, test["x"], states=states)
        # the spikes of each layer on the chip, for the report (read from its compartments)
        layers = {"hidden": [net.hidden]}
        if net.memory.coefficient_ensembles:
            layers["memory"] = net.memory.coefficient_ensembles
        with net:
            spike_probes = {name: [nengo.Probe(e.neurons, synapse=None) for e in ensembles]
                            for name, ensembles in layers.items()}
    u = present(test["u"], steps_per_sample)
    sim, probe, build_s = build(net, u, backend, ranges, seed)
    results = {"task": task, "backend": backend, "neurons": neurons}
    with sim:
        if on_loihi:
            results["resources"] = loihi.resources(sim)
        # 4. run
        y, run_s = run(sim, probe, len(u), progress=progress, desc=backend)
        y = sampled(y, steps_per_sample)
        if on_loihi:
            # spikes per neuron per step, (steps, neurons) per layer
            spikes = {name: np.hstack([np.asarray(sim.data[p]) for p in probes]) * lmu.dt
                      for name, probes in spike_probes.items()}
            chip_ops = loihi.activity(sim)

    # 5. score and report
    results.update(score(task, y, test, synapse=synapse))
    results["reference"] = ref
    if plain_ref is not None:
        results["plain_reference"] = plain_ref
    if peak_hz is not None:
        # the trained rate network's highest hidden rate, at the deployed scale
        results["peak_rate_hz"] = peak_hz
    results.update(
        build_s=build_s, run_s=run_s, steps_per_s=len(u) / run_s, n_steps=len(u),
        samples_per_s=len(test["u"]) / run_s,
        settings=dict(
            firing_rate_scale=firing_rate_scale if neurons == "spiking" else None,
            hidden_synapse=synapse, memory_neurons=memory_neurons, memory=memory, n_test=n_test or spec["n_test"],
            seed=seed, units=lmu.units, order=lmu.order, theta_steps=round(lmu.theta / lmu.dt),
            steps_per_sample=steps_per_sample, seconds_per_sample=steps_per_sample * lmu.dt,
            neurons_per_unit=neurons_per_unit, memory_scale=memory_scale, memory_synapse=memory_synapse,
            readout_steps=test["readout_steps"],
        ),
        y=y, test=test,
    )
    if on_loihi:
        results["report"] = report(lmu, task, test, states, results, spikes, chip_ops, firing_rate_scale,
                                   steps_per_sample, neurons_per_unit)
        if attribute:
            steps = {}
            if backend == "loihi-sim":
                steps["spikes_float_weights"] = (net, "loihi-simreal")
            if memory_neurons:
                steps["memory_on_host"] = (make(0, memory="host"), backend)
            for name, (network, on) in steps.items():
                ranges_ = loihi.lmu_input_ranges(network, test["x"], states=states)
                y_ = sampled(run_stream(network, u, on, input_ranges=ranges_, seed=seed)["y"], steps_per_sample)
                results["report"]["metrics"][name] = score(task, y_, test, synapse=synapse)[TASKS[task]["metric"]]
    return results


def report(lmu, task, test, states, results, spikes, chip_ops, firing_rate_scale, steps_per_sample=1,
           neurons_per_unit=1):
    """The deployment report of a Loihi run: where the task's figure is lost, and what it costs.

    ``metrics``: the task's figure (every one through the deployed output's synapse, as
    :func:`reference` scores it) of the rate network with its own neurons (``rate``), of
    the same network with the chip's rates at the deployed ``firing_rate_scale`` and no
    spikes (``chip_rates``, :func:`nengo_lmu.loihi.chip_neuron_type`, with the deployed
    ``neurons_per_unit``), of the network as
    it was trained (``trained``: the chip's rates with the neurons per unit it was trained
    for, after hardware-aware training on the chip's rates, None after spike-aware training, else ``rate``) and of the deployed network
    (``deployed``: spikes, quantised weights, host-to-chip encoders); for a file that keeps
    the network it was fine-tuned from, that one's (``plain_rate``, :func:`plain_reference`);
    ``deploy(..., attribute=True)`` adds ``spikes_float_weights`` and ``memory_on_host``. ``layers``: per
    layer on the chip (``hidden``; ``memory`` when it is spiking), neurons and mean / max
    spikes per neuron per step over the run (``spikes``: ``name -> (steps, neurons)``).
    ``cores``; and, from the emulator's counts (:func:`nengo_lmu.loihi.activity`),
    synaptic operations and neuron updates per step and per inference (an input sample for
    a stream task, a sequence otherwise; ``steps_per_sample`` steps per sample) with an
    ENERGY ESTIMATE from published per-operation figures.
    """
    from . import loihi

    metric = TASKS[task]["metric"]
    metrics = {"rate": (results["reference"] or {}).get(metric), "deployed": results[metric]}
    if "plain_reference" in results:
        # the plainly trained network a hardware-aware one was fine-tuned from
        metrics["plain_rate"] = results["plain_reference"][metric]
    # every stage is scored through the deployed output's synapse, as the deployment is
    synapse = results["settings"]["hidden_synapse"]
    chip_rates = {}
    trained_k = trained_neurons_per_unit(lmu)
    if states is not None and not lmu.paths["hidden_to_hidden"]:
        for k in {trained_k, neurons_per_unit}:
            chip = lmu.with_neurons(loihi.chip_neuron_type(lmu.neuron_type), firing_rate_scale=firing_rate_scale,
                                    neurons_per_unit=k)
            chip_rates[k] = reference(chip, task, test, states, synapse, steps_per_sample)[0][metric]
        metrics["chip_rates"] = chip_rates[neurons_per_unit]
    # the network as it was trained: hardware-aware training trained the chip's rates, with
    # the neurons per unit it was trained for; spike-aware training its spikes, which only
    # a run shows (None)
    hardware = trained_hardware(lmu)
    if hardware is None:
        metrics["trained"] = metrics["rate"]
    else:
        metrics["trained"] = None if hardware.get("spiking_steps") else chip_rates.get(trained_k)
    layers = {name: {"neurons": int(s.shape[1]), "mean_spikes_per_step": float(s.mean()),
                     "max_spikes_per_step": float(s.max())} for name, s in spikes.items()}
    out = {"metric": metric, "metrics": metrics, "layers": layers, "cores": results["resources"].cores}
    if chip_ops is not None:
        per_inference = steps_per_sample * (1 if TASKS[task]["kind"] == "stream" else test["n_steps"])
        out.update(chip_ops, steps_per_inference=per_inference,
                   synaptic_ops_per_inference=chip_ops["synaptic_ops_per_step"] * per_inference,
                   energy_per_inference_nj=chip_ops["energy_per_step_nj"] * per_inference)
    return out


def format_report(rep):
    """:func:`report` as a few lines of text."""
    lines = [f"{rep['metric']}: " + ", ".join(f"{k} {v:.4f}" for k, v in rep["metrics"].items() if v is not None)]
    for name, layer in rep["layers"].items():
        lines.append(f"{name}: {layer['neurons']} neurons, spikes per neuron per step mean "
                     f"{layer['mean_spikes_per_step']:.3f}, max {layer['max_spikes_per_step']:.3f}")
    lines.append(f"{rep['cores']} cores")
    if "energy_per_inference_nj" in rep:
        lines.append(f"per inference ({rep['steps_per_inference']} step(s)): "
                     f"{rep['synaptic_ops_per_inference']:.0f} synaptic ops, "
                     f"{rep['neuron_updates_per_step'] * rep['steps_per_inference']:.0f} neuron updates, "
                     f"about {rep['energy_per_inference_nj']:.1f} nJ (ESTIMATE from published per-operation "
                     "energies, Davies et al. 2018)")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m nengo_lmu.deploy OUT.npz: the GUI's trained network
    import sys

    from .quiet import quiet_startup

    quiet_startup()

    out = sys.argv[1] if len(sys.argv) > 1 else "trained_lmu.npz"
    lmu, history = save_demo(out)
    print(f"wrote {out}: loss {history['loss'][-1]:.2e} after {history['seconds']:.1f} s of training")
