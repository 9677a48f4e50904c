"""The one place that quiets TensorFlow's and nengo-loihi's start-up noise.

TensorFlow prints C++ log lines at import (CUDA, TensorRT, CPU features) and while
NengoDL builds graphs ("Executor start aborting ... You must feed a value for
placeholder tensor", an INFO line about graph pruning, not a failure). None of it is
actionable for a user of this library. :func:`quiet_startup` hides those C++ lines and
TensorFlow's Python INFO/WARNING log records, and nengo-dl's "No GPU support detected"
warning; every other Python warning (nengo's, nengo-loihi's, this library's) is kept.

Call it before TensorFlow is imported (the command line, the notebooks and the GUI
models do); the C++ log level is read once, at TensorFlow's import. nengo-dl (which
nengo-loihi imports) sets that level to 1 at the top of its import, which lets "TF-TRT
Warning: Could not find TensorRT" through; an import hook restores our level whenever a
module of TensorFlow or nengo-dl loads (nengo-dl imports its own submodules right after). A level the user set (``TF_CPP_MIN_LOG_LEVEL``) is the one kept. Set the
environment variable ``NENGO_LMU_VERBOSE=1`` to see everything.
"""

import logging
import os
import sys
import warnings

#: TensorFlow's C++ minimum log level: 2 hides INFO and WARNING, keeps ERROR
TF_CPP_MIN_LOG_LEVEL = "2"


def quiet_startup():
    """Hide TensorFlow's start-up chatter; keep real warnings. Idempotent."""
    if os.environ.get("NENGO_LMU_VERBOSE"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_MIN_LOG_LEVEL)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _KeepLogLevel) for f in sys.meta_path):
        sys.meta_path.insert(0, _KeepLogLevel(os.environ["TF_CPP_MIN_LOG_LEVEL"]))
    # nengo-dl warns on every import on a machine without a GPU: expected here
    warnings.filterwarnings("ignore", message="No GPU support detected")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


class _KeepLogLevel:
    """Import hook: sets ``TF_CPP_MIN_LOG_LEVEL`` back to ``level`` as a module of
    TensorFlow or nengo-dl loads.

    It finds no module itself (``find_spec`` returns None, so the import goes on as usual).
    TensorFlow reads the level at its first C++ log line, which comes after nengo-dl
    overwrote it and then imported more of its own modules: the hook stays for all of them
    (a loaded module is not looked up again).
    """

    def __init__(self, level):
        self.level = level

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "nengo_dl"):
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = self.level
        return None
