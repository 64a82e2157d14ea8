"""Deliberately simple, slow reference metrics: stable argsort on integer distances.

The distances come from :func:`skhash.hamming_distances`, itself checked against a naive
``(a != b).sum()`` in ``test_bits.py``.

Used to check the fast metrics of :mod:`skhash.metrics` and the published figures. Ties are
broken by database index; average precision at R is normalised by the number of relevant
items retrieved in the top R; a query with no relevant item in its top R counts as 0.
"""

import numpy as np

from skhash import hamming_distances


def _relevance(y_query, y_db):
    y_query, y_db = np.asarray(y_query), np.asarray(y_db)
    if y_query.ndim == 2:
        return (y_query.astype(int) @ y_db.T.astype(int)) > 0
    return y_query[:, None] == y_db[None, :]


def ranked_relevance(query_codes, db_codes, y_query, y_db):
    """Relevance of the database items in ranked order, one row per query."""
    relevant = _relevance(y_query, y_db)
    distances = hamming_distances(query_codes, db_codes)
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(relevant, order, axis=1)


def reference_map(query_codes, db_codes, y_query, y_db, at=None):
    """Mean average precision at ``at`` (all database items when ``None``)."""
    ranked = ranked_relevance(query_codes, db_codes, y_query, y_db)
    ranked = ranked[:, : at or ranked.shape[1]]
    scores = []
    for row in ranked:
        hits = np.flatnonzero(row)
        if len(hits) == 0:
            scores.append(0.0)
            continue
        precision_at_hits = np.arange(1, len(hits) + 1) / (hits + 1)
        scores.append(precision_at_hits.mean())
    return float(np.mean(scores))


def reference_precision_at_k(query_codes, db_codes, y_query, y_db, k):
    """Mean fraction of relevant items among the first ``k`` retrieved."""
    ranked = ranked_relevance(query_codes, db_codes, y_query, y_db)
    return float(ranked[:, :k].mean())
