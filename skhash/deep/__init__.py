"""Deep (torch) hashers. Importing this subpackage imports torch."""

try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised without torch installed
    raise ImportError(
        "The deep hashers of skhash need PyTorch, which is not installed. Install the "
        "'torch' extra: pip install 'skhash[torch]' (or install torch>=2.2 yourself)."
    ) from exc

from ._autoencoder import AEHasher, IDRAEHasher, LPAEHasher, WGANAEHasher
from ._base import BaseDeepHasher
from ._bihalf import BiHalfHasher
from ._callbacks import Callback, Checkpoint, EarlyStopping, LRScheduler, ProgressBar
from ._greedyhash import GreedyHashHasher
from ._sgh import SGHHasher
from ._ssdh import SSDHHasher

__all__ = [
    "AEHasher",
    "BaseDeepHasher",
    "BiHalfHasher",
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "GreedyHashHasher",
    "IDRAEHasher",
    "LPAEHasher",
    "LRScheduler",
    "ProgressBar",
    "SGHHasher",
    "SSDHHasher",
    "WGANAEHasher",
]
