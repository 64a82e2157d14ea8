"""Loaders of the benchmark data, and the query / database splits of the literature."""

from ._loaders import (
    get_data_home,
    load_cifar10_features,
    load_cifar10_retrieval,
    load_cifar10_supervised,
    load_mnist,
    load_olivetti_faces,
    load_opencv_digits,
)
from ._splits import PROTOCOLS, labelled_subset, query_database_split

__all__ = [
    "PROTOCOLS",
    "get_data_home",
    "labelled_subset",
    "load_cifar10_features",
    "load_cifar10_retrieval",
    "load_cifar10_supervised",
    "load_mnist",
    "load_olivetti_faces",
    "load_opencv_digits",
    "query_database_split",
]
