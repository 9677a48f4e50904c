"""Sphinx configuration: ``sphinx-build -W -b html docs docs/_build`` (the [docs] extra)."""

import os
import sys

# document this checkout's package, installed or not
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir)))

from nengo_lmu.quiet import quiet_startup  # noqa: E402

quiet_startup()  # autodoc imports nengo_lmu.dl and .loihi, hence TensorFlow

project = "nengo_lmu"
root_doc = "api"
extensions = ["sphinx.ext.autodoc", "numpydoc"]
numpydoc_show_class_members = False
exclude_patterns = ["_build", "results"]  # results/: benchmark JSON and its index, not API docs
