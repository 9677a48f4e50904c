#!/usr/bin/env python
"""Run a trained LMU with spiking hidden neurons on a Loihi board or the emulator.

The same network, the same metrics, whatever the backend::

    python hardware/run_lmu.py --backend loihi-sim                          # emulator, demo network
    python hardware/run_lmu.py --backend loihi --params psmnist-params.npz  # a board
    SLURM=1 PARTITION=loihi python hardware/run_lmu.py --backend loihi      # INRC cloud

This is ``nengo-lmu deploy`` with the Loihi backends only; every other option is passed
through (``--params``, ``--firing-rate-scale``, ``--n-test``, ``--out-dir``...: see
``nengo-lmu deploy --help``). Without ``--params`` the small ``window-rms`` demo network
is trained first (about 20 s). It prints the chip resources, the task's figure for the
deployed network (NRMSE or accuracy) next to the trained rate network's on the same data,
and steps per second, and saves them as JSON in ``--out-dir`` (never overwriting a file).
"""

import argparse
import sys

#: the backends of nengo_lmu.backends.BACKENDS that run nengo-loihi
LOIHI_BACKENDS = ("loihi-sim", "loihi-simreal", "loihi")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], add_help=False)
    parser.add_argument("--backend", choices=LOIHI_BACKENDS, default="loihi-sim",
                        help="loihi-sim: bit-true emulator; loihi-simreal: float emulator; "
                        "loihi: a board (needs nxsdk)")
    parser.add_argument("-h", "--help", action="store_true")
    args, rest = parser.parse_known_args(argv)
    if args.help:
        parser.print_help()
        print("\nother options, passed to 'nengo-lmu deploy':")
        rest = ["--help"]
    from nengo_lmu import cli

    return cli.main(["deploy", "--backend", args.backend] + rest)


if __name__ == "__main__":
    sys.exit(main())
