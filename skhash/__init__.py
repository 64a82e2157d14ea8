"""skhash: learning to hash for scikit-learn.

Hashing estimators turn feature vectors into compact binary codes (``uint8`` 0/1 arrays);
the codes are searched in Hamming space and scored with retrieval metrics. Importing
:mod:`skhash` never imports torch: the deep hashers load it on first use.
"""

from . import deep as _deep
from ._config import config_context, get_config, set_config
from .base import BaseHasher
from .codes import (
    PackedCodes,
    check_codes,
    hamming_distances,
    load_codes,
    pack_codes,
    save_codes,
    to_bit_strings,
    to_faiss_index,
    unpack_codes,
)
from .graph import AGHHasher, ScalableGraphHasher
from .linear import (
    CBEHasher,
    DSHHasher,
    IsotropicHasher,
    ITQHasher,
    KMeansHasher,
    LSHHasher,
    PCAHasher,
    SKLSHHasher,
    SpectralHasher,
    SphericalHasher,
)
from .neighbors import HammingRetriever
from .supervised import CCAITQHasher, COSDISHHasher, KSHHasher, SDHHasher

__version__ = "0.1.0.dev0"

# The deep hashers, served lazily: skhash.deep imports torch on first access of a name.
_LAZY = {name: "skhash.deep" for name in _deep.HASHERS}


# Public subpackages, imported on first attribute access (``skhash.features`` ...).
_SUBPACKAGES = (
    "codes",
    "datasets",
    "deep",
    "features",
    "graph",
    "linear",
    "metrics",
    "neighbors",
    "utils",
)


def __getattr__(name):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f"skhash.{name}")
    raise AttributeError(f"module 'skhash' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBPACKAGES))


__all__ = sorted(_LAZY) + [
    "AGHHasher",
    "BaseHasher",
    "CBEHasher",
    "CCAITQHasher",
    "COSDISHHasher",
    "DSHHasher",
    "HammingRetriever",
    "ITQHasher",
    "IsotropicHasher",
    "KMeansHasher",
    "KSHHasher",
    "LSHHasher",
    "PCAHasher",
    "PackedCodes",
    "SDHHasher",
    "SKLSHHasher",
    "ScalableGraphHasher",
    "SpectralHasher",
    "SphericalHasher",
    "check_codes",
    "config_context",
    "get_config",
    "hamming_distances",
    "load_codes",
    "pack_codes",
    "save_codes",
    "set_config",
    "to_bit_strings",
    "to_faiss_index",
    "unpack_codes",
]
