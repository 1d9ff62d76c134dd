"""Spectrograms, the one level convention, and time-frequency masks.

The first file to read. Notebook 01 explains the STFT settings ("Why this
STFT") and the oracle masks ("Oracle masks: the ceiling"); notebook 02 the
joint soft mask ("From estimates to masks") and the level ("The likelihood
has a scale").

One layout everywhere: a spectrogram is ``(..., n_frames, n_bins)``, one row
per STFT frame, which is how the networks read it. Leading dimensions are
batch dimensions (items, sources). Only plots turn it round, to draw
frequency upwards. Every function takes NumPy arrays or torch tensors and
returns the same kind it was given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaesep.audio import SAMPLE_RATE

EPS: float = 1e-8
"""Added to mask denominators so that the masks of silent bins are defined (equal shares)."""

REFERENCE_RMS: float = 0.1
"""Every mixture is scaled to this RMS before a network sees it, in training and at test time.

Separation must not depend on how loud a recording is. The masks are computed
on the rescaled mixture and applied to it, and the result is scaled back, so
the output keeps the input's level (:func:`normalise_level`).
"""


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


def _as_tensor(array: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``(tensor, was_numpy)``: NumPy input is wrapped so the result can be handed back as NumPy."""
    if isinstance(array, torch.Tensor):
        return array, False
    return torch.from_numpy(np.ascontiguousarray(array)), True


def _returned(tensor: torch.Tensor, was_numpy: bool) -> np.ndarray | torch.Tensor:
    return tensor.numpy() if was_numpy else tensor


def stft(signal: np.ndarray | torch.Tensor, config: STFTConfig = DEFAULT_STFT) -> np.ndarray | torch.Tensor:
    """Complex STFT of waveforms ``(..., n_samples)`` → ``(..., n_frames, n_bins)``.

    Frames are centred (reflect-padded), so ``n_frames = n_samples // hop + 1``.
    """
    tensor, was_numpy = _as_tensor(signal)
    if tensor.shape[-1] < config.n_fft // 2 + 1:
        raise ValueError(
            f"signal of {tensor.shape[-1]} samples is too short for an STFT with n_fft="
            f"{config.n_fft}; give at least {config.n_fft // 2 + 1} samples"
        )
    tensor = tensor.float()
    spectrum = torch.stft(
        tensor.reshape(-1, tensor.shape[-1]),  # (signals, n_samples)
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=torch.hann_window(config.n_fft, device=tensor.device),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    ).transpose(-1, -2)  # torch gives (signals, n_bins, n_frames): turned round once, here
    return _returned(spectrum.reshape(*tensor.shape[:-1], *spectrum.shape[-2:]), was_numpy)


def istft(
    spectrogram: np.ndarray | torch.Tensor, length: int, config: STFTConfig = DEFAULT_STFT
) -> np.ndarray | torch.Tensor:
    """Inverse of :func:`stft`: ``(..., n_frames, n_bins)`` complex → ``(..., length)`` real."""
    tensor, was_numpy = _as_tensor(spectrogram)
    if tensor.shape[-1] != config.n_bins:
        raise ValueError(
            f"spectrogram has {tensor.shape[-1]} bins on its last axis; expected {config.n_bins} "
            f"(shape (..., n_frames, n_bins))"
        )
    flat = tensor.reshape(-1, *tensor.shape[-2:]).transpose(-1, -2)  # (signals, n_bins, n_frames)
    wave = torch.istft(
        flat,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=torch.hann_window(config.n_fft, device=flat.device, dtype=flat.real.dtype),
        center=True,
        length=length,
    )
    return _returned(wave.reshape(*tensor.shape[:-2], length), was_numpy)


def magnitude(spectrogram: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Absolute value of a complex spectrogram (same shape, real dtype)."""
    return np.abs(spectrogram) if isinstance(spectrogram, np.ndarray) else spectrogram.abs()


def reference_gain(rms: torch.Tensor) -> torch.Tensor:
    """The gain that brings a signal of RMS ``rms`` to :data:`REFERENCE_RMS` (1 for silence, RMS below 1e-9)."""
    return torch.where(rms > 1e-9, REFERENCE_RMS / rms.clamp_min(1e-9), 1.0)


def normalise_level(mixture: np.ndarray | torch.Tensor) -> tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]:
    """Scale each waveform ``(..., n_samples)`` to :data:`REFERENCE_RMS`: the train/test invariant.

    Returns:
        ``(scaled, gain)``: ``scaled = mixture * gain`` in float32, ``gain`` of
        shape ``(..., 1)`` in float64. Divide what was computed on ``scaled`` by
        ``gain`` to return to the input's level; scale the sources of a mixture
        by its gain to keep them at their level inside it.
    """
    tensor, was_numpy = _as_tensor(mixture)
    gain = reference_gain(tensor.double().square().mean(dim=-1, keepdim=True).sqrt())
    return _returned((tensor * gain).float(), was_numpy), _returned(gain, was_numpy)


def _shares(values: torch.Tensor, source_axis: int) -> torch.Tensor:
    return values / (values.sum(dim=source_axis, keepdim=True) + EPS)


# The oracle masks take the true sources' magnitudes (..., n_sources, n_frames, n_bins) and
# return masks of that shape that sum to one over the sources (notebook 01).


def ideal_binary_mask(source_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3) -> np.ndarray | torch.Tensor:
    """1 where a source is the loudest in a bin, else 0."""
    tensor, was_numpy = _as_tensor(source_magnitudes)
    winner = tensor.argmax(dim=source_axis, keepdim=True)
    return _returned(torch.zeros_like(tensor).scatter_(source_axis, winner, 1.0), was_numpy)


def ideal_ratio_mask(source_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3) -> np.ndarray | torch.Tensor:
    """``|S_i| / Σ_j |S_j|``."""
    tensor, was_numpy = _as_tensor(source_magnitudes)
    return _returned(_shares(tensor, source_axis), was_numpy)


def wiener_mask(source_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3) -> np.ndarray | torch.Tensor:
    """``|S_i|² / Σ_j |S_j|²``."""
    tensor, was_numpy = _as_tensor(source_magnitudes)
    return _returned(_shares(tensor.square(), source_axis), was_numpy)


def joint_soft_mask(estimated_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3) -> np.ndarray | torch.Tensor:
    """The joint soft-mask layer of Huang et al. (2015), eq. (4): ``|ŷ_i| / Σ_j |ŷ_j|``.

    The formula of :func:`ideal_ratio_mask`, applied to a model's estimates
    ``(..., n_sources, n_frames, n_bins)`` instead of the truth: the masks sum
    to one, so the separated magnitudes ``mask_i ⊙ |X|`` always add up to the
    mixture's. Differentiable (a torch input keeps its graph).
    """
    tensor, was_numpy = _as_tensor(estimated_magnitudes)
    return _returned(_shares(tensor.abs(), source_axis), was_numpy)


def apply_masks(
    masks: np.ndarray | torch.Tensor,
    mixture_stft: np.ndarray | torch.Tensor,
    length: int,
    config: STFTConfig = DEFAULT_STFT,
) -> np.ndarray | torch.Tensor:
    """Masks ``(..., n_sources, n_frames, n_bins)`` on a mixture STFT ``(..., n_frames, n_bins)``,
    inverted with the mixture's phase: waveforms ``(..., n_sources, length)``."""
    mask_tensor, was_numpy = _as_tensor(masks)
    stft_tensor, _ = _as_tensor(mixture_stft)
    if mask_tensor.shape[-2:] != stft_tensor.shape[-2:]:
        raise ValueError(
            f"masks of shape {tuple(mask_tensor.shape)} do not match the mixture STFT of shape "
            f"{tuple(stft_tensor.shape)}; expected (..., n_sources, n_frames, n_bins) against "
            "(..., n_frames, n_bins)"
        )
    separated = mask_tensor * stft_tensor.unsqueeze(-3)  # (..., n_sources, n_frames, n_bins)
    return _returned(istft(separated, length, config), was_numpy)
