"""Short-time Fourier analysis, magnitudes and time-frequency masks.

The reference configuration (16 kHz, Hann window, ``n_fft`` 1024, hop 256,
513 frequency bins) is explained in notebook 01, section "Why this STFT".
Masks are explained in notebook 01, section "Oracle masks: the ceiling", and
the joint soft-mask layer of Huang et al. (2015) in notebook 02.

All functions are batched torch code: any leading dimensions are carried
through, so a batch of mixtures is transformed in one call. NumPy arrays are
accepted and NumPy arrays are returned for them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vaesep.audio import SAMPLE_RATE

EPS: float = 1e-8
"""Added to denominators so that masks of silent bins are defined (equal shares)."""


@dataclass(frozen=True)
class STFTConfig:
    """The analysis settings shared by every model, oracle and plot.

    At 16 kHz a 1024-point frame spans 64 ms (15.6 Hz per bin) and the hop
    of 256 samples advances 16 ms: fine enough in frequency to resolve the
    harmonics of both voices, with 75 % overlap so the Hann windows sum to a
    constant and the inverse is exact.
    """

    sample_rate: int = SAMPLE_RATE
    n_fft: int = 1024
    hop_length: int = 256

    @property
    def n_bins(self) -> int:
        """Number of non-negative frequency bins, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    def n_frames(self, n_samples: int) -> int:
        """Frames produced for a centred STFT of ``n_samples`` samples."""
        return n_samples // self.hop_length + 1

    def frame_times(self, n_frames: int) -> np.ndarray:
        """Centre time of each frame, in seconds."""
        return np.arange(n_frames) * self.hop_length / self.sample_rate

    def bin_frequencies(self) -> np.ndarray:
        """Centre frequency of each bin, in Hz."""
        return np.linspace(0.0, self.sample_rate / 2, self.n_bins)


DEFAULT_STFT = STFTConfig()


def _to_tensor(array: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, bool]:
    if isinstance(array, torch.Tensor):
        return array, False
    return torch.from_numpy(np.ascontiguousarray(array)), True


def _window(config: STFTConfig, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    return torch.hann_window(config.n_fft, periodic=True, device=device, dtype=dtype)


def stft(
    signal: np.ndarray | torch.Tensor, config: STFTConfig = DEFAULT_STFT
) -> np.ndarray | torch.Tensor:
    """Complex STFT of one or many waveforms.

    Args:
        signal: real waveforms, shape ``(..., n_samples)``.
        config: analysis settings.

    Returns:
        complex spectrogram, shape ``(..., n_bins, n_frames)`` with
        ``n_frames = n_samples // hop + 1`` (frames are centred, reflect-padded).
    """
    tensor, was_numpy = _to_tensor(signal)
    if tensor.shape[-1] < config.n_fft // 2 + 1:
        raise ValueError(
            f"signal of {tensor.shape[-1]} samples is too short for an STFT with n_fft="
            f"{config.n_fft}; give at least {config.n_fft // 2 + 1} samples"
        )
    tensor = tensor.float()
    leading = tensor.shape[:-1]
    spec = torch.stft(
        tensor.reshape(-1, tensor.shape[-1]),
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=_window(config, tensor.device, tensor.dtype),
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    spec = spec.reshape(*leading, *spec.shape[-2:])
    return spec.numpy() if was_numpy else spec


def istft(
    spectrogram: np.ndarray | torch.Tensor, length: int, config: STFTConfig = DEFAULT_STFT
) -> np.ndarray | torch.Tensor:
    """Inverse of :func:`stft`, returning exactly ``length`` samples.

    Args:
        spectrogram: complex, shape ``(..., n_bins, n_frames)``.
        length: number of samples of the original waveform.
        config: the settings used for the forward transform.

    Returns:
        real waveforms, shape ``(..., length)``.
    """
    tensor, was_numpy = _to_tensor(spectrogram)
    if tensor.shape[-2] != config.n_bins:
        raise ValueError(
            f"spectrogram has {tensor.shape[-2]} bins on axis -2; expected {config.n_bins} "
            f"(shape (..., n_bins, n_frames))"
        )
    leading = tensor.shape[:-2]
    flat = tensor.reshape(-1, *tensor.shape[-2:])
    wave = torch.istft(
        flat,
        n_fft=config.n_fft,
        hop_length=config.hop_length,
        window=_window(config, flat.device, flat.real.dtype),
        center=True,
        length=length,
    )
    wave = wave.reshape(*leading, length)
    return wave.numpy() if was_numpy else wave


def magnitude(spectrogram: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Absolute value of a complex spectrogram (same shape, real dtype)."""
    return np.abs(spectrogram) if isinstance(spectrogram, np.ndarray) else spectrogram.abs()


def _ratio(shares: torch.Tensor, source_axis: int) -> torch.Tensor:
    return shares / (shares.sum(dim=source_axis, keepdim=True) + EPS)


def ideal_binary_mask(
    source_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3
) -> np.ndarray | torch.Tensor:
    """Ideal binary mask: 1 where a source is the loudest in a bin, else 0.

    Args:
        source_magnitudes: true source magnitudes, shape ``(..., n_sources, n_bins, n_frames)``.
        source_axis: the axis that indexes sources.

    Returns:
        masks of the same shape whose values are 0 or 1 and sum to 1 over sources.
    """
    tensor, was_numpy = _to_tensor(source_magnitudes)
    winner = tensor.argmax(dim=source_axis, keepdim=True)
    mask = torch.zeros_like(tensor).scatter_(source_axis, winner, 1.0)
    return mask.numpy() if was_numpy else mask


def ideal_ratio_mask(
    source_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3
) -> np.ndarray | torch.Tensor:
    """Ideal ratio mask ``|S_i| / Σ_j |S_j|`` (shape as the input)."""
    tensor, was_numpy = _to_tensor(source_magnitudes)
    mask = _ratio(tensor, source_axis)
    return mask.numpy() if was_numpy else mask


def wiener_mask(
    source_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3
) -> np.ndarray | torch.Tensor:
    """Wiener-like mask ``|S_i|² / Σ_j |S_j|²`` (shape as the input)."""
    tensor, was_numpy = _to_tensor(source_magnitudes)
    mask = _ratio(tensor.square(), source_axis)
    return mask.numpy() if was_numpy else mask


def joint_soft_mask(
    estimated_magnitudes: np.ndarray | torch.Tensor, source_axis: int = -3
) -> np.ndarray | torch.Tensor:
    """The joint soft-mask layer of Huang et al. (2015), eq. (4).

    Turns non-negative per-source estimates ``ŷ_i`` into masks
    ``|ŷ_i| / Σ_j |ŷ_j|`` that sum to one, so the separated magnitudes
    ``mask_i ⊙ |X|`` always add up to the mixture magnitude. It is the same
    formula as :func:`ideal_ratio_mask`, applied to estimates instead of truths.

    Args:
        estimated_magnitudes: shape ``(..., n_sources, n_bins, n_frames)``, non-negative.

    Returns:
        masks of the same shape, differentiable (torch input keeps its graph).
    """
    tensor, was_numpy = _to_tensor(estimated_magnitudes)
    mask = _ratio(tensor.abs(), source_axis)
    return mask.numpy() if was_numpy else mask


def apply_masks(
    masks: np.ndarray | torch.Tensor,
    mixture_stft: np.ndarray | torch.Tensor,
    length: int,
    config: STFTConfig = DEFAULT_STFT,
) -> np.ndarray | torch.Tensor:
    """Mask the mixture STFT per source and invert with the mixture phase.

    Args:
        masks: real, shape ``(..., n_sources, n_bins, n_frames)``.
        mixture_stft: complex, shape ``(..., n_bins, n_frames)``.
        length: samples of the mixture waveform.

    Returns:
        separated waveforms, shape ``(..., n_sources, length)``.
    """
    mask_tensor, was_numpy = _to_tensor(masks)
    stft_tensor, _ = _to_tensor(mixture_stft)
    if mask_tensor.shape[-2:] != stft_tensor.shape[-2:]:
        raise ValueError(
            f"masks of shape {tuple(mask_tensor.shape)} do not match the mixture STFT of shape "
            f"{tuple(stft_tensor.shape)}; expected (..., n_sources, n_bins, n_frames) against "
            "(..., n_bins, n_frames)"
        )
    separated = mask_tensor * stft_tensor.unsqueeze(-3)
    waves = istft(separated, length, config)
    return waves.numpy() if was_numpy else waves
