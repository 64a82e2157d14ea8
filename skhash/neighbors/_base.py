"""The parts of :class:`~skhash.HammingRetriever`, as scikit-learn splits its neighbours
estimators (``NeighborsBase``, ``KNeighborsMixin``, ``RadiusNeighborsMixin``): the database
(validation, hashing, the search backend that holds it as packed words), k-NN queries and
radius queries. The searching itself is the backend's (``_backends``, ``_packed``)."""

from numbers import Integral

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from ..codes import _kernels
from ..codes._bits import (
    check_bitorder,
    check_codes,
    packed_to_words,
    result_distance_dtype,
)
from ..codes._io import PackedCodes
from ..utils import NoBoolIntegersMixin, check_labels, check_same_label_kind
from ..utils._dask import is_dask_array, map_row_blocks
from ..utils._validation import check_positive_int
from ._backends import make_backend
from ._mih import MIHSearch
from ._packed import PackedSearch

__all__ = ["HammingNeighborsBase", "KNeighborsMixin", "RadiusNeighborsMixin"]

# algorithm="auto" builds multi-index tables from this many codes on (smaller databases
# scan in well under a millisecond a query).
_MIH_AUTO_MIN_DB = 2**18


class HammingNeighborsBase(NoBoolIntegersMixin, BaseEstimator):
    """The database of a Hamming-space neighbours estimator: ``fit`` validates (or hashes)
    it and hands it to a search backend; queries are validated and hashed alike.

    A subclass sets the parameters ``hasher``, ``backend``, ``bitorder``, ``n_jobs`` and
    ``device`` and their constraints.
    """

    def _passthrough(self):
        return isinstance(self.hasher, str) and self.hasher == "passthrough"

    def _codes(self, X, *, reset):
        """Validate ``X`` and turn it into :class:`~skhash.PackedCodes`: packed bytes
        (``bitorder`` set) are kept as they are, 0/1 codes (given, or made by the hasher)
        are packed in the database's bit order."""
        if self._passthrough():
            X = validate_data(self, X, dtype=None, reset=reset, ensure_min_samples=1)
            if self.bitorder is not None:
                if X.dtype != np.uint8:
                    raise ValueError(
                        f"With bitorder={self.bitorder!r}, X must hold packed uint8 bytes, "
                        f"got dtype {X.dtype}. Pass 0/1 codes with bitorder=None."
                    )
                return PackedCodes(X, 8 * X.shape[1], check_bitorder(self.bitorder))
            codes = check_codes(X, name="X")
        elif reset:
            validate_data(self, X, skip_check_array=True, reset=True)
            self.hasher_ = clone(self.hasher)
            codes = check_codes(self.hasher_.fit(X, self._y_fit).transform(X), name="codes")
        else:
            validate_data(self, X, skip_check_array=True, reset=False)
            codes = check_codes(self.hasher_.transform(X), n_bits=self.n_bits_, name="codes")
        bitorder = self.bitorder or ("little" if reset else self._index.bitorder)
        # check_codes has run: packed without pack_codes's second check.
        return PackedCodes(np.packbits(codes, axis=1, bitorder=bitorder), codes.shape[1], bitorder)

    def _query_words(self, X):
        """Queries (``None``: the database itself) as words in the search's layout."""
        if X is None:
            return self._index.database_words()
        # The width was checked by validate_data against the fitted database.
        return packed_to_words(self._codes(X, reset=False).packed)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Store (or hash) the database.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bits) or (n_samples, n_features), or \
                PackedCodes
            0/1 codes (``hasher="passthrough"``) or features for the hasher;
            :class:`~skhash.PackedCodes` (``hasher="passthrough"``) are kept packed, and
            searched block by block when memory-mapped.
        y : array-like of shape (n_samples,) or (n_samples, n_labels), default=None
            Labels of the database items, needed by :meth:`score` (and passed to the
            hasher's ``fit``).

        Returns
        -------
        self : HammingRetriever
            Fitted retriever.
        """
        if self.bitorder is not None and not self._passthrough():
            raise ValueError("bitorder is only used with hasher='passthrough' (packed codes).")
        if isinstance(X, PackedCodes):
            return self._fit_packed(X, y)
        self._y_fit = y
        try:
            packed = self._codes(X, reset=True)
        finally:
            del self._y_fit
        y = _check_fit_labels(y, len(packed))
        if self._passthrough():
            self.hasher_ = None
        self.packed_codes_ = None
        self.labels_ = y
        self.n_samples_fit_, self.n_bits_ = packed.shape
        self._index = self._make_index(packed)
        self.backend_ = self._index.name
        return self

    def _make_index(self, packed):
        """The search backend of ``packed``: multi-index hashing where ``algorithm`` asks."""
        algorithm = self._algorithm(len(packed))
        self.algorithm_ = algorithm
        if algorithm == "brute":
            return make_backend(self.backend, packed, n_jobs=self.n_jobs, device=self.device)
        mode = "mih" if self.algorithm == "mih" else "auto"
        return MIHSearch(packed, self.n_jobs, n_substrings=self.n_substrings, mode=mode)

    def _algorithm(self, n_db):
        if self.algorithm == "mih":
            if self.backend not in ("auto", "numpy"):
                raise ValueError(
                    f"algorithm='mih' searches with the numpy backend; backend="
                    f"{self.backend!r} scans. Use backend='numpy' (or 'auto')."
                )
            if not _kernels.enabled():
                raise ValueError(
                    "algorithm='mih' needs the compiled kernels: install numba (the 'fast' "
                    "extra) and leave skhash.set_config(compiled_kernels=True)."
                )
            return "mih"
        if (
            self.algorithm == "auto"
            and self.backend in ("auto", "numpy")
            and n_db >= _MIH_AUTO_MIN_DB
            and _kernels.enabled()
        ):
            return "mih"
        return "brute"

    def _fit_packed(self, packed, y):
        if not self._passthrough() or self.bitorder is not None:
            raise ValueError(
                "PackedCodes carry their own bits and bit order: fit them with "
                "hasher='passthrough' and bitorder=None."
            )
        if len(packed) == 0:
            raise ValueError("X holds no codes: the database needs at least one.")
        y = _check_fit_labels(y, len(packed))
        # "auto" scans a file: tables would take 4 bytes a code and a substring in memory.
        if self.algorithm == "mih":
            self._algorithm(len(packed))  # the backend and numba it needs
            index = MIHSearch(
                packed, self.n_jobs, n_substrings=self.n_substrings, mode="mih", in_place=True
            )
        elif self.backend in ("auto", "numpy"):
            index = PackedSearch(packed, n_jobs=self.n_jobs)
        else:  # faiss and torch hold the database in (device) memory anyway
            index = make_backend(self.backend, packed, n_jobs=self.n_jobs, device=self.device)
        self.hasher_ = None
        self.packed_codes_ = packed
        self.labels_ = y
        self.n_samples_fit_, self.n_bits_ = packed.shape
        self.n_features_in_ = self.n_bits_
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.algorithm_ = "mih" if self.algorithm == "mih" else "brute"
        self._index = index
        self.backend_ = self._index.name
        return self

    def partial_fit(self, X, y=None):
        """Add items to the fitted database (or fit it, the first time).

        The new codes get the next indices, and every query afterwards gives exactly what
        a retriever fitted on all the items at once gives. A hasher is not refitted: the
        new items are hashed by ``hasher_``.

        Parameters
        ----------
        X : array-like of shape (n_new, n_bits) or (n_new, n_features)
            Codes (``hasher="passthrough"``, packed when ``bitorder`` is set) or features.
        y : array-like of shape (n_new,) or (n_new, n_labels), default=None
            Labels of the new items; required when the database has labels, refused when
            it has none.

        Returns
        -------
        self : HammingRetriever
            The retriever, with ``n_samples_fit_`` grown by ``n_new``.
        """
        if "_index" not in self.__dict__:
            return self.fit(X, y)
        if isinstance(X, PackedCodes):
            if not self._passthrough() or self.bitorder is not None:
                raise ValueError("PackedCodes are added with hasher='passthrough' only.")
            if X.n_bits != self.n_bits_:  # not seen by validate_data
                raise ValueError(
                    f"X has codes of {X.n_bits} bits; the database's have {self.n_bits_}."
                )
            packed = X.in_bitorder(self._index.bitorder)
        else:
            packed = self._codes(X, reset=False)
        labels = self._grown_labels(y, len(packed))
        self._index.add(packed)
        self.labels_ = labels
        self.n_samples_fit_ += len(packed)
        return self

    def _grown_labels(self, y, n_new):
        """The database's labels followed by the new items' ``y``, checked alike."""
        if self.labels_ is None:
            if y is not None:
                raise ValueError(
                    "The database was fitted without labels: partial_fit cannot give labels "
                    "to only some items. Fit again on all items with their labels."
                )
            return None
        if y is None:
            raise ValueError(
                "The database has labels: give y for the new items too, partial_fit(X, y)."
            )
        y = _check_fit_labels(y, n_new)
        if y.ndim != self.labels_.ndim or y.shape[1:] != self.labels_.shape[1:]:
            raise ValueError(
                f"y has shape {y.shape}; the database's labels are "
                f"{'1-D class labels' if self.labels_.ndim == 1 else 'an indicator matrix'} "
                f"of shape {self.labels_.shape}."
            )
        if y.ndim == 1:
            check_same_label_kind(("labels_", self.labels_), ("y", y))
        return np.concatenate([self.labels_, y])

    @property
    def codes_(self):
        """0/1 codes of the database (``None`` after a fit on :class:`~skhash.PackedCodes`),
        unpacked on each access from the search backend, which holds the one copy."""
        if "_index" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__} is not fitted: it has no codes_ yet.")
        return None if self.packed_codes_ is not None else self._index.database_codes()

    def encode(self, X):
        """The 0/1 codes of ``X`` as the retriever searches them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_bits) or (n_samples, n_features)
            Codes (validated, unpacked when ``bitorder`` is set) or features (hashed by
            ``hasher_``).

        Returns
        -------
        codes : ndarray of shape (n_samples, n_bits_), dtype uint8
        """
        check_is_fitted(self)
        return self._codes(X, reset=False).unpack()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        tags.target_tags.required = False
        return tags


class KNeighborsMixin:
    """k-nearest-neighbour queries and graphs over the fitted backend."""

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """The ``n_neighbors`` nearest database codes of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bits) or (n_queries, n_features), default=None
            Queries. ``None``: the database itself, each point excluded from its own
            neighbours. A dask array gives lazy dask arrays (compute both with
            ``dask.compute(dist, ind)``: they share the work).
        n_neighbors : int, default=None
            Number of neighbours; ``None`` uses the constructor's value.
        return_distance : bool, default=True
            Also return the distances.

        Returns
        -------
        dist : ndarray of shape (n_queries, n_neighbors), dtype int16
            Hamming distances, ascending (signed: differences do not wrap around). Only
            when ``return_distance=True``.
        ind : ndarray of shape (n_queries, n_neighbors)
            Database indices; among equal distances, in increasing order.
        """
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        k = check_positive_int(k, "n_neighbors")  # a Python int: faiss takes no numpy ints
        available = self.n_samples_fit_ - (X is None)
        if k > available:
            raise ValueError(
                f"n_neighbors={k} is larger than the {available} database codes that can be "
                f"returned{' (X=None excludes each point itself)' if X is None else ''}; "
                f"use n_neighbors <= {available}."
            )
        if is_dask_array(X):
            return self._dask_kneighbors(X, k, return_distance)
        dist, ind = self._index.kneighbors(self._query_words(X), k + (X is None))
        if X is None:
            dist, ind = _drop_self(dist, ind)
        if not return_distance:
            return ind
        return dist.astype(result_distance_dtype(self.n_bits_), copy=False), ind

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        """Sparse graph of the k nearest neighbours (CSR, one row per query).

        Parameters
        ----------
        X : array-like, default=None
            Queries; ``None``: the database without self-loops.
        n_neighbors : int, default=None
            Number of neighbours per row.
        mode : {"connectivity", "distance"}, default="connectivity"
            Entries are ones, or Hamming distances (zeros kept as explicit entries), the
            form ``metric="precomputed"`` estimators such as DBSCAN, Isomap or TSNE expect.

        Returns
        -------
        graph : sparse matrix of shape (n_queries, n_samples_fit_), CSR
        """
        _check_mode(mode)
        dist, ind = self.kneighbors(X, n_neighbors)
        n_rows, k = ind.shape
        data = np.ones(ind.size) if mode == "connectivity" else dist.ravel().astype(np.float64)
        indptr = np.arange(0, n_rows * k + 1, k)
        return csr_matrix((data, ind.ravel(), indptr), shape=(n_rows, self.n_samples_fit_))

    def _dask_kneighbors(self, X, k, return_distance):
        """Lazy ``kneighbors`` of a dask array: one search per chunk of queries."""
        validate_data(self, X, skip_check_array=True, reset=False)
        dtype = result_distance_dtype(self.n_bits_)

        def search(block):  # distances and indices side by side, one task per chunk
            dist, ind = self.kneighbors(block, k)
            return np.hstack([dist.astype(np.intp), ind])

        both = map_row_blocks(search, X, n_columns=2 * k, dtype=np.intp)
        ind = both[:, k:]
        return (both[:, :k].astype(dtype), ind) if return_distance else ind


class RadiusNeighborsMixin:
    """Radius queries and graphs over the fitted backend."""

    def radius_neighbors(self, X=None, radius=None, return_distance=True, sort_results=True):
        """Database codes within Hamming distance ``radius`` (inclusive) of each query.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bits) or (n_queries, n_features), default=None
            Queries; ``None``: the database, each point excluded from its own result. A
            dask array gives lazy dask arrays of dtype object (one entry per query).
        radius : int, default=None
            Largest distance returned; ``None`` uses the constructor's value.
        return_distance : bool, default=True
            Also return the distances.
        sort_results : bool, default=True
            Order each result by distance, then index; ``False`` gives index order.

        Returns
        -------
        dist : ndarray of shape (n_queries,), dtype object
            One array of distances per query. Only when ``return_distance=True``.
        ind : ndarray of shape (n_queries,), dtype object
            One array of database indices per query.
        """
        if is_dask_array(X):
            return self._dask_radius_neighbors(X, radius, return_distance, sort_results)
        indptr, dist, ind = self._radius_csr(X, radius, sort_results)
        ind_rows = _split(ind, indptr)
        if not return_distance:
            return ind_rows
        return _split(dist.astype(result_distance_dtype(self.n_bits_)), indptr), ind_rows

    def _radius_csr(self, X, radius, sort_results=True):
        check_is_fitted(self)
        radius = self.radius if radius is None else radius
        if not isinstance(radius, Integral) or isinstance(radius, bool) or radius < 0:
            raise ValueError(
                f"radius must be a non-negative integer number of bits, got {radius!r}."
            )
        words = self._query_words(X)
        # One sort at most: by (distance, index), or by index for sort_results=False.
        indptr, dist, ind = self._index.radius_neighbors(words, int(radius), sort=sort_results)
        if X is None:
            rows = np.repeat(np.arange(len(words)), np.diff(indptr))
            keep = ind != rows
            np.cumsum(np.bincount(rows[keep], minlength=len(words)), out=indptr[1:])
            dist, ind = dist[keep], ind[keep]
        return indptr, dist, ind

    def radius_neighbors_graph(self, X=None, radius=None, mode="connectivity", sort_results=False):
        """Sparse graph of the neighbours within ``radius`` (CSR, one row per query).

        Parameters
        ----------
        X : array-like, default=None
            Queries; ``None``: the database without self-loops.
        radius : int, default=None
            Largest distance (inclusive).
        mode : {"connectivity", "distance"}, default="connectivity"
            Entries are ones, or Hamming distances (explicit zeros kept).
        sort_results : bool, default=False
            Order the entries of each row by distance (else by column index).

        Returns
        -------
        graph : sparse matrix of shape (n_queries, n_samples_fit_), CSR
        """
        _check_mode(mode)
        indptr, dist, ind = self._radius_csr(X, radius, sort_results)
        data = np.ones(len(ind)) if mode == "connectivity" else dist.astype(np.float64)
        return csr_matrix((data, ind, indptr), shape=(len(indptr) - 1, self.n_samples_fit_))

    def _dask_radius_neighbors(self, X, radius, return_distance, sort_results):
        """Lazy ``radius_neighbors`` of a dask array: object arrays, one entry per query."""
        validate_data(self, X, skip_check_array=True, reset=False)

        def search(block):
            dist, ind = self.radius_neighbors(block, radius, sort_results=sort_results)
            out = np.empty((len(ind), 2), dtype=object)
            out[:, 0], out[:, 1] = dist, ind
            return out

        both = map_row_blocks(search, X, n_columns=2, dtype=object)
        return (both[:, 0], both[:, 1]) if return_distance else both[:, 1]


def _check_fit_labels(y, n_samples):
    """``None``, or labels checked now rather than at ``score``."""
    return None if y is None else check_labels(y, n_samples, "y")


def _drop_self(dist, ind):
    """Remove each row's own index from a (k + 1)-neighbour result (or its last entry)."""
    n_rows, k1 = ind.shape
    is_self = ind == np.arange(n_rows)[:, None]
    missing = ~is_self.any(axis=1)
    is_self[missing, -1] = True
    keep = ~is_self
    return dist[keep].reshape(n_rows, k1 - 1), ind[keep].reshape(n_rows, k1 - 1)


def _split(values, indptr):
    out = np.empty(len(indptr) - 1, dtype=object)
    for i in range(len(out)):
        out[i] = values[indptr[i] : indptr[i + 1]]
    return out


def _check_mode(mode):
    if mode not in ("connectivity", "distance"):
        raise ValueError(f"mode must be 'connectivity' or 'distance', got {mode!r}.")
