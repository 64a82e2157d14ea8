"""Retrieval metrics for binary codes, computed from per-distance counts."""

from ._curves import hamming_radius_pr_curve, precision_recall_curve
from ._neighbors import deprecated_alias, neighbor_recall
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
    neighbor_recall_scorer,
    precision_scorer,
)

__all__ = [
    "MAP_PRESETS",
    "RetrievalPRDisplay",
    "hamming_radius_pr_curve",
    "make_retrieval_scorer",
    "map_scorer",
    "mean_average_precision",
    "neighbor_recall",
    "neighbor_recall_scorer",
    "precision_at_k",
    "precision_recall_curve",
    "precision_scorer",
    "precision_within_radius",
    "recall_at_k",
]

# The former British spellings, deprecated (skhash.neighbors has always had this one).
neighbour_recall = deprecated_alias(neighbor_recall, "neighbour_recall")
neighbour_recall_scorer = deprecated_alias(neighbor_recall_scorer, "neighbour_recall_scorer")
