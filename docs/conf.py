"""Sphinx configuration of the skhash documentation (built with warnings as errors)."""

import os
import re
import sys

sys.path.insert(0, os.path.abspath(".."))

import skhash  # noqa: E402

project = "skhash"
author = "skhash developers"
copyright = "2026, skhash developers"
release = skhash.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
# Inherited scikit-learn helpers link to scikit-learn's own user guide: left out here.
autodoc_default_options = {
    "members": True,
    "inherited-members": True,
    "exclude-members": ",".join(
        [
            "get_metadata_routing",
            "set_output",
            "set_fit_request",
            "set_score_request",
            "set_transform_request",
            "set_predict_request",
            "set_partial_fit_request",
        ]
    ),
}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py.md5"]
html_theme = "alabaster"
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
}

# "shape (n_samples_fit_, n_bits_)" in a docstring would read as two reStructuredText link
# references: quote fitted-attribute names in shape descriptions before numpydoc parses them.
_FITTED_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=[,)])")


def _quote_fitted_names(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if "shape (" in line:
            lines[i] = _FITTED_NAME.sub(r"``\1``", line)


def setup(app):
    app.connect("autodoc-process-docstring", _quote_fitted_names, priority=100)
