"""``nengo-lmu accuracy``: the delay network's accuracy on configs C1 and C2 against the
naive construction public examples use.

From Python: :func:`run` (the command), :func:`run_config` (one config and seed),
:func:`simulate_delay` (any memory on the configs' input), :func:`naive_delay_network`.
"""

import os
import time
import types

import nengo

from .. import maths, validation
from ..backends import BACKENDS, check_backend, memory_options, simulator
from ..networks import NEURON_TYPES, LegendreMemory, neuron_type_from_name
from . import Command, Option, check_output, log, save_json, values

WHERE = "accuracy"

# The foundation issue's configs: C1 order 8, C2 order 4; 800 LIF neurons, theta 0.1 s,
# dt 1 ms, WhiteSignal(6.0, high=5, rms=0.3, seed=1), network seed 0.
CONFIGS = {
    "C1": dict(order=8, n_neurons=800, theta=0.1, high=5.0, rms=0.3, duration=6.0),
    "C2": dict(order=4, n_neurons=800, theta=0.1, high=5.0, rms=0.3, duration=6.0),
}
PROBE_SYNAPSE = 0.01  # the metric's lowpass on output and target
T_SKIP = 1.0  # seconds of transient left out of the metric
#: what ``--against`` compares with
AGAINST = ("naive", "nengolib", "statistics")


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
        # the backend's memory options (Loihi-ready on Loihi) with the config's neurons
        options = memory_options(backend, neuron_type=nt, input_statistics=process)
        memory = LegendreMemory(cfg["order"], cfg["theta"], cfg["n_neurons"], **options)
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


def run(configs=tuple(CONFIGS), seeds=(0,), neuron_type="lif", backend="nengo", against="naive",
        nengolib_python=None, small=False, out_dir="results", overwrite=False):
    """NRMSE of ``LegendreMemory`` against the naive construction, or against nengolib.

    ``against="naive"``: configs C1/C2 on each seed, side by side with the naive
    construction; writes ``accuracy.json`` (one row per config and seed, see
    :func:`run_config`) and returns ``{"rows": [...], "files": [...]}``.
    ``against="nengolib"``: the grid of :mod:`nengo_lmu.bench.against_nengolib` (the
    small one with ``small``), against nengolib's ``RollingWindow`` measured now in the
    environment whose python is ``nengolib_python``, or else against its stored figures;
    returns :func:`~nengo_lmu.bench.against_nengolib.run_grid`'s result.
    ``against="statistics"``: memories not told their input's statistics (``measure()``
    on another stretch of the input, and none at all) against memories told them
    (:mod:`nengo_lmu.bench.unknown_statistics`, the small grid with ``small``); writes
    ``unknown-statistics.json`` and ``.png``.
    """
    validation.choice(against, AGAINST, "against", where=WHERE)
    validation.boolean(small, "small", where=WHERE)
    if nengolib_python is not None and not os.path.isfile(nengolib_python):
        raise validation.error(f"no such file {nengolib_python!r} (a nengolib environment's python)",
                               "nengolib_python", where=WHERE)
    if against == "nengolib":
        from . import against_nengolib

        out_dir = check_output(out_dir, overwrite, where=WHERE)
        return against_nengolib.run_grid(nengolib_python, out_dir, against_nengolib.SMALL_GRID if small else None,
                                         progress=log, overwrite=overwrite)
    if against == "statistics":
        from . import save_figure, unknown_statistics

        out_dir = check_output(out_dir, overwrite, where=WHERE)
        result = unknown_statistics.run(unknown_statistics.SMALL_GRID if small else None, progress=log)
        result["files"] = [save_json(result, out_dir, "unknown-statistics", overwrite),
                           save_figure(unknown_statistics.plot(result["rows"]), out_dir, "unknown-statistics",
                                       overwrite)]
        return result
    configs = values(configs, "configs", lambda v, a: validation.choice(v, tuple(CONFIGS), a, where=WHERE),
                     where=WHERE)
    seeds = values(seeds, "seeds", lambda v, a: validation.integer(v, a, low=0, where=WHERE), where=WHERE)
    neuron_type_from_name(neuron_type)  # fail before any simulation
    check_backend(backend, where=WHERE)
    out_dir = check_output(out_dir, overwrite, where=WHERE)
    rows = []
    for name in configs:
        for seed in seeds:
            row = run_config(name, seed=seed, neuron_type=neuron_type, backend=backend)
            rows.append(row)
            log(f"{name} seed {seed}: nengo_lmu NRMSE {row['nrmse']:.4f}   naive {row['naive_nrmse']:.4f}"
                f"   ({row['improvement']:.1f}x better)")
    path = save_json({"benchmark": "delay accuracy", "rows": rows}, out_dir, "accuracy", overwrite)
    return {"rows": rows, "files": [path]}


COMMANDS = {
    "accuracy": Command(
        help="delay-network accuracy on configs C1/C2 against the naive construction",
        run=run,
        options=(
            Option("configs", list, f"comma-separated configs among {', '.join(CONFIGS)}"),
            Option("seeds", list, "comma-separated network seeds"),
            Option("neuron_type", str, "neuron type", choices=tuple(sorted(NEURON_TYPES))),
            Option("backend", str, "where to run: " + ", ".join(BACKENDS), choices=tuple(BACKENDS)),
            Option("against", str, "naive: C1/C2 against the naive construction; nengolib: the grid of "
                   "orders, neurons, windows and input bands against nengolib's RollingWindow; statistics: "
                   "memories not told their input's statistics (measure() on another stretch of the input, "
                   "and none) against memories told them (3 orders x 3 bands x 3 seeds on 20 s of input, about 15 minutes)",
                   choices=AGAINST, group="against nengolib or the right statistics"),
            Option("nengolib_python", str, "python of an environment with nengo 2.8 and nengolib 0.5.2, to "
                   "measure nengolib now; default: its figures stored with the date they were measured",
                   group="against nengolib or the right statistics"),
            Option("small", bool, "the small grid (against nengolib or statistics)",
                   group="against nengolib or the right statistics"),
        ),
    ),
}
