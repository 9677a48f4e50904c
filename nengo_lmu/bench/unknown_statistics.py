"""A memory that is not told its input's statistics, against one that is (issue 11).

For band-limited white inputs at a tenth, 0.3 and all of the memory's band
(:func:`nengo_lmu.maths.memory_band`), the delay NRMSE of three ``LegendreMemory``
networks of the same neurons on the same input:

* ``right``: told the statistics (``input_statistics=`` the ``WhiteSignal``);
* ``measured``: :func:`nengo_lmu.measure` run on another stretch of the same kind of input
  (another seed of the ``WhiteSignal``, with a period of
  :data:`~nengo_lmu.statistics.MAX_MEASURE_SECONDS` so that it does not repeat; ``measure``
  runs it as long as it needs, or ``measure_duration`` seconds): the one call for a user
  who does not know the statistics;
* ``default``: no statistics at all (:meth:`nengo_lmu.statistics.WhiteNoise.default`).

Each is run for every seed (network seed ``s``, input seed ``1 + s``, the measured
stretch's seed ``101 + s``) and the figures are the means over seeds; the ratios are
``measured / right`` and ``default / right`` of those means. The metric is the one of
:mod:`.against_nengolib` (:func:`~nengo_lmu.maths.delay_nrmse`, 10 ms lowpass, the first
second skipped), on 20 s of input: on the grid's shorter inputs (about 9 s at 0.64 Hz,
five periods) the right statistics are right only on average (the inputs' coefficients
had 0.5-1.9x the stationary RMS) and one run's error swung 1.5x between ranges 2 %
apart (issue 11, measured). The command line is ``nengo-lmu accuracy --against statistics``
(``--small`` for one case, one seed).
"""

import time

import nengo
import numpy as np

from .. import maths, statistics, validation
from ..networks import LegendreMemory
from . import against_nengolib

#: the grid: memories of these orders over ``theta``, inputs at these fractions of the band
GRID = {
    "orders": (4, 8, 16),
    "band_fractions": (0.1, 0.3, 1.0),
    "theta": 0.3,
    "neurons_per_coefficient": 100,
    "seeds": (0, 1, 2),
    "measure_duration": None,
    "test_seconds": 20.0,
}
SMALL_GRID = {**GRID, "orders": (4,), "band_fractions": (1.0,), "seeds": (0,), "test_seconds": 4.0}
#: the ratio ``measured / right`` the issue asks for
TARGET = 1.3
VARIANTS = ("right", "measured", "default")


def case(order, band_fraction, theta, neurons_per_coefficient, seed, test_seconds=None):
    """One config in :mod:`.against_nengolib`'s form (its input and metric); the input
    lasts ``test_seconds`` scored seconds (None: the grid's :func:`.against_nengolib.duration`)."""
    high = band_fraction * maths.memory_band(order, theta)
    period = (against_nengolib.duration(high, theta) if test_seconds is None
              else against_nengolib.T_SKIP + max(float(test_seconds), 5.0 / high))
    return {
        "id": f"d{order}-f{band_fraction:g}", "order": int(order), "band_fraction": float(band_fraction),
        "n_neurons": int(order * neurons_per_coefficient), "theta": float(theta), "high": float(high),
        "rms": against_nengolib.RMS, "period": period,
        "dt": against_nengolib.DT, "seed": int(seed), "signal_seed": 1 + int(seed),
    }


def statistics_for(variant, cfg, measure_duration):
    """What ``variant`` passes as ``input_statistics`` for the config ``cfg``."""
    if variant == "right":
        return against_nengolib.process_of(cfg)
    if variant == "measured":
        other = nengo.processes.WhiteSignal(statistics.MAX_MEASURE_SECONDS, high=cfg["high"], rms=cfg["rms"],
                                            seed=101 + cfg["seed"])
        return statistics.measure(other, duration=measure_duration, dt=cfg["dt"])
    return None


def run(grid=None, progress=print):
    """Run the grid; returns ``rows`` (one per order and band: the NRMSE of each variant
    per seed, their means and the ratios to ``right``), ``worst_measured_ratio``,
    ``n_within_target`` and ``seconds``."""
    grid = {**GRID, **(grid or {})}
    measure_duration = grid["measure_duration"]
    if measure_duration is not None:
        measure_duration = validation.positive(measure_duration, "measure_duration", where="accuracy")
    t0 = time.time()
    rows = []
    for order in grid["orders"]:
        for frac in grid["band_fractions"]:
            errors = {v: [] for v in VARIANTS}
            for seed in grid["seeds"]:
                cfg = case(order, frac, grid["theta"], grid["neurons_per_coefficient"], seed, grid["test_seconds"])
                u = against_nengolib.make_input(cfg)
                for variant in VARIANTS:
                    stats = statistics_for(variant, cfg, measure_duration)

                    def make(c, process, stats=stats):
                        return LegendreMemory(c["order"], c["theta"], c["n_neurons"], neuron_type=nengo.LIF(),
                                              dt=c["dt"], input_statistics=stats)

                    errors[variant].append(against_nengolib.run_ours(cfg, u, make))
            mean = {v: float(np.mean(e)) for v, e in errors.items()}
            row = {"id": cfg["id"], "order": order, "band_fraction": frac, "high": cfg["high"],
                   "nrmse": errors, "mean": mean,
                   "measured_ratio": mean["measured"] / mean["right"], "default_ratio": mean["default"] / mean["right"]}
            rows.append(row)
            if progress is not None:
                progress(f"{row['id']:>8}  high {cfg['high']:6.3f} Hz  right {mean['right']:.4f}  measured "
                         f"{mean['measured']:.4f} ({row['measured_ratio']:.2f}x)  default {mean['default']:.4f} "
                         f"({row['default_ratio']:.2f}x)   [{time.time() - t0:.0f} s]")
    ratios = [r["measured_ratio"] for r in rows]
    result = {
        "benchmark": "LegendreMemory without its input's statistics, against with them",
        "grid": grid, "target": TARGET, "rows": rows,
        "worst_measured_ratio": max(ratios), "n_within_target": sum(r <= TARGET for r in ratios),
        "worst_default_ratio": max(r["default_ratio"] for r in rows), "seconds": time.time() - t0,
    }
    if progress is not None:
        progress(f"measure(): {result['n_within_target']} of {len(rows)} within {TARGET}x of the right statistics "
                 f"(worst {result['worst_measured_ratio']:.2f}x); no statistics: worst "
                 f"{result['worst_default_ratio']:.2f}x")
    return result


def plot(rows):
    """The ratios to the right statistics per order and band, for measured and default."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    fracs = sorted({r["band_fraction"] for r in rows})
    for key, marker in (("measured_ratio", "o-"), ("default_ratio", "s--")):
        for frac in fracs:
            sel = sorted((r for r in rows if r["band_fraction"] == frac), key=lambda r: r["order"])
            ax.plot([r["order"] for r in sel], [r[key] for r in sel], marker,
                    label=f"{key.split('_')[0]}, {frac:g} of band", alpha=0.8)
    ax.axhline(1.0, color="k", lw=1)
    ax.axhline(TARGET, color="k", lw=1, ls="--")
    ax.set_xscale("log", base=2)
    orders = sorted({r["order"] for r in rows})
    ax.set_xticks(orders, [str(o) for o in orders])
    ax.minorticks_off()
    ax.set_yscale("log")
    ax.set(xlabel="order d", ylabel="delay NRMSE / NRMSE with the right statistics",
           title="measure(signal) and no statistics, against the right statistics")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig
