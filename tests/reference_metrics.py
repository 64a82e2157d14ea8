"""Deliberately slow reference metrics: full distance matrix and a stable argsort.

Independent of skhash's counting code: distances from unpacked bits, ranking by
``numpy.argsort(kind="stable")`` (ties in database order), AP normalised by the relevant
items retrieved in the top R, queries without any relevant item in the top R count as 0.
"""

import numpy as np


def _relevance(y_query, y_db):
    y_query, y_db = np.asarray(y_query), np.asarray(y_db)
    if y_query.ndim == 1:
        return y_query[:, None] == y_db[None, :]
    return (y_query.astype(np.int64) @ y_db.astype(np.int64).T) > 0


def reference_distances(query_codes, db_codes):
    q = np.asarray(query_codes, dtype=np.int64)
    db = np.asarray(db_codes, dtype=np.int64)
    return (q[:, None, :] != db[None, :, :]).sum(axis=2)


def reference_ranking(query_codes, db_codes, y_query, y_db):
    """Relevance of the database in ranked order (stable argsort), one row per query."""
    dist = reference_distances(query_codes, db_codes)
    order = np.argsort(dist, axis=1, kind="stable")
    return np.take_along_axis(_relevance(y_query, y_db), order, axis=1)


def reference_average_precisions(
    query_codes, db_codes, y_query, y_db, at=None, normalize="retrieved"
):
    ranked = reference_ranking(query_codes, db_codes, y_query, y_db)
    total = ranked.sum(axis=1)
    R = ranked.shape[1] if at is None else min(at, ranked.shape[1])
    ranked = ranked[:, :R]
    out = np.zeros(len(ranked))
    for i, row in enumerate(ranked):
        hits = np.cumsum(row)
        precisions = hits[row] / (np.flatnonzero(row) + 1)
        norm = {"retrieved": row.sum(), "relevant": total[i], "min": min(R, total[i])}
        out[i] = precisions.sum() / norm[normalize] if norm[normalize] else 0.0
    return out


def reference_map(query_codes, db_codes, y_query, y_db, at=None):
    return float(reference_average_precisions(query_codes, db_codes, y_query, y_db, at).mean())


def reference_precision_at_k(query_codes, db_codes, y_query, y_db, k):
    ranked = reference_ranking(query_codes, db_codes, y_query, y_db)
    return float(ranked[:, :k].sum(axis=1).mean() / k)
