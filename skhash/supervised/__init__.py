"""Supervised hashers (numpy / scipy): ``fit(X, y)`` with class labels or a multi-label
indicator matrix."""

from ._ccaitq import CCAITQHasher
from ._cosdish import COSDISHHasher
from ._ksh import KSHHasher
from ._sdh import SDHHasher

__all__ = ["CCAITQHasher", "COSDISHHasher", "KSHHasher", "SDHHasher"]
