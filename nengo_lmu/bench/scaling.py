"""``nengo-lmu scaling``: the O(d / sqrt(m)) law of a spiking memory's error.

:func:`memory_error` measures one memory against the ideal one, :func:`scaling_sweep`
sweeps the number of neurons m and the order d, :func:`fit_scaling` fits the log-log
slopes and the constant c in ``error = c d / sqrt(m)``, :func:`plot_scaling` draws them;
:func:`run` is the command.
"""

import nengo
import numpy as np

from .. import maths, validation
from ..backends import simulator
from ..networks import NEURON_TYPES, LegendreMemory, neuron_type_from_name
from . import MAX_NEURONS, MAX_ORDER, Command, Option, check_output, log, save_figure, save_json, steps, values
from .accuracy import PROBE_SYNAPSE

WHERE = "scaling"


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
    with simulator(model, backend="nengo") as sim:
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
    axes[1].set(xlabel="order d", ylabel="NRMSE vs ideal memory", title=f"neurons m = {n_fixed}")
    for ax, ticks in zip(axes, (m, d)):
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.minorticks_off()
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    return fig


# --- the command


def run(neuron_types=("lif", "poisson"), n_neurons=(250, 500, 1000, 2000, 4000), orders=(2, 4, 8, 16),
        order_fixed=4, n_fixed=2000, seeds=(0, 1, 2), duration=4.0, progress=None, out_dir="results",
        overwrite=False):
    """The sweep and its fit for each neuron type; writes ``scaling.json`` and ``scaling.png``."""
    from tqdm import tqdm

    from . import show_progress

    def name(v, attr):
        validation.choice(v, tuple(NEURON_TYPES), attr, where=WHERE)
        neuron_type_from_name(v)
        return v

    def count(high):
        return lambda v, attr: validation.integer(v, attr, high=high, where=WHERE)

    neuron_types = values(neuron_types, "neuron_types", name, where=WHERE)
    n_neurons = values(n_neurons, "n_neurons", count(MAX_NEURONS), where=WHERE)
    orders = values(orders, "orders", count(MAX_ORDER), where=WHERE)
    order_fixed = validation.integer(order_fixed, "order_fixed", high=min(n_neurons), where=WHERE)
    n_fixed = validation.integer(n_fixed, "n_fixed", low=max(orders), high=MAX_NEURONS, where=WHERE)
    seeds = values(seeds, "seeds", lambda v, a: validation.integer(v, a, low=0, where=WHERE), where=WHERE)
    steps(duration, 0.001, "duration", where=WHERE)
    # memory_error scores after its t_skip: a shorter run would score nothing (NaN)
    t_skip = 0.5
    duration = validation.number(duration, "duration", low=t_skip, low_open=True, where=WHERE)
    progress = show_progress(progress)
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    results = {}
    total = len(neuron_types) * (len(n_neurons) + len(orders))
    with tqdm(total=total, desc="scaling sweep", disable=not progress) as bar:
        for t in neuron_types:
            sweep = scaling_sweep(t, n_neurons, orders, order_fixed, n_fixed, seeds, progress=bar,
                                  duration=duration, t_skip=t_skip)
            results[t] = {"sweep": sweep, "fit": fit_scaling(sweep, order_fixed, n_fixed)}
    for t, res in results.items():
        f = res["fit"]
        log(f"{t}: error ∝ m^{f['m_exponent']:.3f} (d={order_fixed}), ∝ d^{f['d_exponent']:.3f} "
            f"(m={n_fixed}); error ≈ {f['c']:.3f} d/√m")
    settings = dict(neuron_types=neuron_types, n_neurons=n_neurons, orders=orders, order_fixed=order_fixed,
                    n_fixed=n_fixed, seeds=seeds, duration=duration)
    png = save_figure(plot_scaling(results, order_fixed, n_fixed), out_dir, "scaling", overwrite)
    path = save_json({"benchmark": "O(d/sqrt(m)) scaling", "settings": settings, "results": results},
                     out_dir, "scaling", overwrite)
    return {"results": results, "files": [path, png]}


COMMANDS = {
    "scaling": Command(
        help="the O(d/sqrt(m)) sweep: log-log slopes and plot, for each neuron type",
        run=run,
        options=(
            Option("neuron_types", list, "comma-separated neuron type names"),
            Option("n_neurons", list, "neuron counts m for the m sweep (comma-separated)"),
            Option("orders", list, "orders d for the d sweep (comma-separated)"),
            Option("order_fixed", int, "order for the m sweep; at most the smallest --n-neurons"),
            Option("n_fixed", int, "neurons for the d sweep; at least the largest --orders"),
            Option("seeds", list, "seeds averaged per point (comma-separated)"),
            Option("duration", float, "seconds simulated per run"),
        ),
    ),
}
