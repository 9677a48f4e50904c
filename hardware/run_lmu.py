#!/usr/bin/env python
"""Run a trained LMU with spiking hidden neurons on a Loihi board or the emulator.

The same network, the same metrics, whatever the backend::

    python hardware/run_lmu.py --backend loihi-sim                          # emulator, demo network
    python hardware/run_lmu.py --backend loihi --params psmnist-params.npz  # a board
    python hardware/run_lmu.py --memory chip --memory-neurons 100           # all on the chip
    python hardware/run_lmu.py --hardware loihi --memory chip --memory-neurons 100 --attribute
    python hardware/run_lmu.py --hardware loihi --spiking-steps 400 --memory chip --memory-neurons 100 \
        --neurons-per-unit 16                                               # spike-aware, 16 per unit
    SLURM=1 PARTITION=loihi python hardware/run_lmu.py --backend loihi      # INRC cloud

This is ``nengo-lmu deploy`` with the Loihi backends only (the same entry point,
:func:`nengo_lmu.bench.deploy.run`, through :func:`nengo_lmu.cli.main`); every other
option is passed through: ``--params``, ``--memory chip|host`` and ``--memory-neurons``
(where the memory runs), ``--hardware loihi`` (fine-tune the demo network on the chip's
rates before deploying it; ``--delay-steps`` with it, for the deployed graph's lag;
``--spiking-steps`` then spike-aware; ``--weight-bits 8``, its weights for the chip's
8-bit grid), ``--neurons-per-unit`` (spiking neurons per hidden unit;
with ``--hardware`` the demo is trained for them),
``--attribute`` (the report's intermediate runs), ``--firing-rate-scale``, ``--n-test``,
``--out-dir``...: see ``--help``. Without ``--params`` the small ``window-rms`` demo
network is trained first (about 20 s). It prints the chip resources, the task's figure
for the deployed network (NRMSE or accuracy) next to the trained rate network's on the
same data (its output through the same output synapse), the deployment report, and steps
per second, and saves them as JSON in ``--out-dir`` (never overwriting a file).
``--backend loihi`` needs Intel's nxsdk (``hardware/README.md``); ``loihi-sim`` runs
anywhere.
"""

import sys

#: the backends of nengo_lmu.backends.BACKENDS that run nengo-loihi
LOIHI_BACKENDS = ("loihi-sim", "loihi-simreal", "loihi")


def main(argv=None):
    from nengo_lmu import cli

    # one-line errors, as nengo-lmu's
    parser = cli.ArgumentParser(prog="run_lmu.py", description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--backend", choices=LOIHI_BACKENDS, default="loihi-sim",
                        help="loihi-sim: bit-true emulator; loihi-simreal: float emulator; "
                        "loihi: a board (needs nxsdk)")
    parser.add_argument("-h", "--help", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if args.help:
        parser.print_help()
        print("\nother options, passed to 'nengo-lmu deploy':")
        rest = ["--help"]
    return cli.main(["deploy", "--backend", args.backend] + rest)


if __name__ == "__main__":
    sys.exit(main())
