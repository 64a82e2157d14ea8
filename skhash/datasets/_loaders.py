"""Loaders of the offline ``.npz`` data files: MNIST, CIFAR-10 features, OpenCV digits, faces."""

import os
from pathlib import Path

import numpy as np

from ._splits import labelled_subset

__all__ = [
    "get_data_home",
    "load_cifar10_features",
    "load_cifar10_retrieval",
    "load_cifar10_supervised",
    "load_mnist",
    "load_olivetti_faces",
    "load_opencv_digits",
]


def get_data_home(data_home=None):
    """The folder of the offline data files: ``data_home``, else ``$SKHASH_DATA``, else
    ``../shared/data`` (relative to the working directory).

    Parameters
    ----------
    data_home : str or path-like, default=None
        An explicit folder, returned as it is.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from skhash.datasets import get_data_home
    >>> str(get_data_home("/data/skhash"))
    '/data/skhash'
    """
    return Path(data_home or os.environ.get("SKHASH_DATA", "../shared/data"))


def _data_file(name, data_home):
    home = get_data_home(data_home)
    path = home / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{name} not found in {home}; pass data_home= or set the SKHASH_DATA environment "
            f"variable to the folder that holds it."
        )
    return path


def load_mnist(data_home=None):
    """MNIST 70k (the 60k training images, then the 10k test images), pixels / 255.

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``mnist_train.npz`` and ``mnist_test.npz``; default ``$SKHASH_DATA``,
        else ``../shared/data``.

    Returns
    -------
    X : ndarray of shape (70000, 784), float32
    y : ndarray of shape (70000,), uint8
    """
    parts = [_load_images(f"mnist_{split}.npz", data_home) for split in ("train", "test")]
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])


def load_cifar10_features(data_home=None, *, subset="test"):
    """EfficientNet-Lite0 features of CIFAR-10 images (rows sorted by class).

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``cifar10_{test,train}_efficientnet_lite0.npz``.
    subset : {"test", "train"}, default="test"
        The 10,000 test images or the 50,000 training images.

    Returns
    -------
    X : ndarray of shape (10000, 1280) or (50000, 1280), float32
    y : ndarray of shape (n_samples,), uint8
    """
    if subset not in ("test", "train"):
        raise ValueError(f"subset must be 'test' or 'train', got {subset!r}.")
    with np.load(_data_file(f"cifar10_{subset}_efficientnet_lite0.npz", data_home)) as data:
        return data["features"].astype(np.float32), data["labels"]


def load_cifar10_retrieval(data_home=None):
    """The IDR-AE paper's CIFAR-10 protocol on EfficientNet-Lite0 features.

    Queries are the 10,000 test images (1,000 per class); the database, which is also the
    training set, is the 50,000 training images. Relevant means same class.

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding both CIFAR-10 feature files.

    Returns
    -------
    X_db : ndarray of shape (50000, 1280), float32
    y_db : ndarray of shape (50000,), uint8
    X_query : ndarray of shape (10000, 1280), float32
    y_query : ndarray of shape (10000,), uint8
    """
    X_db, y_db = load_cifar10_features(data_home, subset="train")
    X_query, y_query = load_cifar10_features(data_home, subset="test")
    return X_db, y_db, X_query, y_query


def load_cifar10_supervised(data_home=None, *, n_per_class=500, random_state=0):
    """The supervised CIFAR-10 protocol on EfficientNet-Lite0 features.

    The training set is ``n_per_class`` labelled images of every class (500: 5,000 in
    all), drawn from the 50,000 training images; the 10,000 test images are the queries
    and all 50,000 training images the database (relevant means same class), as in SDH,
    KSH, COSDISH and most deep supervised hashing papers.

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding both CIFAR-10 feature files.
    n_per_class : int, default=500
        Labelled training images per class.
    random_state : int, RandomState instance or None, default=0
        Seed of the labelled images.

    Returns
    -------
    X_train : ndarray of shape (10 * n_per_class, 1280), float32
    y_train : ndarray of shape (10 * n_per_class,), uint8
    X_db : ndarray of shape (50000, 1280), float32
    y_db : ndarray of shape (50000,), uint8
    X_query : ndarray of shape (10000, 1280), float32
    y_query : ndarray of shape (10000,), uint8
    """
    X_db, y_db, X_query, y_query = load_cifar10_retrieval(data_home)
    train = labelled_subset(y_db, n_per_class, random_state=random_state)
    return X_db[train], y_db[train], X_db, y_db, X_query, y_query


def _load_images(name, data_home):
    with np.load(_data_file(name, data_home)) as data:
        images = data["images"]
        return images.reshape(len(images), -1).astype(np.float32) / 255.0, data["labels"]


def load_opencv_digits(data_home=None):
    """OpenCV's 5,000 handwritten digits (20 x 20, 500 per class), pixels / 255.

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``opencv_digits.npz``.

    Returns
    -------
    X : ndarray of shape (5000, 400), float32
    y : ndarray of shape (5000,), uint8
    """
    return _load_images("opencv_digits.npz", data_home)


def load_olivetti_faces(data_home=None):
    """The 400 Olivetti faces (64 x 64, 40 people x 10 images), pixels / 255.

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``olivetti_faces.npz``.

    Returns
    -------
    X : ndarray of shape (400, 4096), float32
    y : ndarray of shape (400,), uint8, the person
    """
    return _load_images("olivetti_faces.npz", data_home)
