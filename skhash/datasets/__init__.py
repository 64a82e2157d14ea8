"""Loaders of the benchmark data, and the query / database splits of the literature."""

from ._loaders import load_cifar10_features, load_mnist
from ._splits import PROTOCOLS, query_database_split

__all__ = ["PROTOCOLS", "load_cifar10_features", "load_mnist", "query_database_split"]
