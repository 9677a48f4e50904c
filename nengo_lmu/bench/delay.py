"""Delay-network benchmarks: accuracy configs against the naive construction, and the
O(d / sqrt(m)) scaling sweep.

Run through the CLI (``nengo-lmu accuracy``, ``nengo-lmu scaling``) or from Python
(:func:`run_config`, :func:`scaling_sweep`, :func:`fit_scaling`).
"""

import time
import types

import nengo
import numpy as np

from .. import maths
from ..backends import simulator
from ..networks import LegendreMemory, neuron_type_from_name
from . import Command, UsageError, save_figure, save_json, settings

# The foundation issue's configs: C1 order 8, C2 order 4; 800 LIF neurons, theta 0.1 s,
# dt 1 ms, WhiteSignal(6.0, high=5, rms=0.3, seed=1), network seed 0.
CONFIGS = {
    "C1": dict(order=8, n_neurons=800, theta=0.1, high=5.0, rms=0.3, duration=6.0),
    "C2": dict(order=4, n_neurons=800, theta=0.1, high=5.0, rms=0.3, duration=6.0),
}
PROBE_SYNAPSE = 0.01  # the metric's lowpass on output and target
T_SKIP = 1.0  # seconds of transient left out of the metric


def naive_delay_network(stim, order, theta, n_neurons, neuron_type=nengo.LIF(), tau=0.1):
    """The construction public examples use, kept as the baseline to beat.

    Continuous principle 3 (``tau A + I``) on an ``EnsembleArray`` of ``order``
    one-dimensional ensembles of radius 1, equal neurons each, Legendre coordinates
    unscaled, synapse 0.1 s. Built straight into the current network and driven by
    ``stim``, as the examples do (so a given model seed gives the same neurons as
    theirs); returns an object with an ``output`` node.
    """
    A, B = maths.legendre_ss(order, theta)
    A_h, B_h = maths.principle3(A, B, tau)
    array = nengo.networks.EnsembleArray(n_neurons // order, order, neuron_type=neuron_type)
    nengo.Connection(stim, array.input, transform=B_h, synapse=tau)
    nengo.Connection(array.output, array.input, transform=A_h, synapse=tau)
    array.readout = nengo.Node(size_in=1, label="naive output")
    nengo.Connection(array.output, array.readout, transform=maths.legendre_readout(order, 1.0)[None], synapse=None)
    return types.SimpleNamespace(output=array.readout, array=array)


def simulate_delay(make_memory, theta, high, rms, duration, dt=0.001, seed=0, signal_seed=1,
                   backend="nengo", extra_probes=None):
    """Drive a memory with ``WhiteSignal(duration, high, rms, seed=signal_seed)``.

    ``make_memory(stim, process)`` builds the network inside the model, connects the
    input node ``stim`` to it, and returns an object with an ``output``. Returns a dict with the input ``u``, the output
    ``y`` (probed through the metric's lowpass), the NRMSE against the delayed input,
    and the build and run times; ``extra_probes(memory)`` may return more
    ``{name: probe target}`` to record unfiltered.
    """
    process = nengo.processes.WhiteSignal(duration, high=high, rms=rms, seed=signal_seed)
    with nengo.Network(seed=seed) as model:
        stim = nengo.Node(process)
        memory = make_memory(stim, process)
        p_out = nengo.Probe(memory.output, synapse=PROBE_SYNAPSE)
        p_in = nengo.Probe(stim, synapse=None)
        extra = {k: nengo.Probe(v, synapse=None) for k, v in (extra_probes or (lambda m: {}))(memory).items()}
    t0 = time.perf_counter()
    with simulator(model, backend=backend, dt=dt) as sim:
        t1 = time.perf_counter()
        sim.run(duration)
        t2 = time.perf_counter()
    u, y = sim.data[p_in][:, 0], sim.data[p_out]
    result = {
        "u": u,
        "y": y,
        "t": sim.trange(),
        "nrmse": maths.delay_nrmse(u, y[:, 0], theta, dt, PROBE_SYNAPSE, T_SKIP),
        "build_s": t1 - t0,
        "run_s": t2 - t1,
    }
    result.update({k: sim.data[p] for k, p in extra.items()})
    return result


def run_config(name, seed=0, neuron_type="lif", backend="nengo", **overrides):
    """NRMSE of ``LegendreMemory`` and of the naive construction on config ``name``."""
    cfg = {**CONFIGS[name], **overrides}
    nt = neuron_type_from_name(neuron_type)
    common = dict(theta=cfg["theta"], high=cfg["high"], rms=cfg["rms"],
                  duration=cfg["duration"], seed=seed, backend=backend)
    def ours_factory(stim, process):
        memory = LegendreMemory(cfg["order"], cfg["theta"], cfg["n_neurons"], neuron_type=nt,
                                input_statistics=process)
        nengo.Connection(stim, memory.input, synapse=None)
        return memory

    ours = simulate_delay(ours_factory, **common)
    naive = simulate_delay(
        lambda stim, process: naive_delay_network(stim, cfg["order"], cfg["theta"], cfg["n_neurons"], neuron_type=nt),
        **common,
    )
    return {
        "config": name, "seed": seed, "neuron_type": str(nt), "backend": backend,
        **{k: cfg[k] for k in ("order", "n_neurons", "theta", "high", "rms", "duration")},
        "nrmse": ours["nrmse"], "naive_nrmse": naive["nrmse"],
        "improvement": naive["nrmse"] / ours["nrmse"],
        "sim_s": ours["run_s"],
    }


# --- the O(d / sqrt(m)) scaling law


def memory_error(order, n_neurons, neuron_type, theta=0.1, high=5.0, rms=0.3,
                 duration=3.0, seed=0, t_skip=0.5):
    """NRMSE of a neural memory's output against the ideal memory of the same order.

    Both read ``u(t - theta)`` through the metric's lowpass from the same input, so
    the error is that of the neurons alone, not of the order-``d`` approximation.
    """
    nt = neuron_type_from_name(neuron_type)
    process = nengo.processes.WhiteSignal(duration, high=high, rms=rms, seed=seed + 1)
    with nengo.Network(seed=seed) as model:
        stim = nengo.Node(process)
        neural = LegendreMemory(order, theta, n_neurons, neuron_type=nt, input_statistics=process)
        ideal = LegendreMemory(order, theta, neuron_type=None, input_statistics=process)
        for mem in (neural, ideal):
            nengo.Connection(stim, mem.input, synapse=None)
        p_neural = nengo.Probe(neural.output, synapse=PROBE_SYNAPSE)
        p_ideal = nengo.Probe(ideal.output, synapse=PROBE_SYNAPSE)
    with nengo.Simulator(model, progress_bar=False) as sim:
        sim.run(duration)
    keep = sim.trange() > t_skip
    return maths.nrmse(sim.data[p_neural][keep], sim.data[p_ideal][keep])


def scaling_sweep(neuron_type="lif", n_neurons=(200, 400, 800, 1600), orders=(2, 4, 8),
                  order_fixed=4, n_fixed=800, seeds=(0, 1), progress=None, **kwargs):
    """Errors over a sweep of ``m`` (at ``order_fixed``) and of ``d`` (at ``n_fixed``).

    Returns ``{"m": [(m, error)], "d": [(d, error)]}``, each error the mean over seeds.
    """
    runs = [("m", order_fixed, m) for m in n_neurons] + [("d", d, n_fixed) for d in orders]
    out = {"m": [], "d": []}
    for axis, d, m in runs:
        err = np.mean([memory_error(d, m, neuron_type, seed=s, **kwargs) for s in seeds])
        out[axis].append((d if axis == "d" else m, float(err)))
        if progress is not None:
            progress.update(1)
    return out


def fit_scaling(sweep, order_fixed=4, n_fixed=800):
    """Log-log slopes of the sweep and the constant ``c`` in ``error ≈ c d / sqrt(m)``."""
    m, err_m = np.array(sweep["m"]).T
    d, err_d = np.array(sweep["d"]).T
    m_exponent = np.polyfit(np.log(m), np.log(err_m), 1)[0]
    d_exponent = np.polyfit(np.log(d), np.log(err_d), 1)[0]
    # least squares in log space for error = c * d / sqrt(m) over every point
    points = [(order_fixed, mm, e) for mm, e in sweep["m"]] + [(dd, n_fixed, e) for dd, e in sweep["d"]]
    c = float(np.exp(np.mean([np.log(e * np.sqrt(mm) / dd) for dd, mm, e in points])))
    return {"m_exponent": float(m_exponent), "d_exponent": float(d_exponent), "c": c}


def plot_scaling(results, order_fixed, n_fixed):
    """Log-log figure: error against m and against d, fitted lines and c d / sqrt(m)."""
    from matplotlib.figure import Figure  # no pyplot: no global backend, safe in notebooks

    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2)
    for name, res in results.items():
        fit = res["fit"]
        m, err_m = np.array(res["sweep"]["m"]).T
        d, err_d = np.array(res["sweep"]["d"]).T
        (line,) = axes[0].loglog(m, err_m, "o", label=f"{name}: slope {fit['m_exponent']:.2f}")
        axes[0].loglog(m, err_m[0] * (m / m[0]) ** fit["m_exponent"], "-", color=line.get_color())
        axes[0].loglog(m, fit["c"] * order_fixed / np.sqrt(m), ":", color=line.get_color(),
                       label=f"{name}: {fit['c']:.2f} d/√m")
        axes[1].loglog(d, err_d, "o", color=line.get_color(), label=f"{name}: slope {fit['d_exponent']:.2f}")
        axes[1].loglog(d, err_d[0] * (d / d[0]) ** fit["d_exponent"], "-", color=line.get_color())
        axes[1].loglog(d, fit["c"] * d / np.sqrt(n_fixed), ":", color=line.get_color(),
                       label=f"{name}: {fit['c']:.2f} d/√m")
    axes[0].set(xlabel="neurons m", ylabel="NRMSE vs ideal memory", title=f"order d = {order_fixed}")
    axes[1].set(xlabel="order d", title=f"neurons m = {n_fixed}")
    for ax, ticks in zip(axes, (m, d)):
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    return fig


# --- commands


def _positive_ints(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise UsageError(f"expected a comma-separated list of positive integers, got {text!r}")
    return values


def _accuracy_arguments(parser):
    parser.add_argument("--configs", default="C1,C2",
                        help="comma-separated configs among %s (default: %%(default)s)" % ", ".join(CONFIGS))
    parser.add_argument("--seeds", default="0", help="comma-separated network seeds (default: %(default)s)")
    parser.add_argument("--neuron-type", default="lif", help="neuron type name (default: %(default)s)")


def _accuracy_run(args):
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise UsageError(f"--configs: unknown {unknown}; expected some of {sorted(CONFIGS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    neuron_type_from_name(args.neuron_type)  # fail before any simulation
    rows = []
    for name in names:
        for seed in seeds:
            row = run_config(name, seed=seed, neuron_type=args.neuron_type)
            rows.append(row)
            print(f"{name} seed {seed}: nengo_lmu NRMSE {row['nrmse']:.4f}   naive {row['naive_nrmse']:.4f}"
                  f"   ({row['improvement']:.1f}x better)")
    path = save_json({"benchmark": "delay accuracy", "rows": rows}, args.out_dir, "accuracy")
    return {"rows": rows, "files": [path]}


def _scaling_arguments(parser):
    parser.add_argument("--neuron-types", default="lif,poisson",
                        help="comma-separated neuron type names (default: %(default)s)")
    parser.add_argument("--n-neurons", default="250,500,1000,2000,4000",
                        help="neuron counts m for the m sweep (default: %(default)s)")
    parser.add_argument("--orders", default="2,4,8,16", help="orders d for the d sweep (default: %(default)s)")
    parser.add_argument("--order-fixed", type=int, default=4, help="order for the m sweep (default: %(default)s)")
    parser.add_argument("--n-fixed", type=int, default=2000, help="neurons for the d sweep (default: %(default)s)")
    parser.add_argument("--seeds", default="0,1,2", help="seeds averaged per point (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=4.0, help="seconds simulated per run (default: %(default)s)")


def _scaling_run(args):
    from tqdm import tqdm

    types = args.neuron_types.split(",")
    for t in types:
        neuron_type_from_name(t)
    ms, orders = _positive_ints(args.n_neurons), _positive_ints(args.orders)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.n_fixed < max(orders) or min(ms) < args.order_fixed:
        raise UsageError("every run needs n_neurons >= order (--n-fixed, --n-neurons, --orders)")
    results = {}
    with tqdm(total=len(types) * (len(ms) + len(orders)), desc="scaling sweep") as bar:
        for t in types:
            sweep = scaling_sweep(t, ms, orders, args.order_fixed, args.n_fixed, seeds,
                                  progress=bar, duration=args.duration)
            results[t] = {"sweep": sweep, "fit": fit_scaling(sweep, args.order_fixed, args.n_fixed)}
    for t, res in results.items():
        f = res["fit"]
        print(f"{t}: error ∝ m^{f['m_exponent']:.3f} (d={args.order_fixed}), "
              f"∝ d^{f['d_exponent']:.3f} (m={args.n_fixed}); error ≈ {f['c']:.3f} d/√m")
    fig = plot_scaling(results, args.order_fixed, args.n_fixed)
    png = save_figure(fig, args.out_dir, "scaling")
    path = save_json({"benchmark": "O(d/sqrt(m)) scaling", "settings": settings(args) | {"out_dir": None},
                      "results": results}, args.out_dir, "scaling")
    return {"results": results, "files": [path, png]}


COMMANDS = {
    "accuracy": Command(
        "delay-network accuracy on configs C1/C2 against the naive construction",
        _accuracy_arguments, _accuracy_run),
    "scaling": Command(
        "the O(d/sqrt(m)) sweep: log-log slopes and plot, for each neuron type",
        _scaling_arguments, _scaling_run),
}
