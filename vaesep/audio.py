"""Waveform input/output: loading, mono down-mixing, resampling and mixing.

Everything downstream of this module works on mono ``float32`` arrays at
:data:`SAMPLE_RATE` (16 kHz). Notebook 01 (section "From files to mixtures")
walks through these steps on the default speech data.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

SAMPLE_RATE: int = 16_000
"""The sample rate every model in this package works at (Hz)."""

_MAX_CHANNELS = 8


def as_mono_float(signal: np.ndarray, *, name: str = "signal") -> np.ndarray:
    """Validate an audio array and return it as mono ``float32``.

    Args:
        signal: shape ``(n_samples,)``, or ``(n_samples, n_channels)`` as
            soundfile returns it, or ``(n_channels, n_samples)`` as librosa
            returns it (at most 8 channels; the shorter axis is taken as channels).
            Integer arrays are scaled from their full range to [-1, 1].
        name: what to call the array in error messages.

    Returns:
        ``float32`` array, shape ``(n_samples,)``.

    Raises:
        ValueError: empty input, more than two dimensions, ambiguous channel
            layout, or non-finite samples.
    """
    array = np.asarray(signal)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        # unsigned PCM (e.g. uint8 WAV) is centred on the middle of its range
        offset = (int(info.max) + int(info.min) + 1) / 2
        array = (array.astype(np.float64) - offset) / (info.max - offset + 1)
    if array.ndim == 2:
        rows, cols = array.shape
        if min(rows, cols) > _MAX_CHANNELS:
            raise ValueError(
                f"{name} has shape {array.shape}; expected (n_samples,), (n_samples, n_channels) "
                f"or (n_channels, n_samples) with at most {_MAX_CHANNELS} channels"
            )
        channel_axis = 1 if cols <= rows else 0
        array = array.mean(axis=channel_axis)
    elif array.ndim != 1:
        raise ValueError(
            f"{name} has {array.ndim} dimensions (shape {array.shape}); expected a 1-D waveform "
            "of shape (n_samples,) or a 2-D multichannel one"
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty; expected at least one sample")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite samples; clean the input first")
    return array


def resample(signal: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono waveform with soxr's high-quality polyphase filter.

    Args:
        signal: ``(n_samples,)`` float array.
        orig_sr: its sample rate in Hz.
        target_sr: the wanted rate in Hz.

    Returns:
        ``float32`` array of ``round(n_samples * target_sr / orig_sr)`` samples.
    """
    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} and {target_sr}")
    signal = np.asarray(signal, dtype=np.float32)
    if int(orig_sr) == int(target_sr):
        return signal
    import soxr  # imported lazily: pulled in by librosa anyway, but keeps import light

    out = soxr.resample(signal, int(orig_sr), int(target_sr), quality="HQ")
    return np.asarray(out, dtype=np.float32)


def fit_length(signal: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad the last axis of ``signal`` to exactly ``length`` samples."""
    current = signal.shape[-1]
    if current == length:
        return signal
    if current > length:
        return signal[..., :length]
    pad = [(0, 0)] * (signal.ndim - 1) + [(0, length - current)]
    return np.pad(signal, pad)


def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read a WAV/FLAC/OGG file as mono ``float32`` at ``sr`` Hz.

    Args:
        path: any format libsndfile reads (no ffmpeg is needed or used).
        sr: target sample rate in Hz.

    Returns:
        ``(n_samples,)`` float32 array.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file not found: {path}")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile's errors name neither the file nor the cure
        raise OSError(
            f"could not decode {path}: {exc}. vaesep reads WAV, FLAC and OGG/Vorbis through "
            "libsndfile (apt-get install libsndfile1); convert other formats first"
        ) from exc
    if data.shape[0] == 0:
        raise ValueError(f"{path} holds no samples")
    return resample(as_mono_float(data, name=str(path)), file_sr, sr)


def save_audio(path: str | os.PathLike, signal: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write a mono waveform as 32-bit float WAV, atomically (temp file, then rename).

    An interrupted write (Ctrl-C, full disk) leaves neither a partial file nor the temp file.
    """
    import soundfile as sf

    from vaesep.reporting import _atomic_write

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    samples = np.asarray(signal, dtype=np.float32)
    return _atomic_write(
        path, lambda tmp: sf.write(str(tmp), samples, sr, subtype="FLOAT", format="WAV")
    )


def rms(signal: np.ndarray) -> float:
    """Root-mean-square level of a waveform."""
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))


def mix_at_snr(
    target: np.ndarray, interferer: np.ndarray, snr_db: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Scale two equal-length sources so the target-to-interferer ratio is ``snr_db``.

    Both are first normalised to unit RMS (the design's convention, matching
    Huang et al.'s unit-energy sources), then the interferer is scaled by
    ``10 ** (-snr_db / 20)``. The mixture is the sum of the two returned arrays.

    Args:
        target: ``(n_samples,)``.
        interferer: ``(n_samples,)``.
        snr_db: wanted ratio in dB.

    Returns:
        ``(scaled_target, scaled_interferer)``, each ``float32 (n_samples,)``.
    """
    if target.shape != interferer.shape:
        raise ValueError(
            f"sources must have the same shape to mix, got {target.shape} and {interferer.shape}"
        )
    target_rms, interferer_rms = rms(target), rms(interferer)
    if target_rms == 0.0 or interferer_rms == 0.0:
        raise ValueError("cannot set an SNR with a silent source (RMS is zero)")
    scaled_target = target / target_rms
    scaled_interferer = interferer / interferer_rms * 10.0 ** (-snr_db / 20.0)
    return scaled_target.astype(np.float32), scaled_interferer.astype(np.float32)
