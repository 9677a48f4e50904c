"""Nengo GUI models of nengo_lmu, opened as a copy in a folder of the user's.

``python -m nengo_lmu.gui delay_network`` (or ``trained_lmu``, ``trained_lmu_loihi``) copies
the model's script, its layout (``NAME.py.cfg``) and its data (``NAME.npz``) into the current
folder and starts nengo-gui on the copy. nengo-gui rewrites the layout file beside the
script it opens, so the installed files are never opened themselves.
"""

import os
import shutil

from nengo.exceptions import ValidationError

from nengo_lmu.io import write_atomic

GUI_DIR = os.path.dirname(os.path.abspath(__file__))


def models():
    """The names of the shipped models (``delay_network``, ``trained_lmu``, ``trained_lmu_loihi``)."""
    return sorted(f[:-3] for f in os.listdir(GUI_DIR) if f.endswith(".py") and not f.startswith("_"))


def model_files(name):
    """The files of model ``name``: its script, its layout and its data."""
    return sorted(f for f in os.listdir(GUI_DIR) if f.startswith(name + "."))


def copy_model(name, folder="."):
    """Copy model ``name``'s files into ``folder``; return ``(script, copied, kept)``.

    A file already in ``folder`` is kept as it is, never overwritten: it is the user's copy
    (maybe edited, with the layout nengo-gui saved), and the GUI opens it as it is.
    """
    if name not in models():
        raise ValidationError(f"unknown model {name!r}; one of {models()}", "name")
    copied, kept = [], []
    for f in model_files(name):
        target = os.path.join(folder, f)
        with open(os.path.join(GUI_DIR, f), "rb") as src:
            try:
                write_atomic(target, lambda dst: shutil.copyfileobj(src, dst))
                copied.append(target)
            except ValidationError:  # it exists
                kept.append(target)
    return os.path.join(folder, name + ".py"), copied, kept
