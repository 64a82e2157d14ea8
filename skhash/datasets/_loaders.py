"""Loaders of the offline ``.npz`` data files (MNIST, CIFAR-10 EfficientNet-Lite0 features)."""

import os
from pathlib import Path

import numpy as np

__all__ = ["load_cifar10_features", "load_mnist"]


def _data_file(name, data_home):
    home = Path(data_home or os.environ.get("SKHASH_DATA", "../shared/data"))
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
    parts = [np.load(_data_file(f"mnist_{split}.npz", data_home)) for split in ("train", "test")]
    X = np.concatenate([p["images"].reshape(len(p["images"]), -1) for p in parts])
    y = np.concatenate([p["labels"] for p in parts])
    return X.astype(np.float32) / 255.0, y


def load_cifar10_features(data_home=None):
    """EfficientNet-Lite0 features of the 10,000 CIFAR-10 test images (rows sorted by class).

    Parameters
    ----------
    data_home : str or path, default=None
        Folder holding ``cifar10_test_efficientnet_lite0.npz``.

    Returns
    -------
    X : ndarray of shape (10000, 1280), float32
    y : ndarray of shape (10000,), uint8
    """
    with np.load(_data_file("cifar10_test_efficientnet_lite0.npz", data_home)) as data:
        return data["features"].astype(np.float32), data["labels"]
