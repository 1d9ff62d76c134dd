"""Spectrograms, the one level convention, and time-frequency masks.

The first file to read. Notebook 01 explains the STFT settings ("Why this
STFT") and the oracle masks ("Oracle masks: the ceiling"); notebook 02 the
joint soft mask ("From estimates to masks") and the level ("The likelihood
has a scale").

One layout everywhere: a spectrogram is ``(..., n_frames, n_bins)``, one row
per STFT frame, as the networks read it; leading dimensions are batch
dimensions (items, sources). Only plots turn it round, to draw frequency
upwards. Every function is torch code that also takes NumPy arrays, and then
gives NumPy back.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from vaesep.audio import SAMPLE_RATE

EPS: float = 1e-8
"""Added to mask denominators so that the masks of silent bins are defined (equal shares)."""

REFERENCE_RMS: float = 0.1
"""Every mixture is scaled to this RMS before a network sees it, in training and at test time,
so that separation does not depend on how loud a recording is (:func:`normalise_level`)."""


@dataclass(frozen=True)
class STFTConfig:
    """The analysis settings shared by every model, oracle and plot.

    At 16 kHz a 1024-point frame spans 64 ms (15.6 Hz per bin) and the hop of
    256 samples advances 16 ms: fine enough in frequency to resolve the
    harmonics of both voices, with 75 % overlap so that the Hann windows sum to
    a constant and the inverse is exact.
    """

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 1024
    hop_length: int = 256

    @property
    def n_bins(self) -> int:
        """Non-negative frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    def n_frames(self, n_samples: int) -> int:
        """Frames of a centred STFT of ``n_samples`` samples."""
        return n_samples // self.hop_length + 1

    def bin_frequencies(self) -> np.ndarray:
        """Centre frequency of each bin, in Hz."""
        return np.linspace(0.0, self.sample_rate / 2, self.n_bins)


DEFAULT_STFT = STFTConfig()


def _numpy_too(function):
    """Let a torch function take NumPy arrays as well, and hand NumPy back for them."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        was_numpy = any(isinstance(arg, np.ndarray) for arg in args)
        args = [torch.from_numpy(np.ascontiguousarray(a)) if isinstance(a, np.ndarray) else a for a in args]
        result = function(*args, **kwargs)
        if not was_numpy:
            return result
        return tuple(r.numpy() for r in result) if isinstance(result, tuple) else result.numpy()

    return wrapper


@_numpy_too
def stft(signal: torch.Tensor, config: STFTConfig = DEFAULT_STFT) -> torch.Tensor:
    """Complex STFT of waveforms ``(..., n_samples)`` → ``(..., n_frames, n_bins)``.

    Frames are centred (reflect-padded), so ``n_frames = n_samples // hop + 1``.
    """
    if signal.shape[-1] < config.n_fft // 2 + 1:
        raise ValueError(
            f"signal of {signal.shape[-1]} samples is too short for an STFT with n_fft="
            f"{config.n_fft}; give at least {config.n_fft // 2 + 1} samples"
        )
    signal = signal.float()
    spectrum = torch.stft(
        signal.reshape(-1, signal.shape[-1]),  # (signals, n_samples)
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=torch.hann_window(config.n_fft, device=signal.device),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    ).transpose(-1, -2)  # torch gives (signals, n_bins, n_frames): turned round once, here
    return spectrum.reshape(*signal.shape[:-1], *spectrum.shape[-2:])


@_numpy_too
def istft(spectrogram: torch.Tensor, length: int, config: STFTConfig = DEFAULT_STFT) -> torch.Tensor:
    """Inverse of :func:`stft`: ``(..., n_frames, n_bins)`` complex → ``(..., length)`` real."""
    if spectrogram.shape[-1] != config.n_bins:
        raise ValueError(
            f"spectrogram has {spectrogram.shape[-1]} bins on its last axis; expected "
            f"{config.n_bins} (shape (..., n_frames, n_bins))"
        )
    flat = spectrogram.reshape(-1, *spectrogram.shape[-2:]).transpose(-1, -2)  # (signals, n_bins, n_frames)
    window = torch.hann_window(config.n_fft, device=flat.device, dtype=flat.real.dtype)
    wave = torch.istft(flat, n_fft=config.n_fft, hop_length=config.hop_length, window=window, center=True, length=length)
    return wave.reshape(*spectrogram.shape[:-2], length)


@_numpy_too
def magnitude(spectrogram: torch.Tensor) -> torch.Tensor:
    """Absolute value of a complex spectrogram (same shape, real dtype)."""
    return spectrogram.abs()


def reference_gain(rms: torch.Tensor) -> torch.Tensor:
    """The gain that brings a signal of RMS ``rms`` to :data:`REFERENCE_RMS` (1 for silence, below 1e-9)."""
    return torch.where(rms > 1e-9, REFERENCE_RMS / rms.clamp_min(1e-9), 1.0)


@_numpy_too
def normalise_level(mixture: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each waveform ``(..., n_samples)`` to :data:`REFERENCE_RMS`: the train/test invariant.

    Returns ``(scaled, gain)``: ``scaled = mixture * gain`` in float32, and the
    gain ``(..., 1)`` in float64. Divide what was computed on ``scaled`` by the
    gain to return to the input's level; scale a mixture's sources by its gain
    to keep them at their level inside it.
    """
    gain = reference_gain(mixture.double().square().mean(dim=-1, keepdim=True).sqrt())
    return (mixture * gain).float(), gain


# Masks are (..., n_sources, n_frames, n_bins) and sum to one over the sources. The oracles
# (notebook 01) compute them from the true sources' magnitudes, which no real system has.


def _shares(values: torch.Tensor, source_axis: int) -> torch.Tensor:
    return values / (values.sum(dim=source_axis, keepdim=True) + EPS)


@_numpy_too
def ideal_binary_mask(source_magnitudes: torch.Tensor, source_axis: int = -3) -> torch.Tensor:
    """1 where a source is the loudest in a bin, else 0."""
    winner = source_magnitudes.argmax(dim=source_axis, keepdim=True)
    return torch.zeros_like(source_magnitudes).scatter_(source_axis, winner, 1.0)


@_numpy_too
def ideal_ratio_mask(source_magnitudes: torch.Tensor, source_axis: int = -3) -> torch.Tensor:
    """``|S_i| / Σ_j |S_j|``."""
    return _shares(source_magnitudes, source_axis)


@_numpy_too
def wiener_mask(source_magnitudes: torch.Tensor, source_axis: int = -3) -> torch.Tensor:
    """``|S_i|² / Σ_j |S_j|²``."""
    return _shares(source_magnitudes.square(), source_axis)


@_numpy_too
def joint_soft_mask(estimated_magnitudes: torch.Tensor, source_axis: int = -3) -> torch.Tensor:
    """The joint soft-mask layer of Huang et al. (2015), eq. (4): ``|ŷ_i| / Σ_j |ŷ_j|``.

    The formula of :func:`ideal_ratio_mask`, applied to a model's estimates
    instead of the truth: the separated magnitudes ``mask_i ⊙ |X|`` always add
    up to the mixture's. Differentiable (a torch input keeps its graph).
    """
    return _shares(estimated_magnitudes.abs(), source_axis)


@_numpy_too
def apply_masks(masks: torch.Tensor, mixture_stft: torch.Tensor, length: int, config: STFTConfig = DEFAULT_STFT) -> torch.Tensor:
    """Masks ``(..., n_sources, n_frames, n_bins)`` on a mixture STFT ``(..., n_frames, n_bins)``,
    inverted with the mixture's phase: the separated waveforms ``(..., n_sources, length)``."""
    if masks.shape[-2:] != mixture_stft.shape[-2:]:
        raise ValueError(
            f"masks of shape {tuple(masks.shape)} do not match the mixture STFT of shape "
            f"{tuple(mixture_stft.shape)}; expected (..., n_sources, n_frames, n_bins) against (..., n_frames, n_bins)"
        )
    return istft(masks * mixture_stft.unsqueeze(-3), length, config)


def spectrogram_batch(sources: np.ndarray, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitudes of the mixtures ``(batch, n_frames, n_bins)`` and sources ``(batch, n_sources, n_frames,
    n_bins)`` of segments ``(batch, n_sources, n_samples)``, each at its mixture's training level."""
    sources = np.asarray(sources, dtype=np.float32)
    _, gain = normalise_level(sources.sum(axis=1))  # (batch, 1)
    scaled = torch.from_numpy((sources * gain[:, None]).astype(np.float32)).to(device)
    return stft(scaled.sum(dim=1)).abs(), stft(scaled).abs()
