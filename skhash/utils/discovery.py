"""Discovery of skhash's public estimators, as :func:`sklearn.utils.discovery.all_estimators`."""

import importlib
import inspect

from sklearn.base import BaseEstimator

__all__ = ["all_estimators", "hasher_names"]

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
    ['AEHasher', 'AGHHasher', 'BiHalfHasher']
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


def short_name(cls):
    """The name papers and tables give a hasher class: ``_short_name``, else the class
    name without its ``Hasher`` suffix (``ITQHasher`` -> ``"ITQ"``)."""
    return cls.__dict__.get("_short_name", cls.__name__.removesuffix("Hasher"))


def hasher_names():
    """Short name -> class of every hasher that imports here, the numpy ones first.

    The one registry of the demo and the benchmarks: a hasher is in it once it is exported.
    The deep hashers are left out when torch is missing.

    Returns
    -------
    names : dict of str -> type

    Examples
    --------
    >>> from skhash.utils.discovery import hasher_names
    >>> list(hasher_names())[:3]
    ['AGH', 'CBE', 'CCA-ITQ']
    """
    hashers = sorted(
        (cls.__module__.startswith("skhash.deep"), short_name(cls), cls)
        for _, cls in all_estimators("hasher")
    )
    return {name: cls for _, name, cls in hashers}
