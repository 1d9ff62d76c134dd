"""Separators: the paper's VAE, the baselines it is compared with, and oracles.

Every class here implements :class:`vaesep.models.base.Separator`.
"""

from vaesep.models.base import MaskSeparator, Separator
from vaesep.models.network import MaskingNetwork
from vaesep.models.neural import NeuralSeparator, build_network, network_classes, register_network
from vaesep.models.oracles import IdealBinaryMask, IdealRatioMask, MixtureSeparator, WienerMask
from vaesep.models.vae import VAEConfig, VAENetwork

register_network(VAENetwork)

__all__ = [
    "IdealBinaryMask",
    "IdealRatioMask",
    "MaskSeparator",
    "MaskingNetwork",
    "MixtureSeparator",
    "NeuralSeparator",
    "Separator",
    "VAEConfig",
    "VAENetwork",
    "WienerMask",
    "build_network",
    "network_classes",
    "register_network",
]
