"""Every notebook in ``notebooks/`` runs top to bottom at its small size, and is stored
with the outputs of such a run (``python notebooks/run.py`` regenerates them)."""

import glob
import importlib.util
import os

import pytest

NOTEBOOK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "notebooks")
NOTEBOOKS = sorted(glob.glob(os.path.join(NOTEBOOK_DIR, "*.ipynb")))


def load_runner():
    """``notebooks/run.py``, the one command that runs and stores the notebooks."""
    spec = importlib.util.spec_from_file_location("notebooks_run", os.path.join(NOTEBOOK_DIR, "run.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # needs nbclient and nbformat ([notebooks] extra)
    return module


def test_notebooks_exist():
    # the delay network and its window; the O(d/sqrt(m)) law; training an LMU and running it
    # spiking; deploying to the Loihi emulator with the resource report
    names = {os.path.basename(p) for p in NOTEBOOKS}
    assert {"delay_network.ipynb", "scaling.ipynb", "train_lmu.ipynb", "loihi.ipynb"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_stored_with_outputs(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    # run once, top to bottom: a reader browsing the repository sees every result
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), path
    assert any(o.get("output_type") == "display_data" for c in code for o in c.outputs), "no figure"
    assert not load_runner().stderr_outputs(nb), "log noise stored; rerun notebooks/run.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, tmp_path, monkeypatch):
    runner = load_runner()
    monkeypatch.setenv("NENGO_LMU_SMALL", "1")  # inherited by the kernel
    nb = runner.execute(path, str(tmp_path))  # raises CellExecutionError naming the failing cell
    # the first cell's quiet_startup() keeps TensorFlow's and nengo-loihi's start-up off stderr
    assert not runner.stderr_outputs(nb), runner.stderr_outputs(nb)


def test_notebook_runs_without_the_decoder_cache(tmp_path):
    # two runs side by side (pytest -n 2) contended for the user's cache lock, and nengo's
    # warning on stderr failed the run that lost
    import nbformat

    path = tmp_path / "probe.ipynb"
    cell = nbformat.v4.new_code_cell("import nengo; print(nengo.rc.getboolean('decoder_cache', 'enabled'))")
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), str(path))
    nb = load_runner().execute(str(path), str(tmp_path))
    assert nb.cells[0].outputs[0]["text"].strip() == "False"
