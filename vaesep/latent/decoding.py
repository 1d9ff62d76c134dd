"""What the decoders read: latent points back to spectrum frames and sound (notebook 03).

Notebook 03, section 3's test by ear (:func:`separation_with_top_units`) and section 4
("Decoding"): decode a line between two codes or prior samples, make sound of decoded frames
with :func:`griffin_lim`, or share a real mixture out through the soft mask after editing its
μ-trajectory (:func:`resynthesise`). A decoded frame ŷ_s is a relative claim on each bin, not a
calibrated magnitude: the loss sees it only through the soft mask ŷ_s / Σ_j ŷ_j.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from vaesep import spectral
from vaesep.latent import UnitStatistics, _encode, as_vae, encoder_names
from vaesep.spectral import DEFAULT_STFT, REFERENCE_RMS, STFTConfig, normalise_level, stft


@torch.no_grad()
def decode_latents(model, z: np.ndarray, *, encoder: str | int = 0, source: str | None = None) -> np.ndarray:
    """Decoder output ``ŷ`` ``(n_points, n_bins)`` of latent points ``(n_points, latent)``, by the
    decoder that reads ``encoder``'s latent (shared latent: the head of ``source``, default the first)."""
    network = as_vae(model)
    index = encoder_names(network).index(encoder) if isinstance(encoder, str) else int(encoder)
    if network.config.variant == "shared":
        index = network.source_names.index(source) if source is not None else 0
    elif source is not None and source != network.source_names[index]:
        raise ValueError(f"encoder {network.source_names[index]!r} feeds only its own decoder, not {source!r}")
    device = next(network.parameters()).device
    return network.decoders[index](torch.as_tensor(np.asarray(z, dtype=np.float32)).to(device)).cpu().numpy()


def interpolate(z0: np.ndarray, z1: np.ndarray, n_steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """``alphas`` ``(n_steps,)`` from 0 to 1 and the points ``(1 - α) z0 + α z1`` ``(n_steps, latent)``,
    the ends exactly ``z0`` and ``z1``."""
    if n_steps < 2:
        raise ValueError("n_steps must be at least 2 (the two endpoints)")
    z0, z1 = np.asarray(z0, dtype=np.float32), np.asarray(z1, dtype=np.float32)
    alphas = np.linspace(0.0, 1.0, n_steps, dtype=np.float32)
    points = (1 - alphas)[:, None] * z0 + alphas[:, None] * z1
    points[0], points[-1] = z0, z1
    return alphas, points


def prior_samples(latent: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` draws of z ~ N(0, I), ``(n, latent)`` float32."""
    return np.random.default_rng(seed).standard_normal((n, latent)).astype(np.float32)


def prior_trajectory(latent: int, n_anchors: int = 6, frames_per_anchor: int = 30, seed: int = 0) -> np.ndarray:
    """A path gliding between ``n_anchors`` prior draws, ``((n_anchors - 1) · frames_per_anchor, latent)``.

    It follows arcs ``cos(πt/2) a + sin(πt/2) b``, on which every point is again N(0, I) for
    independent a and b; a straight line's midpoint has a norm the prior almost never produces.
    """
    anchors = prior_samples(latent, n_anchors, seed)
    t = np.arange(frames_per_anchor, dtype=np.float32) / frames_per_anchor
    cos, sin = np.cos(np.pi * t / 2)[:, None], np.sin(np.pi * t / 2)[:, None]
    return np.concatenate([cos * a + sin * b for a, b in zip(anchors[:-1], anchors[1:], strict=True)]).astype(np.float32)


def griffin_lim(frames: np.ndarray, *, n_iter: int = 32, momentum: float = 0.99, seed: int = 0,
                rms: float = REFERENCE_RMS, config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """Audio at RMS ``rms`` from magnitude frames ``(n_frames, n_bins)`` alone: fast Griffin-Lim
    (Griffin & Lim 1984, with the momentum of Perraudin et al. 2013, as ``librosa.griffinlim``)."""
    magnitude = torch.as_tensor(np.asarray(frames, dtype=np.float32))
    length = (magnitude.shape[0] - 1) * config.hop_length
    generator = torch.Generator().manual_seed(seed)
    angles = torch.polar(torch.ones_like(magnitude), 2 * np.pi * torch.rand(magnitude.shape, generator=generator))
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = stft(spectral.istft(magnitude * angles, length, config), config)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles, previous = accelerated / accelerated.abs().clamp_min(1e-8), rebuilt
    wave = spectral.istft(magnitude * angles, length, config).numpy()
    level = float(np.sqrt(np.mean(np.square(wave))))
    return (wave * (rms / level if level > 0 else 1.0)).astype(np.float32)


LatentEdit = Callable[[np.ndarray], np.ndarray]
"""Maps posterior means ``(n_items, n_encoders, n_frames, latent)`` to the latents to decode."""


@torch.no_grad()
def resynthesise(model, mixtures: np.ndarray, edit: LatentEdit | None = None,
                 config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """Separate 16 kHz mixtures ``(n_samples,)`` or ``(n_items, n_samples)`` after ``edit`` has
    changed their μ-trajectories: decode, soft-mask the mixture STFT, reuse its phase. Returns
    ``([n_items,] n_sources, n_samples)`` at the input's level; ``edit=None`` is ``model.separate``."""
    network = as_vae(model)
    scaled, gains = normalise_level(torch.from_numpy(np.atleast_2d(np.asarray(mixtures, dtype=np.float32))))
    spectrum = stft(scaled, config)  # (items, frames, bins)
    mu, _ = _encode(network, spectrum.abs())  # (items, frames, encoders, latent)
    z = np.ascontiguousarray(mu.transpose(0, 2, 1, 3))  # (items, encoders, frames, latent)
    if edit is not None:
        z = np.asarray(edit(z), dtype=np.float32)
    estimates = network.decode(torch.from_numpy(z).to(next(network.parameters()).device)).cpu()
    masks = spectral.joint_soft_mask(estimates, source_axis=1)  # (items, sources, frames, bins)
    waves = (spectral.apply_masks(masks, spectrum, scaled.shape[-1], config) / gains[:, :, None]).float().numpy()
    return waves[0] if np.ndim(mixtures) == 1 else waves


def keep_only_dims(dims_per_encoder: Sequence[Sequence[int]], value: float = 0.0) -> LatentEdit:
    """An edit pinning every unit but ``dims_per_encoder[e]`` of encoder e to ``value`` (0: the prior mean)."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        for e, dims in enumerate(dims_per_encoder):
            z[..., e, :, np.setdiff1d(np.arange(z.shape[-1]), np.asarray(dims, dtype=int))] = value
        return z

    return edit


def shift_along(direction: np.ndarray, amount: float, encoder: int = 0) -> LatentEdit:
    """An edit adding ``amount · direction`` to encoder ``encoder``'s latent in every frame."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        z[..., encoder, :, :] += amount * np.asarray(direction, dtype=np.float32)
        return z

    return edit


def separation_with_top_units(model, sources: np.ndarray, stats: UnitStatistics,
                              counts: Sequence[int]) -> dict[int, np.ndarray]:
    """SI-SDR (dB, ``(n_items, n_sources)``) of test items ``(n_items, n_sources, n_samples)`` for
    each ``k`` in ``counts``, when each encoder keeps only its ``k`` most active units."""
    from vaesep.metrics import si_sdr

    sources = np.asarray(sources, dtype=np.float32)
    results = {}
    for k in counts:
        estimates = resynthesise(model, sources.sum(axis=1), keep_only_dims(stats.top_units(k)))
        results[int(k)] = np.stack([si_sdr(truth, estimate) for truth, estimate in zip(sources, estimates, strict=True)])
    return results
