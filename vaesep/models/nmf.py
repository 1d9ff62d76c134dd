"""Supervised NMF: the classical baseline before neural separators (notebook 04, "The baselines").

Each source gets a dictionary ``W_i`` (``n_bins × K``) learned from its own training
magnitudes (Smaragdis et al. 2007); a mixture is explained as ``V ≈ Σ_i W_i H_i`` with the
dictionaries fixed, and the parts ``W_i H_i`` give the joint soft mask every network ends in.
So :class:`NMFNetwork` loads and separates like a network, but is fitted by :func:`fit_nmf`.
Generalised KL divergence, Lee & Seung's (2001) multiplicative updates, in the textbook
layout ``V`` ``(n_bins, n_frames)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from vaesep.checkpoint import Checkpoint
from vaesep.models.vae import Network
from vaesep.spectral import joint_soft_mask

if TYPE_CHECKING:
    from vaesep.data import BuiltDataset

DIVIDE_FLOOR: float = 1e-12
"""Added to denominators of the updates so that all-zero bins stay defined."""

QUIET_FRAME_RATIO: float = 0.01
"""Training frames whose total magnitude is below this share of the mean are dropped (silence)."""


@dataclass
class NMFConfig:
    """Settings of :class:`NMFNetwork`; saved inside every checkpoint."""

    source_names: tuple[str, ...] = ("v", "m")  # one dictionary each
    n_bins: int = 513
    n_components: int = 32  # atoms per source
    divergence: str = "kl"  # the generalised KL divergence, the only one offered
    iterations: int = 50  # updates of the activations per mixture

    def __post_init__(self) -> None:
        self.source_names = tuple(self.source_names)
        if len(self.source_names) < 2:
            raise ValueError("a separator needs at least two source names")
        if self.divergence != "kl":
            raise ValueError(f"divergence must be 'kl' (generalised KL), got {self.divergence!r}")
        if min(self.n_components, self.iterations, self.n_bins) < 1:
            raise ValueError("n_components, iterations and n_bins must be positive")


def kl_divergence(target: torch.Tensor, approximation: torch.Tensor) -> torch.Tensor:
    """D(V ‖ WH) = ``Σ V log(V / WH) − V + WH``, summed over all entries."""
    ratio = (target + DIVIDE_FLOOR) / (approximation + DIVIDE_FLOOR)
    return (target * torch.log(ratio) - target + approximation).sum()


def update_activations(target: torch.Tensor, dictionary: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    """One multiplicative update of ``H`` ``(..., K, n_frames)`` with ``W`` ``(n_bins, K)`` fixed, for
    ``V`` ``(..., n_bins, n_frames)`` (Lee & Seung 2001); the divergence does not increase."""
    numerator = dictionary.T @ (target / (dictionary @ activations + DIVIDE_FLOOR))
    return activations * numerator / (dictionary.sum(dim=0)[:, None] + DIVIDE_FLOOR)


def learn_dictionary(
    target: torch.Tensor, n_components: int, iterations: int, *, generator: torch.Generator
) -> tuple[torch.Tensor, list[float]]:
    """``W`` ``(n_bins, n_components)``, atoms scaled to unit sum, from one source's frames ``V``
    ``(n_bins, n_frames)``, and the divergence per frame before every iteration and after the last."""
    scale = float(target.mean()) + DIVIDE_FLOOR
    dictionary = torch.rand(target.shape[0], n_components, generator=generator, dtype=target.dtype) + 0.1
    activations = (
        torch.rand(n_components, target.shape[1], generator=generator, dtype=target.dtype) + 0.1
    ) * (scale / n_components)
    n_frames = target.shape[1]
    history = [float(kl_divergence(target, dictionary @ activations)) / n_frames]
    for _ in range(iterations):
        activations = update_activations(target, dictionary, activations)
        # W's update is H's in the transposed problem Vᵀ ≈ Hᵀ Wᵀ
        dictionary = update_activations(target.T, activations.T, dictionary.T).T
        history.append(float(kl_divergence(target, dictionary @ activations)) / n_frames)
    # unit-sum atoms keep the activations of different sources on one scale
    return dictionary / (dictionary.sum(dim=0, keepdim=True) + DIVIDE_FLOOR), history


class NMFNetwork(Network):
    """Supervised NMF with the masks of a network: ``"estimates"`` are the parts ``W_i H_i``
    ``(batch, n_sources, n_frames, n_bins)``, with their joint soft mask and the activations."""

    kind = "nmf"
    config_class = NMFConfig

    def __init__(self, config: NMFConfig) -> None:
        super().__init__(config)
        # a Parameter (not a buffer) so parameter counts include it; it is fitted, never trained
        self.dictionaries = nn.Parameter(torch.full((self.n_sources, config.n_bins, config.n_components), 1.0 / config.n_bins))

    def forward(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        target = mixture_magnitude.transpose(1, 2)  # V: (batch, n_bins, n_frames), the textbook layout
        # every atom side by side, (n_bins, n_sources × K), source-major
        dictionary = self.dictionaries.detach().permute(1, 0, 2).reshape(self.config.n_bins, -1)
        # a flat, deterministic start (each atom an equal share of the frame's total), so the
        # same mixture always gives the same masks
        activations = target.sum(dim=-2, keepdim=True) / (dictionary.sum() + DIVIDE_FLOOR)
        activations = activations.expand(-1, dictionary.shape[1], -1).clone()  # H: (batch, n_sources × K, n_frames)
        for _ in range(self.config.iterations):
            activations = update_activations(target, dictionary, activations)
        per_source = activations.view(target.shape[0], self.n_sources, self.config.n_components, target.shape[-1])
        # W_i H_i of each source, back in the spectrogram layout (batch, n_sources, n_frames, n_bins)
        parts = torch.einsum("sfk,bskt->bstf", self.dictionaries.detach(), per_source)
        return {"estimates": parts, "activations": activations, "masks": joint_soft_mask(parts, source_axis=1)}


@dataclass
class NMFFit:
    """What :func:`fit_nmf` returns: the network, ``"divergence_<source>"`` per iteration and
    ``"seconds"``, and how it was fitted (seed, seconds per source, iterations)."""

    network: NMFNetwork
    history: dict[str, list[float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def fit_nmf(
    dataset: BuiltDataset,
    config: NMFConfig | None = None,
    *,
    seconds_per_source: float = 120.0,
    iterations: int = 100,
    seed: int = 0,
) -> NMFFit:
    """Learn one dictionary per source from ``dataset``'s train split (source names from the data set);
    save the :class:`NMFFit` with :func:`save_nmf`."""
    from vaesep.data import random_segments
    from vaesep.spectral import spectrogram_batch

    values = {**(vars(config) if config is not None else {}), "source_names": dataset.source_names}
    network = NMFNetwork(NMFConfig(**values))
    start = time.perf_counter()
    # segments drawn and level-normalised as the trainer's, so the dictionaries live on the
    # separator's scale
    count = max(1, math.ceil(seconds_per_source / 2.0))  # of 2-second segments
    rng = np.random.default_rng([seed, 4_000_037])
    segments = random_segments(dataset, "train", count, 2.0, rng=rng)
    _, source_magnitude = spectrogram_batch(segments, torch.device("cpu"))
    generator = torch.Generator().manual_seed(int(seed))
    history: dict[str, list[float]] = {}
    with torch.no_grad():
        for index, name in enumerate(dataset.source_names):
            per_frame = source_magnitude[:, index].flatten(0, -2)  # (frames, n_bins)
            totals = per_frame.sum(dim=1)  # silent frames dropped
            target = per_frame[totals > QUIET_FRAME_RATIO * totals.mean()].T.contiguous()
            dictionary, curve = learn_dictionary(target, network.config.n_components, iterations, generator=generator)
            network.dictionaries[index] = dictionary
            history[f"divergence_{name}"] = curve
    history["seconds"] = [time.perf_counter() - start]
    settings = {"seed": int(seed), "seconds_per_source": float(seconds_per_source), "iterations": int(iterations)}
    return NMFFit(network.eval(), history, settings)


def save_nmf(fit: NMFFit, path: str | Path, dataset: BuiltDataset) -> Path:
    """Write a checkpoint that :func:`vaesep.load_model` reads like any network's."""
    checkpoint = Checkpoint.of(fit.network, dataset, train_config=dict(fit.settings), history=fit.history, stopped="iterations")
    return checkpoint.save(path)
