"""Classic data-independent and linear hashers (numpy / scipy only)."""

from ._itq import ITQHasher
from ._lsh import LSHHasher
from ._spectral import SpectralHasher

__all__ = ["ITQHasher", "LSHHasher", "SpectralHasher"]
