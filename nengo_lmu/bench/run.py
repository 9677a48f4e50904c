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

import importlib.util
import math
import time

from . import (
    Command, UsageError, add_progress_arguments, check_backend_available, save_figure, save_json, show_progress,
)

BACKEND_HELP = {
    "nengo": "the nengo reference simulator",
    "dl": "NengoDL (TensorFlow)",
    "loihi-sim": "the nengo-loihi emulator of the Loihi chip",
    "loihi": "a Loihi board (needs nxsdk)",
}

# the defaults finish in well under a minute on 2 shared cores (see README "main job")
DEFAULTS = dict(
    backend="nengo",
    order=6,
    theta=0.1,
    n_neurons=1000,
    neuron_type="lif",
    synapse=0.05,
    duration=10.0,
    bandwidth=None,
    rms=0.5,
    t_skip=1.0,
    seed=0,
    dt=0.001,
)


def add_arguments(parser):
    from ..backends import BACKENDS
    from ..networks import NEURON_TYPES

    d = DEFAULTS
    g = parser.add_argument_group("backend")
    g.add_argument(
        "--backend",
        choices=BACKENDS,
        default=d["backend"],
        help="where to run: "
        + "; ".join(f"{k}: {v}" for k, v in BACKEND_HELP.items())
        + " (default: %(default)s)",
    )
    g.add_argument(
        "--dt", type=float, default=d["dt"], help="simulator time step in seconds (default: %(default)s)"
    )
    g = parser.add_argument_group("memory")
    g.add_argument(
        "--order", "-d", type=int, default=d["order"],
        help="number of Legendre coefficients d held by the memory (default: %(default)s)",
    )
    g.add_argument(
        "--theta", type=float, default=d["theta"],
        help="window length and delay in seconds: the output is u(t - theta) (default: %(default)s)",
    )
    g.add_argument(
        "--n-neurons", "-m", type=int, default=d["n_neurons"],
        help="total number of neurons m, shared among the d coefficients; at least d "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--neuron-type", choices=sorted(NEURON_TYPES), default=d["neuron_type"],
        help="neuron model; 'ideal' holds the state exactly in nodes, 'direct' in "
        "direct-mode ensembles, 'loihi-*' are nengo-loihi's chip models (default: %(default)s)",
    )
    g.add_argument(
        "--synapse", type=float, default=d["synapse"],
        help="time constant in seconds of the lowpass synapse the recurrence is mapped "
        "onto (default: %(default)s)",
    )
    g = parser.add_argument_group("input and scoring")
    g.add_argument(
        "--duration", "-t", type=float, default=d["duration"],
        help="simulated time in seconds (default: %(default)s)",
    )
    g.add_argument(
        "--bandwidth", type=float, default=d["bandwidth"],
        help="cut-off in Hz of the white-noise input; default: order / (2 pi theta), "
        "the band an order-d memory delays accurately (omega theta < d)",
    )
    g.add_argument(
        "--rms", type=float, default=d["rms"],
        help="RMS of the white-noise input; the memory's state is scaled for it "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--t-skip", type=float, default=d["t_skip"],
        help="seconds at the start left out of the error, while the memory fills "
        "(default: %(default)s)",
    )
    g.add_argument(
        "--seed", type=int, default=d["seed"],
        help="seed for the input signal and the network (default: %(default)s)",
    )
    add_progress_arguments(parser)


def default_bandwidth(order, theta):
    """``order / (2 pi theta)`` Hz: the Pade-Legendre delay of order d is accurate for
    ``omega theta < d``, so white noise up to there is delayed with a small error."""
    return order / (2 * math.pi * theta)


def check_arguments(args):
    """Raise :class:`UsageError` for anything that cannot run; return the memory settings."""
    for name in ("theta", "dt", "synapse", "duration", "rms"):
        value = getattr(args, name)
        if not value > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be > 0 (got {value})")
    if args.bandwidth is not None and not args.bandwidth > 0:
        raise UsageError(f"--bandwidth must be > 0 Hz (got {args.bandwidth})")
    if args.order < 1:
        raise UsageError(f"--order must be >= 1 (got {args.order})")
    if args.neuron_type not in ("ideal", "direct") and args.n_neurons < args.order:
        raise UsageError(
            f"--n-neurons must be at least --order = {args.order}, one neuron per "
            f"coefficient (got {args.n_neurons})"
        )
    if args.theta < args.dt:
        raise UsageError(f"--theta must be at least one time step --dt={args.dt} (got {args.theta})")
    if not 0 <= args.t_skip < args.duration - args.theta:
        raise UsageError(
            f"--t-skip must be >= 0 and leave more than theta={args.theta} s of the "
            f"--duration={args.duration} s run to score (got {args.t_skip})"
        )
    bandwidth = default_bandwidth(args.order, args.theta) if args.bandwidth is None else args.bandwidth
    nyquist = 0.5 / args.dt
    if bandwidth >= nyquist:
        raise UsageError(
            f"the input bandwidth {bandwidth:g} Hz must be below the Nyquist rate "
            f"{nyquist:g} Hz of --dt={args.dt}; lower --order or raise --theta"
        )
    if args.backend in ("loihi-sim", "loihi") and importlib.util.find_spec("nengo_lmu.loihi") is None:
        raise UsageError(f"--backend {args.backend} needs nengo_lmu.loihi, which is not installed")
    check_backend_available(args.backend)
    return bandwidth


def build(args, bandwidth, neuron_type=None):
    """The delay network of the ``delay`` command and its probes (a ``nengo.Network``)."""
    import nengo

    from ..networks import LegendreMemory

    neuron_type = args.neuron_type if neuron_type is None else neuron_type
    with nengo.Network(label=f"delay network ({neuron_type})", seed=args.seed) as net:
        net.stim = nengo.Node(
            nengo.processes.WhiteSignal(
                period=args.duration, high=bandwidth, rms=args.rms, seed=args.seed
            ),
            label="white noise",
        )
        net.memory = LegendreMemory(
            args.order,
            args.theta,
            n_neurons=args.n_neurons,
            neuron_type=neuron_type,
            synapse=args.synapse,
            dt=args.dt,
            input_statistics=(bandwidth, args.rms),
            label="Legendre memory",
        )
        nengo.Connection(net.stim, net.memory.input, synapse=None)
        net.p_input = nengo.Probe(net.stim, synapse=None)
        net.p_output = nengo.Probe(net.memory.output, synapse=0.01)
        net.p_state = nengo.Probe(net.memory.state, synapse=0.01)
    return net


def _simulate(net, backend, args):
    from ..backends import run_steps, simulator

    t0 = time.perf_counter()
    sim = simulator(net, backend=backend, dt=args.dt, progress_bar=args.progress)
    t1 = time.perf_counter()
    with sim:
        if backend.startswith("loihi"):  # nengo-loihi has no progress bar of its own
            run_steps(sim, int(round(args.duration / args.dt)), progress=args.progress, desc=backend)
        else:
            sim.run(args.duration)
        t2 = time.perf_counter()
        data = {
            "t": sim.trange(),
            "u": sim.data[net.p_input],
            "y": sim.data[net.p_output],
            "m": sim.data[net.p_state],
        }
    return data, t1 - t0, t2 - t1


def plot(args, spiking, ideal, target, window=None):
    """Input, target, ideal and spiking outputs, and the decoded state, over ``window`` s."""
    import matplotlib
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe headless

    t = spiking["t"]
    window = window or min(args.duration, max(10 * args.theta, 1.0))
    keep = t > t[-1] - window
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax0, ax1 = fig.subplots(2, 1, sharex=True)
    ax0.plot(t[keep], spiking["u"][keep], color="0.75", lw=1, label="input $u(t)$")
    ax0.plot(t[keep], target[keep], "k--", lw=1.5, label=r"target $u(t-\theta)$")
    ax0.plot(t[keep], ideal["y"][keep], color="tab:blue", lw=1, alpha=0.8,
             label=f"ideal memory (NRMSE {ideal['nrmse']:.3f})")
    ax0.plot(t[keep], spiking["y"][keep], color="tab:red", lw=1.2,
             label=f"{args.neuron_type} on {args.backend} (NRMSE {spiking['nrmse']:.3f})")
    ax0.set_ylabel("signal")
    ax0.legend(loc="upper left", fontsize=8, ncol=2, framealpha=0.9)
    ax0.set_title(
        rf"Delay network: d={args.order}, $\theta$={args.theta:g} s, m={args.n_neurons}, "
        rf"$\tau$={args.synapse:g} s"
    )
    colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.9, args.order))
    for i in range(args.order):
        ax1.plot(t[keep], spiking["m"][keep, i], color=colors[i], lw=1, label=f"$m_{i}$")
    ax1.set_ylabel("Legendre state")
    ax1.set_xlabel("time (s)")
    ax1.legend(loc="upper left", fontsize=7, ncol=min(args.order, 8))
    return fig


def run(args):
    from ..maths import delay_nrmse

    bandwidth = check_arguments(args)
    args.progress = show_progress(args)
    t_start = time.perf_counter()
    net = build(args, bandwidth)
    spiking, build_time, sim_time = _simulate(net, args.backend, args)
    score = dict(delay=args.theta, dt=args.dt, synapse=0.01, t_skip=args.t_skip)
    spiking["nrmse"] = delay_nrmse(spiking["u"], spiking["y"], **score)

    # the exact memory on the same input: the error the Legendre basis itself allows
    ideal_net = build(args, bandwidth, neuron_type="ideal")
    ideal, _, _ = _simulate(ideal_net, "nengo", argparse_copy(args, progress=False))
    ideal["nrmse"] = delay_nrmse(ideal["u"], ideal["y"], **score)

    from ..maths import delayed
    import nengo

    steps = int(round(args.theta / args.dt))
    target = nengo.Lowpass(0.01).filt(delayed(spiking["u"], steps), dt=args.dt, y0=0)
    fig = plot(args, spiking, ideal, target)
    name = f"delay-{args.backend}"
    png = save_figure(fig, args.out_dir, name)
    settings = {
        k: getattr(args, k)
        for k in ("backend", "order", "theta", "n_neurons", "neuron_type", "synapse",
                  "duration", "rms", "t_skip", "seed", "dt")
    }
    settings["bandwidth"] = bandwidth
    results = {
        "command": "delay",
        "delay_nrmse": spiking["nrmse"],
        "ideal_delay_nrmse": ideal["nrmse"],
        "settings": settings,
        "build_time_s": build_time,
        "sim_time_s": sim_time,
        "wall_time_s": time.perf_counter() - t_start,
        "figure": png,
    }
    results["json"] = save_json(results, args.out_dir, name)
    print(
        f"delay NRMSE {spiking['nrmse']:.4f} ({args.neuron_type} on {args.backend}); "
        f"ideal memory {ideal['nrmse']:.4f}"
    )
    return results


def argparse_copy(args, **changes):
    import argparse

    return argparse.Namespace(**{**vars(args), **changes})


COMMANDS = {
    "delay": Command(
        help="run a spiking delay network on a backend; save a plot and its error (the main job)",
        add_arguments=add_arguments,
        run=run,
    ),
}
