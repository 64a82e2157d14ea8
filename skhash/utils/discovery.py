"""Discovery of skhash's public estimators, as :func:`sklearn.utils.discovery.all_estimators`."""

import importlib
import inspect

from sklearn.base import BaseEstimator

__all__ = ["HASHER_NAMES", "all_estimators"]

#: Short name (as in papers and tables) -> class name of every hasher, in the order the
#: demo and the benchmarks list them.
HASHER_NAMES = {
    "LSH": "LSHHasher",
    "SH": "SpectralHasher",
    "ITQ": "ITQHasher",
    "SGH": "SGHHasher",
    "SSDH": "SSDHHasher",
    "AE": "AEHasher",
    "WGAN-AE": "WGANAEHasher",
    "LP-AE": "LPAEHasher",
    "IDR-AE": "IDRAEHasher",
    "BiHalf": "BiHalfHasher",
    "GreedyHash": "GreedyHashHasher",
}

# Public modules whose ``__all__`` lists skhash's estimators.
_PUBLIC_MODULES = ("skhash", "skhash.deep", "skhash.features")

_TYPES = {
    "hasher": lambda cls: _is_subclass(cls, "skhash.base", "BaseHasher"),
    "retriever": lambda cls: hasattr(cls, "kneighbors"),
    "transformer": lambda cls: hasattr(cls, "transform"),
}


def _is_subclass(cls, module, name):
    return issubclass(cls, getattr(importlib.import_module(module), name))


def all_estimators(type_filter=None):
    """The public estimators of skhash: ``(name, class)`` pairs sorted by name.

    Importing the deep hashers and the image feature extractors needs torch; without it
    they are left out.

    Parameters
    ----------
    type_filter : {"hasher", "retriever", "transformer"} or list of them, default=None
        Keep only estimators of these kinds; ``None`` keeps all.

    Returns
    -------
    estimators : list of (str, type)

    Examples
    --------
    >>> from skhash.utils.discovery import all_estimators
    >>> [name for name, _ in all_estimators("hasher")][:3]
    ['AEHasher', 'BiHalfHasher', 'GreedyHashHasher']
    """
    kinds = [type_filter] if isinstance(type_filter, str) else list(type_filter or [])
    unknown = set(kinds) - set(_TYPES)
    if unknown:
        raise ValueError(f"type_filter must be among {sorted(_TYPES)} or None, got {unknown}.")
    found = {}
    for module_name in _PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an optional dependency (torch) is missing
            continue
        for name in getattr(module, "__all__", []):
            try:
                obj = getattr(module, name)
            except ImportError:
                continue
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and not name.startswith("Base")
            ):
                found[name] = obj
    return sorted((name, cls) for name, cls in found.items() if all(_TYPES[k](cls) for k in kinds))
