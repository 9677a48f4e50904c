"""Sphinx configuration: ``sphinx-build -b html docs docs/_build`` (needs the [docs] extra)."""

project = "nengo_lmu"
root_doc = "api"
extensions = ["sphinx.ext.autodoc", "numpydoc"]
numpydoc_show_class_members = False
exclude_patterns = ["_build"]
