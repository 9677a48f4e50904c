"""``nengo-lmu capacity``: an untrained LMU memory read out at several delays over a long window.

:func:`capacity_nrmse` measures one memory (exact or spiking); :func:`run` is the command.
"""

import time

from .. import validation
from . import MAX_NEURONS, MAX_ORDER, MAX_STEPS, Command, Option, arguments, check_output, log, save_json, show_progress

WHERE = "capacity"


def run(order=100, theta_steps=100_000, delays=5, cycles=25.0, windows=3, spiking_neurons=100,
        spiking_theta_steps=10_000, seed=0, progress=None, out_dir="results", overwrite=False):
    """The exact memory and a spiking LIF memory, read at ``delays`` delays in ``[0, theta]``.

    Writes ``capacity.json``; returns its content with ``"files"``.
    """
    # --- every argument and the output directory, before any work
    def integer(value, attr, low=1, high=None):
        return validation.integer(value, attr, low=low, high=high, where=WHERE)

    order = integer(order, "order", high=MAX_ORDER)
    windows = integer(windows, "windows", low=2)  # the first window is the memory filling up
    theta_steps = integer(theta_steps, "theta_steps", high=MAX_STEPS // windows)
    spiking_theta_steps = integer(spiking_theta_steps, "spiking_theta_steps", high=MAX_STEPS // windows)
    delays = integer(delays, "delays", high=1000)
    cycles = validation.positive(cycles, "cycles", where=WHERE)
    spiking_neurons = integer(spiking_neurons, "spiking_neurons", high=MAX_NEURONS // order)
    seed = integer(seed, "seed", low=0)
    progress = show_progress(progress)
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    results = {"task": "capacity", "args": arguments(run, locals())}
    rate = capacity_nrmse(order, theta_steps, delays, cycles, windows, None, seed, progress=progress)
    results["rate"] = rate
    log(f"capacity, exact memory, order {order}, theta {theta_steps} steps: NRMSE {rate['nrmse']}")
    spk = capacity_nrmse(order, spiking_theta_steps, delays, cycles, windows, spiking_neurons * order, seed,
                         progress=progress)
    results["spiking"] = spk
    log(f"capacity, spiking LIF memory ({spk['n_neurons']} neurons), theta {spiking_theta_steps} "
        f"steps: NRMSE {spk['nrmse']}")
    results["json"] = save_json(results, out_dir, "capacity", overwrite)
    results["files"] = [results["json"]]
    return results


def capacity_nrmse(order, theta_steps, delays, cycles, windows, n_neurons=None, seed=0, dt=0.001, progress=False):
    """NRMSE per delay of a :class:`~nengo_lmu.networks.LegendreMemory` (exact if ``n_neurons`` is None).

    The input is white noise band-limited to ``cycles`` per window; errors are measured
    after the first window (once every delay has input behind it).
    """
    import nengo

    from .. import data, maths
    from ..backends import run_steps, simulator
    from ..networks import LegendreMemory

    theta = theta_steps * dt
    n_steps = windows * theta_steps
    u, targets, r = data.capacity(n_steps, theta_steps, delays, high=cycles / theta, dt=dt, seed=seed)
    spiking = n_neurons is not None
    with nengo.Network(seed=seed) as net:
        inp = nengo.Node(nengo.processes.PresentInput(u[:, None], dt))
        mem = LegendreMemory(
            order, theta, n_neurons=n_neurons, neuron_type=nengo.LIF() if spiking else None, dt=dt,
            input_statistics=(cycles / theta, 0.5),
        )
        nengo.Connection(inp, mem.input, synapse=None)
        readout = mem.add_readout(r)
        probe = nengo.Probe(readout, synapse=0.01 if spiking else None)
    start = time.perf_counter()
    with simulator(net, backend="nengo", dt=dt) as sim:
        run_steps(sim, n_steps, progress=progress, desc=f"order {order}, {n_steps} steps")
    secs = time.perf_counter() - start
    y = sim.data[probe]
    if spiking:
        targets = nengo.Lowpass(0.01).filt(targets, dt=dt, y0=0)
    keep = slice(theta_steps, None)
    errors = [maths.nrmse(y[keep, i], targets[keep, i]) for i in range(len(r))]
    return {
        "delays": r.tolist(), "nrmse": [round(e, 4) for e in errors], "order": order,
        "theta_steps": theta_steps, "n_neurons": n_neurons, "cycles_per_window": cycles,
        "seconds": secs,
    }


COMMANDS = {
    "capacity": Command(
        help="untrained LMU memory read at 5 delays over 100,000 steps",
        run=run,
        options=(
            Option("order", int, "memory order"),
            Option("theta_steps", int, "window (steps)"),
            Option("delays", int, "delays equally spaced over [0, theta]"),
            Option("cycles", float, "input band limit in cycles per window (order 100 resolves up to about "
                   "order/pi = 32)"),
            Option("windows", int, "simulated length, in windows (the first is skipped)"),
            Option("spiking_neurons", int, "spiking memory: LIF neurons per coefficient"),
            Option("spiking_theta_steps", int, "spiking memory: window (steps)"),
            Option("seed", int, "seed of the input"),
        ),
    ),
}
