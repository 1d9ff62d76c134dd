"""Separators: the paper's VAE, the baselines it is compared with, and oracles.

Every class here implements :class:`vaesep.models.base.Separator`.
"""

from vaesep.models.base import MaskSeparator, Separator
from vaesep.models.oracles import IdealBinaryMask, IdealRatioMask, MixtureSeparator, WienerMask

__all__ = [
    "IdealBinaryMask",
    "IdealRatioMask",
    "MaskSeparator",
    "MixtureSeparator",
    "Separator",
    "WienerMask",
]
