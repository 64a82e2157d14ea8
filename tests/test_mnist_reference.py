"""Regression against the MNIST reference figures (docs/benchmarks.rst); faiss parity of ITQ."""

import numpy as np
import pytest

from skhash import ITQHasher, LSHHasher, SpectralHasher
from skhash.metrics import mean_average_precision

pytestmark = pytest.mark.quality

# bits -> reference mAP@all (MNIST 70k, 1000 queries, stable ties; docs/benchmarks.rst).
PUBLISHED = {
    "LSH": {16: 0.234, 32: 0.280, 64: 0.317},
    "SH": {16: 0.273, 32: 0.262, 64: 0.250},
}


def map_of(hasher, split):
    X_db, y_db, X_query, y_query = split
    hasher.fit(X_db)
    return mean_average_precision(hasher.transform(X_query), hasher.transform(X_db), y_query, y_db)


# ITQ's mAP@all varies with the seed of its rotation: the reference 0.401 / 0.433 / 0.459 are
# single runs (at 64 bits a lucky one: 6 seeds give 0.450 +- 0.005, Gong's own code 0.453 +-
# 0.004). The mean of two seeds must fall in these ranges.
ITQ_RANGE = {16: (0.391, 0.411), 32: (0.423, 0.443), 64: (0.440, 0.462)}


@pytest.mark.parametrize("n_bits", [16, 32, 64])
def test_itq_matches_published_map(n_bits, mnist_reference_split):
    scores = [
        map_of(ITQHasher(n_bits, random_state=seed), mnist_reference_split) for seed in (0, 1)
    ]
    low, high = ITQ_RANGE[n_bits]
    assert low <= np.mean(scores) <= high


@pytest.mark.parametrize("n_bits", [16, 32, 64])
def test_spectral_hashing_matches_published_map(n_bits, mnist_reference_split):
    score = map_of(SpectralHasher(n_bits), mnist_reference_split)
    assert score == pytest.approx(PUBLISHED["SH"][n_bits], abs=0.02)


@pytest.mark.parametrize("n_bits", [16, 32, 64])
def test_lsh_matches_published_map(n_bits, mnist_reference_split):
    scores = [
        map_of(LSHHasher(n_bits, random_state=seed), mnist_reference_split) for seed in range(3)
    ]
    assert np.mean(scores) == pytest.approx(PUBLISHED["LSH"][n_bits], abs=0.03)


@pytest.mark.parametrize("n_bits", [16, 32, 64])
def test_itq_normalize_at_least_matches_faiss_itq_transform(n_bits, mnist_reference_split):
    faiss = pytest.importorskip("faiss")
    X_db, y_db, X_query, y_query = mnist_reference_split
    transform = faiss.ITQTransform(X_db.shape[1], n_bits, True)
    transform.train(np.ascontiguousarray(X_db, dtype=np.float32))

    def faiss_codes(X):
        return (transform.apply(np.ascontiguousarray(X, dtype=np.float32)) > 0).astype(np.uint8)

    faiss_map = mean_average_precision(faiss_codes(X_query), faiss_codes(X_db), y_query, y_db)
    ours = map_of(ITQHasher(n_bits, normalize=True, random_state=0), mnist_reference_split)
    # faiss's ITQ update uses V where the Procrustes solution needs V^T, so it stops at a
    # worse rotation (4-6 points lower here); ours must never be more than 0.02 below it.
    assert ours >= faiss_map - 0.02
