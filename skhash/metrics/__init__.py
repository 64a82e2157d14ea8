"""Retrieval metrics for binary codes, computed from per-distance counts."""

from ._curves import hamming_radius_pr_curve, precision_recall_curve
from ._neighbours import neighbour_recall
from ._plot import RetrievalPRDisplay
from ._retrieval import (
    MAP_PRESETS,
    mean_average_precision,
    precision_at_k,
    precision_within_radius,
    recall_at_k,
)
from ._scorers import (
    make_retrieval_scorer,
    map_scorer,
    neighbour_recall_scorer,
    precision_scorer,
)

__all__ = [
    "MAP_PRESETS",
    "RetrievalPRDisplay",
    "hamming_radius_pr_curve",
    "make_retrieval_scorer",
    "map_scorer",
    "mean_average_precision",
    "neighbour_recall",
    "neighbour_recall_scorer",
    "precision_at_k",
    "precision_recall_curve",
    "precision_scorer",
    "precision_within_radius",
    "recall_at_k",
]
