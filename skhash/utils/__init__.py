"""Helpers shared across skhash's subpackages: validation, threads, estimator discovery."""

from . import discovery
from ._optional import import_optional
from ._threads import limit_threads
from ._validation import (
    NoBoolIntegersMixin,
    check_labels,
    check_n_jobs,
    check_no_bool_integers,
    check_same_label_kind,
)

__all__ = [
    "discovery",
    "NoBoolIntegersMixin",
    "check_labels",
    "check_n_jobs",
    "check_no_bool_integers",
    "check_same_label_kind",
    "import_optional",
    "limit_threads",
]
