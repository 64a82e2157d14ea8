"""Deep (torch) hashers and their training callbacks.

Importing this subpackage is cheap: torch is imported on first access of one of its names.
A new hasher is one module here and one entry in ``_EXPORTS``; :mod:`skhash` re-exports
every ``*Hasher`` listed here, and the tests and benchmarks discover it from there.
"""

import importlib

# Public name -> module that defines it.
_EXPORTS = {
    "AEHasher": "._ae",
    "BaseDeepHasher": "._base",
    "BiHalfHasher": "._bihalf",
    "Callback": "._callbacks",
    "CSQHasher": "._csq",
    "Checkpoint": "._callbacks",
    "DPSHHasher": "._dpsh",
    "EarlyStopping": "._callbacks",
    "GreedyHashHasher": "._greedyhash",
    "HashNetHasher": "._hashnet",
    "IDRAEHasher": "._idrae",
    "LPAEHasher": "._lpae",
    "LRScheduler": "._callbacks",
    "ProgressBar": "._callbacks",
    "SGHHasher": "._sgh",
    "SSDHHasher": "._ssdh",
    "WGANAEHasher": "._wganae",
}

__all__ = sorted(_EXPORTS)

#: The hashers among the exports: what :mod:`skhash` serves at its top level.
HASHERS = [name for name in __all__ if name.endswith("Hasher") and not name.startswith("Base")]


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skhash.deep' has no attribute {name!r}")
    try:
        import torch  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised without torch installed
        raise ImportError(
            f"skhash.deep.{name} needs PyTorch, which is not installed. Install the 'torch' "
            "extra: pip install 'skhash[torch]' (or install torch>=2.2 yourself)."
        ) from exc
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
