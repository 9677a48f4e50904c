"""The one backend vocabulary, the one simulator factory, and each backend's memory options.

Every part of nengo_lmu that runs a network (the Python API, the command line, the
benchmarks, ``hardware/``, the GUI models and the notebooks) names its simulator with one
of :data:`BACKENDS` and makes it with :func:`simulator`. Choosing a backend also chooses
the memory that backend wants (:func:`memory_options`): on Loihi, the chip-ready
``LegendreMemory`` arguments of :func:`nengo_lmu.loihi.memory_options`. Each backend's
package is imported only when used.
"""

import importlib.util

from . import validation

#: backend name -> what it runs on
BACKENDS = {
    "nengo": "the nengo reference simulator",
    "dl": "NengoDL (TensorFlow)",
    "loihi-sim": "the nengo-loihi emulator, bit-true to the chip's integer arithmetic",
    "loihi-simreal": "the nengo-loihi emulator in floating point (no quantisation)",
    "loihi": "a Loihi board (needs Intel's nxsdk)",
}

#: nengo-loihi's ``target`` for each Loihi backend
LOIHI_TARGETS = {"loihi-sim": "sim", "loihi-simreal": "simreal", "loihi": "loihi"}


def check_backend(backend, attr="backend", where="simulator"):
    """``backend`` if it is known and can run on this machine; a ``ValidationError`` else.

    Checked without importing the backend's package (fast, before any long work):
    ``loihi`` needs Intel's nxsdk.
    """
    validation.choice(backend, tuple(BACKENDS), attr, where=where)
    if backend == "loihi" and importlib.util.find_spec("nxsdk") is None:
        raise validation.error(
            "'loihi' runs on a Loihi board and needs Intel's nxsdk, which is not installed "
            "here; 'loihi-sim' runs the same network on the bit-true emulator "
            "(hardware/README.md explains how to run on a board)",
            attr,
            where=where,
        )
    return backend


def is_loihi(backend):
    """True for the backends that run nengo-loihi (emulator or board)."""
    return backend in LOIHI_TARGETS


def memory_options(backend, **overrides):
    """The ``LegendreMemory`` keyword arguments that suit ``backend``.

    On the Loihi backends, :func:`nengo_lmu.loihi.memory_options` (chip neurons,
    neuron-to-neuron recurrence, the chip's synaptic decay); elsewhere nothing beyond
    ``overrides``. ``overrides`` win; on Loihi, ``neuron_type``, ``gain`` and
    ``intercepts`` shape the chip options.
    """
    check_backend(backend, where="memory_options")
    if not is_loihi(backend):
        return dict(overrides)
    from . import loihi

    return loihi.memory_options(**overrides)


def simulator(network, backend="nengo", dt=0.001, progress_bar=False, **kwargs):
    """Build ``network`` on ``backend`` and return the simulator.

    Parameters
    ----------
    network : nengo.Network
    backend : str
        One of :data:`BACKENDS`.
    dt : float
        Time step in seconds.
    progress_bar : bool
        nengo's and NengoDL's build/run progress bar (nengo-loihi has none; see
        :func:`run_steps`).
    **kwargs
        Passed to the backend's simulator (``seed``, ``minibatch_size``,
        ``precompute``, ``input_ranges`` ...).
    """
    check_backend(backend)
    dt = validation.positive(dt, "dt", where="simulator")
    if backend == "nengo":
        import nengo

        return nengo.Simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
    if backend == "dl":
        import nengo_dl

        return nengo_dl.Simulator(network, dt=dt, progress_bar=progress_bar, **kwargs)
    from . import loihi

    return loihi.Simulator(network, target=LOIHI_TARGETS[backend], dt=dt, **kwargs)


def run_steps(sim, n_steps, progress=False, desc=None, chunks=100):
    """``sim.run_steps(n_steps)`` in about ``chunks`` pieces, with a tqdm progress bar.

    Works for every backend (nengo-loihi has no progress bar of its own); with
    ``progress=False`` it is one ``run_steps`` call.
    """
    n_steps = int(n_steps)
    if not progress:
        sim.run_steps(n_steps)
        return
    from tqdm import tqdm

    chunk = max(1, -(-n_steps // chunks))
    with tqdm(total=n_steps, unit="step", desc=desc, leave=False) as bar:
        done = 0
        while done < n_steps:
            steps = min(chunk, n_steps - done)
            sim.run_steps(steps)
            done += steps
            bar.update(steps)
