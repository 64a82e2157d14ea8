"""Graph hashers (numpy / scipy): anchor graph hashing and scalable graph hashing."""

from ._agh import AGHHasher
from ._scalable import ScalableGraphHasher

__all__ = ["AGHHasher", "ScalableGraphHasher"]
