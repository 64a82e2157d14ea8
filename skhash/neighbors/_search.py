"""The interface every search backend of :class:`~skhash.HammingRetriever` implements."""

import abc

__all__ = ["SearchBackend"]


class SearchBackend(abc.ABC):
    """An exact Hamming search over a database of codes, held once and packed.

    Every backend returns exactly the same neighbours in the same order: by distance, then
    by database index; radius search is inclusive. It is built from the database (0/1
    codes, or :class:`~skhash.PackedCodes` for the memory-mapped search) and pickles with
    it.
    """

    #: The name ``HammingRetriever.backend_`` reports.
    name: str

    @abc.abstractmethod
    def kneighbors(self, codes, k):
        """``(distances, indices)``, each of shape ``(n_queries, k)``, of the ``k`` nearest
        database codes of each 0/1 query code; ``k`` is at most the database size."""

    @abc.abstractmethod
    def radius_neighbors(self, codes, radius, sort=True):
        """``(indptr, distances, indices)`` in CSR layout of the database codes within
        ``radius`` of each query, by (distance, index) when ``sort``, else by index."""

    @abc.abstractmethod
    def database_codes(self):
        """The database as 0/1 codes, unpacked from the backend's packed copy."""

    @abc.abstractmethod
    def add(self, codes):
        """Append 0/1 ``codes`` to the database: they get the next indices, and every
        search then equals one on a backend built from the whole database."""
