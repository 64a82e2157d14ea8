import numpy as np
import pytest
from conftest import SHARED_DATA, require_shared

from skhash.datasets import (
    PROTOCOLS,
    labelled_subset,
    load_cifar10_features,
    load_cifar10_retrieval,
    load_cifar10_supervised,
    load_mnist,
    load_olivetti_faces,
    load_opencv_digits,
    query_database_split,
)


def test_split_per_class_is_disjoint_and_covers_everything():
    y = np.repeat(np.arange(4), [10, 12, 9, 15])
    query, db = query_database_split(y, n_queries_per_class=3, random_state=0)
    assert np.bincount(y[query]).tolist() == [3, 3, 3, 3]
    assert np.intersect1d(query, db).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([query, db])), np.arange(len(y)))


def test_split_total_is_stratified_and_seeded():
    y = np.repeat(np.arange(10), 100)
    query, db = query_database_split(y, n_queries=100, random_state=1)
    assert np.bincount(y[query]).tolist() == [10] * 10 and len(db) == 900
    again, _ = query_database_split(y, n_queries=100, random_state=1)
    other, _ = query_database_split(y, n_queries=100, random_state=2)
    np.testing.assert_array_equal(query, again)
    assert not np.array_equal(query, other)


def test_named_protocols():
    y = np.repeat(np.arange(10), 1_200)
    query, db = query_database_split(y, protocol="idrae-code", random_state=0)
    assert len(query) == 10_000 and len(db) == 2_000
    query, _ = query_database_split(y, protocol="idrae-paper", random_state=0)
    assert len(query) == 10 * PROTOCOLS["idrae-paper"]["n_queries_per_class"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "exactly one of n_queries and n_queries_per_class"),
        ({"n_queries": 5, "n_queries_per_class": 1}, "exactly one"),
        ({"n_queries": 30}, r"n_queries must be an integer in \[1, 29\]"),
        ({"n_queries_per_class": 10}, "no database item would be left"),
        ({"protocol": "nope"}, "protocol must be one of"),
    ],
)
def test_split_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        query_database_split(np.repeat(np.arange(3), 10), **kwargs)


def test_loaders_name_the_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="SKHASH_DATA"):
        load_mnist(data_home=tmp_path)


def test_loaders_read_the_shared_data():
    require_shared("mnist_train.npz", "mnist_test.npz", "cifar10_test_efficientnet_lite0.npz")
    X, y = load_mnist(data_home=SHARED_DATA)
    assert X.shape == (70_000, 784) and X.dtype == np.float32 and 0 <= X.min() and X.max() <= 1
    assert np.bincount(y).tolist()[:2] == [5923 + 980, 6742 + 1135]
    X, y = load_cifar10_features(data_home=SHARED_DATA)
    assert X.shape == (10_000, 1280) and np.bincount(y).tolist() == [1000] * 10


def test_cifar10_retrieval_is_the_paper_protocol():
    require_shared("cifar10_train_efficientnet_lite0.npz", "cifar10_test_efficientnet_lite0.npz")
    X_db, y_db, X_q, y_q = load_cifar10_retrieval(data_home=SHARED_DATA)
    assert X_db.shape == (50_000, 1280) and X_q.shape == (10_000, 1280)
    assert X_db.dtype == np.float32 and X_db.min() >= 0
    assert np.bincount(y_db).tolist() == [5000] * 10 and np.bincount(y_q).tolist() == [1000] * 10
    X_test, y_test = load_cifar10_features(data_home=SHARED_DATA)
    np.testing.assert_array_equal(X_q, X_test)
    np.testing.assert_array_equal(y_q, y_test)


def test_cifar10_subset_is_checked():
    with pytest.raises(ValueError, match="subset must be 'test' or 'train'"):
        load_cifar10_features(subset="validation")


def test_image_loaders_read_the_shared_data():
    require_shared("opencv_digits.npz", "olivetti_faces.npz")
    X, y = load_opencv_digits(data_home=SHARED_DATA)
    assert X.shape == (5000, 400) and np.bincount(y).tolist() == [500] * 10
    assert X.dtype == np.float32 and X.min() == 0 and X.max() == 1
    X, y = load_olivetti_faces(data_home=SHARED_DATA)
    assert X.shape == (400, 4096) and np.bincount(y).tolist() == [10] * 40
    assert 0 <= X.min() and X.max() <= 1


def test_labelled_subset_draws_the_same_count_of_every_class():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    index = labelled_subset(y, 5, random_state=0)
    assert np.bincount(y[index]).tolist() == [5] * 4 and np.all(np.diff(index) > 0)
    np.testing.assert_array_equal(index, labelled_subset(y, 5, random_state=0))
    assert not np.array_equal(index, labelled_subset(y, 5, random_state=1))
    with pytest.raises(ValueError, match="Class 0 has 10 samples, fewer than n_per_class=11"):
        labelled_subset(y, 11)
    with pytest.raises(ValueError, match="n_per_class must be a positive integer"):
        labelled_subset(y, 0)


def test_cifar10_supervised_is_500_labelled_images_per_class():
    require_shared("cifar10_train_efficientnet_lite0.npz", "cifar10_test_efficientnet_lite0.npz")
    X_train, y_train, X_db, y_db, X_q, y_q = load_cifar10_supervised(data_home=SHARED_DATA)
    assert X_train.shape == (5_000, 1280) and np.bincount(y_train).tolist() == [500] * 10
    assert X_db.shape == (50_000, 1280) and X_q.shape == (10_000, 1280)
    rows = labelled_subset(y_db, 500, random_state=0)
    np.testing.assert_array_equal(X_train, X_db[rows])
