"""Exact nearest neighbours of binary codes in Hamming space."""

from numbers import Integral

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..utils import N_JOBS_CONSTRAINT
from ._base import HammingNeighborsBase, KNeighborsMixin, RadiusNeighborsMixin

__all__ = ["HammingRetriever"]


class HammingRetriever(KNeighborsMixin, RadiusNeighborsMixin, HammingNeighborsBase):
    """Exact k-nearest-neighbour and radius search of binary codes in Hamming space.

    Follows :class:`sklearn.neighbors.NearestNeighbors`: ``fit`` stores the database,
    ``kneighbors`` and ``radius_neighbors`` query it. Distances are integer counts of
    differing bits; results are ordered by distance, then by database index, whatever the
    backend; the radius is inclusive (``<= radius``). As the last step of a
    :class:`~sklearn.pipeline.Pipeline` after a hasher, ``score`` is the mean average
    precision of the queries against the fitted database, so ``GridSearchCV`` works with
    its default scoring; search through a fitted pipeline with
    ``pipe[-1].kneighbors(pipe[:-1].transform(X))``, or give the hasher as ``hasher=``.

    Parameters
    ----------
    hasher : "passthrough" or estimator, default="passthrough"
        ``"passthrough"``: ``X`` already holds 0/1 codes. An estimator (a hasher, or a
        pipeline ending in one) is cloned, fitted on the database and used to hash both
        the database and the queries.
    n_neighbors : int, default=10
        Number of neighbours returned by :meth:`kneighbors`.
    radius : int, default=0
        Largest distance returned by :meth:`radius_neighbors` (inclusive).
    backend : {"auto", "numpy", "faiss", "torch"}, default="auto"
        ``"numpy"``: packed ``uint64`` words, XOR and popcount in blocks of queries:
        compiled (numba) kernels when numba is installed (the ``fast`` extra; 1.1-5x raw
        faiss's speed, one thread), else :func:`numpy.bitwise_count` with a counting top-k
        over the ``n_bits + 1`` distances. ``"faiss"``: faiss ``IndexBinaryFlat``
        (``faiss-cpu``); its exclusive radius and tie order are corrected. ``"torch"``:
        distances as one exact float32 product of +-1 codes (a GEMM), on CUDA when
        available (else CPU, where it is much slower than faiss), no limit on ``k``.
        ``"auto"`` picks numpy with the compiled kernels, else faiss when installed, else
        numpy. All backends return identical results.
    bitorder : {"little", "big"} or None, default=None
        ``None``: ``X`` holds 0/1 codes of shape ``(n, n_bits)``. ``"little"`` (faiss
        layout) or ``"big"`` (:func:`numpy.packbits`, PostgreSQL bit strings): ``X`` holds
        packed ``uint8`` bytes of shape ``(n, ceil(n_bits / 8))`` in that bit order, kept
        packed from ``fit`` to the search (never unpacked); only with
        ``hasher="passthrough"``.
    n_jobs : int, default=None
        Threads working on blocks of queries (numpy backend) or OpenMP threads of faiss
        during a search. ``None`` means 1, ``-1`` all cores.
    device : str, default="auto"
        Device of the torch backend: ``"auto"`` (CUDA when available), ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``...
    algorithm : {"auto", "brute", "mih"}, default="auto"
        ``"brute"``: scan the whole database for each query. ``"mih"``: exact multi-index
        hashing (tables of substrings built in ``fit``; numpy backend, numba needed): far
        faster when the neighbours are near, as in clustered codes, and the same results;
        on a memory-mapped code file, in place (codes of whole 64-bit words).
        ``"auto"``: ``"mih"`` tables for in-memory databases of at least 2**18 codes
        (numpy backend, numba installed), and each call scans instead when, on a sample
        of its queries, MIH would look at too many codes (random codes). See
        :doc:`/search`.
    n_substrings : int, default=None
        Substrings (tables) of ``"mih"``; ``None``: substrings of about ``log2(n)`` bits.

    Attributes
    ----------
    codes_ : ndarray of shape (n_samples_fit_, n_bits_), dtype uint8, or None
        0/1 codes of the database, unpacked on access from the search backend, which holds
        the database once, packed; ``None`` when fitted on :class:`~skhash.PackedCodes`.
    packed_codes_ : PackedCodes or None
        The packed database when fitted on :class:`~skhash.PackedCodes` (e.g. a file
        memory-mapped by :func:`~skhash.load_codes`), else ``None``.
    labels_ : ndarray of shape (n_samples_fit_,) or (n_samples_fit_, n_labels) or None
        Labels passed to ``fit``, used by :meth:`score`.
    n_samples_fit_ : int
        Number of database codes.
    n_bits_ : int
        Bits per code.
    hasher_ : estimator or None
        The fitted clone of ``hasher``.
    backend_ : str
        The backend in use.
    algorithm_ : str
        ``"brute"`` or ``"mih"``: whether ``fit`` built multi-index tables.
    n_features_in_ : int
        Number of columns of ``X`` seen during fit.

    See Also
    --------
    skhash.metrics.mean_average_precision : the metric of :meth:`score`.

    Notes
    -----
    Larger than memory: ``fit(load_codes(path, mmap_mode="r"))`` keeps the database
    packed on disk and searches it block by block (numpy backend), the working memory
    bounded by scikit-learn's ``working_memory`` setting. Queries may be dask arrays:
    :meth:`kneighbors` and :meth:`radius_neighbors` then return lazy dask arrays, computed
    chunk by chunk.

    Examples
    --------
    >>> from skhash import HammingRetriever
    >>> db = [[0, 0, 0, 0], [1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 0, 1]]
    >>> retriever = HammingRetriever(n_neighbors=2, backend="numpy").fit(db)
    >>> dist, ind = retriever.kneighbors([[0, 0, 1, 0]])
    >>> dist, ind
    (array([[1, 1]], dtype=int16), array([[0, 2]]))
    >>> retriever.radius_neighbors([[0, 0, 1, 0]], radius=1, return_distance=False)[0]
    array([0, 2])
    """

    _parameter_constraints: dict = {
        "hasher": [StrOptions({"passthrough"}), HasMethods(["fit", "transform"])],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "radius": [Interval(Integral, 0, None, closed="left")],
        "backend": [StrOptions({"auto", "numpy", "faiss", "torch"})],
        "bitorder": [StrOptions({"little", "big"}), None],
        "n_jobs": N_JOBS_CONSTRAINT,
        "device": [str],
        "algorithm": [StrOptions({"auto", "brute", "mih"})],
        "n_substrings": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        hasher="passthrough",
        *,
        n_neighbors=10,
        radius=0,
        backend="auto",
        bitorder=None,
        n_jobs=None,
        device="auto",
        algorithm="auto",
        n_substrings=None,
    ):
        self.hasher = hasher
        self.n_neighbors = n_neighbors
        self.radius = radius
        self.backend = backend
        self.bitorder = bitorder
        self.n_jobs = n_jobs
        self.device = device
        self.algorithm = algorithm
        self.n_substrings = n_substrings

    def score(self, X, y, sample_weight=None):
        """Mean average precision of the queries ``X`` against the fitted database.

        Relevant items share the query's class (1-D labels) or a label (indicator
        matrices); the whole database is ranked, ties in database order.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_bits) or (n_queries, n_features)
            Queries.
        y : array-like of shape (n_queries,) or (n_queries, n_labels)
            Labels of the queries.
        sample_weight : None
            Not supported; present for API compatibility.

        Returns
        -------
        score : float
            mAP@all, see :func:`skhash.metrics.mean_average_precision`.
        """
        from ..metrics import mean_average_precision

        check_is_fitted(self)
        if sample_weight is not None:
            raise ValueError("HammingRetriever.score does not support sample_weight.")
        if self.labels_ is None:
            raise ValueError(
                "HammingRetriever was fitted without labels: call fit(X, y) to use score."
            )
        # Both sides packed in the database's bit order: nothing is unpacked.
        return mean_average_precision(
            self._codes(X, reset=False), self._index.database_packed(), y, self.labels_
        )
