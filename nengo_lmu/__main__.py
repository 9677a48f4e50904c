"""``python -m nengo_lmu``: the ``nengo-lmu`` command (see :mod:`nengo_lmu.cli`)."""

import sys


def main(argv=None):
    from .cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
