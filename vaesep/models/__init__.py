"""Separators: the paper's VAE, the baselines it is compared with, and the oracles.

Read :mod:`~vaesep.models.vae` (the model and its ELBO) and :mod:`~vaesep.models.separator`
(mixture → stems) first. Beside them: :mod:`~vaesep.models.oracles` (floor and ceiling),
:mod:`~vaesep.models.dnn` (Huang et al.'s DNN and DRNN), :mod:`~vaesep.models.nmf` and
:mod:`~vaesep.models.generative` (separation by inference, notebook 06). A network's ``kind``
names it in checkpoints; :func:`build_network` turns a kind and a config dict back into one.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vaesep.checkpoint import CheckpointError
from vaesep.models.dnn import DNNConfig, DNNNetwork, DRNNConfig, DRNNNetwork
from vaesep.models.generative import GenerativeConfig, GenerativeNetwork, Inference
from vaesep.models.nmf import NMFConfig, NMFNetwork, fit_nmf, save_nmf
from vaesep.models.oracles import IdealBinaryMask, IdealRatioMask, MixtureSeparator, WienerMask
from vaesep.models.separator import NeuralSeparator, Separator
from vaesep.models.vae import MaskingNetwork, Network, VAEConfig, VAENetwork

_NETWORKS: dict[str, type[Network]] = {
    network.kind: network for network in (VAENetwork, DNNNetwork, DRNNNetwork, NMFNetwork, GenerativeNetwork)
}

# NMF and the generative model were masking networks once: their older files carry a
# config field fixed at 0 (context) and per-bin feature statistics that nothing reads
_FORMER_MASKING_NETWORKS = ("nmf", "generative")


def network_classes() -> dict[str, type[Network]]:
    """Known network kinds and their classes."""
    return dict(_NETWORKS)


def build_network(kind: str, config: dict[str, Any]) -> Network:
    """A network of a known ``kind`` with fresh weights, from its config as a dict."""
    if kind not in _NETWORKS:
        raise CheckpointError(f"unknown network kind {kind!r}; this vaesep knows {sorted(_NETWORKS)}")
    config_class = _NETWORKS[kind].config_class
    config = dict(config)
    if kind in _FORMER_MASKING_NETWORKS and config.get("context") == 0:
        del config["context"]
    unknown = set(config) - {field.name for field in dataclasses.fields(config_class)}
    if unknown:
        raise CheckpointError(
            f"checkpoint config has fields {sorted(unknown)} that {config_class.__name__} does not know; "
            "it was written by a newer or different vaesep"
        )
    return _NETWORKS[kind](config_class(**config))


def load_weights(network: Network, weights: dict[str, Any]) -> Network:
    """``network.load_state_dict(weights)``, older files' unused entries dropped first."""
    if network.kind in _FORMER_MASKING_NETWORKS:
        weights = {key: value for key, value in weights.items() if key not in ("feature_mean", "feature_std")}
    network.load_state_dict(weights)
    return network


__all__ = [
    "DNNConfig", "DNNNetwork", "DRNNConfig", "DRNNNetwork", "GenerativeConfig",
    "GenerativeNetwork", "IdealBinaryMask", "IdealRatioMask", "Inference", "MaskingNetwork",
    "MixtureSeparator", "NMFConfig", "NMFNetwork", "Network", "NeuralSeparator", "Separator",
    "VAEConfig", "VAENetwork", "WienerMask", "build_network", "load_weights", "fit_nmf",
    "network_classes", "save_nmf",
]
