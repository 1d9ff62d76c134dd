"""Huang et al.'s baselines: a feed-forward DNN and a deep RNN, ending in the joint soft mask.

Huang, Kim, Hasegawa-Johnson & Smaragdis (TASLP 2015), the comparison the VAE paper claims
~2 dB over. Notebook 04, "The baselines", states every choice: from the paper and the
authors' code, ReLU layers, a *linear* output per source, the "softabs" mask, a 3-frame
input and the discriminative objective (eq. 7, γ = 0.05 in their best setting)

    ‖ŝ_1 − s_1‖² − γ‖ŝ_1 − s_2‖² + ‖ŝ_2 − s_2‖² − γ‖ŝ_2 − s_1‖²   (γ = 0: MSE);

ours, 3 layers of 256 units (≈ 0.8 M parameters, as our VAE), the VAE's input features,
Adam. The DRNN's 2nd layer also reads its own previous output, ``h_t = ReLU(W x_t + U h_{t−1} + b)``,
over each training segment and over a whole item at test time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vaesep.models.vae import MaskingNetwork


@dataclass
class DNNConfig:
    """Hyperparameters of :class:`DNNNetwork`; saved inside every checkpoint."""

    source_names: tuple[str, ...] = ("v", "m")
    n_bins: int = 513
    context: int = 1  # frames either side of the input frame (Huang: a 3-frame window)
    hidden: int = 256
    layers: int = 3
    gamma: float = 0.0  # weight of the discriminative term; 0: MSE
    likelihood: str = "gaussian"  # ½ squared error, Huang's cost; or "laplace"

    def __post_init__(self) -> None:
        self.source_names = tuple(self.source_names)
        if len(self.source_names) < 2:
            raise ValueError("a separator needs at least two source names")
        if min(self.hidden, self.layers, self.n_bins) < 1 or self.context < 0:
            raise ValueError("hidden, layers and n_bins must be positive and context non-negative")
        if not 0.0 <= self.gamma < 1.0:
            # at γ ≥ 1 the objective rewards moving both estimates away from everything
            raise ValueError(f"gamma must lie in [0, 1), got {self.gamma}")


class _ElmanReLU(nn.Module):
    """A recurrent ReLU layer: ``(batch, n_frames, n_in)`` → ``(batch, n_frames, hidden)``."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(n_in, hidden, nonlinearity="relu", batch_first=True)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(sequence)
        return output


class DNNNetwork(MaskingNetwork):
    """Huang et al.'s feed-forward network: each frame with its context through ``layers`` ReLU layers
    and a linear one with ``n_sources × n_bins`` outputs, whose absolute values are the estimates."""

    kind = "dnn"
    config_class = DNNConfig

    def __init__(self, config: DNNConfig) -> None:
        super().__init__(config)
        sizes = [(2 * config.context + 1) * config.n_bins] + [config.hidden] * config.layers
        recurrent = getattr(config, "recurrent_layer", 0)  # the DRNN's, 1-based
        self.hidden_layers = nn.ModuleList(
            _ElmanReLU(n_in, n_out) if index + 1 == recurrent
            else nn.Sequential(nn.Linear(n_in, n_out), nn.ReLU())
            for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
        )
        self.output = nn.Linear(config.hidden, self.n_sources * config.n_bins)

    def estimate(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        hidden = self.features(mixture_magnitude)
        for layer in self.hidden_layers:
            hidden = layer(hidden)
        batch, n_frames, _ = hidden.shape
        outputs = self.output(hidden).view(batch, n_frames, self.n_sources, self.config.n_bins)
        # Huang's "softabs": a linear output layer whose magnitude feeds the mask;
        # (batch, n_frames, n_sources, n_bins) -> (batch, n_sources, n_frames, n_bins)
        return {"estimates": outputs.transpose(1, 2).abs()}

    def loss(self, outputs: dict[str, torch.Tensor], source_magnitude: torch.Tensor, *, epoch: int | None = None) -> dict[str, torch.Tensor]:
        """MSE (γ = 0) or Huang et al.'s discriminative objective, reconstruction − γ × confusion, per frame."""
        terms = super().loss(outputs, source_magnitude, epoch=epoch)
        if self.config.gamma == 0.0:
            return terms
        # what each source must *not* look like, Σ_{j≠i} s_j: with two sources, Huang et al.'s swapped target
        others = source_magnitude.sum(dim=1, keepdim=True) - source_magnitude
        confusion = self.reconstruction_loss(outputs["separated"], others)
        return {**terms, "loss": terms["reconstruction"] - self.config.gamma * confusion, "confusion": confusion}


@dataclass
class DRNNConfig(DNNConfig):
    """:class:`DNNConfig` plus ``recurrent_layer``, the 1-based index of the recurrent hidden layer."""

    recurrent_layer: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.recurrent_layer <= self.layers:
            raise ValueError(f"recurrent_layer must be one of the hidden layers 1..{self.layers}, got {self.recurrent_layer}")


class DRNNNetwork(DNNNetwork):
    """Deep RNN of Huang et al. (2015): the DNN with hidden layer ``recurrent_layer`` recurrent."""

    kind = "drnn"
    config_class = DRNNConfig
