"""The one place that quiets TensorFlow's and nengo-loihi's start-up noise.

TensorFlow prints C++ log lines at import (CUDA, TensorRT, CPU features) and while
NengoDL builds graphs ("Executor start aborting ... You must feed a value for
placeholder tensor", an INFO line about graph pruning, not a failure). None of it is
actionable for a user of this library. :func:`quiet_startup` hides those C++ lines and
TensorFlow's Python INFO/WARNING log records, and nengo-dl's "No GPU support detected"
warning; every other Python warning (nengo's, nengo-loihi's, this library's) is kept.

Call it before TensorFlow is imported (the command line, the notebooks and the GUI
models do); the C++ log level is read once, at TensorFlow's import. Set the environment
variable ``NENGO_LMU_VERBOSE=1`` to see everything.
"""

import logging
import os
import warnings

#: TensorFlow's C++ minimum log level: 2 hides INFO and WARNING, keeps ERROR
TF_CPP_MIN_LOG_LEVEL = "2"


def quiet_startup():
    """Hide TensorFlow's start-up chatter; keep real warnings. Idempotent."""
    if os.environ.get("NENGO_LMU_VERBOSE"):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", TF_CPP_MIN_LOG_LEVEL)
    # nengo-dl warns on every import on a machine without a GPU: expected here
    warnings.filterwarnings("ignore", message="No GPU support detected")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
