"""k-NN over a database split in shards (a dask array of codes), merged exactly."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval

from ..codes._bits import check_codes, codes_to_words, result_distance_dtype
from ..codes._io import PackedCodes
from ..utils._dask import is_dask_array
from ..utils._validation import validate_function_params
from ._numpy import NumpySearch

__all__ = ["sharded_kneighbors"]


def _shard_neighbours(shard, query_words, k, offset):
    """The ``k`` nearest codes of the shard (indices shifted by ``offset``) of queries
    given as words, as int64 keys ``distance * 2**40 + index`` sorted per query."""
    shard = PackedCodes.from_codes(shard)
    dist, ind = NumpySearch(shard).kneighbors(query_words, min(k, len(shard)))
    return np.sort(dist.astype(np.int64) * 2**40 + (ind + offset), axis=1)


def _merge(a, b, k):
    return np.sort(np.hstack([a, b]), axis=1)[:, :k]


@validate_function_params(
    {
        "queries": ["array-like"],
        "database": [object],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }
)
def sharded_kneighbors(queries, database, n_neighbors=10):
    """The exact ``n_neighbors`` nearest database codes of each query, the database being
    a dask array whose row chunks are searched where they live (one task each, e.g. on
    the workers of a dask cluster) and merged by (distance, index).

    Parameters
    ----------
    queries : array-like of shape (n_queries, n_bits)
        0/1 query codes, in memory (sent to every shard).
    database : dask.array.Array of shape (n_db, n_bits)
        0/1 database codes, chunked by rows only.
    n_neighbors : int, default=10
        Neighbours per query; at most ``n_db``.

    Returns
    -------
    dist : ndarray of shape (n_queries, n_neighbors)
        Hamming distances, increasing.
    ind : ndarray of shape (n_queries, n_neighbors)
        Database indices; among equal distances, increasing: what
        :class:`~skhash.HammingRetriever` fitted on the whole database returns.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from skhash.neighbors import sharded_kneighbors
    >>> db = da.from_array(np.eye(6, dtype=np.uint8), chunks=(2, 6))
    >>> sharded_kneighbors(np.eye(6, dtype=np.uint8)[:1], db, n_neighbors=3)
    (array([[0, 2, 2]], dtype=int16), array([[0, 1, 2]]))
    """
    import dask

    if not is_dask_array(database) or database.ndim != 2 or len(database.chunks[1]) != 1:
        raise ValueError(
            "database must be a 2-D dask array chunked by rows only (rechunk({1: -1})); for "
            "an in-memory database use HammingRetriever."
        )
    queries = check_codes(queries, n_bits=database.shape[1], name="queries")
    if n_neighbors > database.shape[0]:
        raise ValueError(
            f"n_neighbors={n_neighbors} must be between 1 and the {database.shape[0]} "
            f"database codes."
        )
    query_words = codes_to_words(queries)
    sizes = database.chunks[0]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    parts = [
        dask.delayed(_shard_neighbours)(shard, query_words, int(n_neighbors), int(offset))
        for shard, offset, size in zip(database.to_delayed().ravel(), offsets, sizes, strict=True)
        if size > 0
    ]
    while len(parts) > 1:  # a tree of pairwise merges
        parts = [
            dask.delayed(_merge)(*parts[i : i + 2], n_neighbors) if i + 1 < len(parts) else parts[i]
            for i in range(0, len(parts), 2)
        ]
    (keys,) = dask.compute(parts[0])
    dist = (keys >> 40).astype(result_distance_dtype(database.shape[1]))
    return dist, (keys & (2**40 - 1)).astype(np.intp)
