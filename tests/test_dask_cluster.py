"""skhash on a dask.distributed cluster of 2 worker processes (one cluster per module).

GridSearchCV under joblib's dask backend gives exactly the n_jobs=1 results, and lazy
transforms, searches and code files work when every object travels to other processes.
"""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skhash import HammingRetriever, ITQHasher, LSHHasher, load_codes, save_codes
from skhash.metrics import map_scorer, precision_scorer

da = pytest.importorskip("dask.array", reason="dask not installed: pip install 'skhash[dask]'")
distributed = pytest.importorskip(
    "distributed", reason="distributed not installed: pip install 'skhash[dask]'"
)
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def client():
    # Worker processes: every estimator, search backend and memory map is pickled.
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 400)
    X = rng.normal(size=(400, 24)) + 2 * rng.normal(size=(5, 24))[y]
    return X, y


def test_grid_search_on_the_cluster_equals_n_jobs_1(client, data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), HammingRetriever(ITQHasher(random_state=0)))
    grid = {"hammingretriever__hasher__n_bits": [4, 8, 16]}
    scoring = {
        "map": lambda estimator, X, y: estimator.score(X, y),
        "map@20": map_scorer(at=20),
        "p@10": precision_scorer(k=10),
    }

    def search(n_jobs):
        return GridSearchCV(
            pipe,
            grid,
            cv=KFold(3, shuffle=True, random_state=0),
            scoring=scoring,
            refit="map",
            n_jobs=n_jobs,
            error_score="raise",
        ).fit(X, y)

    local = search(1)
    with joblib.parallel_backend("dask", client=client):
        remote = search(-1)
    for key in ("map", "map@20", "p@10"):
        np.testing.assert_array_equal(
            remote.cv_results_[f"split0_test_{key}"], local.cv_results_[f"split0_test_{key}"]
        )
        np.testing.assert_array_equal(
            remote.cv_results_[f"mean_test_{key}"], local.cv_results_[f"mean_test_{key}"]
        )
    assert remote.best_params_ == local.best_params_
    assert local.cv_results_["mean_test_map"].min() > 0.4  # chance is 0.2
    neighbours = [
        best[-1].kneighbors(best[:-1].transform(X[:20]))[1]
        for best in (remote.best_estimator_, local.best_estimator_)
    ]
    np.testing.assert_array_equal(*neighbours)


def test_dask_transform_search_and_code_files_on_the_cluster(client, data, tmp_path):
    X, _ = data
    hasher = LSHHasher(n_bits=32, random_state=0).fit(X)
    dX = da.from_array(X, chunks=100)
    codes = hasher.transform(dX)
    np.testing.assert_array_equal(client.compute(codes).result(), hasher.transform(X))
    # Codes written chunk by chunk by the workers, then searched from the memory map.
    with client.as_current(), distributed.get_task_stream(client) as tasks:
        save_codes(tmp_path / "db.npy", codes)
    assert any("store" in task["key"][0] for task in tasks.data)  # written by the workers
    db = load_codes(tmp_path / "db.npy", mmap_mode="r")
    np.testing.assert_array_equal(db.unpack(), hasher.transform(X))
    retriever = HammingRetriever(n_neighbors=5).fit(db)
    dist, ind = retriever.kneighbors(codes)
    dist, ind = client.compute([dist, ind], sync=True)
    ref_dist, ref_ind = HammingRetriever(hasher, n_neighbors=5).fit(X).kneighbors(X)
    np.testing.assert_array_equal(ind, ref_ind)
    np.testing.assert_array_equal(dist, ref_dist)
