"""The ``nengo-lmu`` command (also ``python -m nengo_lmu``): a thin layer over :mod:`nengo_lmu.bench`.

One subcommand per :class:`~nengo_lmu.bench.Command` of the benchmark modules. Each
command's options come from its declaration (name, type, help) and its entry point's
defaults; the CLI parses them and calls the entry point with plain keyword arguments.
Listing the commands imports no TensorFlow (the modules import it when they run).

Every run writes into ``--out-dir`` (default ``results/``), never replacing a file unless
``--overwrite`` is given, and prints the files it wrote. Every failure a user can fix (a
bad option, a bad file, an unwritable directory, a missing package) is one line,
``nengo-lmu: error: ...``, and exit status 2; ``--traceback`` shows the full traceback.
"""

import argparse
import json
import sys
import time
import zipfile

from . import bench

PROG = "nengo-lmu"
DEFAULT_OUT_DIR = "results"

EPILOG = """\
Each command writes its plots (PNG) and figures (JSON) into --out-dir, never
overwriting a file (a -1, -2... suffix is added) unless --overwrite is given, and
prints their paths. Run "nengo-lmu COMMAND --help" for a command's options.

the main job:
  nengo-lmu delay                       spiking delay network, reference simulator
  nengo-lmu delay --backend dl          ... on NengoDL
  nengo-lmu delay --backend loihi-sim   ... the Loihi-ready memory on the Loihi emulator

deploying a trained network:
  nengo-lmu deploy                      train a small demo LMU, run it spiking on nengo
  nengo-lmu deploy --params results/deploy-window-rms-params.npz --backend loihi-sim
                                        the saved LMU on the Loihi emulator, with its
                                        resource report
"""


def user_errors():
    """Exception types a user can fix (an option, a file, a directory, a package).

    Anything else is a bug and keeps its traceback.
    """
    from nengo.exceptions import NengoException

    return (NengoException, OSError, ImportError, zipfile.BadZipFile, json.JSONDecodeError)


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
            and action.default is not None
            and action.default is not False  # (0 is a default worth showing)
            and action.default != argparse.SUPPRESS
            and action.option_strings
            and action.nargs != 0
        ):
            help += " (default: %(default)s)"
        return help


def flag(name):
    """The command-line spelling of a keyword argument: ``n_neurons`` -> ``--n-neurons``."""
    return "--" + name.replace("_", "-")


def add_option(group, option, default):
    """Declare ``option`` (a :class:`~nengo_lmu.bench.Option`) on an argparse group."""
    if option.type is bool:
        # a flag turns the default around: --name if it is False, --no-name if True
        name = option.name if not default else f"no_{option.name}"
        group.add_argument(flag(name), *option.flags, dest=option.name, action="store_" + str(not default).lower(),
                           help=option.help)
        return
    metavar = {int: "N", float: "X", list: "A,B,..."}.get(option.type, None if option.choices else "TEXT")
    kind = str if option.type is list else option.type  # lists are parsed by the entry point
    if option.type is list and isinstance(default, (list, tuple)):
        default = ",".join(str(v) for v in default)
    group.add_argument(flag(option.name), *option.flags, dest=option.name, type=kind, default=default,
                       choices=option.choices, metavar=metavar, help=option.help)


def build_parser(commands=None):
    from .version import version

    commands = bench.load_commands() if commands is None else commands
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
        p.prog = f"{PROG} {name}"  # argparse builds a subparser with the parent's class: one-line errors
        defaults = command.defaults()
        groups = {}
        for option in command.options:
            if option.group not in groups:
                groups[option.group] = p.add_argument_group(option.group) if option.group else p
            add_option(groups[option.group], option, defaults[option.name])
        if "progress" in defaults:
            g = p.add_mutually_exclusive_group()
            g.add_argument("--progress", dest="progress", action="store_true", default=None,
                           help="show progress bars (default: only when the output is a terminal)")
            g.add_argument("--no-progress", dest="progress", action="store_false", help="do not show progress bars")
        g = p.add_argument_group("output")
        g.add_argument("--out-dir", "-o", default=DEFAULT_OUT_DIR, metavar="DIR",
                       help="directory for the plots and JSON results, created if needed; checked "
                       "before any work (default: %(default)s)")
        g.add_argument("--overwrite", action="store_true",
                       help="replace existing files of the same name (default: keep them and add a "
                       "-1, -2... suffix)")
        g.add_argument("--traceback", action="store_true",
                       help="show the full Python traceback of an error instead of one line")
        p.set_defaults(_command=command)
    return parser


def message(error, command):
    """One line for ``error``: a ``ValidationError`` of an option names its ``--option``."""
    from nengo.exceptions import ValidationError

    text = " ".join(str(error).split()) or type(error).__name__
    names = {option.name for option in command.options} | {"out_dir", "overwrite", "progress"}
    if isinstance(error, ValidationError) and error.attr in names:
        text = f"{flag(error.attr)}: {' '.join(str(error.args[0]).split())}"
    elif not isinstance(error, ValidationError):
        text = f"{text} ({type(error).__name__}; --traceback for details)"
    return text


def _fail(text, code=2):
    print(f"{PROG}: error: {text}", file=sys.stderr)
    return code


def main(argv=None, commands=None):
    """Entry point of ``nengo-lmu``; returns the exit status."""
    from .quiet import quiet_startup

    quiet_startup()
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    command = args._command
    kwargs = {name: getattr(args, name) for name in command.defaults() if hasattr(args, name)}

    t0 = time.perf_counter()
    try:
        results = command.run(**kwargs)
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)
    except user_errors() as e:
        if args.traceback:
            raise
        return _fail(message(e, command))
    written = (results or {}).get("files", [])
    elapsed = time.perf_counter() - t0
    if written:
        print(f"Wrote {len(written)} file(s) in {elapsed:.1f} s:")
        for path in written:
            print(f"  {path}")
    else:
        print(f"Done in {elapsed:.1f} s; no files written to {args.out_dir}")
    return 0
