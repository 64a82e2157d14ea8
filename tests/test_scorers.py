"""Retrieval scorers and HammingRetriever inside Pipeline, GridSearchCV, cross_val_score."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skhash import HammingRetriever, ITQHasher, LSHHasher
from skhash.metrics import (
    make_retrieval_scorer,
    map_scorer,
    mean_average_precision,
    precision_at_k,
    precision_scorer,
)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=240, n_features=20, centers=4, cluster_std=6.0, random_state=0)
    return X, y


CV = KFold(3, shuffle=True, random_state=0)


def test_hasher_scorer_ranks_fold_against_itself(blobs):
    X, y = blobs
    hasher = LSHHasher(n_bits=16, random_state=0).fit(X)
    codes = hasher.transform(X)
    assert map_scorer()(hasher, X, y) == mean_average_precision(codes, None, y, None)
    assert map_scorer(at=20, ties="expected")(hasher, X, y) == mean_average_precision(
        codes, None, y, None, at=20, ties="expected"
    )
    assert precision_scorer(10)(hasher, X, y) == precision_at_k(codes, None, y, None, k=10)
    assert make_retrieval_scorer("recall_at_k", k=5)(hasher, X, y) > 0
    restored = pickle.loads(pickle.dumps(map_scorer(at=20)))
    assert restored(hasher, X, y) == map_scorer(at=20)(hasher, X, y)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_over_hasher_pipeline(blobs, n_jobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), ITQHasher(n_iter=10, random_state=0))
    search = GridSearchCV(
        pipe, {"itqhasher__n_bits": [1, 16]}, scoring=map_scorer(at=50), cv=CV, n_jobs=n_jobs
    ).fit(X, y)
    assert search.best_params_ == {"itqhasher__n_bits": 16}
    # the recorded score of the first split is the metric on that test fold
    train, test = next(CV.split(X))
    fitted = make_pipeline(StandardScaler(), ITQHasher(n_bits=16, n_iter=10, random_state=0))
    fitted.fit(X[train])
    expected = mean_average_precision(fitted.transform(X[test]), None, y[test], None, at=50)
    assert search.cv_results_["split0_test_score"][1] == pytest.approx(expected)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_default_scoring_with_retriever_pipeline(blobs, n_jobs):
    X, y = blobs
    pipe = make_pipeline(
        StandardScaler(),
        ITQHasher(n_iter=10, random_state=0),
        HammingRetriever(backend="numpy"),
    )
    search = GridSearchCV(pipe, {"itqhasher__n_bits": [1, 16]}, cv=CV, n_jobs=n_jobs)
    search.fit(X, y)
    assert search.best_params_ == {"itqhasher__n_bits": 16}
    train, test = next(CV.split(X))
    hasher = make_pipeline(StandardScaler(), ITQHasher(n_bits=16, n_iter=10, random_state=0))
    db = hasher.fit(X[train]).transform(X[train])
    expected = mean_average_precision(hasher.transform(X[test]), db, y[test], y[train])
    assert search.cv_results_["split0_test_score"][1] == pytest.approx(expected)
    # the same through a scorer, and through a retriever that owns its hasher
    fitted = search.best_estimator_
    assert map_scorer()(fitted, X[:50], y[:50]) == pytest.approx(fitted.score(X[:50], y[:50]))
    own = HammingRetriever(
        make_pipeline(StandardScaler(), ITQHasher(n_bits=16, n_iter=10, random_state=0)),
        backend="numpy",
    ).fit(X[train], y[train])
    assert own.score(X[test], y[test]) == pytest.approx(expected)
    assert precision_scorer(10)(own, X[test], y[test]) == pytest.approx(
        precision_at_k(own.encode(X[test]), db, y[test], y[train], k=10)
    )


def test_cross_val_score(blobs):
    X, y = blobs
    scores = cross_val_score(
        LSHHasher(n_bits=32, random_state=0), X, y, cv=CV, scoring=precision_scorer(5)
    )
    chance = np.mean(np.bincount(y) / len(y))
    assert scores.shape == (3,) and np.all(scores > 2 * chance)
    retriever_scores = cross_val_score(
        make_pipeline(LSHHasher(n_bits=32, random_state=0), HammingRetriever(backend="numpy")),
        X,
        y,
        cv=CV,
    )
    assert np.all(retriever_scores > chance)


def test_scorer_errors(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="metric must be one of"):
        make_retrieval_scorer("ndcg")
    with pytest.raises(TypeError, match="metric must be a string or a callable"):
        make_retrieval_scorer(3)
    retriever = HammingRetriever(LSHHasher(n_bits=8, random_state=0), backend="numpy").fit(X)
    with pytest.raises(ValueError, match="fitted without labels"):
        map_scorer()(retriever, X, y)


@pytest.mark.parametrize("metric", ["precision_at_k", "recall_at_k"])
def test_k_beyond_a_fold_is_cut_with_a_warning_not_a_nan_score(blobs, metric):
    X, y = blobs  # folds of 80: 79 items for a hasher's queries, 160 for a retriever's
    scorer = make_retrieval_scorer(metric, k=100)
    grid = GridSearchCV(LSHHasher(random_state=0), {"n_bits": [8, 16]}, cv=CV, scoring=scorer)
    with pytest.warns(UserWarning, match="only 79 items in this fold.*at k=79"):
        grid.fit(X, y)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    hasher = LSHHasher(n_bits=16, random_state=0).fit(X[:80])
    with pytest.warns(UserWarning, match="only 79 items"):
        cut = scorer(hasher, X[:80], y[:80])
    metric_function = getattr(__import__("skhash.metrics").metrics, metric)
    assert cut == metric_function(hasher.transform(X[:80]), None, y[:80], None, k=79)
    retriever = HammingRetriever(hasher, backend="numpy").fit(X[:60], y[:60])
    with pytest.warns(UserWarning, match="only 60 items"):
        scorer(retriever, X[60:80], y[60:80])


def test_pipeline_neighbours_through_the_fitted_retriever(blobs):
    X, y = blobs
    pipe = make_pipeline(
        StandardScaler(),
        ITQHasher(n_bits=16, n_iter=10, random_state=0),
        HammingRetriever(n_neighbors=7, backend="numpy"),
    ).fit(X[:200], y[:200])
    dist, ind = pipe[-1].kneighbors(pipe[:-1].transform(X[200:]))
    own = HammingRetriever(
        make_pipeline(StandardScaler(), ITQHasher(n_bits=16, n_iter=10, random_state=0)),
        n_neighbors=7,
        backend="numpy",
    ).fit(X[:200], y[:200])
    own_dist, own_ind = own.kneighbors(X[200:])
    np.testing.assert_array_equal(ind, own_ind)
    np.testing.assert_array_equal(dist, own_dist)
    assert pipe.score(X[200:], y[200:]) == pytest.approx(own.score(X[200:], y[200:]))
