"""What the decoders read (notebook 03, section 4): latent points back to frames and sound.

A decoded frame ŷ_s is a relative claim on each bin, not a calibrated magnitude: the loss sees
it only through the soft mask ŷ_s / Σ_j ŷ_j."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from vaesep import spectral
from vaesep.latent import _encode, as_vae, encoder_names
from vaesep.spectral import DEFAULT_STFT, REFERENCE_RMS, normalise_level, stft

LatentEdit = Callable[[np.ndarray], np.ndarray]
"""Maps posterior means ``(n_items, n_encoders, n_frames, latent)`` to the latents to decode."""


@torch.no_grad()
def decode_latents(model, z: np.ndarray, *, encoder: str | int = 0,
                   source: str | None = None) -> np.ndarray:
    """``ŷ`` ``(n_points, n_bins)`` of ``z`` ``(n_points, latent)`` by the decoder that reads
    ``encoder``'s latent (shared latent: the head of ``source``, default the first)."""
    network = as_vae(model)
    index = encoder_names(network).index(encoder) if isinstance(encoder, str) else int(encoder)
    if network.config.variant == "shared":
        index = network.source_names.index(source) if source is not None else 0
    elif source is not None and source != network.source_names[index]:
        raise ValueError(f"encoder {network.source_names[index]!r} feeds only its own decoder, "
                         f"not {source!r}")
    z = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(next(network.parameters()).device)
    return network.decoders[index](z).cpu().numpy()


def griffin_lim(frames: np.ndarray, *, n_iter: int = 32, seed: int = 0) -> np.ndarray:
    """Audio at RMS ``REFERENCE_RMS`` from magnitude frames ``(n_frames, n_bins)``: fast
    Griffin-Lim (momentum 0.99, Perraudin et al. 2013, as ``librosa.griffinlim``)."""
    magnitude = torch.as_tensor(np.asarray(frames, dtype=np.float32))
    length = (magnitude.shape[0] - 1) * DEFAULT_STFT.hop_length
    phases = torch.rand(magnitude.shape, generator=torch.Generator().manual_seed(seed))
    angles = torch.polar(torch.ones_like(magnitude), 2 * np.pi * phases)
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = stft(spectral.istft(magnitude * angles, length))
        accelerated = rebuilt - (0.99 / (1 + 0.99)) * previous
        angles, previous = accelerated / accelerated.abs().clamp_min(1e-8), rebuilt
    wave = spectral.istft(magnitude * angles, length).numpy()
    level = float(np.sqrt(np.mean(np.square(wave))))
    return (wave * (REFERENCE_RMS / level if level > 0 else 1.0)).astype(np.float32)


@torch.no_grad()
def resynthesise(model, mixtures: np.ndarray, edit: LatentEdit | None = None) -> np.ndarray:
    """Separate mixtures ``([n_items,] n_samples)`` after ``edit`` of their μ-trajectories: decode,
    soft-mask, mixture phase; ``([n_items,] n_sources, n_samples)``. No edit: ``model.separate``."""
    network = as_vae(model)
    batch = np.atleast_2d(np.asarray(mixtures, dtype=np.float32))
    scaled, gains = normalise_level(torch.from_numpy(batch))
    spectrum = stft(scaled)  # (items, frames, bins)
    mu, _ = _encode(network, spectrum.abs())  # (items, frames, encoders, latent)
    z = np.ascontiguousarray(mu.transpose(0, 2, 1, 3))  # (items, encoders, frames, latent)
    if edit is not None:
        z = np.asarray(edit(z), dtype=np.float32)
    estimates = network.decode(torch.from_numpy(z).to(next(network.parameters()).device)).cpu()
    masks = spectral.joint_soft_mask(estimates, source_axis=1)  # (items, sources, frames, bins)
    waves = spectral.apply_masks(masks, spectrum, scaled.shape[-1]) / gains[:, :, None]
    return waves.float().numpy()[0] if np.ndim(mixtures) == 1 else waves.float().numpy()


def keep_only_dims(dims_per_encoder: Sequence[Sequence[int]]) -> LatentEdit:
    """An edit pinning every unit but ``dims_per_encoder[e]`` of encoder e to 0, the prior mean."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        for e, dims in enumerate(dims_per_encoder):
            z[..., e, :, np.setdiff1d(np.arange(z.shape[-1]), np.asarray(dims, dtype=int))] = 0.0
        return z

    return edit


def shift_along(direction: np.ndarray, amount: float, encoder: int = 0) -> LatentEdit:
    """An edit adding ``amount · direction`` to encoder ``encoder``'s latent in every frame."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        z[..., encoder, :, :] += amount * np.asarray(direction, dtype=np.float32)
        return z

    return edit
