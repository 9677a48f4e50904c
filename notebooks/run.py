"""Run the notebooks at their small size and store their fresh outputs in place.

    python notebooks/run.py                       # all of them
    python notebooks/run.py delay_network.ipynb   # some

Each runs top to bottom with ``NENGO_LMU_SMALL=1`` in a temporary folder (files a notebook
writes stay out of the repository; the decoder cache is off). A run that writes to stderr is refused, so no log noise
(or a real warning nobody read) is ever stored; fix it or quiet it at its source.
"""

import glob
import os
import sys
import tempfile
import time

import nbclient
import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = sorted(glob.glob(os.path.join(HERE, "*.ipynb")))


def stderr_outputs(nb):
    """``(cell index, text)`` of every stderr stream in ``nb``'s outputs."""
    return [
        (i, out["text"])
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]


def execute(path, workdir):
    """``path`` run top to bottom in ``workdir``: the notebook with its new outputs.

    The kernel inherits this process's environment: set ``NENGO_LMU_SMALL=1`` first.
    """
    nb = nbformat.read(path, as_version=4)
    # no decoder cache (a project nengorc in the kernel's folder): runs side by side
    # (pytest -n 2) contend for the user's cache lock and nengo warns on stderr when one
    # loses; a fresh cache of its own logs "index corrupted" on first use
    with open(os.path.join(workdir, "nengorc"), "w") as rc:
        rc.write("[decoder_cache]\nenabled = False\n")
    client = nbclient.NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        record_timing=False,  # no timestamps: a rerun changes only what really changed
        resources={"metadata": {"path": workdir}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    return nb


def main(names):
    os.environ["NENGO_LMU_SMALL"] = "1"
    paths = [os.path.join(HERE, n) for n in names] if names else NOTEBOOKS
    for path in paths:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as workdir:
            nb = execute(path, workdir)
        noise = stderr_outputs(nb)
        if noise:
            sys.exit(f"{path}: not stored, stderr in cells {noise}")
        nbformat.write(nb, path)
        print(f"{os.path.relpath(path)}: {time.perf_counter() - start:.0f} s, outputs stored")


if __name__ == "__main__":
    main(sys.argv[1:])
