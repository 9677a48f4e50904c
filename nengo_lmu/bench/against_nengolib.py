"""``LegendreMemory`` against nengolib's ``RollingWindow``, side by side, over a grid.

Both systems get the same LIF neurons in total (``order * neurons_per_coefficient``),
the same input samples (generated once here, saved, and presented to both through a
``Node`` of the array), the same description of the input's statistics (the
``WhiteSignal`` that produced it: nengolib's required ``process``, nengo_lmu's
``input_statistics``) and the same metric (:func:`nengo_lmu.maths.delay_nrmse`: the
delayed output ``u(t - theta)`` against the delayed input, both through a 10 ms lowpass,
skipping the first second).

The input's bandwidth is a fraction of the memory's band, ``order / (2 pi theta)`` Hz
(:func:`nengo_lmu.maths.memory_band`).

nengolib 0.5.2 needs nengo 2.8, so it is never imported here: with the path of a
nengolib environment's python, :func:`run_grid` runs :mod:`nengo_lmu.bench.nengolib_side`
in a subprocess of that python. Without one, it prints this library's figures beside the
stored nengolib figures (``data/nengolib_grid.json``, with the date they were measured).

The command line is ``nengo-lmu accuracy --against nengolib`` (``--nengolib-python PATH``
to measure nengolib now, ``--small`` for the CI-sized grid). The stored figures ship as
package data (``nengo_lmu/bench/data/*.json``).

From Python::

    from nengo_lmu.bench import against_nengolib
    result = against_nengolib.run_grid(nengolib_python="/path/to/nengolib-venv/bin/python",
                                       out_dir="results")
    result["files"]    # JSON and PNG written
"""

import json
import os
import subprocess
import tempfile
import time

import nengo
import numpy as np

from .. import maths
from ..backends import simulator
from ..networks import LegendreMemory

DT = 0.001
RMS = 0.3
SIGNAL_SEED = 1
PROBE_SYNAPSE = 0.01
T_SKIP = 1.0
STORED = os.path.join(os.path.dirname(__file__), "data", "nengolib_grid.json")

#: The grid the stored nengolib figures were measured on.
GRID = {
    "orders": (2, 4, 8, 16),
    "neurons_per_coefficient": (50, 200),
    "thetas": (0.05, 0.3, 1.0),
    "band_fractions": (0.1, 0.3, 1.0),
    "seed": 0,
}
#: A small grid for tests and quick looks: one config of :data:`GRID` (so it has a stored
#: nengolib figure), 5 s of simulation.
SMALL_GRID = {
    "orders": (4,),
    "neurons_per_coefficient": (50,),
    "thetas": (0.05,),
    "band_fractions": (0.3,),
    "seed": 0,
}


def duration(high, theta):
    """Seconds simulated for an input of bandwidth ``high`` Hz over a window ``theta``.

    One second of transient (skipped by the metric) plus at least 4 s, 5 cycles of the
    input's top frequency (so the ``WhiteSignal`` has at least 5 components) and 4
    windows, at most 120 s.
    """
    return T_SKIP + min(120.0, max(4.0, 5.0 / high, 4.0 * theta))


def configs(grid=None):
    """The grid's configs as dicts (``order``, ``n_neurons``, ``theta``, ``high``, ...)."""
    grid = {**GRID, **(grid or {})}
    out = []
    for order in grid["orders"]:
        for npc in grid["neurons_per_coefficient"]:
            for theta in grid["thetas"]:
                for frac in grid["band_fractions"]:
                    high = frac * maths.memory_band(order, theta)
                    out.append(
                        {
                            "id": f"d{order}-n{npc}-t{theta:g}-f{frac:g}",
                            "order": int(order),
                            "neurons_per_coefficient": int(npc),
                            "n_neurons": int(order * npc),
                            "theta": float(theta),
                            "band_fraction": float(frac),
                            "high": float(high),
                            "rms": RMS,
                            "period": duration(high, theta),
                            "dt": DT,
                            "seed": int(grid["seed"]),
                            "signal_seed": SIGNAL_SEED,
                        }
                    )
    return out


def process_of(cfg):
    """The ``WhiteSignal`` that produced a config's input (and describes it)."""
    return nengo.processes.WhiteSignal(cfg["period"], high=cfg["high"], rms=cfg["rms"], seed=cfg["signal_seed"])


def make_input(cfg):
    """The input samples of a config, one per ``dt`` (the same for both systems)."""
    n = int(round(cfg["period"] / cfg["dt"]))
    return process_of(cfg).run_steps(n, dt=cfg["dt"])[:, 0]


def default_memory(cfg, process):
    """nengo_lmu's side: ``LegendreMemory`` told the input's statistics."""
    return LegendreMemory(cfg["order"], cfg["theta"], cfg["n_neurons"], neuron_type=nengo.LIF(),
                          dt=cfg["dt"], input_statistics=process)


def run_ours(cfg, u, make_memory=default_memory):
    """Delay NRMSE of ``make_memory(cfg, process)`` driven by the samples ``u``."""
    dt, n = cfg["dt"], len(u)

    def present(t):
        return u[min(max(int(round(t / dt)) - 1, 0), n - 1)]

    with nengo.Network(seed=cfg["seed"]) as model:
        stim = nengo.Node(present)
        memory = make_memory(cfg, process_of(cfg))
        nengo.Connection(stim, memory.input, synapse=None)
        probe = nengo.Probe(memory.output, synapse=PROBE_SYNAPSE)
    with simulator(model, "nengo", dt=dt) as sim:
        sim.run_steps(n)
    return nrmse_of(cfg, u, sim.data[probe][:, 0])


def nrmse_of(cfg, u, y):
    """The metric, the same for both sides."""
    return maths.delay_nrmse(u, y, cfg["theta"], cfg["dt"], PROBE_SYNAPSE, T_SKIP)


def run_nengolib(cfgs, inputs, nengolib_python, workdir):
    """Delay NRMSE of nengolib's ``RollingWindow`` for each config, in a subprocess of
    ``nengolib_python``; returns ``{id: nrmse}`` and the nengolib version."""
    jobs = []
    for cfg in cfgs:
        path = os.path.join(workdir, f"{cfg['id']}-u.npy")
        np.save(path, inputs[cfg["id"]])
        jobs.append({**cfg, "input": path, "output": os.path.join(workdir, f"{cfg['id']}-y.npy"),
                     "probe_synapse": PROBE_SYNAPSE})
    spec = os.path.join(workdir, "jobs.json")
    with open(spec, "w") as f:
        json.dump({"jobs": jobs}, f)
    script = os.path.join(os.path.dirname(__file__), "nengolib_side.py")
    # a clean environment for the other python: none of this one's paths
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    proc = subprocess.run([nengolib_python, script, spec], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"the nengolib side failed:\n{proc.stderr[-3000:]}")
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    version = lines[0]["nengolib"] if lines else None
    out = {}
    for cfg in cfgs:
        y = np.load(os.path.join(workdir, f"{cfg['id']}-y.npy"))
        out[cfg["id"]] = nrmse_of(cfg, inputs[cfg["id"]], y)
    return out, version


def load_stored(path=STORED):
    """The stored nengolib figures: ``{"measured": {...}, "rows": [{"id", "nrmse", ...}]}``."""
    with open(path) as f:
        return json.load(f)


def run_grid(nengolib_python=None, out_dir="results", grid=None, make_memory=default_memory,
             stored=STORED, progress=print, name="against-nengolib", overwrite=False):
    """Run the grid for nengo_lmu and compare with nengolib.

    Parameters
    ----------
    nengolib_python : str or None
        Path of the python of an environment with nengo 2.8 and nengolib 0.5.2 (on
        Python 3.11 it needs the ``collections`` ABC and ``inspect.getargspec``
        aliases, e.g. in a ``sitecustomize.py``). None: compare with the stored
        figures instead (configs not in them get no nengolib figure).
    out_dir : str
        Where the JSON and the PNG are written.
    grid : dict or None
        Overrides of :data:`GRID` (``orders``, ``neurons_per_coefficient``, ``thetas``,
        ``band_fractions``, ``seed``).
    make_memory : callable
        ``make_memory(cfg, process)`` builds nengo_lmu's side (default
        :func:`default_memory`).
    progress : callable or None
        Called with one line per config.

    Returns
    -------
    dict
        ``rows`` (one per config: ``ours``, ``nengolib``, ``ratio`` = ours / nengolib),
        ``worst_ratio``, ``nengolib_source`` and ``files``.
    """
    from . import check_output, save_figure, save_json

    out_dir = check_output(out_dir, overwrite, where="against_nengolib")  # before the long run
    cfgs = configs(grid)
    inputs = {cfg["id"]: make_input(cfg) for cfg in cfgs}
    if nengolib_python:
        with tempfile.TemporaryDirectory() as workdir:
            t0 = time.time()
            theirs, version = run_nengolib(cfgs, inputs, nengolib_python, workdir)
        source = {"measured_now": True, "nengolib": version, "seconds": time.time() - t0}
    else:
        data = load_stored(stored)
        theirs = {row["id"]: row["nrmse"] for row in data["rows"]}
        source = {"measured_now": False, "stored": os.path.basename(stored), **data["measured"]}
    rows = []
    for cfg in cfgs:
        ours = run_ours(cfg, inputs[cfg["id"]], make_memory)
        other = theirs.get(cfg["id"])
        row = {**cfg, "ours": ours, "nengolib": other, "ratio": None if other is None else ours / other}
        rows.append(row)
        if progress is not None:
            ratio = "  n/a" if other is None else f"{row['ratio']:.2f}"
            other_s = "   n/a" if other is None else f"{other:.4f}"
            progress(f"{cfg['id']:>22}  high {cfg['high']:7.3f} Hz  ours {ours:.4f}  nengolib {other_s}  ratio {ratio}")
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    result = {
        "benchmark": "LegendreMemory vs nengolib RollingWindow",
        "grid": {**GRID, **(grid or {})},
        "nengolib_source": source,
        "rows": rows,
        "worst_ratio": max(ratios) if ratios else None,
    }
    if progress is not None:
        when = "measured now" if source["measured_now"] else f"stored, measured {source.get('date')}"
        if ratios:
            progress(f"worst ratio ours/nengolib {max(ratios):.3f} (nengolib figures {when})")
    files = [save_json(result, out_dir, name, overwrite)]
    if ratios:
        files.append(save_figure(plot_grid(rows), out_dir, name, overwrite))
    result["files"] = files
    return result


def plot_grid(rows):
    """Ratio ours / nengolib per config: one panel per neurons-per-coefficient, x the
    order, one line per (theta, band fraction)."""
    from matplotlib.figure import Figure

    npcs = sorted({r["neurons_per_coefficient"] for r in rows})
    fig = Figure(figsize=(6 * len(npcs), 4.5), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(npcs), sharey=True))
    keys = sorted({(r["theta"], r["band_fraction"]) for r in rows})
    for ax, npc in zip(axes, npcs):
        for key in keys:
            sel = sorted((r for r in rows if r["neurons_per_coefficient"] == npc
                          and (r["theta"], r["band_fraction"]) == key and r["ratio"] is not None),
                         key=lambda r: r["order"])
            if sel:
                ax.plot([r["order"] for r in sel], [r["ratio"] for r in sel], "o-",
                        label=f"θ {key[0]:g} s, {key[1]:g} of band", alpha=0.8)
        ax.axhline(1.0, color="k", lw=1)
        ax.axhline(0.8, color="k", lw=1, ls="--")
        ax.set_xscale("log", base=2)
        orders = sorted({r["order"] for r in rows})
        ax.set_xticks(orders, [str(o) for o in orders])
        ax.minorticks_off()
        ax.set(xlabel="order d", title=f"{npc} LIF neurons per coefficient")
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("delay NRMSE, nengo_lmu / nengolib RollingWindow")
    axes[-1].legend(fontsize=7, ncol=2)
    return fig
