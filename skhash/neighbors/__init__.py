"""Exact Hamming-space search of binary codes."""

from ._retriever import HammingRetriever
from ._sharded import sharded_kneighbors

__all__ = ["HammingRetriever", "sharded_kneighbors"]
