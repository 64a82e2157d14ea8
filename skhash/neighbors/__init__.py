"""Exact Hamming-space search of binary codes."""

from ._retriever import HammingRetriever

__all__ = ["HammingRetriever"]
