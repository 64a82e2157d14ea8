"""Regression against the MNIST figures of REFERENCE.md section 5, and faiss parity for ITQ."""

import numpy as np
import pytest

from skhash import ITQHasher, LSHHasher, SpectralHasher
from skhash.metrics import mean_average_precision

# bits -> mAP@all of REFERENCE.md section 5 (MNIST 70k, 1000 queries, stable ties).
PUBLISHED = {
    "ITQ": {16: 0.401, 32: 0.433, 64: 0.459},
    "LSH": {16: 0.234, 32: 0.280, 64: 0.317},
    "SH": {16: 0.273, 32: 0.262, 64: 0.250},
}


def map_of(hasher, split):
    X_db, y_db, X_query, y_query = split
    hasher.fit(X_db)
    return mean_average_precision(hasher.transform(X_query), hasher.transform(X_db), y_query, y_db)


@pytest.mark.parametrize("n_bits", [16, 32, 64])
def test_itq_matches_published_map(n_bits, mnist_reference_split):
    scores = [
        map_of(ITQHasher(n_bits, random_state=seed), mnist_reference_split) for seed in (0, 1)
    ]
    assert np.mean(scores) == pytest.approx(PUBLISHED["ITQ"][n_bits], abs=0.01)


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
