"""Base class shared by every hashing estimator."""

import functools
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils import NoBoolIntegersMixin, limit_threads
from .utils._dask import fit_sample, is_dask_array, map_row_blocks

__all__ = ["BaseHasher", "with_threads"]


def with_threads(method):
    """Run an estimator method inside ``self._threads()`` (its ``n_jobs`` threads)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._threads():
            return method(self, *args, **kwargs)

    return wrapper


class BaseHasher(
    NoBoolIntegersMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class for hashers: estimators that map feature vectors to binary codes.

    A subclass implements ``fit`` (learning every threshold, mean and projection) and
    :meth:`_decision_function` (the real-valued projection of validated ``X``); the code
    of a sample is ``decision_function(X) > 0`` as ``uint8`` 0/1 of shape
    ``(n_samples, n_bits)``.

    Dask: ``decision_function`` and ``transform`` map a :class:`dask.array.Array` chunk by
    chunk into a lazy dask array; ``fit`` raises on one, or fits on a random sample of its
    rows after ``skhash.set_config(dask_fit="sample")``.
    """

    _parameter_constraints: dict = {"n_bits": [Interval(Integral, 1, None, closed="left")]}
    # Whether ``n_jobs`` also sets torch's threads.
    _uses_torch = False
    # Whether any NaN or infinity in a row of X makes that row's projections non-finite
    # (a linear projection does): ``decision_function`` then checks its small output, and
    # X only when the output is not finite, instead of a pass over X (a third of ITQ's
    # transform besides the product).
    _non_finite_propagates = False

    def _threads(self):
        """Context of ``n_jobs`` BLAS (and torch) threads; the caller's restored after."""
        return limit_threads(getattr(self, "n_jobs", None), torch=self._uses_torch)

    def _validate_X(self, X, *, reset, finite=True):
        """Validate features: finite float64/float32, 2-D, at least 2 samples when fitting.

        A dask array is only accepted when fitting, as a sample (see ``fit_sample``).
        ``finite=False`` leaves the check of finite values to the caller.
        """
        if reset and is_dask_array(X):
            X, _ = fit_sample(X)
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) > 2:
            raise ValueError(
                f"{type(self).__name__} hashes feature vectors, one row per sample; X has "
                f"shape {tuple(shape)}, as images do. Flatten each sample "
                f"(X.reshape(len(X), -1), e.g. pixels / 255) or extract features first "
                f"(skhash.features.EfficientNetLite0Features in a Pipeline)."
            )
        try:
            return validate_data(
                self,
                X,
                dtype=[np.float64, np.float32],
                reset=reset,
                ensure_min_samples=2 if reset else 1,
                ensure_all_finite=finite,
            )
        except ValueError as error:
            for found, what in (("contains NaN", "NaN"), ("contains infinity", "infinity")):
                if found in str(error):
                    raise ValueError(
                        f"X contains {what}: {type(self).__name__} hashes complete rows of "
                        f"finite features. Impute missing values (sklearn.impute.SimpleImputer "
                        f"in a Pipeline) or drop those rows, and replace infinite values."
                    ) from error
            raise

    def decision_function(self, X):
        """Real-valued projections of ``X``; the code of a sample is ``value > 0``.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Samples to project.

        Returns
        -------
        values : ndarray of shape (n_samples, n_bits)
            A lazy dask array, chunked like ``X``'s rows, when ``X`` is one.
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return map_row_blocks(self.decision_function, X)
        if not self._non_finite_propagates:
            X = self._validate_X(X, reset=False)
            with self._threads():
                return self._decision_function(X)
        X = self._validate_X(X, reset=False, finite=False)
        # NaN, infinity or overflow show in the output, checked here: no numpy warnings.
        with np.errstate(invalid="ignore", over="ignore"):
            with self._threads():
                values = self._decision_function(X)
            if not np.isfinite(values).all():
                # NaN or infinity in X, or finite features so large that a projection
                # overflows (a valid sign): only X itself tells.
                self._validate_X(X, reset=False)
        return values

    def transform(self, X):
        """Hash ``X`` into binary codes.

        Parameters
        ----------
        X : array-like or dask array of shape (n_samples, n_features)
            Samples to hash.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_bits), dtype uint8
            0/1 codes; a lazy dask array when ``X`` is one.
        """
        return (self.decision_function(X) > 0).astype(np.uint8)

    @property
    def _n_features_out(self):
        return self.n_bits

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
