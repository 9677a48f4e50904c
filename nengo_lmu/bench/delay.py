"""The main job: one spiking delay network, run on a chosen backend, plotted and scored.

``nengo-lmu delay`` builds a :class:`~nengo_lmu.networks.LegendreMemory`, drives it with
band-limited white noise, runs it on the reference simulator, NengoDL, the Loihi
emulator or a Loihi board, and writes

* ``delay-<backend>.png``: the input, the network's delayed output, the ideal (exact
  Legendre memory) output and the target ``u(t - theta)``, plus the decoded Legendre
  state, over the last window of the run;
* ``delay-<backend>.json``: ``delay_nrmse`` (the benchmark error, see
  :func:`nengo_lmu.maths.delay_nrmse`), the ideal memory's error on the same input, the
  settings, and build / simulation / wall times.
"""

import time

from .. import maths, validation
from ..backends import BACKENDS, check_backend, is_loihi, memory_options
from ..networks import NEURON_TYPES
from . import MAX_NEURONS, MAX_ORDER, Command, Option, check_output, save_figure, save_json, show_progress, steps

WHERE = "delay"


def memory_kwargs(backend, neuron_type="auto", **kwargs):
    """The ``LegendreMemory`` arguments of the delay network on ``backend``.

    Choosing a backend chooses its memory (:func:`nengo_lmu.backends.memory_options`):
    on Loihi the chip-ready options, with ``neuron_type="auto"`` their chip neurons
    (``loihi-lif``); elsewhere ``auto`` is LIF. ``kwargs`` are the memory's own settings.
    """
    overrides = {} if neuron_type == "auto" else {"neuron_type": neuron_type}
    return {"neuron_type": "lif", **memory_options(backend, **overrides), **kwargs}


def build(order, theta, n_neurons, synapse, dt, bandwidth, rms, duration, seed, memory=None):
    """The delay network and its probes (``net.p_input``, ``net.p_output``, ``net.p_state``).

    ``memory`` holds further ``LegendreMemory`` arguments (see :func:`memory_kwargs`); the
    input is white noise up to ``bandwidth`` Hz of RMS ``rms``, which the memory's state
    is scaled for.
    """
    import nengo

    from ..networks import LegendreMemory

    memory = dict(memory or {})
    label = memory.get("neuron_type", "lif")
    with nengo.Network(label=f"delay network ({label})", seed=seed) as net:
        net.stim = nengo.Node(
            nengo.processes.WhiteSignal(period=duration, high=bandwidth, rms=rms, seed=seed),
            label="white noise",
        )
        net.memory = LegendreMemory(
            order, theta, n_neurons=n_neurons, synapse=synapse, dt=dt,
            input_statistics=(bandwidth, rms), label="Legendre memory", **memory,
        )
        nengo.Connection(net.stim, net.memory.input, synapse=None)
        net.p_input = nengo.Probe(net.stim, synapse=None)
        net.p_output = nengo.Probe(net.memory.output, synapse=0.01)
        net.p_state = nengo.Probe(net.memory.state, synapse=0.01)
    return net


def simulate(net, backend, dt, n_steps, progress=False):
    """Run ``net`` for ``n_steps`` on ``backend``: its probed data, build and run times."""
    from ..backends import run_steps, simulator

    t0 = time.perf_counter()
    sim = simulator(net, backend=backend, dt=dt)
    t1 = time.perf_counter()
    with sim:
        run_steps(sim, n_steps, progress=progress, desc=backend)
        t2 = time.perf_counter()
        data = {
            "t": sim.trange(),
            "u": sim.data[net.p_input],
            "y": sim.data[net.p_output],
            "m": sim.data[net.p_state],
        }
    return data, t1 - t0, t2 - t1


def plot(settings, spiking, ideal, target, window=None):
    """Input, target, ideal and spiking outputs, and the decoded state, over ``window`` s."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe headless

    t = spiking["t"]
    window = window or min(settings["duration"], max(10 * settings["theta"], 1.0))
    keep = t > t[-1] - window
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax0, ax1 = fig.subplots(2, 1, sharex=True)
    ax0.plot(t[keep], spiking["u"][keep], color="0.75", lw=1, label="input $u(t)$")
    ax0.plot(t[keep], target[keep], "k--", lw=1.5, label=r"target $u(t-\theta)$")
    ax0.plot(t[keep], ideal["y"][keep], color="tab:blue", lw=1, alpha=0.8,
             label=f"ideal memory (NRMSE {ideal['nrmse']:.3f})")
    ax0.plot(t[keep], spiking["y"][keep], color="tab:red", lw=1.2,
             label=f"{settings['neuron_type']} on {settings['backend']} (NRMSE {spiking['nrmse']:.3f})")
    ax0.set_ylabel("signal")
    ax0.legend(loc="upper left", fontsize=8, ncol=2, framealpha=0.9)
    ax0.set_title(
        rf"Delay network: d={settings['order']}, $\theta$={settings['theta']:g} s, m={settings['n_neurons']}, "
        rf"$\tau$={settings['synapse']:g} s"
    )
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, settings["order"]))
    for i in range(settings["order"]):
        ax1.plot(t[keep], spiking["m"][keep, i], color=colors[i], lw=1, label=f"$m_{i}$")
    ax1.set_ylabel("Legendre state")
    ax1.set_xlabel("time (s)")
    ax1.legend(loc="upper left", fontsize=7, ncol=min(settings["order"], 8))
    return fig




def run(
    backend="nengo",
    order=6,
    theta=0.1,
    n_neurons=1000,
    neuron_type="auto",
    synapse=0.05,
    duration=10.0,
    bandwidth=None,
    rms=0.5,
    t_skip=1.0,
    seed=0,
    dt=0.001,
    progress=None,
    out_dir="results",
    overwrite=False,
):
    """Run a spiking delay network on ``backend``; save its plot and its error.

    Builds a :class:`~nengo_lmu.networks.LegendreMemory` with the backend's memory options
    (:func:`memory_kwargs`), drives it with band-limited white noise and writes

    * ``delay-<backend>.png``: the input, the network's delayed output, the ideal (exact
      Legendre memory) output and the target ``u(t - theta)``, plus the decoded Legendre
      state, over the last window of the run;
    * ``delay-<backend>.json``: ``delay_nrmse`` (:func:`nengo_lmu.maths.delay_nrmse`), the
      ideal memory's error on the same input, the settings, build / simulation / wall times.

    The defaults finish in well under a minute on 2 shared cores. Returns the JSON's
    content with ``"files"``, the paths written.
    """
    import nengo

    from ..maths import delay_nrmse, delayed

    # --- every argument, and the output directory, before any work
    check_backend(backend, where=WHERE)
    order = validation.integer(order, "order", high=MAX_ORDER, where=WHERE)
    dt = validation.number(dt, "dt", low=0, low_open=True, high=0.1, where=WHERE)
    theta = validation.number(theta, "theta", low=dt, where=WHERE)
    validation.choice(neuron_type, ("auto",) + tuple(NEURON_TYPES), "neuron_type", where=WHERE)
    spiking = neuron_type not in ("ideal", "direct")
    n_neurons = validation.integer(n_neurons, "n_neurons", low=order if spiking else 1, high=MAX_NEURONS,
                                   where=WHERE)
    synapse = validation.positive(synapse, "synapse", where=WHERE)
    n_steps = steps(duration, dt, "duration", where=WHERE)
    rms = validation.positive(rms, "rms", where=WHERE)
    nyquist = 0.5 / dt
    if bandwidth is None:
        bandwidth = maths.memory_band(order, theta)  # the band the memory delays accurately
        if bandwidth >= nyquist:
            raise validation.error(
                f"the default input bandwidth order / (2 pi theta) = {bandwidth:g} Hz is not below the "
                f"Nyquist rate {nyquist:g} Hz of dt={dt:g}; lower the order or raise theta",
                "order", where=WHERE,
            )
    bandwidth = validation.number(bandwidth, "bandwidth", low=0, high=nyquist, low_open=True, high_open=True,
                                  where=WHERE)
    duration = n_steps * dt
    t_skip = validation.number(t_skip, "t_skip", low=0, high=duration - theta, high_open=True, where=WHERE)
    seed = validation.integer(seed, "seed", low=0, where=WHERE)
    progress = show_progress(progress)
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    settings = dict(backend=backend, order=order, theta=theta, n_neurons=n_neurons, neuron_type=neuron_type,
                    synapse=synapse, duration=duration, bandwidth=bandwidth, rms=rms, t_skip=t_skip, seed=seed,
                    dt=dt)
    network = dict(order=order, theta=theta, n_neurons=n_neurons, synapse=synapse, dt=dt, bandwidth=bandwidth,
                   rms=rms, duration=duration, seed=seed)
    t_start = time.perf_counter()
    net = build(**network, memory=memory_kwargs(backend, neuron_type))
    spiking_run, build_time, sim_time = simulate(net, backend, dt, n_steps, progress)
    score = dict(delay=theta, dt=dt, synapse=0.01, t_skip=t_skip)
    spiking_run["nrmse"] = delay_nrmse(spiking_run["u"], spiking_run["y"], **score)

    # the exact memory on the same input: the error the Legendre basis itself allows
    ideal_net = build(**network, memory=memory_kwargs("nengo", "ideal"))
    ideal_run, _, _ = simulate(ideal_net, "nengo", dt, n_steps)
    ideal_run["nrmse"] = delay_nrmse(ideal_run["u"], ideal_run["y"], **score)

    target = nengo.Lowpass(0.01).filt(delayed(spiking_run["u"], int(round(theta / dt))), dt=dt, y0=0)
    resolved = dict(settings, neuron_type=str(net.memory.neuron_type))  # what "auto" became
    name = f"delay-{backend}"
    png = save_figure(plot(resolved, spiking_run, ideal_run, target), out_dir, name, overwrite)
    results = {
        "command": "delay",
        "delay_nrmse": spiking_run["nrmse"],
        "ideal_delay_nrmse": ideal_run["nrmse"],
        "settings": settings,
        "memory": {"neuron_type": str(net.memory.neuron_type), "mapping": net.memory.mapping,
                   "loihi_options": is_loihi(backend)},
        "build_time_s": build_time,
        "sim_time_s": sim_time,
        "wall_time_s": time.perf_counter() - t_start,
        "figure": png,
    }
    results["files"] = [png, save_json(results, out_dir, name, overwrite)]
    print(
        f"delay NRMSE {spiking_run['nrmse']:.4f} ({resolved['neuron_type']} on {backend}); "
        f"ideal memory {ideal_run['nrmse']:.4f}"
    )
    return results


COMMANDS = {
    "delay": Command(
        help="run a spiking delay network on a backend; save a plot and its error (the main job)",
        run=run,
        options=(
            Option("backend", str, "where to run: " + "; ".join(f"{k}: {v}" for k, v in BACKENDS.items())
                   + "; a Loihi backend also builds the Loihi-ready memory", choices=tuple(BACKENDS),
                   group="backend"),
            Option("dt", float, "simulator time step in seconds", group="backend"),
            Option("order", int, "number of Legendre coefficients d held by the memory", flags=("-d",),
                   group="memory"),
            Option("theta", float, "window length and delay in seconds: the output is u(t - theta)",
                   group="memory"),
            Option("n_neurons", int, "total number of neurons m, shared among the d coefficients; at least d",
                   flags=("-m",), group="memory"),
            Option("neuron_type", str, "neuron model; 'auto' is lif, or loihi-lif on the Loihi backends; "
                   "'ideal' holds the state exactly in nodes, 'direct' in direct-mode ensembles, 'loihi-*' "
                   "are nengo-loihi's chip models", choices=("auto",) + tuple(sorted(NEURON_TYPES)),
                   group="memory"),
            Option("synapse", float, "time constant in seconds of the lowpass synapse the recurrence is "
                   "mapped onto", group="memory"),
            Option("duration", float, "simulated time in seconds", flags=("-t",), group="input and scoring"),
            Option("bandwidth", float, "cut-off in Hz of the white-noise input; default: order / (2 pi "
                   "theta), the band an order-d memory delays accurately (omega theta < d)",
                   group="input and scoring"),
            Option("rms", float, "RMS of the white-noise input; the memory's state is scaled for it",
                   group="input and scoring"),
            Option("t_skip", float, "seconds at the start left out of the error, while the memory fills",
                   group="input and scoring"),
            Option("seed", int, "seed for the input signal and the network", group="input and scoring"),
        ),
    ),
}
