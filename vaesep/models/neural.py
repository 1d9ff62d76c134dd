"""Trained networks behind the :class:`~vaesep.models.base.Separator` interface.

:class:`NeuralSeparator` wraps any :class:`~vaesep.models.network.MaskingNetwork`
(VAE, autoencoder, DNN, RNN) so it separates waveforms; the registry maps the
``kind`` stored in a checkpoint back to its network class.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from vaesep.checkpoint import CheckpointError
from vaesep.models.base import MaskSeparator
from vaesep.models.network import REFERENCE_RMS, MaskingNetwork

_NETWORKS: dict[str, type[MaskingNetwork]] = {}


def register_network(network_class: type[MaskingNetwork]) -> type[MaskingNetwork]:
    """Make a network class loadable from checkpoints by its ``kind`` (usable as a decorator)."""
    _NETWORKS[network_class.kind] = network_class
    return network_class


def network_classes() -> dict[str, type[MaskingNetwork]]:
    """Known network kinds and their classes."""
    return dict(_NETWORKS)


def build_network(kind: str, config: dict[str, Any]) -> MaskingNetwork:
    """Instantiate a registered network from its kind and config dict."""
    if kind not in _NETWORKS:
        raise CheckpointError(
            f"unknown network kind {kind!r}; this vaesep knows {sorted(_NETWORKS)}"
        )
    network_class = _NETWORKS[kind]
    config_class = network_class.config_class
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = set(config) - known
    if unknown:
        raise CheckpointError(
            f"checkpoint config has fields {sorted(unknown)} that {config_class.__name__} does not "
            "know; it was written by a newer or different vaesep"
        )
    return network_class(config_class(**config))


class NeuralSeparator(MaskSeparator):
    """A trained masking network used as a separator.

    Args:
        network: the trained network (set to eval mode here).
        name: label for tables and plots; defaults to the network kind.
        info: free-form metadata (data set, training history) from the checkpoint.
        device: where to run; the network is moved there.
        max_frames: frames per forward pass, to bound memory on long files.
    """

    def __init__(
        self,
        network: MaskingNetwork,
        *,
        name: str | None = None,
        info: dict[str, Any] | None = None,
        device: str | torch.device = "cpu",
        max_frames: int = 4096,
    ) -> None:
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.name = name or network.kind
        self.source_names = network.source_names
        self.info = dict(info or {})
        self.max_frames = max_frames

    @property
    def mask_context(self) -> int:
        return int(getattr(self.network.config, "context", 0))

    @torch.no_grad()
    def estimate_masks(
        self,
        mixture_magnitude: torch.Tensor,
        reference_magnitudes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        frames = mixture_magnitude.to(self.device).transpose(1, 2)  # (batch, n_frames, n_bins)
        n_frames = frames.shape[1]
        recurrent = any(isinstance(module, torch.nn.RNNBase) for module in self.network.modules())
        # frame-wise models see `context` frames either side: chunks that overlap by that much
        # give exactly the masks of one pass. Recurrent models see the chunk boundaries, which
        # max_frames (about a minute of audio) keeps rare.
        overlap = 0 if recurrent else self.mask_context
        masks = []
        for start in range(0, n_frames, self.max_frames):
            low, high = max(0, start - overlap), min(n_frames, start + self.max_frames + overlap)
            chunk = self.network(frames[:, low:high])["masks"]
            masks.append(chunk[:, :, start - low : start - low + min(self.max_frames, n_frames - start)])
        return torch.cat(masks, dim=2).transpose(-1, -2)

    def separate_batch(
        self, mixtures: np.ndarray, references: np.ndarray | None = None
    ) -> np.ndarray:
        mixtures = np.asarray(mixtures, dtype=np.float32)
        levels = np.sqrt(np.mean(np.square(mixtures, dtype=np.float64), axis=-1, keepdims=True))
        # the network was trained on mixtures at REFERENCE_RMS; scale in, then back out
        gains = np.where(levels > 1e-9, REFERENCE_RMS / np.maximum(levels, 1e-9), 1.0)
        # the gains are of the whole mixtures, so chunked separation (in the base
        # class) scales every chunk alike. Products are computed in float64 and
        # rounded into float32 arrays, with no full-length float64 temporaries.
        scaled = np.empty(mixtures.shape, dtype=np.float32)
        np.multiply(mixtures, gains, out=scaled, casting="same_kind")
        separated = super().separate_batch(scaled, references)
        separated /= gains[:, :, None]
        return separated

    def parameter_count(self) -> int:
        """Number of trainable parameters of the network."""
        return sum(p.numel() for p in self.network.parameters() if p.requires_grad)
