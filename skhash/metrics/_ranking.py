"""Counting machinery shared by the retrieval metrics and the Hamming retriever.

Every quantity is derived, per block of queries, from integer Hamming distances: the
number of database items and of relevant items at each distance (``n_bits + 1``
buckets), plus the positions inside one distance bucket when the stable
(distance, database index) order matters. No float ``n_query x n_db`` matrix is made and
no comparison sort of a whole row is run.
"""

import numpy as np
from joblib import Parallel, delayed

from ..codes._bits import hamming_block, packed_to_words
from ..codes._io import PackedCodes, code_words
from ..codes._selection import (
    BYTES_PER_PAIR,
    MAX_BLOCK_BYTES,
    boundary,
    bucket_counts,
    first_in_bucket,
    rows_per_block,
)
from ..utils import check_labels, check_n_jobs, check_same_label_kind
from ..utils._threads import thread_count


class Relevance:
    """Relevance of database items to queries: same class, or at least one shared label."""

    def __init__(self, y_query, y_db, n_query, n_db):
        y_query = check_labels(y_query, n_query, "y_query")
        y_db = check_labels(y_db, n_db, "y_db")
        if y_query.ndim == 1 and y_db.ndim == 1:
            check_same_label_kind(("y_query", y_query), ("y_db", y_db))
        if y_query.ndim != y_db.ndim:
            raise ValueError(
                f"y_query is {y_query.ndim}-D but y_db is {y_db.ndim}-D: give both as class "
                f"labels or both as indicator matrices."
            )
        self.multilabel = y_query.ndim == 2
        if self.multilabel:
            if y_query.shape[1] != y_db.shape[1]:
                raise ValueError(
                    f"y_query has {y_query.shape[1]} label columns but y_db has {y_db.shape[1]}."
                )
            both = np.vstack([y_query, y_db]).astype(bool).astype(np.uint8)
            words = packed_to_words(np.packbits(both, axis=1, bitorder="little"))
            self.query, self.db = words[:n_query], words[n_query:]
        else:
            _, codes = np.unique(np.concatenate([y_query, y_db]), return_inverse=True)
            codes = codes.astype(np.intp)
            self.query, self.db = codes[:n_query], codes[n_query:]

    def block(self, start, stop):
        """Boolean relevance of every database item to queries ``start:stop``."""
        if not self.multilabel:
            return self.db[None, :] == self.query[start:stop, None]
        q = self.query[start:stop]
        rel = np.zeros((len(q), len(self.db)), dtype=bool)
        for w in range(q.shape[1]):
            rel |= (q[:, w, None] & self.db[None, :, w]) != 0
        return rel


class RankingProblem:
    """Queries, database and labels, validated, with blocked access to distances.

    ``db_codes=None`` ranks every query against the other queries (leave-one-out): the
    query itself goes to an extra bucket ``n_bits + 1`` that is never retrieved.
    """

    def __init__(self, query_codes, db_codes, y_query=None, y_db=None, *, labels=True, n_jobs=None):
        self.n_jobs = check_n_jobs(n_jobs)
        # Packed codes are read as words in their own bit order; 0/1 codes are packed in it.
        bitorder = next(
            (c.bitorder for c in (query_codes, db_codes) if isinstance(c, PackedCodes)), "little"
        )
        self.query_words, self.n_bits = code_words(
            query_codes, name="query_codes", bitorder=bitorder
        )
        self.n_query = len(self.query_words)
        if self.n_query == 0:
            raise ValueError(
                "query_codes holds no codes: a retrieval metric averages over queries, give "
                "at least one."
            )
        self.exclude_self = db_codes is None
        if self.exclude_self:
            if y_db is not None:
                raise ValueError("y_db must be None when db_codes is None (leave-one-out).")
            self.db_words, y_db = self.query_words, y_query
        else:
            self.db_words, _ = code_words(
                db_codes, name="db_codes", n_bits=self.n_bits, bitorder=bitorder
            )
        self.n_db = len(self.db_words)
        self.n_candidates = self.n_db - self.exclude_self
        if self.n_candidates < 1:
            raise ValueError(
                "The database is empty: leave-one-out ranking needs at least 2 codes."
                if self.exclude_self
                else "db_codes must hold at least one code."
            )
        self.n_buckets = self.n_bits + 1 + self.exclude_self
        self.relevance = Relevance(y_query, y_db, self.n_query, self.n_db) if labels else None

    def distances(self, start, stop):
        dist = hamming_block(self.query_words[start:stop], self.db_words)
        if self.exclude_self:
            rows = np.arange(stop - start)
            dist[rows, start + rows] = self.n_bits + 1
        return dist

    def block(self, start, stop, counts=True):
        """Distances, relevance and (with ``counts``) their per-bucket counts."""
        dist = self.distances(start, stop)
        rel = self.relevance.block(start, stop)
        if self.exclude_self:
            rows = np.arange(stop - start)
            rel[rows, start + rows] = False
        if not counts:
            return dist, rel
        hist, hist_rel = bucket_counts(dist, self.n_buckets, rel)
        return dist, rel, hist, hist_rel

    def block_bounds(self, bytes_per_pair=BYTES_PER_PAIR):
        n_threads = thread_count(self.n_jobs)
        step = self.n_query  # no temporaries per pair: one block per thread
        if bytes_per_pair:
            step = rows_per_block(self.n_db, max(MAX_BLOCK_BYTES // n_threads, 1), bytes_per_pair)
        step = max(1, min(step, -(-self.n_query // n_threads)))
        return [(s, min(s + step, self.n_query)) for s in range(0, self.n_query, step)]

    def for_each_block(self, func, bytes_per_pair=None):
        """Call ``func(start, stop)`` on every block of queries, in ``n_jobs`` threads.

        ``func`` writes its results into disjoint slices of preallocated arrays; numpy
        releases the GIL in the distance and counting kernels. ``bytes_per_pair``: the
        temporaries ``func`` needs per (query, database item) pair, which size the blocks
        (default: those of the numpy paths; 0: none, one block per thread).
        """
        blocks = self.block_bounds(BYTES_PER_PAIR if bytes_per_pair is None else bytes_per_pair)
        if thread_count(self.n_jobs) == 1 or len(blocks) == 1:
            for start, stop in blocks:
                func(start, stop)
        else:
            Parallel(n_jobs=thread_count(self.n_jobs), require="sharedmem")(
                delayed(func)(start, stop) for start, stop in blocks
            )


def relevant_in_top(dist, rel, hist, hist_rel, k, ties):
    """Number of relevant items among the ``k`` first of each row (expected for ties)."""
    bucket, _, taken = boundary(hist, k)
    rows = np.arange(hist.shape[0])
    cum_rel = np.cumsum(hist_rel, axis=1)
    before_rel = cum_rel[rows, bucket] - hist_rel[rows, bucket]
    size = hist[rows, bucket]
    if ties == "expected":
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(size > 0, hist_rel[rows, bucket] / size, 0.0)
        return before_rel + taken * share
    partial = (taken < size) & (taken > 0)
    count = before_rel + np.where(taken > 0, hist_rel[rows, bucket], 0)
    if partial.any():
        idx = np.flatnonzero(partial)
        mask = first_in_bucket(dist[idx], bucket[idx], taken[idx])
        count[idx] = before_rel[idx] + (mask & rel[idx]).sum(axis=1)
    return count


def harmonic(n):
    """``H[i] = 1 + 1/2 + ... + 1/i`` for ``i = 0..n``."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n + 1))])
