"""``nengo-lmu loihi`` and ``loihi-resources``: Loihi emulator accuracy and speed, chip resources.

``nengo-lmu loihi`` (:func:`run`) runs benchmark config L1 (order 6, 600 neurons, theta
0.3 s, dt 1 ms, input ``WhiteSignal(10.0, high=2, rms=0.3, seed=1)``, seed 0), built with
the Loihi memory options, on backends ``nengo`` (the reference simulator, same network),
``loihi-simreal`` (the emulator in floating point: no quantisation) and ``loihi-sim``
(bit-true), and reports the delay NRMSE of each (:func:`nengo_lmu.maths.delay_nrmse`), the
ratio to ``nengo``, and emulator steps per second with and without precompute, for L1 and
for a 3,000-neuron memory. ``nengo-lmu loihi-resources`` (:func:`run_resources`) prints
the per-core resource table of a memory.

:func:`delay_network` builds the network and :func:`run_delay` runs it on a backend (also
used by ``hardware/run_delay.py``). nengo-loihi imports TensorFlow, so this module imports
it only inside functions.
"""

import time

from .. import validation
from ..backends import BACKENDS, check_backend, is_loihi
from . import MAX_NEURONS, MAX_ORDER, Command, Option, check_output, log, save_json, show_progress, steps, values

#: benchmark config L1
L1 = dict(order=6, theta=0.3, n_neurons=600, dt=0.001, seed=0, high=2.0, rms=0.3, signal_seed=1)
#: the first second of every run is the memory filling up: not scored
T_SKIP = 1.0


def delay_network(order=6, theta=0.3, n_neurons=600, dt=0.001, seed=0, high=2.0, rms=0.3,
                  signal_seed=1, period=10.0, **memory_kwargs):
    """The delay network of config L1 (or variants), Loihi-ready.

    Returns
    -------
    net, probes : nengo.Network, dict
        ``probes["input"]`` (unfiltered) and ``probes["output"]`` (10 ms lowpass, the
        benchmark's filter), and ``net.memory``.
    """
    import nengo

    from .. import loihi

    with nengo.Network(seed=seed, label="delay network") as net:
        u = nengo.Node(
            nengo.processes.WhiteSignal(period, high=high, rms=rms, seed=signal_seed),
            label="u",
        )
        memory_kwargs.setdefault("input_statistics", (high, rms))
        net.memory = loihi.LegendreMemory(order, theta, n_neurons, dt=dt, **memory_kwargs)
        nengo.Connection(u, net.memory.input, synapse=None)
        probes = {
            "input": nengo.Probe(u, synapse=None),
            "output": nengo.Probe(net.memory.output, synapse=0.01),
        }
    return net, probes


def run_delay(net, probes, backend, duration, dt=0.001, precompute=None, progress=False):
    """Run ``net`` on ``backend`` (one of :data:`nengo_lmu.backends.BACKENDS`); NRMSE and timings.

    ``precompute`` is nengo-loihi's (Loihi backends only); ``progress`` shows a progress
    bar (tqdm, as nengo-loihi has none of its own).
    """
    from .. import maths
    from ..backends import run_steps, simulator

    t0 = time.perf_counter()
    sim = simulator(net, backend=backend, dt=dt, **({"precompute": precompute} if is_loihi(backend) else {}))
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    n_steps = int(round(duration / dt))
    with sim:
        run_steps(sim, n_steps, progress=progress, desc=backend)
    t2 = time.perf_counter()
    cpu2 = time.process_time()
    nrmse = maths.delay_nrmse(sim.data[probes["input"]], sim.data[probes["output"]], net.memory.theta, dt,
                              t_skip=T_SKIP)
    return {
        "backend": backend,
        "nrmse": nrmse,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "steps_per_s": n_steps / (t2 - t1),
        # CPU time of this process: less sensitive than wall time to other load
        "steps_per_cpu_s": n_steps / max(cpu2 - cpu1, 1e-9),
        "precompute": getattr(sim, "precompute", None),
        "fast_emulator": getattr(sim, "fast_emulator", None),
    }


def check_network(order, n_neurons, theta, where):
    """The L1 variant's order, neurons and window, checked."""
    order = validation.integer(order, "order", high=MAX_ORDER, where=where)
    n_neurons = validation.integer(n_neurons, "n_neurons", low=order, high=MAX_NEURONS, where=where)
    theta = validation.number(theta, "theta", low=L1["dt"], where=where)
    return order, n_neurons, theta


def check_duration(duration, attr, where, low=0.0):
    """A run's simulated seconds: finite, more than ``low``, at most :data:`~nengo_lmu.bench.MAX_STEPS` steps."""
    steps(duration, L1["dt"], attr, where=where)
    return validation.number(duration, attr, low=low, low_open=True, where=where)


def run(order=L1["order"], n_neurons=L1["n_neurons"], theta=L1["theta"], seed=L1["seed"], duration=10.0,
        backends=("nengo", "loihi-simreal", "loihi-sim"), speed=True, speed_neurons=3000, speed_duration=2.0,
        progress=None, out_dir="results", overwrite=False):
    """Emulator accuracy on config L1 (or a variant) and emulator speed; writes ``loihi-l1.json``.

    Returns ``{"config", "duration", "memory", "runs": {backend: ...}, "ratio_<backend>_to_nengo",
    "speed", "files"}``.
    """
    where = "loihi"
    # --- every argument and the output directory, before any (reference) run
    order, n_neurons, theta = check_network(order, n_neurons, theta, where)
    seed = validation.integer(seed, "seed", low=0, where=where)
    duration = check_duration(duration, "duration", where, low=T_SKIP)
    backends = values(backends, "backends", lambda v, a: check_backend(v, a, where=where), where=where)
    speed = validation.boolean(speed, "speed", where=where)
    speed_neurons = validation.integer(speed_neurons, "speed_neurons", low=0, high=MAX_NEURONS, where=where)
    speed_duration = check_duration(speed_duration, "speed_duration", where)
    progress = show_progress(progress)
    out_dir = check_output(out_dir, overwrite, where=where)

    config = dict(L1, order=order, n_neurons=n_neurons, theta=theta, seed=seed)
    net, probes = delay_network(**config)
    mem = net.memory
    results = {
        "config": config,
        "duration": duration,
        # what the memory resolved its defaults to, so a change of default shows here
        "memory": {"tau": mem.tau, "mapping": mem.mapping, "synapse_decay": mem.synapse_decay,
                   "neuron_counts": mem.neuron_counts, "n_std": mem.n_std},
        "runs": {},
    }
    for backend in backends:
        r = run_delay(net, probes, backend, duration, progress=progress)
        results["runs"][backend] = r
        log(f"{backend:13s} NRMSE {r['nrmse']:.4f}   run {r['steps_per_s']:7.0f} steps/s "
            f"({r['steps_per_cpu_s']:.0f} per CPU-second)   (build {r['build_s']:.1f} s)")
    runs = results["runs"]
    if "nengo" in runs:
        for backend in runs:
            if backend != "nengo":
                ratio = runs[backend]["nrmse"] / runs["nengo"]["nrmse"]
                results[f"ratio_{backend}_to_nengo"] = ratio
                log(f"ratio {backend} / nengo = {ratio:.3f}")
    if speed:
        results["speed"] = speed_runs = {}
        sizes = [n_neurons] + ([speed_neurons] if speed_neurons > 0 else [])
        for n in sizes:
            net_n, probes_n = delay_network(**dict(config, n_neurons=n))
            for precompute in (True, False):
                r = run_delay(net_n, probes_n, "loihi-sim", speed_duration, precompute=precompute,
                              progress=progress)
                speed_runs[f"{n}_neurons_precompute_{precompute}"] = {
                    k: r[k] for k in ("steps_per_s", "steps_per_cpu_s", "precompute", "fast_emulator", "nrmse")
                }
                log(f"speed: {n} neurons, precompute={r['precompute']}: "
                    f"{r['steps_per_s']:.0f} steps/s ({r['steps_per_cpu_s']:.0f} per CPU-second)")
    log("timings are this machine's, with whatever else it was running (see JSON 'measured')")
    results["files"] = [save_json(results, out_dir, "loihi-l1", overwrite)]
    return results


def run_resources(order=L1["order"], n_neurons=L1["n_neurons"], theta=L1["theta"], out_dir="results",
                  overwrite=False):
    """Cores, axons and synapse memory an L1-like delay network needs on Loihi.

    Prints the table and writes ``loihi-resources.json``; returns its content with ``"files"``.
    """
    from .. import loihi

    order, n_neurons, theta = check_network(order, n_neurons, theta, "loihi_resources")
    out_dir = check_output(out_dir, overwrite, where="loihi_resources")
    net, _ = delay_network(**dict(L1, order=order, n_neurons=n_neurons, theta=theta))
    resources = loihi.resources(net)
    print(resources)
    results = resources.as_dict()
    return {**results, "files": [save_json(results, out_dir, "loihi-resources", overwrite)]}


NETWORK_OPTIONS = (
    Option("order", int, "Legendre order d", group="network (defaults: config L1)"),
    Option("n_neurons", int, "neurons in the memory; at least --order", group="network (defaults: config L1)"),
    Option("theta", float, "window length, s", group="network (defaults: config L1)"),
)

COMMANDS = {
    "loihi": Command(
        help="Loihi emulator accuracy on config L1 (nengo, loihi-simreal, loihi-sim, ratio) and emulator speed",
        run=run,
        options=NETWORK_OPTIONS + (
            Option("seed", int, "network seed", group="network (defaults: config L1)"),
            Option("duration", float, f"simulated time, s (scored after {T_SKIP:g} s)",
                   group="network (defaults: config L1)"),
            Option("backends", list, "comma list of backends to run: " + ", ".join(BACKENDS)
                   + " (loihi needs nxsdk)", group="network (defaults: config L1)"),
            Option("speed_neurons", int, "size of the second memory timed on the emulator (0: skip)",
                   group="speed"),
            Option("speed_duration", float, "simulated time of each speed run, s", group="speed"),
            Option("speed", bool, "skip the precompute on/off speed runs", group="speed"),
        ),
    ),
    "loihi-resources": Command(
        help="cores, axons and synapse memory a delay network needs on Loihi; whether it fits a chip",
        run=run_resources,
        options=NETWORK_OPTIONS,
    ),
}
