"""Validation rules that scikit-learn's parameter constraints do not express."""

import functools
import inspect
import warnings
from numbers import Integral

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import Interval, InvalidParameterError, validate_params

__all__ = [
    "N_JOBS_CONSTRAINT",
    "NoBoolIntegersMixin",
    "check_labels",
    "check_n_jobs",
    "check_no_bool_integers",
    "check_same_label_kind",
    "validate_function_params",
]


def _takes_integers(constraints):
    return any(
        c is Integral or (isinstance(c, Interval) and c.type is Integral) for c in constraints
    )


def _refuse_bool_integers(params, constraints, owner):
    for name, allowed in constraints.items():
        value = params.get(name)
        if isinstance(value, bool | np.bool_) and _takes_integers(allowed):
            raise InvalidParameterError(
                f"The {name!r} parameter of {owner} must be an integer, got the boolean "
                f"{value!r}: pass a number such as {int(value) or 1}."
            )


def check_no_bool_integers(estimator):
    """Refuse ``True``/``False`` for integer parameters (``bool`` is an ``Integral``).

    scikit-learn's constraints accept ``n_bits=True`` as the integer 1; it then fails deep
    inside numpy or torch. Raises :class:`~sklearn.utils._param_validation.InvalidParameterError`
    (a ``ValueError`` and a ``TypeError``) naming the parameter.
    """
    params = estimator.get_params(deep=False)
    _refuse_bool_integers(params, estimator._parameter_constraints, type(estimator).__name__)


def validate_function_params(constraints):
    """scikit-learn's ``validate_params`` for a public function, also refusing booleans
    for its integer parameters (as :class:`NoBoolIntegersMixin` does for estimators)."""

    def decorate(function):
        validated = validate_params(constraints, prefer_skip_nested_validation=True)(function)
        signature = inspect.signature(function)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            bound = signature.bind_partial(*args, **kwargs).arguments
            _refuse_bool_integers(bound, constraints, function.__qualname__)
            return validated(*args, **kwargs)

        return checked

    return decorate


class NoBoolIntegersMixin:
    """Estimator mixin: parameter validation also refuses booleans for integer parameters."""

    def _validate_params(self):
        super()._validate_params()
        check_no_bool_integers(self)


#: scikit-learn parameter constraint of ``n_jobs``: None, 1, 2, ... or -1, -2, ... (never 0),
#: the values :func:`check_n_jobs` accepts.
N_JOBS_CONSTRAINT = [
    Interval(Integral, 1, None, closed="left"),
    Interval(Integral, None, -1, closed="right"),
    None,
]


def check_n_jobs(n_jobs, name="n_jobs"):
    """``n_jobs`` as joblib reads it: ``None``, a positive int, or ``-1, -2, ...``; never 0."""
    if n_jobs is None:
        return None
    if not isinstance(n_jobs, Integral) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ValueError(
            f"{name} must be None (one thread), a positive number of threads or a negative "
            f"count from all cores (-1: all); got {n_jobs!r}."
        )
    return int(n_jobs)


def check_positive_int(value, name, meaning=""):
    """``value`` as an int when it is a positive integer (not a boolean), else a
    ``ValueError`` naming ``name`` (and what it counts, ``meaning``)."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a positive integer{what}, got {value!r}.")
    return int(value)


def _label_kind(y):
    if y.dtype.kind in "US":
        return "string"
    if y.dtype.kind == "O":
        kinds = {"string" if isinstance(v, str) else "number" for v in y.ravel()}
        if len(kinds) > 1:
            return "mixed"
        return kinds.pop() if kinds else "number"
    return "number"


def check_same_label_kind(*named_labels):
    """Refuse labels that mix strings and numbers, within one array or between arrays.

    numpy compares ``"3"`` and ``3.0`` as unequal after promoting both to strings, so
    mixed labels would silently give no relevant item at all.

    Parameters
    ----------
    *named_labels : (str, ndarray) pairs
        Each array of labels with the name of its parameter.
    """
    kinds = {}
    for name, y in named_labels:
        kind = _label_kind(np.asarray(y))
        if kind == "mixed":
            raise ValueError(
                f"Mix of label input types (string and number) in {name}: give every label "
                f"as a number or every label as a string."
            )
        kinds[name] = kind
    if len(set(kinds.values())) > 1:
        described = ", ".join(f"{name} holds {kind}s" for name, kind in kinds.items())
        raise ValueError(
            f"Mix of label input types: {described}. Give the labels of queries and "
            f"database the same type, e.g. y_query.astype(y_db.dtype)."
        )


def check_labels(y, n_samples, name):
    """Labels as 1-D class labels or a 2-D 0/1 indicator matrix, one per code.

    A column vector ``(n, 1)`` is read as class labels and ravelled with a
    ``DataConversionWarning``, as scikit-learn does: as an indicator matrix it would make
    every item relevant to every query of the same 0/1 value.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_labels)
        The labels.
    n_samples : int
        Number of codes they label.
    name : str
        Name of the parameter in error messages.
    """
    if y is None:
        raise ValueError(f"{name} is required: give the class labels of the {n_samples} codes.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            f"A column-vector {name} was passed when a 1-D array was expected: it is read as "
            f"class labels. Please change its shape to (n_samples,), for example using "
            f"ravel(); a one-label indicator matrix has no use in retrieval.",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D class labels or a 2-D 0/1 indicator matrix, got shape {y.shape}."
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"{name} has {y.shape[0]} labels but there are {n_samples} codes: give one label "
            f"(row) per code."
        )
    if y.ndim == 2:
        if y.dtype != np.bool_ and not np.issubdtype(y.dtype, np.integer):
            if not np.issubdtype(y.dtype, np.floating) or not np.all(np.isin(y, (0, 1))):
                raise ValueError(
                    f"{name} is 2-D, so it must be a 0/1 label indicator matrix; got dtype "
                    f"{y.dtype}."
                )
        elif y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(
                f"{name} is 2-D, so it must be a 0/1 label indicator matrix; found values in "
                f"[{y.min()}, {y.max()}]."
            )
    else:
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError(
                f"{name} contains NaN or infinite labels: drop those rows or give them a class."
            )
        check_same_label_kind((name, y))
    return y
