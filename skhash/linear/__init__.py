"""Classic data-independent and linear hashers (numpy / scipy only)."""

from ._cbe import CBEHasher
from ._dsh import DSHHasher
from ._isotropic import IsotropicHasher
from ._itq import ITQHasher
from ._kmh import KMeansHasher
from ._lsh import LSHHasher
from ._pcah import PCAHasher
from ._sklsh import SKLSHHasher
from ._spectral import SpectralHasher
from ._spherical import SphericalHasher

__all__ = [
    "CBEHasher",
    "DSHHasher",
    "ITQHasher",
    "IsotropicHasher",
    "KMeansHasher",
    "LSHHasher",
    "PCAHasher",
    "SKLSHHasher",
    "SpectralHasher",
    "SphericalHasher",
]
