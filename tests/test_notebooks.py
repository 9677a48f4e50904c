"""Every notebook in ``notebooks/`` runs top to bottom (small size: NENGO_LMU_SMALL=1)."""

import glob
import os

import pytest

NOTEBOOKS = sorted(glob.glob(os.path.join(os.path.dirname(__file__), os.pardir, "notebooks", "*.ipynb")))


def test_notebooks_exist():
    # the delay network and its window; the O(d/sqrt(m)) law; training an LMU and running it
    # spiking; deploying to the Loihi emulator with the resource report
    names = {os.path.basename(p) for p in NOTEBOOKS}
    assert {"delay_network.ipynb", "scaling.ipynb", "train_lmu.ipynb", "loihi.ipynb"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, tmp_path, monkeypatch):
    import nbclient  # the [tests] extra: a missing one is a failure, not a skip
    import nbformat

    monkeypatch.setenv("NENGO_LMU_SMALL", "1")  # inherited by the kernel
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    nb = nbformat.read(path, as_version=4)
    # stored without outputs: diffs stay readable and nothing stale is shown
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError naming the failing cell
