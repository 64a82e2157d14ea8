"""The exact Hamming search backends by name: numpy (default), faiss and torch.

Every backend returns exactly the same neighbours in the same order: by distance, then by
database index; radius search is inclusive. Each implements
:class:`~skhash.neighbors._search.SearchBackend`, in a module of its own.
"""

from ..codes import _kernels
from ._faiss import FaissSearch, faiss_available
from ._numpy import NumpySearch
from ._torch import TorchSearch

__all__ = ["BACKENDS", "make_backend"]

BACKENDS = {"numpy": NumpySearch, "faiss": FaissSearch, "torch": TorchSearch}


def make_backend(name, packed, *, n_jobs=None, device="auto"):
    """Build the search backend ``name`` over :class:`~skhash.PackedCodes`. ``"auto"``:
    numpy with the compiled kernels (faster than faiss's flat index at every code length
    measured), else faiss when installed, else numpy."""
    if name == "auto":
        name = "numpy" if _kernels.enabled() or not faiss_available() else "faiss"
    if name == "torch":
        return TorchSearch(packed, device=device)  # the device runs its own threads
    return BACKENDS[name](packed, n_jobs=n_jobs)
