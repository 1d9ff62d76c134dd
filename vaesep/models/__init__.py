"""Separators: the paper's VAE, the baselines it is compared with, and oracles.

Every class here implements :class:`vaesep.models.base.Separator`.
"""

from vaesep.models.base import MaskSeparator, Separator
from vaesep.models.dnn import DNNConfig, DNNNetwork
from vaesep.models.drnn import DRNNConfig, DRNNNetwork
from vaesep.models.generative import GenerativeConfig, GenerativeNetwork
from vaesep.models.network import MaskingNetwork
from vaesep.models.neural import NeuralSeparator, build_network, network_classes, register_network
from vaesep.models.nmf import NMFConfig, NMFNetwork, fit_nmf, save_nmf
from vaesep.models.oracles import IdealBinaryMask, IdealRatioMask, MixtureSeparator, WienerMask
from vaesep.models.vae import VAEConfig, VAENetwork

register_network(VAENetwork)
register_network(DNNNetwork)
register_network(DRNNNetwork)
register_network(NMFNetwork)
register_network(GenerativeNetwork)

__all__ = [
    "DNNConfig",
    "DNNNetwork",
    "DRNNConfig",
    "DRNNNetwork",
    "GenerativeConfig",
    "GenerativeNetwork",
    "IdealBinaryMask",
    "IdealRatioMask",
    "MaskSeparator",
    "MaskingNetwork",
    "MixtureSeparator",
    "NMFConfig",
    "NMFNetwork",
    "NeuralSeparator",
    "Separator",
    "VAEConfig",
    "VAENetwork",
    "WienerMask",
    "build_network",
    "fit_nmf",
    "network_classes",
    "register_network",
    "save_nmf",
]
