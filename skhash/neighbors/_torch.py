"""The torch backend: distances as one exact matrix product on a device (CUDA or CPU)."""

import numpy as np

from ..codes._bits import distance_dtype, n_words, packed_to_words
from ..codes._io import PackedCodes
from ..utils import import_optional
from ..utils._torch import resolve_device, usable_device
from ._search import SearchBackend, block_plan, concat_csr

__all__ = ["TorchSearch"]

# Bytes of one (query, item) pair of a block: the float32 product and the int64 key.
_PAIR_BYTES = 12


def _import_torch():
    return import_optional("torch", extra="torch", purpose="backend='torch'")


class TorchSearch(SearchBackend):
    """Distances as one matrix product on a torch device (CUDA, or the CPU).

    Codes become +-1 vectors, whose dot product is ``n_bits - 2 * distance``: a float32
    product of +-1 values is exact for any code length up to 2^24 bits (TF32 too), and a
    GEMM is what a GPU does fastest. The database stays as int64 words on the device (its
    one copy) and is expanded to +-1 one block at a time; blocks follow
    :func:`~._search.block_plan`. The exact (distance, index) order comes from ``topk``
    on the key ``distance * n_db + index``; ``k`` has no upper limit besides the database
    size.
    """

    name = "torch"

    def __init__(self, packed, device="auto"):
        _import_torch()  # a clear ImportError when torch is missing
        self.device = resolve_device(device)
        self.n_bits, self.bitorder = packed.n_bits, packed.bitorder
        self.db = self._words(packed_to_words(packed.packed))
        # Where the code's bits sit in a row of words (the rest is zero padding).
        bits = np.arange(self.n_bits)
        if self.bitorder == "big":
            bits = 8 * (bits // 8) + 7 - bits % 8
        self._bit_lanes = self._torch.from_numpy(bits).to(self.device)

    @property
    def _torch(self):
        return _import_torch()

    @property
    def n_db(self):
        return len(self.db)

    def add(self, packed):
        self.db = self._torch.cat([self.db, self._words(packed_to_words(packed.packed))])

    def database_words(self):
        return self.db.cpu().numpy().view(np.uint64)

    def _words(self, words):
        """``uint64`` words as int64 words on the device."""
        words = self._torch.from_numpy(np.ascontiguousarray(words).view(np.int64))
        return words.to(self.device, copy=True)  # never the caller's array

    def _signs(self, words):
        """int64 words -> +-1 float32 codes of shape ``(n, n_bits)``, the bits in the
        database's order (which the distances do not depend on)."""
        torch = self._torch
        shifts = torch.arange(64, device=self.device)
        bits = (words[:, :, None] >> shifts) & 1
        signs = bits.reshape(len(words), -1)[:, self._bit_lanes].to(torch.float32)
        return signs.mul_(2).sub_(1)

    def _blocks(self, queries):
        """``(query offset, database offset, distances)`` for every pair of blocks."""
        torch = self._torch
        q_step, db_step = block_plan(
            len(queries), self.n_db, pair_bytes=_PAIR_BYTES, row_bytes=4 * self.n_bits
        )
        for start in range(0, self.n_db, db_step):
            stop = min(start + db_step, self.n_db)
            db_signs = self._signs(self.db[start:stop]).T
            for qs in range(0, len(queries), q_step):
                product = self._signs(queries[qs : qs + q_step]) @ db_signs
                yield qs, start, ((self.n_bits - product) * 0.5).to(torch.int64)

    def kneighbors(self, query_words, k):
        torch = self._torch
        queries = self._words(query_words)
        best = {}
        for qs, start, dist in self._blocks(queries):
            keys = dist * self.n_db + torch.arange(start, start + dist.shape[1], device=self.device)
            if qs in best:
                keys = torch.cat([best[qs], keys], dim=1)
            best[qs] = torch.topk(keys, min(k, keys.shape[1]), dim=1, largest=False).values
        dtype = distance_dtype(n_words(self.n_bits))
        if not best:
            return np.empty((0, k), dtype=dtype), np.empty((0, k), dtype=np.intp)
        keys = torch.cat([best[qs] for qs in sorted(best)]).cpu().numpy()
        return (keys // self.n_db).astype(dtype), (keys % self.n_db).astype(np.intp)

    def radius_neighbors(self, query_words, radius, sort=True):
        torch = self._torch
        queries = self._words(query_words)
        dtype = distance_dtype(n_words(self.n_bits))
        parts = []
        for qs, start, dist in self._blocks(queries):
            rows, cols = torch.nonzero(dist <= radius, as_tuple=True)
            parts.append(
                (
                    rows.cpu().numpy() + qs,
                    dist[rows, cols].cpu().numpy().astype(dtype),
                    cols.cpu().numpy() + start,
                )
            )
        return concat_csr(parts, len(queries), sort=sort)

    def __getstate__(self):
        packed = self.database_words().view(np.uint8)[:, : -(-self.n_bits // 8)].copy()
        return {
            "n_bits": self.n_bits,
            "bitorder": self.bitorder,
            "packed": packed,
            "device": str(self.device),
        }

    def __setstate__(self, state):
        packed = PackedCodes(state["packed"], state["n_bits"], state.get("bitorder", "little"))
        device = usable_device(state["device"], "HammingRetriever(backend='torch')")
        self.__init__(packed, device=device)
