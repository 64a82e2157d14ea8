"""Squared distances to a few centres, a block of rows at a time.

The classic hashers compare every sample with a small set of points (anchors, sphere
centres, k-means codewords). The ``n_samples x n_centres`` products are built block by
block, each block sized by scikit-learn's ``working_memory`` setting, so no temporary
grows with the data.
"""

import numpy as np
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows

__all__ = [
    "centred_gaussian_kernel",
    "gaussian_kernel",
    "nearest_centres",
    "random_start_kmeans",
    "row_blocks",
    "squared_distances",
]


def row_blocks(n_rows, bytes_per_row, max_bytes=None):
    """Slices of at most ``working_memory`` (and ``max_bytes``) worth of rows, at least one
    row each."""
    row_bytes = max(int(bytes_per_row), 1)
    n_block = get_chunk_n_rows(row_bytes=row_bytes)
    if max_bytes is not None:
        n_block = max(1, min(n_block, max_bytes // row_bytes))
    return gen_batches(n_rows, n_block)


def _block_squared_distances(X_block, centres, centre_norms):
    distances = X_block @ centres.T
    distances *= -2
    distances += np.einsum("ij,ij->i", X_block, X_block)[:, None]
    distances += centre_norms
    return np.maximum(distances, 0, out=distances)


def squared_distances(X, centres):
    """``||x_i - c_j||^2`` for every row of ``X`` and every centre, of ``X``'s dtype."""
    centres = centres.astype(X.dtype, copy=False)
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    out = np.empty((X.shape[0], centres.shape[0]), dtype=X.dtype)
    for rows in row_blocks(X.shape[0], 3 * centres.shape[0] * X.itemsize):
        out[rows] = _block_squared_distances(X[rows], centres, centre_norms)
    return out


def nearest_centres(X, centres, n_nearest):
    """The ``n_nearest`` closest centres of every row: squared distances (ascending) and
    indices, both of shape ``(n_samples, n_nearest)``; ties go to the lower index."""
    centres = centres.astype(X.dtype, copy=False)
    centre_norms = np.einsum("ij,ij->i", centres, centres)
    distances = np.empty((X.shape[0], n_nearest), dtype=X.dtype)
    indices = np.empty((X.shape[0], n_nearest), dtype=np.intp)
    for rows in row_blocks(X.shape[0], 4 * centres.shape[0] * X.itemsize):
        block = _block_squared_distances(X[rows], centres, centre_norms)
        order = np.argsort(block, axis=1, kind="stable")[:, :n_nearest]
        indices[rows] = order
        distances[rows] = np.take_along_axis(block, order, axis=1)
    return distances, indices


def centred_gaussian_kernel(X, anchors):
    """Gaussian kernel features with the released KSH / scalable graph hashing bandwidth.

    ``exp(-||x - a||^2 / (2 w))`` with ``w`` the mean squared distance of the rows to the
    anchors, centred by the columns' means. Returns ``(K, w, means)``; new rows get
    ``gaussian_kernel(X, anchors, 2 * w) - means``.
    """
    sq_distances = squared_distances(X, anchors).astype(np.float64)
    width = float(sq_distances.mean()) or 1.0
    kernel = np.exp(sq_distances / -(2 * width), out=sq_distances)
    means = kernel.mean(axis=0)
    kernel -= means
    return kernel, width, means


def random_start_kmeans(X, n_clusters, max_iter, random_state):
    """A quick k-means as the released baselines run it (``litekmeans``): random rows as
    the start, one run, ``max_iter`` iterations. Returns the fitted ``KMeans``."""
    return KMeans(
        n_clusters=n_clusters,
        init="random",
        n_init=1,
        max_iter=max_iter,
        random_state=check_random_state(random_state),
    ).fit(X)


def gaussian_kernel(X, anchors, width):
    """``exp(-||x - a||^2 / width)`` for every row of ``X`` and every anchor, float64."""
    kernel = squared_distances(X, anchors).astype(np.float64, copy=False)
    kernel /= -width
    return np.exp(kernel, out=kernel)
