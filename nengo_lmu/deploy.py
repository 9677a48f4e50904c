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

Two tasks are known (:data:`TASKS`):

``window-rms``
    The sliding-window RMS of a slowly modulated noise signal
    (:func:`nengo_lmu.data.window_rms`), a small continuous task that trains in seconds
    (:func:`train_demo`): the quick demo of ``nengo-lmu deploy`` and the GUI's trained
    LMU. Scored by the NRMSE of the output over a continuous test signal.
``psmnist``
    Permuted sequential MNIST (``nengo-lmu psmnist`` trains it). The test digits are
    presented back to back as one stream, as a deployed network sees them (the memory
    is not reset between digits); scored by the accuracy of the output at each digit's
    last pixel.

Nothing here imports TensorFlow except :func:`train_demo`; the Loihi backends import
nengo-loihi when used.
"""

import time
import warnings

import numpy as np
import nengo
from nengo.exceptions import ValidationError

from . import data
from .lmu import LMU

#: what each task needs from a network, and the deployment defaults for it
TASKS = {
    "window-rms": dict(
        input_dimensions=1, output_dimensions=1, kind="stream", metric="nrmse",
        high=1.5, hidden_synapse=0.05, n_test=10_000,
        help="sliding-window RMS of a modulated noise signal (the quick demo)",
    ),
    "psmnist": dict(
        input_dimensions=1, output_dimensions=10, kind="sequences", metric="accuracy",
        high=None, hidden_synapse=None, n_test=100,
        help="permuted sequential MNIST, digits back to back",
    ),
}

#: the demo network of :func:`train_demo` (and of nengo_lmu/gui/trained_lmu.npz)
DEMO = dict(units=64, order=6, window=500, n_train=2000, epochs=30, batch_size=50,
            learning_rate=3e-3, stride=100, seed=0)

#: spiking versions of the rate neuron types a network is trained with
SPIKING = {
    nengo.RectifiedLinear: nengo.SpikingRectifiedLinear,
    nengo.LIFRate: nengo.LIF,
}

NEURONS = ("rate", "spiking")


def train_demo(units=DEMO["units"], order=DEMO["order"], window=DEMO["window"],
               n_train=DEMO["n_train"], epochs=DEMO["epochs"], batch_size=DEMO["batch_size"],
               learning_rate=DEMO["learning_rate"], stride=DEMO["stride"], seed=DEMO["seed"],
               dt=0.001, verbose=0, callbacks=None):
    """Train a small LMU on the ``window-rms`` task through NengoDL.

    The memory's window is the task's (``window`` steps); ``n_train`` sequences of
    ``2 * window`` steps are cut (every ``stride`` steps) from one stream, each with the
    target at its last step. With the defaults: 64 ReLU units, order 6, about 10 s of
    training on two CPU cores, output NRMSE about 0.01.

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
    lmu.metadata = {"task": "window-rms", "window": int(window), "seed": int(seed)}
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
        raise ValidationError(
            f"cannot tell which task this network was trained for (no metadata); "
            f"name one of {sorted(TASKS)}",
            "task",
            "deploy",
        )
    if task not in TASKS:
        raise ValidationError(f"must be one of {sorted(TASKS)} (got {task!r})", "task", "deploy")
    spec = TASKS[task]
    shape = (lmu.input_dimensions, lmu.output_dimensions)
    if shape != (spec["input_dimensions"], spec["output_dimensions"]):
        raise ValidationError(
            f"{task} needs {spec['input_dimensions']} input(s) and {spec['output_dimensions']} "
            f"output(s); this network has {shape[0]} and {shape[1]}",
            "task",
            "deploy",
        )
    return task


def test_data(task, lmu, n_test=None, seed=1):
    """The test stream of ``task`` for ``lmu``.

    Returns a dict: ``u`` (``(steps, 1)``, the input stream), ``x`` (the same as
    sequences, ``(n, steps, 1)``), and ``y`` (``window-rms``: the target at every step;
    ``psmnist``: one label per digit), ``n_steps`` (steps per sequence), ``skip``
    (steps left out of the score while the memory fills) and ``dt``.
    """
    n_test = TASKS[task]["n_test"] if n_test is None else n_test
    if task == "window-rms":
        window = int((getattr(lmu, "metadata", None) or {}).get("window", round(lmu.theta / lmu.dt)))
        u, y = data.window_rms(int(n_test), window=window, seed=1000 + seed, dt=lmu.dt)
        if n_test <= 2 * window:
            raise ValidationError(
                f"the test signal must be longer than two windows ({2 * window} steps)", "n_test", "deploy"
            )
        return dict(u=u[:, None], x=u[None, :, None], y=y[:, None], n_steps=len(u), skip=2 * window, dt=lmu.dt)
    x, y = data.psmnist("test", n=int(n_test))
    return dict(u=x.reshape(-1, 1), x=x, y=y, n_steps=x.shape[1], skip=0, dt=lmu.dt)


# --- conversion and running --------------------------------------------------------


def convert(lmu, neurons="spiking", firing_rate_scale=1000.0, hidden_synapse=None,
            memory_neurons=0, memory_input_statistics=None, loihi=False):
    """The network to deploy: ``lmu``'s parameters with the chosen neurons.

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
        coefficient (LIF; on Loihi, :func:`nengo_lmu.loihi.memory_options`), scaled
        for ``memory_input_statistics`` ``(high_hz, rms)`` of the memory's input.
    loihi : bool
        Build the spiking memory with the Loihi options.
    """
    if neurons not in NEURONS:
        raise ValidationError(f"must be one of {NEURONS} (got {neurons!r})", "neurons", "convert")
    kwargs = dict(hidden_synapse=hidden_synapse)
    if neurons == "spiking":
        rate_type = type(lmu.neuron_type)
        if lmu.neuron_type.spiking:
            spiking_type = lmu.neuron_type
        elif rate_type in SPIKING:
            spiking_type = SPIKING[rate_type]()
        else:
            raise ValidationError(
                f"no spiking version of {lmu.neuron_type} (known: "
                f"{', '.join(t.__name__ for t in SPIKING)})",
                "neurons",
                "convert",
            )
        if loihi and "voltage" in spiking_type.state:
            # the chip starts every neuron at zero (nengo-loihi warns about anything else)
            spiking_type = type(spiking_type)(initial_state={"voltage": nengo.dists.Choice([0])})
        kwargs.update(neuron_type=spiking_type, firing_rate_scale=firing_rate_scale)
    if memory_neurons:
        n = int(memory_neurons) * lmu.order * lmu.memory_d
        if loihi:
            from . import loihi as loihi_

            kwargs["memory"] = dict(loihi_.memory_options(), n_neurons=n, input_statistics=memory_input_statistics)
        else:
            kwargs["memory"] = dict(n_neurons=n, neuron_type=nengo.LIF(), synapse=0.05,
                                    input_statistics=memory_input_statistics)
    return lmu.with_neurons(**kwargs)


def stream_network(lmu, u, dt=None):
    """A network presenting the stream ``u`` (``(steps, input_dimensions)``) to ``lmu``.

    ``lmu`` is added to it, not copied. Returns ``(net, probe)``, the probe on
    ``lmu.output`` (unfiltered: the network's own ``hidden_synapse`` filters).
    """
    dt = lmu.dt if dt is None else dt
    with nengo.Network(label=f"{lmu.label or 'LMU'} on a stream", seed=lmu.seed) as net:
        net.stimulus = nengo.Node(nengo.processes.PresentInput(np.asarray(u), dt), label="stimulus")
        nengo.Connection(net.stimulus, lmu.input, synapse=None)
        probe = nengo.Probe(lmu.output, synapse=None)
    net.networks.append(lmu)
    return net, probe


def run_stream(lmu, u, backend="nengo", progress=False, input_ranges=None):
    """Run ``lmu`` on the stream ``u``, one sample per step, on ``backend``.

    Parameters
    ----------
    backend : {"nengo", "dl", "loihi-sim", "loihi"}
        See :func:`nengo_lmu.backends.simulator`.
    progress : bool
        Show a progress bar (tqdm) over the steps (:func:`nengo_lmu.backends.run_steps`).
    input_ranges : dict or None
        For the Loihi backends, see :func:`nengo_lmu.loihi.Simulator`.

    Returns
    -------
    dict
        ``y`` (``(steps, out)``), ``build_s``, ``run_s``, ``steps_per_s``.
    """
    from .backends import run_steps, simulator

    net, probe = stream_network(lmu, u)
    n_steps = len(u)
    kwargs = {"input_ranges": input_ranges} if backend.startswith("loihi") and input_ranges else {}
    t0 = time.perf_counter()
    sim = simulator(net, backend=backend, dt=lmu.dt, **kwargs)
    t1 = time.perf_counter()
    with sim:
        run_steps(sim, n_steps, progress=progress, desc=backend)
        y = np.asarray(sim.data[probe]).reshape(n_steps, -1)
    t2 = time.perf_counter()
    return {"y": y, "build_s": t1 - t0, "run_s": t2 - t1, "steps_per_s": n_steps / (t2 - t1)}


def score(task, y, test, synapse=None):
    """The task's figure for outputs ``y`` (``(steps, out)``) on ``test`` (:func:`test_data`).

    ``window-rms``: ``{"nrmse"}`` against the target through the same ``synapse`` as the
    output (a lowpass lags; the score should not count the lag as error).
    ``psmnist``: ``{"accuracy"}`` of the output at each digit's last step.
    """
    from . import maths

    if TASKS[task]["metric"] == "nrmse":
        target = test["y"] if synapse is None else nengo.Lowpass(synapse).filt(test["y"], dt=test["dt"], y0=0)
        keep = slice(test["skip"], None)
        return {"nrmse": maths.nrmse(y[keep], target[keep])}
    return _accuracy(y.reshape(len(test["y"]), test["n_steps"], -1)[:, -1], test["y"])


def _accuracy(outputs, labels):
    return {"accuracy": float(np.mean(np.argmax(outputs, axis=-1) == labels))}


def deploy(lmu, task=None, backend="nengo", neurons="spiking", firing_rate_scale=1000.0,
           hidden_synapse="task", memory_neurons=0, n_test=None, seed=0, progress=False):
    """Convert ``lmu``, run it on ``backend`` over the task's test stream, and score it.

    ``hidden_synapse="task"`` takes the task's default (:data:`TASKS`). On the Loihi
    backends the hidden neurons must spike; they run on the chip, the exact memory on
    the host, and the host-to-chip inputs are scaled to the ranges the test data reach
    (:func:`nengo_lmu.loihi.lmu_input_ranges`).

    Returns
    -------
    dict
        The task's figure (``nrmse`` or ``accuracy``) for the deployed network, the same
        figure of the trained rate network with the exact memory on the same data
        (``reference``, from :meth:`.LMU.rate_outputs`; each sequence from rest), the
        Loihi ``resources`` (Loihi backends), timings and settings, and the arrays
        ``y`` and ``test`` (left out of saved JSON).
    """
    task = task_of(lmu, task)
    on_loihi = backend in ("loihi-sim", "loihi")
    if on_loihi and neurons != "spiking":
        raise ValidationError(
            "Loihi runs spiking neurons only: use neurons='spiking'", "neurons", "deploy"
        )
    spec = TASKS[task]
    synapse = spec["hidden_synapse"] if hidden_synapse == "task" else hidden_synapse
    test = test_data(task, lmu, n_test, seed=seed)
    stats = None
    if memory_neurons:
        u = test["x"] @ lmu.params["e_x"].T if "e_x" in lmu.params else test["x"]
        stats = (spec["high"] or 0.5 / lmu.dt, float(np.sqrt(np.mean(u**2))))
    net = convert(lmu, neurons, firing_rate_scale, synapse, memory_neurons, stats, loihi=on_loihi)

    results = {"task": task, "backend": backend, "neurons": neurons}
    reference = None
    if not lmu.recurrent and not lmu.paths["hidden_to_hidden"]:
        stream = spec["kind"] == "stream"
        ref, peak = lmu.rate_outputs(test["x"], every_step=stream, peak_rate=True)
        reference = score(task, ref[0], test) if stream else _accuracy(ref, test["y"])
        if neurons == "spiking":
            # the trained rate network's highest hidden rate, at the deployed scale
            results["peak_rate_hz"] = peak / lmu.firing_rate_scale * firing_rate_scale
            if on_loihi and results["peak_rate_hz"] > 1 / lmu.dt:
                warnings.warn(
                    f"on Loihi a neuron spikes at most once per step ({1 / lmu.dt:g} Hz), but "
                    f"the hidden neurons would need up to {results['peak_rate_hz']:.0f} Hz at "
                    f"firing_rate_scale={firing_rate_scale:g}: the fastest saturate; a scale "
                    f"up to {firing_rate_scale / results['peak_rate_hz'] / lmu.dt:.3g} avoids it"
                )
    ranges = None
    if on_loihi:
        from . import loihi

        ranges = loihi.lmu_input_ranges(net, test["x"])
        results["resources"] = loihi.resources(stream_network(net, test["u"])[0], dt=lmu.dt, input_ranges=ranges)
    run = run_stream(net, test["u"], backend=backend, progress=progress, input_ranges=ranges)
    results.update(score(task, run["y"], test, synapse=synapse))
    results["reference"] = reference
    results.update(
        build_s=run["build_s"], run_s=run["run_s"], steps_per_s=run["steps_per_s"], n_steps=len(test["u"]),
        settings=dict(
            firing_rate_scale=firing_rate_scale if neurons == "spiking" else None,
            hidden_synapse=synapse, memory_neurons=memory_neurons, n_test=n_test or spec["n_test"],
            seed=seed, units=lmu.units, order=lmu.order, theta_steps=round(lmu.theta / lmu.dt),
        ),
        y=run["y"], test=test,
    )
    return results


if __name__ == "__main__":  # python -m nengo_lmu.deploy OUT.npz: the GUI's trained network
    import os
    import sys

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter

    out = sys.argv[1] if len(sys.argv) > 1 else "trained_lmu.npz"
    lmu, history = save_demo(out)
    print(f"wrote {out}: loss {history['loss'][-1]:.2e} after {history['seconds']:.1f} s of training")
