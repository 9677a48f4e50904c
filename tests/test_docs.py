"""What users read renders without a warning, and the README's snippet prints what it says.

README.rst goes through docutils (as PyPI and GitHub render it) with any warning an error;
``docs/`` through ``sphinx-build -W``, which imports every documented module (autodoc).
"""

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
README = os.path.join(ROOT, "README.rst")


def readme_snippets():
    """The ``.. code-block:: python`` blocks of README.rst, dedented."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    blocks = re.findall(r"^\.\. code-block:: python\n\n((?:    .*\n|\n)+)", text, flags=re.M)
    return ["\n".join(line[4:] for line in block.splitlines()) for block in blocks]


def test_readme_renders():
    import docutils.core
    import docutils.utils

    with open(README, encoding="utf-8") as f:
        text = f.read()
    try:  # halt_level 2: the first warning (e.g. "Malformed table") raises
        docutils.core.publish_doctree(
            text, source_path=README, settings_overrides={"halt_level": 2, "report_level": 2}
        )
    except docutils.utils.SystemMessage as e:
        pytest.fail(f"README.rst does not render cleanly: {e}")


def test_docs_build(tmp_path):
    # a subprocess: Sphinx imports the whole package, TensorFlow included
    out = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         os.path.join(ROOT, "docs"), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    with open(tmp_path / "api.html", encoding="utf-8") as f:
        html = f.read()
    for name in ("nengo_lmu.networks.LegendreMemory", "nengo_lmu.lmu.LMU", "nengo_lmu.dl.fit", "nengo_lmu.maths.legendre_ss"):
        assert f'id="{name}"' in html, f"API docs lack {name}"


def test_readme_using_it_prints_what_it_states(capsys):
    snippet = readme_snippets()[0]
    stated = re.search(r"# delay NRMSE (\d\.\d+)", snippet)
    assert stated, "the 'Using it' snippet states the NRMSE it prints"
    exec(compile(snippet, "README.rst (Using it)", "exec"), {})
    printed = re.search(r"delay NRMSE (\d\.\d+)", capsys.readouterr().out)
    assert printed, "the snippet prints its delay NRMSE"
    # seeded, so the same on every machine up to BLAS rounding in the decoder solves
    assert float(printed.group(1)) == pytest.approx(float(stated.group(1)), abs=0.002)
