"""Benchmarks and main jobs, one module per area, shared by the ``nengo-lmu`` command.

Contract: each module here defines ``COMMANDS``, a dict mapping a subcommand name to a
:class:`Command`. ``add_arguments(parser)`` declares its options (every option with a
``help=`` string and a sane default); ``run(args)`` does the work, writes its files into
``args.out_dir`` through :func:`save_json` / :func:`save_figure`, and returns a dict of
the figures it measured. Bad arguments raise :class:`UsageError` before any long work.

Modules: ``delay`` (the delay network, accuracy configs, O(d/sqrt(m)) sweep),
``tasks`` (training: psMNIST, Mackey-Glass, capacity), ``loihi`` (emulator / hardware).
"""

import datetime
import json
import os
import platform
from dataclasses import dataclass
from typing import Callable


class UsageError(ValueError):
    """A bad command-line argument; the CLI prints it as one line and exits non-zero."""


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable
    run: Callable


def add_progress_arguments(parser):
    """``--progress`` / ``--no-progress`` (default: only when stderr is a terminal)."""
    g = parser.add_mutually_exclusive_group()
    g.add_argument(
        "--progress", dest="progress", action="store_true", default=None,
        help="show progress bars (default: only when the output is a terminal)",
    )
    g.add_argument(
        "--no-progress", dest="progress", action="store_false", help="do not show progress bars"
    )


def show_progress(args):
    """Whether to show progress bars: ``args.progress``, or whether stderr is a terminal."""
    import sys

    progress = getattr(args, "progress", None)
    return sys.stderr.isatty() if progress is None else bool(progress)


def check_backend_available(backend):
    """``--backend loihi`` needs Intel's nxsdk: a one-line ``UsageError`` if it is missing.

    Checked without importing nengo-loihi, before any long work.
    """
    import importlib.util

    if backend == "loihi" and importlib.util.find_spec("nxsdk") is None:
        raise UsageError(
            "--backend loihi runs on a Loihi board and needs Intel's nxsdk; "
            "use --backend loihi-sim for the emulator"
        )


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.platform()


def machine():
    """Where and when a figure was measured, recorded next to every result."""
    import numpy as np

    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_cpu_model()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def settings(args):
    """A command's arguments as JSON-able settings (without the CLI's private ``_run``)."""
    return {k: v for k, v in vars(args).items() if not k.startswith("_")}


def _fresh_path(path):
    """``path``, or ``path`` with ``-1``, ``-2``... before the suffix if it exists.

    Nothing a user saved is overwritten silently.
    """
    root, ext = os.path.splitext(path)
    k = 0
    while os.path.exists(path):
        k += 1
        path = f"{root}-{k}{ext}"
    return path


def save_json(results, out_dir, name, overwrite=False):
    """Write ``results`` (plus :func:`machine`) to ``out_dir/name.json``; return the path."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.json")
    path = path if overwrite else _fresh_path(path)
    with open(path, "w") as f:
        json.dump({**results, "measured": machine()}, f, indent=2, default=_to_builtin)
    return path


def save_figure(fig, out_dir, name, overwrite=False):
    """Save a matplotlib figure as ``out_dir/name.png``; return the path.

    Build figures as ``matplotlib.figure.Figure`` (no pyplot: no global backend is
    chosen, and notebooks keep their inline plots); one made through pyplot is closed.
    """
    import sys

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{name}.png")
    path = path if overwrite else _fresh_path(path)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    return path


def _to_builtin(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot save {type(obj).__name__} as JSON")
