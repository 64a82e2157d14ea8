"""Labels of supervised hashers: a class vector or a multi-label indicator matrix."""

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target

from ..utils._dask import fit_sample, is_dask_array

__all__ = ["SupervisedHasherMixin", "label_matrix", "pairwise_similarity"]


def label_matrix(y, name):
    """``(Y, classes)``: ``Y`` a float64 ``(n_samples, n_classes)`` 0/1 matrix.

    A class vector (numbers or strings) becomes its one-hot matrix; a 2-D 0/1 indicator
    matrix (multi-label) is taken as it is, and two items are related when they share at
    least one label, as :mod:`skhash.metrics` defines relevance. ``name`` is the hasher's
    name in error messages.
    """
    kind = type_of_target(y, input_name="y", raise_unknown=True)
    if kind == "multilabel-indicator":
        Y = np.asarray(y, dtype=np.float64)
        if Y.shape[1] < 2:
            raise ValueError(f"{name} needs at least two labels; y has {Y.shape[1]} column.")
        return Y, np.arange(Y.shape[1])
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"{name} learns from class labels: y must be a class vector or a 0/1 "
            f"multi-label indicator matrix, got a target of type {kind!r}."
        )
    binarizer = LabelBinarizer().fit(y)
    if len(binarizer.classes_) < 2:
        raise ValueError(
            f"{name} needs at least two classes in y to learn from, got only "
            f"{binarizer.classes_[0]!r}: supervised codes separate classes."
        )
    Y = binarizer.transform(y).astype(np.float64)
    if Y.shape[1] == 1:  # two classes: LabelBinarizer gives one column
        Y = np.hstack([1 - Y, Y])
    return Y, binarizer.classes_


def pairwise_similarity(Y_rows, Y_columns):
    """``S[i, j] = 1`` when items ``i`` and ``j`` share a label, else ``-1``."""
    return np.where(Y_rows @ Y_columns.T > 0, 1.0, -1.0)


class SupervisedHasherMixin:
    """Mixin of hashers that learn from labels: ``fit(X, y)`` requires ``y``.

    Gives the scikit-learn tag ``target_tags.required`` and :meth:`_validate_X_y`, which
    validates ``X`` as :class:`~skhash.base.BaseHasher` does and returns the label matrix.
    """

    def _validate_X_y(self, X, y):
        name = type(self).__name__
        if y is None:
            raise ValueError(
                f"{name} requires y to be passed, but the target y is None: it is a "
                f"supervised hasher, fit(X, y) with the class labels (or a 0/1 multi-label "
                f"indicator matrix) of X. Without labels, use an unsupervised hasher such "
                f"as ITQHasher."
            )
        if is_dask_array(X):  # the same sampled rows of X and of y
            X, y = fit_sample(X, y if is_dask_array(y) else np.asarray(y))
        X = self._validate_X(X, reset=True)
        y = np.asarray(y)
        if len(y) != X.shape[0]:
            raise ValueError(
                f"y has {len(y)} labels but X has {X.shape[0]} rows: give one label (or "
                f"one indicator row) per row of X."
            )
        Y, self.classes_ = label_matrix(y, name)
        return X, Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
