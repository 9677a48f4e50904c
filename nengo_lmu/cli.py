"""The ``nengo-lmu`` command (also ``python -m nengo_lmu``).

One subcommand per entry of the ``COMMANDS`` dict of every benchmark module in
:mod:`nengo_lmu.bench` (``run``, ``delay``, ``tasks``, ``loihi``, ``deploy``). A module that is not
installed is left out; a module that is installed but fails to import is an error, never
silently hidden. Modules are imported to list their commands, so they must not import
TensorFlow at module level (the ``dl`` backend imports it when it is used).

Every run writes into ``--out-dir`` (default ``results/``) and prints the files it
wrote. Bad arguments give one line, ``nengo-lmu: error: ...``, and exit status 2.
"""

import argparse
import importlib
import os
import sys
import time
import warnings

from .bench import UsageError

PROG = "nengo-lmu"
BENCH_MODULES = ("run", "delay", "tasks", "loihi", "deploy")
DEFAULT_OUT_DIR = "results"

EPILOG = """\
Each command writes its plots (PNG) and figures (JSON) into --out-dir, never
overwriting a file (a -1, -2... suffix is added), and prints their paths.
Run "nengo-lmu COMMAND --help" for a command's options.

the main job:
  nengo-lmu delay                       spiking delay network, reference simulator
  nengo-lmu delay --backend dl          ... on NengoDL
  nengo-lmu delay --backend loihi-sim   ... on the Loihi emulator

deploying a trained network:
  nengo-lmu deploy                      train a small demo LMU, run it spiking on nengo
  nengo-lmu deploy --params results/deploy-window-rms-params.npz --backend loihi-sim
                                        the saved LMU on the Loihi emulator, with its
                                        resource report
"""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr (and exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Adds "(default: X)" to an option's help unless the help already speaks of it."""

    def _get_help_string(self, action):
        help = action.help or ""
        if (
            "default" not in help
            and action.default not in (None, False, argparse.SUPPRESS)
            and action.option_strings
            and action.nargs != 0
        ):
            help += " (default: %(default)s)"
        return help


def load_commands(modules=BENCH_MODULES):
    """``{command name: Command}`` from every installed module of :mod:`nengo_lmu.bench`."""
    commands = {}
    for module_name in modules:
        full_name = f"nengo_lmu.bench.{module_name}"
        try:
            module = importlib.import_module(full_name)
        except ModuleNotFoundError as e:
            if e.name == full_name:
                continue  # this area is not part of the installation
            raise  # the module exists but one of *its* imports is missing: a real error
        for name, command in module.COMMANDS.items():
            if name in commands:
                raise RuntimeError(
                    f"command {name!r} is defined by both {commands[name][0]} and {full_name}"
                )
            commands[name] = (full_name, command)
    return {name: command for name, (_, command) in commands.items()}


def build_parser(commands=None):
    from .version import version

    commands = load_commands() if commands is None else commands
    parser = ArgumentParser(
        prog=PROG,
        description="Legendre Memory Units as spiking Nengo networks: run the delay "
        "network, the benchmarks and the paper's tasks on nengo, NengoDL and Loihi.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, command in commands.items():
        p = sub.add_parser(
            name,
            help=command.help,
            description=command.help[:1].upper() + command.help[1:] + ".",
            formatter_class=_Formatter,
        )
        # argparse builds a subparser with the parent's class: our one-line errors
        p.prog = f"{PROG} {name}"
        command.add_arguments(p)
        g = p.add_argument_group("output")
        g.add_argument(
            "--out-dir", "-o", default=DEFAULT_OUT_DIR, metavar="DIR",
            help="directory for the plots and JSON results (created if needed; "
            "existing files are kept) (default: %(default)s)",
        )
        g.add_argument(
            "--traceback", action="store_true",
            help="show the full Python traceback of an error instead of one line",
        )
        p.set_defaults(_run=command.run)
    return parser


def _snapshot(directory):
    found = {}
    for root, _, files in os.walk(directory):
        for f in files:
            path = os.path.join(root, f)
            try:
                found[path] = os.stat(path).st_mtime_ns
            except OSError:
                pass
    return found


def _fail(message, code=2):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv=None):
    """Entry point of ``nengo-lmu``; returns the exit status."""
    from nengo.exceptions import NengoException, ValidationError

    # TensorFlow's C++ start-up chatter (TensorRT, CPU features) is noise in a terminal
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message="No GPU support detected")

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if os.path.exists(args.out_dir) and not os.path.isdir(args.out_dir):
        return _fail(f"--out-dir {args.out_dir!r} exists and is not a directory")

    before = _snapshot(args.out_dir)
    t0 = time.perf_counter()
    try:
        args._run(args)
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)
    except (UsageError, ValidationError, NengoException, ValueError, ImportError) as e:
        if args.traceback:
            raise
        message = " ".join(str(e).split()) or type(e).__name__
        if not isinstance(e, UsageError):
            message = f"{type(e).__name__}: {message} (--traceback for details)"
        return _fail(message, code=2 if isinstance(e, (UsageError, ValidationError)) else 1)
    after = _snapshot(args.out_dir)
    written = sorted(p for p, mtime in after.items() if before.get(p) != mtime)
    elapsed = time.perf_counter() - t0
    if written:
        print(f"Wrote {len(written)} file(s) in {elapsed:.1f} s:")
        for path in written:
            print(f"  {path}")
    else:
        print(f"Done in {elapsed:.1f} s; no files written to {args.out_dir}")
    return 0
