"""What the decoders read: latent points back to spectrum frames and sound.

Notebook 03, section 3's test by ear (:func:`separation_with_top_units`) and
section 4 ("Decoding: from codes back to spectra"): decode a line between two
codes and samples of the prior, turn decoded frames into sound with
:func:`griffin_lim` when no mixture stands behind them, or, with
:func:`resynthesise`, share a real mixture out through the soft mask after
editing its μ-trajectory.

A decoded frame ``ŷ_s`` is a relative claim on each bin, not a calibrated
magnitude: the loss sees it only through the soft mask ``ŷ_s / Σ_j ŷ_j``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from vaesep.latent.codes import UnitStatistics, _encode, as_vae, encoder_names
from vaesep.spectral import (
    DEFAULT_STFT,
    REFERENCE_RMS,
    STFTConfig,
    apply_masks,
    istft,
    joint_soft_mask,
    normalise_level,
    stft,
)


@torch.no_grad()
def decode_latents(model, z: np.ndarray, *, encoder: str | int = 0, source: str | None = None) -> np.ndarray:
    """Decoder output ``ŷ`` ``(n_points, n_bins)`` for latent points ``(n_points, latent)``.

    The decoder is the one that reads ``encoder``'s latent (for a shared latent,
    the head of ``source``, default the first). Its output is a relative claim
    on each bin, before the joint soft mask: the loss sees ``ŷ_s`` only through
    ``ŷ_s / Σ_j ŷ_j``, so the overall scale is not pinned down by training.
    """
    network = as_vae(model)
    index = encoder_names(network).index(encoder) if isinstance(encoder, str) else int(encoder)
    if network.config.variant == "shared":
        index = network.source_names.index(source) if source is not None else 0
    elif source is not None and source != network.source_names[index]:
        raise ValueError(f"encoder {network.source_names[index]!r} feeds only its own decoder, not {source!r}")
    device = next(network.parameters()).device
    return network.decoders[index](torch.as_tensor(np.asarray(z, dtype=np.float32)).to(device)).cpu().numpy()


def interpolate(z0: np.ndarray, z1: np.ndarray, n_steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """``alphas`` ``(n_steps,)`` from 0 to 1 and the points ``(1 - α) z0 + α z1`` ``(n_steps, latent)``;
    the first point is exactly ``z0`` and the last exactly ``z1``."""
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
    """A path through the prior gliding between ``n_anchors`` draws, ``((n_anchors - 1) · frames_per_anchor, latent)``.

    Fresh draws every 16 ms frame would sound like rough noise. The path moves
    along arcs ``cos(πt/2) a + sin(πt/2) b``: for independent standard normal a
    and b every point is again standard normal, so every frame is a genuine
    prior sample; a straight line's midpoint has ``‖z‖² ≈ latent / 2``, a norm
    the prior almost never produces.
    """
    anchors = prior_samples(latent, n_anchors, seed)
    t = np.arange(frames_per_anchor, dtype=np.float32) / frames_per_anchor
    cos, sin = np.cos(np.pi * t / 2)[:, None], np.sin(np.pi * t / 2)[:, None]
    return np.concatenate([cos * a + sin * b for a, b in zip(anchors[:-1], anchors[1:], strict=True)]).astype(np.float32)


def griffin_lim(frames: np.ndarray, *, n_iter: int = 32, momentum: float = 0.99, seed: int = 0,
                rms: float = REFERENCE_RMS, config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """Audio from magnitude frames ``(n_frames, n_bins)`` alone, scaled to ``rms``: fast Griffin-Lim.

    Prior samples have no mixture to borrow a phase from, so one is estimated:
    from random phases, alternate between the STFT of the current waveform and
    the given magnitudes (Griffin & Lim 1984), with the momentum of Perraudin,
    Balazs & Søndergaard (2013), as ``librosa.griffinlim`` does.
    """
    magnitude = torch.as_tensor(np.asarray(frames, dtype=np.float32))
    length = (magnitude.shape[0] - 1) * config.hop_length
    generator = torch.Generator().manual_seed(seed)
    angles = torch.polar(torch.ones_like(magnitude), 2 * np.pi * torch.rand(magnitude.shape, generator=generator))
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = stft(istft(magnitude * angles, length, config), config)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles, previous = accelerated / accelerated.abs().clamp_min(1e-8), rebuilt
    wave = istft(magnitude * angles, length, config).numpy()
    level = float(np.sqrt(np.mean(np.square(wave))))
    return (wave * (rms / level if level > 0 else 1.0)).astype(np.float32)


LatentEdit = Callable[[np.ndarray], np.ndarray]
"""Maps posterior means ``(n_items, n_encoders, n_frames, latent)`` to the latents to decode."""


@torch.no_grad()
def resynthesise(model, mixtures: np.ndarray, edit: LatentEdit | None = None,
                 config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """Separate 16 kHz mixtures after ``edit`` has changed their μ-trajectories.

    Encode every frame, edit the posterior means, decode, share the mixture STFT
    out with the joint soft mask and reuse the mixture phase; with ``edit=None``
    this is ``model.separate``. ``mixtures`` is ``(n_samples,)`` or ``(n_items, n_samples)``;
    the result ``(n_sources, n_samples)`` or ``(n_items, n_sources, n_samples)``, at their level.
    """
    network = as_vae(model)
    scaled, gains = normalise_level(torch.from_numpy(np.atleast_2d(np.asarray(mixtures, dtype=np.float32))))
    spectrum = stft(scaled, config)  # (items, frames, bins), at the level the network was trained at
    mu, _ = _encode(network, spectrum.abs())  # (items, frames, encoders, latent)
    z = np.ascontiguousarray(mu.transpose(0, 2, 1, 3))  # (items, encoders, frames, latent)
    if edit is not None:
        z = np.asarray(edit(z), dtype=np.float32)
    estimates = network.decode(torch.from_numpy(z).to(next(network.parameters()).device)).cpu()
    masks = joint_soft_mask(estimates, source_axis=1)  # (items, sources, frames, bins)
    waves = apply_masks(masks, spectrum, scaled.shape[-1], config) / gains[:, :, None]  # back to the input's level
    waves = waves.float().numpy()
    return waves[0] if np.ndim(mixtures) == 1 else waves


def keep_only_dims(dims_per_encoder: Sequence[Sequence[int]], value: float = 0.0) -> LatentEdit:
    """An edit that pins every dimension except ``dims_per_encoder[e]`` of encoder e to ``value``
    (0 is the prior mean) in every frame."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        for e, dims in enumerate(dims_per_encoder):
            z[..., e, :, np.setdiff1d(np.arange(z.shape[-1]), np.asarray(dims, dtype=int))] = value
        return z

    return edit


def shift_along(direction: np.ndarray, amount: float, encoder: int = 0) -> LatentEdit:
    """An edit that adds ``amount · direction`` to encoder ``encoder``'s latent in every frame."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        z[..., encoder, :, :] += amount * np.asarray(direction, dtype=np.float32)
        return z

    return edit


def separation_with_top_units(model, sources: np.ndarray, stats: UnitStatistics,
                              counts: Sequence[int]) -> dict[int, np.ndarray]:
    """SI-SDR (dB, ``(n_items, n_sources)``) for each ``k`` in ``counts`` when every encoder keeps
    only its ``k`` most active units and the rest are pinned to 0; ``sources`` ``(n_items, n_sources,
    n_samples)`` are test items whose sum is the mixture."""
    from vaesep.metrics import si_sdr

    sources = np.asarray(sources, dtype=np.float32)
    results = {}
    for k in counts:
        estimates = resynthesise(model, sources.sum(axis=1), keep_only_dims(stats.top_units(k)))
        results[int(k)] = np.stack([si_sdr(truth, estimate) for truth, estimate in zip(sources, estimates, strict=True)])
    return results
