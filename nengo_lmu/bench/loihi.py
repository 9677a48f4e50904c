"""Loihi benchmarks: emulator accuracy (config L1), emulator speed, chip resources.

``nengo-lmu loihi`` runs benchmark config L1 (order 6, 600 neurons, theta 0.3 s,
dt 1 ms, input ``WhiteSignal(10.0, high=2, rms=0.3, seed=1)``, seed 0) built with
:func:`nengo_lmu.loihi.memory_options`, on the reference simulator, the emulator in
floating point (``simreal``: no quantisation) and the bit-true emulator (``sim``), and
reports the delay NRMSE of each (:func:`nengo_lmu.maths.delay_nrmse`), the ratio
sim / reference, and emulator steps per second with and without precompute, for L1
and for a 3,000-neuron memory. ``nengo-lmu loihi-resources`` prints the per-core
resource table of a memory.

nengo-loihi imports TensorFlow, so this module imports it only inside the commands.
"""

import time

from . import Command, UsageError, add_progress_arguments, save_json, show_progress

#: benchmark config L1
L1 = dict(order=6, theta=0.3, n_neurons=600, dt=0.001, seed=0, high=2.0, rms=0.3, signal_seed=1)
TARGETS = ("ref", "simreal", "sim")


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


def run_delay(net, probes, target, duration, dt=0.001, precompute=None, progress=False):
    """Run ``net`` on ``target`` ("ref" is ``nengo.Simulator``); NRMSE and timings.

    ``progress`` shows a progress bar (tqdm, as nengo-loihi has none of its own).
    """
    import nengo

    from .. import loihi, maths
    from ..backends import run_steps

    t0 = time.perf_counter()
    if target == "ref":
        sim = nengo.Simulator(net, dt=dt, progress_bar=False)
    else:
        sim = loihi.Simulator(net, target=target, dt=dt, precompute=precompute)
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    steps = int(round(duration / dt))
    with sim:
        run_steps(sim, steps, progress=progress, desc=target)
    t2 = time.perf_counter()
    cpu2 = time.process_time()
    theta = net.memory.theta
    nrmse = maths.delay_nrmse(sim.data[probes["input"]], sim.data[probes["output"]], theta, dt)
    return {
        "target": target,
        "nrmse": nrmse,
        "build_s": t1 - t0,
        "run_s": t2 - t1,
        "steps_per_s": steps / (t2 - t1),
        # CPU time of this process: less sensitive than wall time to other load
        "steps_per_cpu_s": steps / max(cpu2 - cpu1, 1e-9),
        "precompute": getattr(sim, "precompute", None),
        "fast_emulator": getattr(sim, "fast_emulator", None),
    }


def _parse_targets(text):
    targets = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in targets if t not in TARGETS + ("loihi",)]
    if bad or not targets:
        raise UsageError(f"--targets must be a comma list from {TARGETS + ('loihi',)} (got {text!r})")
    return targets


def _accuracy_arguments(parser):
    g = parser.add_argument_group("network (defaults: config L1)")
    g.add_argument("--order", type=int, default=L1["order"], help="Legendre order d")
    g.add_argument("--n-neurons", type=int, default=L1["n_neurons"], help="neurons in the memory")
    g.add_argument("--theta", type=float, default=L1["theta"], help="window length, s")
    g.add_argument("--seed", type=int, default=L1["seed"], help="network seed")
    g.add_argument("--duration", type=float, default=10.0, help="simulated time, s (scored after 1 s)")
    g.add_argument("--targets", default="ref,simreal,sim",
                   help="comma list: ref (nengo.Simulator), simreal, sim, loihi (needs nxsdk)")
    g = parser.add_argument_group("speed")
    g.add_argument("--speed-neurons", type=int, default=3000,
                   help="size of the second memory timed on the emulator (0: skip)")
    g.add_argument("--speed-duration", type=float, default=2.0, help="simulated time of each speed run, s")
    g.add_argument("--no-speed", action="store_true", help="skip the precompute on/off speed runs")
    add_progress_arguments(parser)


def _accuracy_run(args):
    targets = _parse_targets(args.targets)
    if args.duration <= 1.0:
        raise UsageError("--duration must exceed 1 s (the first second is not scored)")
    if args.n_neurons < args.order or args.order < 1:
        raise UsageError("--n-neurons must be >= --order >= 1")
    if "loihi" in targets:
        from .. import loihi

        try:
            loihi._check_target("loihi")  # fail now, not after the reference run
        except ImportError as e:
            raise UsageError(str(e)) from None

    config = dict(L1, order=args.order, n_neurons=args.n_neurons, theta=args.theta, seed=args.seed)
    net, probes = delay_network(**config)
    mem = net.memory
    results = {
        "config": config,
        "duration": args.duration,
        # what the memory resolved its defaults to, so a change of default shows here
        "memory": {"tau": mem.tau, "mapping": mem.mapping, "synapse_decay": mem.synapse_decay,
                   "neuron_counts": mem.neuron_counts, "n_std": mem.n_std},
        "runs": {},
    }
    for target in targets:
        r = run_delay(net, probes, target, args.duration, progress=show_progress(args))
        results["runs"][target] = r
        print(f"{target:8s} NRMSE {r['nrmse']:.4f}   run {r['steps_per_s']:7.0f} steps/s "
              f"({r['steps_per_cpu_s']:.0f} per CPU-second)   (build {r['build_s']:.1f} s)",
              flush=True)
    runs = results["runs"]
    if "ref" in runs:
        for target in ("simreal", "sim", "loihi"):
            if target in runs:
                ratio = runs[target]["nrmse"] / runs["ref"]["nrmse"]
                results[f"ratio_{target}_to_ref"] = ratio
                print(f"ratio {target} / ref = {ratio:.3f}")
    if not args.no_speed:
        results["speed"] = speed = {}
        sizes = [args.n_neurons] + ([args.speed_neurons] if args.speed_neurons > 0 else [])
        for n in sizes:
            net_n, probes_n = delay_network(**dict(config, n_neurons=n))
            for precompute in (True, False):
                r = run_delay(net_n, probes_n, "sim", args.speed_duration, precompute=precompute,
                              progress=show_progress(args))
                key = f"{n}_neurons_precompute_{precompute}"
                speed[key] = {
                    k: r[k]
                    for k in ("steps_per_s", "steps_per_cpu_s", "precompute", "fast_emulator", "nrmse")
                }
                print(f"speed: {n} neurons, precompute={r['precompute']}: "
                      f"{r['steps_per_s']:.0f} steps/s ({r['steps_per_cpu_s']:.0f} per CPU-second)",
                      flush=True)
    print("timings are this machine's, with whatever else it was running (see JSON 'measured')")
    path = save_json(results, args.out_dir, "loihi-l1")
    print(f"wrote {path}")
    return results


def _resources_arguments(parser):
    parser.add_argument("--order", type=int, default=L1["order"], help="Legendre order d")
    parser.add_argument("--n-neurons", type=int, default=L1["n_neurons"], help="neurons in the memory")
    parser.add_argument("--theta", type=float, default=L1["theta"], help="window length, s")


def _resources_run(args):
    if args.n_neurons < args.order or args.order < 1:
        raise UsageError("--n-neurons must be >= --order >= 1")
    from .. import loihi

    net, _ = delay_network(**dict(L1, order=args.order, n_neurons=args.n_neurons, theta=args.theta))
    res = loihi.resources(net)
    print(res)
    path = save_json(res.as_dict(), args.out_dir, "loihi-resources")
    print(f"wrote {path}")
    return res.as_dict()


COMMANDS = {
    "loihi": Command(
        "Loihi emulator accuracy on config L1 (reference, simreal, sim, ratio) and emulator speed",
        _accuracy_arguments,
        _accuracy_run,
    ),
    "loihi-resources": Command(
        "cores, axons and synapse memory a delay network needs on Loihi; whether it fits a chip",
        _resources_arguments,
        _resources_run,
    ),
}
