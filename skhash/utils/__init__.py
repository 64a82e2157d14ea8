"""Helpers shared across skhash's subpackages: validation, threads, estimator discovery."""

from . import discovery
from ._optional import import_optional
from ._threads import limit_threads
from ._validation import (
    N_JOBS_CONSTRAINT,
    NoBoolIntegersMixin,
    check_labels,
    check_n_jobs,
    check_no_bool_integers,
    check_same_label_kind,
    validate_function_params,
)

__all__ = [
    "N_JOBS_CONSTRAINT",
    "discovery",
    "NoBoolIntegersMixin",
    "check_labels",
    "check_n_jobs",
    "check_no_bool_integers",
    "check_same_label_kind",
    "import_optional",
    "limit_threads",
    "validate_function_params",
]
