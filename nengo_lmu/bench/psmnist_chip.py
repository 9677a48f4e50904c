"""``nengo-lmu psmnist-chip``: psMNIST with the memory on the chip, against its size and order.

:func:`run` deploys trained psMNIST LMUs (parameter files from ``nengo-lmu psmnist``, one
per order) on the bit-true Loihi emulator (``loihi-sim``) with the whole network on the
chip: a spiking memory of N neurons per coefficient feeding the hidden neurons neuron to
neuron (:func:`nengo_lmu.deploy.deploy` with ``memory="chip"``), for each N asked for.
Each file also gets one reference cell with the exact memory on the host and the hidden
layer on the chip (``memory="host"``). A size that does not fit one chip is recorded as
such, with the largest that does (:class:`nengo_lmu.deploy.DoesNotFit`), and the table
goes on. It writes

* ``psmnist-chip.json``: one row per cell (file x memory), with the accuracy, the trained
  rate network's on the same digits (``reference``), cores, spikes per neuron per step of
  each layer, emulator steps/s, and each deployment's report;
* ``psmnist-chip.png``: accuracy against neurons per coefficient, one line per order, with
  the host-memory reference and chance marked.
"""

import time

from nengo.exceptions import ValidationError

from .. import validation
from . import MAX_NEURONS, MAX_STEPS, Command, Option, arguments, check_output, log, read_file, save_figure, \
    save_json, show_progress, values

WHERE = "psmnist_chip"
#: most neurons per coefficient asked for (check_fits' search then costs a few large builds)
MAX_MEMORY_NEURONS = 1000
#: test digits in the psMNIST test split
N_TEST = 10_000
#: accuracy of a guess
CHANCE = 0.1
#: steps of one psMNIST digit (its pixels)
PIXELS = 784


def run(params=None, memory_neurons="5,10,20", n_test=20, firing_rate_scale=33.0, readout_steps=50, seed=None,
        progress=None, out_dir="results", overwrite=False):
    """Deploy each parameter file in ``params`` on ``loihi-sim``, memory on the chip at each size.

    ``params``: parameter files of trained psMNIST LMUs (a list or comma-separated; e.g.
    one per order). ``memory_neurons``: neurons per coefficient of the spiking memory, one
    deployment (cell) each, per file. ``n_test``: the first test digits, back to back, per
    cell. ``firing_rate_scale``: the hidden neurons' rate scaling (refused up front if a
    file's hidden neurons would need more than one spike per step). ``readout_steps``:
    the held readout of the reference cell with the exact memory on the host (its state
    and the digit's last pixel held that many steps, the output averaged over them,
    :func:`nengo_lmu.deploy.hold_readout`; 0: the last step). The cells with the memory on
    the chip are read at each digit's last pixel: a spiking memory's state cannot be held,
    and holding the pixel alone while it runs on did not help (measured: chance with and
    without, 20 digits, order 64, 10 and 20 neurons per coefficient). ``seed``: the
    deployed networks' seed (the spiking memory's neurons); None: each file's own. Every
    argument, every file, the data and ``out_dir`` are checked before the first
    deployment. A size that does not fit one chip (:func:`nengo_lmu.deploy.check_fits`: a
    few resource builds, nothing run) is recorded with the largest that does; the sizes
    above it are then recorded as not fitting without building them again. Writes
    ``psmnist-chip.json`` and ``psmnist-chip.png``; returns the JSON's content with
    ``"files"``.
    """
    from .. import data, deploy
    from ..lmu import LMU

    # --- every argument, every file, the data and the output directory, before any run
    if params is None:
        raise validation.error("give the parameter file(s) of trained psMNIST LMUs, comma-separated (from "
                               "'nengo-lmu psmnist --n-spiking 0', one per order)", "params", where=WHERE)
    params = values(params, "params", lambda v, a: str(v), where=WHERE)
    memory_neurons = values(
        memory_neurons, "memory_neurons",
        lambda v, a: validation.integer(v, a, low=1, high=MAX_MEMORY_NEURONS, where=WHERE), where=WHERE,
    )
    memory_neurons = sorted(memory_neurons)
    n_test = validation.integer(n_test, "n_test", high=N_TEST, where=WHERE)
    firing_rate_scale = validation.positive(firing_rate_scale, "firing_rate_scale", where=WHERE)
    readout_steps = deploy.check_readout_steps(readout_steps, where=WHERE)
    longest = n_test * (PIXELS + readout_steps)
    if longest > MAX_STEPS:
        raise validation.error(
            f"a run of n_test={n_test} digits of {PIXELS + readout_steps} steps is {longest:,} steps, more than "
            f"{MAX_STEPS:,}; nearest that fits: {MAX_STEPS // (PIXELS + readout_steps)}", "n_test", where=WHERE,
        )
    if seed is not None:
        seed = validation.integer(seed, "seed", low=0, where=WHERE)
    progress = show_progress(progress)
    data.mnist_path()  # the data package is installed (MissingDataError says how to install it)
    networks = []
    for path in params:
        lmu = read_file(lambda p: LMU.load(p) if seed is None else LMU.load(p, seed=seed), path)
        try:
            deploy.task_of(lmu, "psmnist")
        except ValidationError as e:
            raise validation.error(f"{path}: {e.args[0]}", "params", where=WHERE) from None
        largest = max(memory_neurons) * lmu.order * lmu.memory_d + lmu.units
        if largest > MAX_NEURONS:
            raise validation.error(
                f"{max(memory_neurons)} per coefficient makes {largest:,} neurons for {path} (order {lmu.order}), "
                f"more than {MAX_NEURONS:,}", "memory_neurons", where=WHERE,
            )
        # the hidden neurons' peak rate on these digits, read as each cell reads them
        for steps in sorted({0, readout_steps}):
            test = deploy.test_data("psmnist", lmu, n_test, readout_steps=steps)
            _, peak = deploy.reference(lmu, "psmnist", test, deploy.exact_states(lmu, test["x"]))
            try:
                deploy.check_peak_rate(lmu, deploy.peak_rate(lmu, peak, firing_rate_scale), firing_rate_scale,
                                       where=WHERE)
            except ValidationError as e:
                raise validation.error(f"{path}: {e.args[0]}", "firing_rate_scale", where=WHERE) from None
        networks.append((path, lmu))
    out_dir = check_output(out_dir, overwrite, where=WHERE)

    start_all = time.perf_counter()
    results = {"task": "psmnist-chip", "backend": "loihi-sim", "args": arguments(run, locals()), "chance": CHANCE,
               "rows": []}
    n_cells = len(networks) * (len(memory_neurons) + 1)
    log(f"psMNIST on loihi-sim: {len(networks)} network(s) x (host memory + {len(memory_neurons)} chip memories), "
        f"{n_test} digits each, firing rate scale {firing_rate_scale:g}")
    for path, lmu in networks:
        cells = [("host", 0)] + [("chip", n) for n in memory_neurons]
        misfit = None  # the first size refused for this file: larger ones are not built again
        for memory, n in cells:
            steps = readout_steps if memory == "host" else 0
            row = {"params": path, "order": lmu.order, "units": lmu.units, "seed": lmu.seed, "memory": memory,
                   "memory_neurons": n, "readout_steps": steps, "n_test": n_test}
            log(f"[{len(results['rows']) + 1}/{n_cells}] order {lmu.order}, "
                + ("exact memory on the host" if memory == "host" else f"memory on the chip, {n} per coefficient")
                + (f", {steps}-step readout" if steps else ", read at the last pixel"))
            t0 = time.perf_counter()
            if misfit is not None and misfit["largest_fit_exact"]:
                # more neurons per coefficient take more axons, synapses and cores (check_fits'
                # own search rests on it): a size above the largest that fits does not fit
                largest = misfit["largest_fit"]
                row.update(fits=False, largest_fit=largest, largest_fit_exact=True, cores_needed=None, reason=None,
                           refusal=("not built: " + (f"more than the largest that fits, memory_neurons={largest}"
                                                     if largest else "even memory_neurons=1 does not fit")
                                    + f" (found when {misfit['memory_neurons']} was refused)"),
                           seconds=0.0)
                log(f"  does not fit one chip (not built; largest that fits: {largest or 'none'})")
                results["rows"].append(row)
                continue
            try:
                out = deploy.deploy(lmu, "psmnist", backend="loihi-sim", memory=memory, memory_neurons=n,
                                    n_test=n_test, firing_rate_scale=firing_rate_scale, readout_steps=steps,
                                    progress=progress)
            except deploy.DoesNotFit as e:
                row.update(fits=False, largest_fit=e.largest, largest_fit_exact=e.exact, cores_needed=e.cores,
                           reason=e.reason, refusal=str(e.args[0]), seconds=time.perf_counter() - t0)
                log(f"  does not fit one chip ({e.reason}); largest that fits: {e.largest}"
                    + ("" if e.exact else " (search stopped; larger may fit)"))
                results["rows"].append(row)
                misfit = misfit or row
                continue
            report = out["report"]
            row.update(
                fits=True, accuracy=out["accuracy"], reference=out["reference"]["accuracy"], cores=report["cores"],
                spikes_per_step={name: layer["mean_spikes_per_step"] for name, layer in report["layers"].items()},
                neurons={name: layer["neurons"] for name, layer in report["layers"].items()},
                steps_per_s=out["steps_per_s"], n_steps=out["n_steps"], build_s=out["build_s"], run_s=out["run_s"],
                seconds=time.perf_counter() - t0, peak_rate_hz=out.get("peak_rate_hz"), report=report,
            )
            log(f"  accuracy {row['accuracy']:.4f} (trained rate network {row['reference']:.4f}); {row['cores']} "
                f"cores; spikes per neuron per step "
                + ", ".join(f"{k} {v:.3f}" for k, v in row["spikes_per_step"].items())
                + f"; {row['steps_per_s']:.0f} steps/s ({row['seconds']:.0f} s)")
            results["rows"].append(row)
    results["total_seconds"] = time.perf_counter() - start_all
    table = format_table(results["rows"])
    print(table, flush=True)
    results["table"] = table
    results["json"] = save_json(results, out_dir, "psmnist-chip", overwrite)
    results["figure"] = save_figure(plot(results), out_dir, "psmnist-chip", overwrite)
    results["files"] = [results["json"], results["figure"]]
    return results


def format_table(rows):
    """The rows of :func:`run` as a plain-text table."""
    head = (f"{'order':>5} {'memory':>6} {'n/coef':>6} {'readout':>7} {'accuracy':>8} {'rate net':>8} {'cores':>5} "
            f"{'hidden sp/step':>14} {'memory sp/step':>14} {'steps/s':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        n = "-" if r["memory"] == "host" else str(r["memory_neurons"])
        if not r["fits"]:
            why = f"{r['reason']}; " if r.get("reason") else ""
            lines.append(f"{r['order']:>5} {r['memory']:>6} {n:>6} {r['readout_steps']:>7} "
                         f"does not fit one chip ({why}largest that fits: {r['largest_fit'] or 'none'})")
            continue
        spikes = r["spikes_per_step"]
        memory = f"{spikes['memory']:.3f}" if "memory" in spikes else "-"
        lines.append(f"{r['order']:>5} {r['memory']:>6} {n:>6} {r['readout_steps']:>7} {r['accuracy']:>8.4f} "
                     f"{r['reference']:>8.4f} {r['cores']:>5} {spikes['hidden']:>14.3f} {memory:>14} "
                     f"{r['steps_per_s']:>7.0f}")
    return "\n".join(lines)


def plot(results):
    """Accuracy against neurons per coefficient, one line per network (order)."""
    from matplotlib.figure import Figure

    args = results["args"]
    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    networks = list(dict.fromkeys(r["params"] for r in results["rows"]))
    for i, path in enumerate(networks):
        rows = [r for r in results["rows"] if r["params"] == path]
        color = colors[i % len(colors)]
        order = rows[0]["order"]
        chip = [r for r in rows if r["memory"] == "chip" and r["fits"]]
        if chip:
            ax.plot([r["memory_neurons"] for r in chip], [r["accuracy"] for r in chip], "o-", color=color,
                    label=f"order {order}, memory on the chip")
        for r in rows:
            if r["memory"] == "host" and r["fits"]:
                ax.axhline(r["accuracy"], color=color, ls="--", lw=1,
                           label=f"order {order}, exact memory on the host ({r['readout_steps']}-step readout)")
                ax.axhline(r["reference"], color=color, ls=":", lw=1, label=f"order {order}, trained rate network")
        misfits = [r for r in rows if r["memory"] == "chip" and not r["fits"]]
        if misfits and misfits[0]["largest_fit"]:
            ax.axvline(misfits[0]["largest_fit"], color=color, ls="-.", lw=0.8,
                       label=f"order {order}: largest memory that fits one chip ({misfits[0]['largest_fit']})")
        elif misfits and not chip:
            why = f" ({misfits[0]['memory_neurons']} per coefficient: {misfits[0]['reason']})" \
                if misfits[0].get("reason") else ""
            ax.plot([], [], "x", color=color, label=f"order {order}: no spiking memory fits one chip{why}")
    ax.axhline(results["chance"], color="0.5", lw=1, label="chance")
    ax.set_xscale("log")
    ax.set_xticks(args["memory_neurons"], [str(n) for n in args["memory_neurons"]])
    ax.minorticks_off()
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("memory neurons per coefficient")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"psMNIST on the bit-true Loihi emulator, first {args['n_test']} test digits", fontsize=10)
    ax.legend(fontsize=7, loc="center right")
    return fig


COMMANDS = {
    "psmnist-chip": Command(
        help="trained psMNIST LMUs (one file per order) on the bit-true Loihi emulator, memory on the chip: "
        "accuracy against memory neurons per coefficient, with the host-memory reference",
        run=run,
        options=(
            Option("params", list, "parameter files of trained psMNIST LMUs, comma-separated, e.g. one per order "
                   "('nengo-lmu psmnist --order 64 --n-spiking 0' writes psmnist-params.npz)"),
            Option("memory_neurons", list, "neurons per coefficient of the spiking memory on the chip, "
                   "comma-separated: one deployment each, per file (a size that does not fit one chip is "
                   "recorded with the largest that does)"),
            Option("n_test", int, f"first test digits (of {N_TEST:,}) per deployment, back to back"),
            Option("firing_rate_scale", float, "hidden neurons fire this many times their trained rate (at most "
                   "one spike per step on Loihi: refused, naming the scale that fits, if too high)"),
            Option("readout_steps", int, "the reference with the exact memory on the host: after each digit its "
                   "state and last pixel are held this many steps and the output averaged over them (0: the last "
                   "step); the memory on the chip cannot be held, its cells are read at each digit's last pixel"),
            Option("seed", int, "seed of the deployed networks (the spiking memory's neurons); default: each "
                   "file's own"),
        ),
    ),
}
