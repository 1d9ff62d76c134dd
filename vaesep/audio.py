"""Waveforms in and out: loading, mono down-mixing, resampling, levels and mixing.

Everything downstream is mono ``float32`` at :data:`SAMPLE_RATE` (16 kHz); any other
audio is checked and converted here. Notebook 01, "From files to mixtures".
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vaesep.files import atomic_write

SAMPLE_RATE: int = 16_000
"""The sample rate every model in this package works at (Hz)."""

MIXTURE: str = "mixture"
"""The mixture's name wherever signals are named like sources (the floor separator, notebooks 03, 05)."""

# Telephone speech to the highest rate audio interfaces offer: anything outside is a mistake
# (a rate in kHz, a flag passed by position), and resampling from it would exhaust memory.
MIN_SAMPLE_RATE: int = 4_000
MAX_SAMPLE_RATE: int = 384_000
MAX_RESAMPLED_SAMPLES: int = 2**30  # the most resample() makes: 4 GiB of float32, 18 hours at 16 kHz

_MAX_CHANNELS = 8
_STREAM_BLOCK = 2**20  # input samples per soxr call when resampling long signals


def check_sample_rate(sr: object, *, name: str = "sr") -> int:
    """``sr`` as an ``int`` number of Hz (whole numbers from 4 to 384 kHz, not bools), or an error saying why not."""
    is_number = isinstance(sr, (int, float, np.integer, np.floating))  # not complex
    if isinstance(sr, (bool, np.bool_)) or not is_number:
        raise TypeError(f"{name} must be a sample rate in Hz (an int such as 16000), got {sr!r}")
    value = float(sr)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite sample rate in Hz, got {sr!r}")
    if not MIN_SAMPLE_RATE <= value <= MAX_SAMPLE_RATE:
        # a rate given in kHz (16, 44.1) is the likely slip: name the rate it would be
        in_khz = MIN_SAMPLE_RATE <= value * 1000 <= MAX_SAMPLE_RATE
        hint = f" Sample rates are in Hz, not kHz: did you mean {round(value * 1000)}?" if in_khz else ""
        raise ValueError(
            f"{name}={sr!r} Hz is outside the supported range {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} "
            f"Hz; pass the rate the audio was recorded at.{hint}"
        )
    if value != int(value):
        raise ValueError(f"{name} must be a whole number of Hz, got {sr!r}")
    return int(value)


def as_mono_float(signal: np.ndarray, *, name: str = "signal") -> np.ndarray:
    """An audio array as mono ``float32`` ``(n_samples,)``, or an error that says what is wrong.

    1-D, or 2-D with at most 8 channels on either axis (averaged). Floats are full scale ±1;
    8/16/32-bit integers are PCM, scaled from their range (unsigned ones centred). 64-bit
    integers are refused: no audio format has them, but a Python list of ints becomes one.
    """
    array = np.asarray(signal)
    if array.dtype.kind not in "fiu":  # floats, signed and unsigned integers
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if array.dtype.kind in "iu":
        if array.dtype.itemsize > 4:
            raise TypeError(
                f"{name} has dtype {array.dtype} (a Python list of ints becomes int64), whose "
                "full scale is unknown. Say what the numbers are: np.asarray(x, dtype=np.int16) "
                "for 16-bit PCM values (likewise int8, int32, uint8), or floats scaled to [-1, 1]"
            )
        info = np.iinfo(array.dtype)
        # unsigned PCM (e.g. uint8 WAV) is centred on the middle of its range
        offset = (int(info.max) + int(info.min) + 1) / 2
        array = (array.astype(np.float64) - offset) / (info.max - offset + 1)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected at least one sample")
    if array.ndim == 2:
        rows, cols = array.shape
        if min(rows, cols) > _MAX_CHANNELS or rows == cols > 1:
            raise ValueError(
                f"{name} has shape {array.shape}, in which samples and channels cannot be told "
                f"apart; expected (n_samples,), (n_samples, n_channels) or (n_channels, n_samples) "
                f"with at most {_MAX_CHANNELS} channels and more samples than channels"
            )
        channel_axis = 1 if cols <= rows else 0
        array = array.mean(axis=channel_axis)
    elif array.ndim != 1:
        raise ValueError(
            f"{name} has {array.ndim} dimensions (shape {array.shape}); expected a 1-D waveform "
            "of shape (n_samples,) or a 2-D multichannel one"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite samples; clean the input first")
    with np.errstate(over="ignore"):  # overflow is reported just below, with its cause
        converted = array.astype(np.float32, copy=False)
    if converted is not array and not np.all(np.isfinite(converted)):
        raise ValueError(
            f"{name} has samples up to {np.max(np.abs(array)):.3g}, beyond the float32 range; "
            "audio is expected at about [-1, 1]"
        )
    return converted


def resample(signal: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """A mono waveform at ``target_sr`` Hz (soxr's high-quality filter), ``float32``."""
    orig_sr = check_sample_rate(orig_sr, name="orig_sr")
    target_sr = check_sample_rate(target_sr, name="target_sr")
    signal = np.asarray(signal, dtype=np.float32)
    if orig_sr == target_sr:
        return signal
    n_out = -(-signal.shape[-1] * target_sr // orig_sr)  # ceil: soxr rounds, so this bounds it
    if n_out > MAX_RESAMPLED_SAMPLES:
        raise ValueError(
            f"resampling {signal.shape[-1]} samples from {orig_sr} Hz to {target_sr} Hz would give "
            f"{n_out} samples, more than the {MAX_RESAMPLED_SAMPLES} allowed "
            f"(vaesep.audio.MAX_RESAMPLED_SAMPLES); process the recording in parts"
        )
    import soxr  # imported lazily: pulled in by librosa anyway, but keeps import light

    if signal.ndim != 1 or signal.shape[0] <= _STREAM_BLOCK:
        return np.asarray(soxr.resample(signal, orig_sr, target_sr, quality="HQ"), dtype=np.float32)
    # long signals block by block into one output array: memory is the output plus a block,
    # not several full copies, and the result is bit-identical to the one-shot call's
    stream = soxr.ResampleStream(orig_sr, target_sr, 1, dtype="float32", quality="HQ")
    out = np.empty(n_out + 1, dtype=np.float32)
    filled = 0
    for start in range(0, signal.shape[0], _STREAM_BLOCK):
        block = signal[start : start + _STREAM_BLOCK]
        piece = stream.resample_chunk(block, last=start + _STREAM_BLOCK >= signal.shape[0])
        out[filled : filled + piece.shape[0]] = piece
        filled += piece.shape[0]
    return out[:filled]


def fit_length(signal: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad the last axis of ``signal`` to exactly ``length`` samples."""
    if signal.shape[-1] >= length:
        return signal[..., :length]
    return np.pad(signal, [(0, 0)] * (signal.ndim - 1) + [(0, length - signal.shape[-1])])


def load_audio(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> np.ndarray:
    """A WAV/FLAC/OGG file (anything libsndfile reads; no ffmpeg) as mono ``float32`` at ``sr`` Hz."""
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
    file_sr = check_sample_rate(file_sr, name=f"the sample rate in the header of {path}")
    return resample(as_mono_float(data, name=str(path)), file_sr, check_sample_rate(sr))


def save_audio(path: str | os.PathLike, signal: np.ndarray, sr: int = SAMPLE_RATE) -> Path:
    """Write a mono waveform as 32-bit float WAV, atomically (an interrupted write leaves no partial file)."""
    import soundfile as sf

    samples = np.asarray(signal, dtype=np.float32)
    return atomic_write(path, lambda tmp: sf.write(str(tmp), samples, sr, subtype="FLOAT", format="WAV"))


def rms(signal: np.ndarray) -> float:
    """Root-mean-square level of a waveform."""
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))


def mix_at_snr(target: np.ndarray, interferer: np.ndarray, snr_db: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Two equal-length sources at unit RMS (Huang et al.), the interferer then ``snr_db`` below:
    ``(scaled_target, scaled_interferer)`` in ``float32``, whose sum is the mixture."""
    if target.shape != interferer.shape:
        raise ValueError(f"sources must have the same shape to mix, got {target.shape} and {interferer.shape}")
    target_rms, interferer_rms = rms(target), rms(interferer)
    if target_rms == 0.0 or interferer_rms == 0.0:
        raise ValueError("cannot set an SNR with a silent source (RMS is zero)")
    scaled_target = target / target_rms
    scaled_interferer = interferer / interferer_rms * 10.0 ** (-snr_db / 20.0)
    return scaled_target.astype(np.float32), scaled_interferer.astype(np.float32)
