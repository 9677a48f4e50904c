"""``python -m nengo_lmu.gui MODEL [nengo-gui options]``: open a copy of a GUI model."""

import argparse
import subprocess
import sys

from nengo_lmu.gui import copy_model, models


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m nengo_lmu.gui",
        description="Copy a nengo_lmu Nengo GUI model (script, layout, data) into a folder, "
        "keeping any file already there, and start nengo-gui on the copy. Other options "
        "go to nengo-gui (e.g. --no-browser, -P PORT).",
    )
    parser.add_argument("model", choices=models())
    parser.add_argument("--dir", default=".", help="where to copy it (default: the current folder)")
    parser.add_argument("--copy-only", action="store_true", help="copy, do not start nengo-gui")
    args, gui_args = parser.parse_known_args(argv)

    script, copied, kept = copy_model(args.model, args.dir)
    for path in copied:
        print(f"copied {path}")
    for path in kept:
        print(f"kept {path} (already there; not overwritten)")
    if args.copy_only:
        return 0
    return subprocess.call([sys.executable, "-m", "nengo_gui.main", *gui_args, script])


if __name__ == "__main__":
    sys.exit(main())
