"""Retrieval metrics for binary codes, computed from per-distance counts."""

from ._retrieval import (
    MAP_PRESETS,
    mean_average_precision,
    precision_at_k,
    precision_within_radius,
    recall_at_k,
)

__all__ = [
    "MAP_PRESETS",
    "mean_average_precision",
    "precision_at_k",
    "precision_within_radius",
    "recall_at_k",
]
