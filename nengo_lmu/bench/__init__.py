"""Benchmarks and main jobs: network builders, runners, and one entry point per command.

The pattern is nengo-dl's ``benchmarks.py``: functions that build networks, functions
that run them, and a thin command line on top. Each module is named after the commands
it holds:

============================  ===============================================================
module                        commands (entry point)
============================  ===============================================================
:mod:`.delay`                 ``delay`` (:func:`.delay.run`)
:mod:`.accuracy`              ``accuracy`` (:func:`.accuracy.run`)
:mod:`.scaling`               ``scaling`` (:func:`.scaling.run`)
:mod:`.psmnist`               ``psmnist`` (:func:`.psmnist.run`)
:mod:`.psmnist_chip`          ``psmnist-chip`` (:func:`.psmnist_chip.run`)
:mod:`.mackey_glass`          ``mackey-glass`` (:func:`.mackey_glass.run`), ``mackey-glass-chip``
                              (:func:`.mackey_glass.run_chip`)
:mod:`.capacity`              ``capacity`` (:func:`.capacity.run`)
:mod:`.loihi`                 ``loihi`` (:func:`.loihi.run`), ``loihi-resources``
                              (:func:`.loihi.run_resources`)
:mod:`.deploy`                ``deploy`` (:func:`.deploy.run`)
============================  ===============================================================

An entry point is a plain function with keyword arguments and defaults. It checks every
argument (:mod:`nengo_lmu.validation`: a ``ValidationError`` naming it) and its output
directory before any work, writes its files into ``out_dir`` without overwriting any
(unless ``overwrite=True``), and returns a dict of results whose ``"files"`` lists what it
wrote. From Python, call it directly or by command name::

    from nengo_lmu import bench

    results = bench.run("psmnist", epochs=1, n_train=1000, out_dir="results")
    results = bench.delay.run(backend="loihi-sim", n_neurons=400, duration=2.0)

Each module's ``COMMANDS`` declares its commands for the ``nengo-lmu`` command line
(:mod:`nengo_lmu.cli`): a :class:`Command` lists the entry point's options, each an
:class:`Option` (name, type, help); the default is the entry point's own. Modules import
TensorFlow, NengoDL and nengo-loihi only inside functions, so listing the commands is fast.
"""

import datetime
import importlib
import inspect
import json
import os
import platform
import sys
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

from .. import io, validation

#: the modules holding commands, in the order ``nengo-lmu --help`` lists them
COMMAND_MODULES = ("delay", "accuracy", "scaling", "psmnist", "psmnist_chip", "mackey_glass", "capacity", "loihi",
                   "deploy")

#: time steps one run may simulate: more would fill the memory with probe data
MAX_STEPS = 1_000_000
#: neurons one network may have: more would take hours to build on a CPU
MAX_NEURONS = 200_000
#: a memory's order: beyond it the Legendre system's build (and decoders) exhaust memory
MAX_ORDER = 1024


@dataclass(frozen=True)
class Option:
    """One option of a command: ``name`` is the entry point's keyword argument.

    ``type`` is ``int``, ``float``, ``str`` or ``bool`` (a flag: ``--name`` if the
    default is False, ``--no-name`` if it is True), or ``list`` (a comma-separated list,
    parsed and checked by the entry point with :func:`values`). ``flags`` are short aliases
    (``"-d"``); ``choices`` restrict a ``str``; ``group`` titles the help section.
    """

    name: str
    type: type
    help: str
    choices: Optional[Tuple] = None
    flags: Tuple = ()
    group: Optional[str] = None


@dataclass(frozen=True)
class Command:
    """A command: its help line, its entry point and the options it takes."""

    help: str
    run: Callable
    options: Tuple[Option, ...] = ()

    def defaults(self):
        """``{keyword: default}`` of the entry point (the one place defaults live)."""
        return {
            name: p.default
            for name, p in inspect.signature(self.run).parameters.items()
            if p.default is not inspect.Parameter.empty
        }


def load_commands(modules=COMMAND_MODULES):
    """``{command name: Command}`` from every installed module of this package.

    A module that is not installed is left out; one that is installed but fails to import
    is an error, never silently hidden.
    """
    commands, owner = {}, {}
    for module_name in modules:
        full_name = f"{__name__}.{module_name}"
        try:
            module = importlib.import_module(full_name)
        except ModuleNotFoundError as e:
            if e.name == full_name:
                continue  # this area is not part of the installation
            raise  # the module exists but one of *its* imports is missing: a real error
        for name, command in module.COMMANDS.items():
            if name in commands:
                raise RuntimeError(f"command {name!r} is defined by both {owner[name]} and {full_name}")
            commands[name], owner[name] = command, full_name
    return commands


def run(name, **kwargs):
    """Run the command ``name`` from Python: its entry point with ``kwargs``.

    ``bench.run("psmnist", epochs=1)`` is ``bench.psmnist.run(epochs=1)``; unknown
    names and keywords are a ``ValidationError``.
    """
    commands = load_commands()
    validation.choice(name, tuple(commands), "name", where="run")
    command = commands[name]
    unknown = sorted(set(kwargs) - set(command.defaults()))
    if unknown:
        raise validation.error(f"{name} has no option {unknown[0]!r}", unknown[0], where=name)
    return command.run(**kwargs)


# --- arguments


def values(items, attr, check, where, unique=True):
    """The one list parser: ``items`` (a comma-separated string or a sequence) as a list.

    Every item is converted and checked by ``check(item, attr)`` (a
    :mod:`nengo_lmu.validation` check, or :func:`name_of`); the list must not be empty
    and, if ``unique``, holds no value twice.
    """
    if isinstance(items, str):
        items = [_literal(item.strip()) for item in items.split(",")]
    elif not isinstance(items, (list, tuple)):
        raise validation.error(f"must be a list or a comma-separated string (got {items!r})", attr, where=where)
    if len(items) == 0:
        raise validation.error("must not be empty", attr, where=where)
    checked = [check(item, attr) for item in items]
    if unique and len(set(checked)) != len(checked):
        raise validation.error(f"holds a value twice (got {items!r})", attr, where=where)
    return checked


def _literal(text):
    """A list item as typed: an ``int``, a ``float``, else the text (checked by the caller)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def steps(duration, dt, attr, where, max_steps=MAX_STEPS):
    """``duration`` seconds as a number of ``dt`` steps, at most ``max_steps``."""
    duration = validation.positive(duration, attr, where=where)
    n_steps = int(round(duration / dt))
    if n_steps > max_steps:
        raise validation.error(
            f"must be at most {max_steps:,} steps of dt={dt:g} s, i.e. {max_steps * dt:g} s "
            f"(got {duration:g})",
            attr,
            where=where,
        )
    return n_steps


def arguments(function, namespace):
    """The checked values of ``function``'s arguments, from its ``locals()``: the settings
    a command records next to its results (its output options left out)."""
    names = [n for n in inspect.signature(function).parameters if n not in ("out_dir", "overwrite", "progress")]
    return {name: namespace[name] for name in names}


def check_output(out_dir, overwrite, where):
    """``out_dir``, created and writable, checked with ``overwrite`` before any work."""
    validation.boolean(overwrite, "overwrite", where=where)
    return io.check_output_dir(out_dir)


def read_file(load, path, attr="params"):
    """``load(path)``, with whatever is wrong with the file one ``ValidationError``.

    A missing, unreadable, truncated or foreign parameter file (``OSError``,
    ``BadZipFile``, ``JSONDecodeError``, ``TypeError``... from deep inside numpy) is
    reported as one error naming ``attr`` and the file, before any work.
    """
    import zipfile

    try:
        return load(path)
    except validation.ValidationError as e:
        message = str(e.args[0])  # parameter-file errors name the file already
        raise validation.error(message if str(path) in message else f"{path}: {message}", attr) from None
    except (OSError, EOFError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as e:
        raise validation.error(f"{path} is not a readable LMU parameter file ({type(e).__name__}: {e})", attr) from None


def show_progress(progress):
    """Whether to show progress bars: ``progress``, or (None) whether stderr is a terminal."""
    if progress is None:
        return sys.stderr.isatty()
    return validation.boolean(progress, "progress")


def log(message):
    """Print a line of a long run's progress at once (not buffered behind the run)."""
    print(message, flush=True)


# --- results


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


def save(out_dir, file_name, write, overwrite=False):
    """Write ``out_dir/file_name`` with ``write(binary_file)``, atomically; return the path.

    Without ``overwrite`` an existing file is kept and the first free name
    ``name-1.ext``, ``name-2.ext``... is taken (claimed exclusively: two runs at once never
    pick the same one); with it, the file is replaced.
    """
    path = os.path.join(out_dir, file_name)
    return io.write_atomic(path, write, overwrite=True) if overwrite else io.write_new(path, write)


def save_json(results, out_dir, name, overwrite=False):
    """Write ``results`` (plus :func:`machine`) to ``out_dir/name.json``; return the path."""
    text = json.dumps({**results, "measured": machine()}, indent=2, default=_to_builtin)
    return save(out_dir, f"{name}.json", lambda f: f.write(text.encode()), overwrite)


def save_figure(fig, out_dir, name, overwrite=False):
    """Save a matplotlib figure as ``out_dir/name.png``; return the path.

    Build figures as ``matplotlib.figure.Figure`` (no pyplot: no global backend is
    chosen, and notebooks keep their inline plots); one made through pyplot is closed.
    """
    path = save(out_dir, f"{name}.png", lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"),
                overwrite)
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    return path


def save_params(lmu, out_dir, name, metadata=None, overwrite=False):
    """Save ``lmu``'s parameters (:meth:`.LMU.save_params`) as ``out_dir/name.npz``."""
    path = os.path.join(out_dir, f"{name}.npz")
    return lmu.save_params(path, metadata=metadata, overwrite=overwrite, new_name=not overwrite)


def _to_builtin(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot save {type(obj).__name__} as JSON")
