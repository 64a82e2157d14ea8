"""Metrics on real codes: ITQ codes of CIFAR-10 EfficientNet-Lite0 features."""

import numpy as np
import pytest
from conftest import SHARED_DATA, require_shared
from reference_metrics import reference_average_precisions, reference_precision_at_k
from sklearn.decomposition import PCA
from sklearn.metrics import auc
from sklearn.pipeline import make_pipeline

from skhash import HammingRetriever, ITQHasher
from skhash.metrics import (
    hamming_radius_pr_curve,
    mean_average_precision,
    precision_at_k,
    precision_within_radius,
)

pytestmark = pytest.mark.quality


@pytest.fixture(scope="module")
def shared_data():
    require_shared("cifar10_test_efficientnet_lite0.npz")
    return SHARED_DATA


@pytest.fixture(scope="module")
def cifar_codes(shared_data):
    data = np.load(shared_data / "cifar10_test_efficientnet_lite0.npz")
    X, y = data["features"].astype(np.float32), data["labels"]
    perm = np.random.default_rng(0).permutation(len(X))
    query, db = perm[:1000], perm[1000:]
    # ITQ after a randomized PCA: the same codes up to the initial rotation, and much
    # cheaper than ITQ's own full SVD of the 1280-dimensional features.
    hasher = make_pipeline(
        PCA(32, svd_solver="randomized", random_state=0), ITQHasher(n_bits=32, random_state=0)
    ).fit(X[db])
    return hasher.transform(X[query]), hasher.transform(X[db]), y[query], y[db]


def test_itq_map_reproduces_reference_number(cifar_codes):
    q, db, yq, ydb = cifar_codes
    # The reference figure: ITQ, 32 bits, 1000 queries / 9000 database: mAP@all 0.281
    assert mean_average_precision(q, db, yq, ydb) == pytest.approx(0.281, abs=0.01)


def test_real_codes_match_slow_reference(cifar_codes):
    q, db, yq, ydb = cifar_codes
    q, yq = q[:150], yq[:150]
    for at in [None, 1000]:
        for normalize in ["retrieved", "relevant"]:
            expected = reference_average_precisions(q, db, yq, ydb, at, normalize).mean()
            assert mean_average_precision(
                q, db, yq, ydb, at=at, normalize=normalize
            ) == pytest.approx(expected, abs=1e-12)
    assert precision_at_k(q, db, yq, ydb, k=100) == pytest.approx(
        reference_precision_at_k(q, db, yq, ydb, 100), abs=1e-12
    )
    # ties matter for mAP@R on 32-bit codes, less for mAP@all
    stable = mean_average_precision(q, db, yq, ydb, at=1000)
    expected_ties = mean_average_precision(q, db, yq, ydb, at=1000, ties="expected")
    assert 1e-5 < abs(stable - expected_ties) < 0.02


def test_retriever_and_radius_metrics_on_real_codes(cifar_codes):
    q, db, yq, ydb = cifar_codes
    retriever = HammingRetriever(n_neighbors=100, backend="numpy").fit(db, ydb)
    _, ind = retriever.kneighbors(q)
    assert np.mean(ydb[ind] == yq[:, None]) == pytest.approx(precision_at_k(q, db, yq, ydb, k=100))
    assert retriever.score(q, yq) == pytest.approx(mean_average_precision(q, db, yq, ydb))
    # hash lookup within radius 2 is far more precise than chance (0.1)
    assert precision_within_radius(q, db, yq, ydb, radius=2, no_retrieved="skip") > 0.4
    precision, recall, _ = hamming_radius_pr_curve(q, db, yq, ydb, average="micro")
    # area under the Hamming-radius PR curve (HABIR's mAP) is of the order of mAP@all
    area = auc(np.concatenate([[0], recall]), np.concatenate([[precision[0]], precision]))
    assert 0.15 < area < 0.6
