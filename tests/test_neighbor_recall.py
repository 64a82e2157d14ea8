"""Label-free recall of exact neighbours: against a brute-force reference, and as a scorer."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skhash import HammingRetriever, ITQHasher, LSHHasher
from skhash.metrics import neighbor_recall, neighbor_recall_scorer


def brute_force(query_codes, db_codes, X_query, X_db, k, at, metric, leave_one_out=False):
    scores = []
    for i in range(len(query_codes)):
        if metric == "cosine":
            a = X_query[i] / np.linalg.norm(X_query[i])
            b = X_db / np.linalg.norm(X_db, axis=1, keepdims=True)
            feature_dist = 1 - b @ a
        else:
            feature_dist = np.linalg.norm(X_db - X_query[i], axis=1)
        hamming = (db_codes != query_codes[i]).sum(axis=1)
        candidates = np.arange(len(X_db))
        if leave_one_out:
            candidates = candidates[candidates != i]
        exact = candidates[np.lexsort((candidates, feature_dist[candidates]))][:k]
        ranked = candidates[np.lexsort((candidates, hamming[candidates]))][:at]
        scores.append(np.isin(exact, ranked).sum() / k)
    return np.mean(scores)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("k, at", [(1, 1), (10, 50), (5, 400)])
def test_equals_brute_force(metric, k, at):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 12))
    codes = ITQHasher(n_bits=8, random_state=0).fit(X).transform(X)  # many ties at 8 bits
    q, db = codes[:40], codes[40:]
    expected = brute_force(q, db, X[:40], X[40:], k, at, metric)
    assert neighbor_recall(q, db, X[:40], X[40:], k=k, at=at, metric=metric) == pytest.approx(
        expected
    )


def test_leave_one_out_equals_brute_force():
    X = np.random.default_rng(1).normal(size=(150, 6))
    codes = LSHHasher(n_bits=12, random_state=0).fit(X).transform(X)
    expected = brute_force(codes, codes, X, X, 5, 20, "euclidean", leave_one_out=True)
    assert neighbor_recall(codes, None, X, k=5, at=20) == pytest.approx(expected)


def test_perfect_codes_and_bounds():
    X = np.random.default_rng(2).normal(size=(300, 4))
    codes = ITQHasher(n_bits=4, random_state=0).fit(X).transform(X)
    assert neighbor_recall(codes[:20], codes, X[:20], X, k=10, at=300) == 1.0
    assert 0 <= neighbor_recall(codes[:20], codes, X[:20], X, k=10, at=10) < 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"k": 0}, "'k' parameter of neighbor_recall must be an int"),
        ({"at": True}, "'at' parameter of neighbor_recall must be an int"),
        ({"metric": "manhattan"}, "'metric' parameter of neighbor_recall"),
        ({"k": 500}, "must not exceed the 280 database items"),
    ],
)
def test_bad_options(kwargs, match):
    X = np.random.default_rng(0).normal(size=(300, 4))
    codes = LSHHasher(n_bits=8, random_state=0).fit(X).transform(X)
    with pytest.raises(ValueError, match=match):
        neighbor_recall(codes[:20], codes[20:], X[:20], X[20:], **kwargs)
    with pytest.raises(ValueError, match="X_db has 279 rows but there are 280 codes"):
        neighbor_recall(codes[:20], codes[20:], X[:20], X[21:])


def test_scorer_tunes_without_labels():
    X = np.random.default_rng(0).normal(size=(400, 16)) * np.linspace(0.1, 3, 16)
    pipe = make_pipeline(StandardScaler(), ITQHasher(random_state=0))
    search = GridSearchCV(
        pipe, {"itqhasher__n_bits": [2, 16]}, scoring=neighbor_recall_scorer(k=5, at=20), cv=2
    ).fit(X)
    assert search.best_params_ == {"itqhasher__n_bits": 16}
    assert 0 < search.best_score_ <= 1
    with pytest.raises(ValueError, match="'k' parameter of neighbor_recall_scorer"):
        neighbor_recall_scorer(k=0)
    retriever = HammingRetriever(LSHHasher(n_bits=8, random_state=0)).fit(X)
    with pytest.raises(TypeError, match="scores hashers"):
        neighbor_recall_scorer()(retriever, X)
