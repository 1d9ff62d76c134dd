"""What the data sounds like, in numbers: pitch (F0), levels, local SNR, split sizes.

Notebook 01 ("Who is speaking: pitch and level") narrates these. Masks work when one source
dominates most time-frequency bins: two voices with different F0 put their harmonics in
different bins, and bursty speech lets one voice lead many frames of a 0 dB mixture. F0 is
probabilistic YIN (``librosa.pyin``) on the separation STFT's frames, on random excerpts (it
costs ~1 s of CPU per 10 s of audio); a frame is *active* within :data:`ACTIVE_BELOW_DB` of the
stream's RMS level, the rule :mod:`vaesep.data.mixing` uses to skip silence.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.files import markdown_table
from vaesep.runtime import progress_bar
from vaesep.spectral import DEFAULT_STFT, STFTConfig

F0_MIN_HZ: float = 60.0  # below any adult speaking voice
F0_MAX_HZ: float = 500.0  # above the small fish's excited lines
ACTIVE_BELOW_DB: float = -30.0  # a frame this far below the stream's RMS level, or less, is active

_TINY = 1e-12


def estimate_f0(signal: np.ndarray, sr: int = SAMPLE_RATE, config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """F0 in Hz (NaN where unvoiced) of a mono waveform by ``librosa.pyin``, one value per frame
    of :func:`vaesep.spectral.stft` (``config`` rescaled to ``sr``)."""
    import librosa

    signal = np.ascontiguousarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"signal must be 1-D (n_samples,), got shape {signal.shape}")
    scale = config.sample_rate / sr
    frame_length = max(int(round(config.n_fft / scale)), 64)
    hop_length = max(int(round(config.hop_length / scale)), 1)
    if signal.shape[0] < frame_length:
        raise ValueError(f"signal of {signal.shape[0]} samples is shorter than one analysis frame ({frame_length})")
    f0, _, _ = librosa.pyin(signal, fmin=F0_MIN_HZ, fmax=F0_MAX_HZ, sr=sr, frame_length=frame_length,
                            hop_length=hop_length, center=True)  # fmt: skip
    return f0.astype(np.float64)


def both_voiced_window(tracks: Sequence[np.ndarray], window_frames: int) -> int:
    """First frame of the ``window_frames`` window where all F0 tracks are voiced most often (both
    voices sound at once); 0 when the tracks are shorter than the window."""
    length = min(track.size for track in tracks)
    together = np.all([np.isfinite(track[:length]) for track in tracks], axis=0).astype(float)
    if window_frames >= length:
        return 0
    return int(np.argmax(np.convolve(together, np.ones(window_frames), mode="valid")))


@dataclass(frozen=True)
class SpeakerF0:
    """Voiced-frame F0 values (Hz) of one source in one split, from ``n_frames`` frames and ``seconds``."""

    source: str
    split: str
    f0_hz: np.ndarray
    n_frames: int
    seconds: float

    @property
    def voiced_fraction(self) -> float:
        return self.f0_hz.size / self.n_frames if self.n_frames else math.nan

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.f0_hz, q)) if self.f0_hz.size else math.nan


def speaker_f0(
    dataset: Any, split: str, *, seconds: float = 60.0, excerpt_seconds: float = 4.0, seed: int = 0,
    progress: bool | None = None,
) -> dict[str, SpeakerF0]:  # fmt: skip
    """F0 of every source of a built data set: pyin on ``seconds`` of consecutive excerpts per
    source, chosen at random (all of them if the stream is shorter)."""
    excerpt = int(round(excerpt_seconds * dataset.sample_rate))
    wanted = max(1, math.ceil(seconds / excerpt_seconds))
    result = {}
    for index, (name, stream) in enumerate(dataset.streams(split).items()):
        grid = np.arange(stream.shape[0] // excerpt, dtype=np.int64) * excerpt
        if wanted < grid.size:
            grid = np.sort(np.random.default_rng([seed, index]).choice(grid, size=wanted, replace=False))
        bar = progress_bar(grid, progress, desc=f"pitch (pyin) of {name}/{split}")
        tracks = [estimate_f0(np.array(stream[o : o + excerpt]), dataset.sample_rate) for o in bar]
        f0 = np.concatenate(tracks) if tracks else np.zeros(0)
        result[name] = SpeakerF0(name, split, f0[np.isfinite(f0)], f0.size, grid.size * excerpt / dataset.sample_rate)
    return result


def frame_levels_db(signal: np.ndarray, config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """RMS level in dBFS of each unpadded ``config.n_fft`` frame, ``(n_frames,)`` (one if shorter)."""
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1 or signal.size == 0:
        raise ValueError(f"signal must be a non-empty 1-D array, got shape {signal.shape}")
    length = min(config.n_fft, signal.size)
    starts = np.arange(1 + (signal.size - length) // config.hop_length) * config.hop_length
    energy = np.concatenate([[0.0], np.cumsum(np.square(signal))])
    return 10.0 * np.log10(np.maximum((energy[starts + length] - energy[starts]) / length, _TINY))


def _rms_db(signal: np.ndarray) -> float:
    return 10.0 * math.log10(max(float(np.mean(np.square(signal))), _TINY))


def level_statistics(stream: np.ndarray, max_seconds: float | None = 600.0) -> dict[str, float]:
    """A waveform's RMS (dBFS), share of active frames, and the 10–90 % spread (dB) of the active
    frames' levels, over its first ``max_seconds`` (None: all)."""
    signal = np.asarray(stream[: None if max_seconds is None else int(max_seconds * SAMPLE_RATE)], dtype=np.float64)
    rms_db = _rms_db(signal)
    relative = frame_levels_db(signal) - rms_db
    active = relative[relative >= ACTIVE_BELOW_DB]
    spread = float(np.subtract(*np.percentile(active, [90, 10]))) if active.size else math.nan
    fraction = active.size / relative.size
    return {"rms_dbfs": rms_db, "active_fraction": fraction, "level_spread_db": spread}


def dataset_levels(dataset: Any, split: str) -> dict[str, dict[str, float]]:
    """:func:`level_statistics` of every source stream of one split, in source order."""
    return {name: level_statistics(stream) for name, stream in dataset.streams(split).items()}


def local_snr_db(sources: np.ndarray) -> np.ndarray:
    """Per frame, source 0 over source 1 in dB, in mixtures ``(n_items, 2, n_samples)``: a 0 dB
    mixture is 0 dB only on average. Frames more than :data:`ACTIVE_BELOW_DB` below the
    mixture's RMS are left out."""
    sources = np.asarray(sources, dtype=np.float64)
    if sources.ndim != 3 or sources.shape[1] != 2:
        raise ValueError(f"sources must have shape (n_items, 2, n_samples), got {sources.shape}")
    kept = []
    for first, second in sources:
        mixture = first + second
        difference = frame_levels_db(first) - frame_levels_db(second)
        kept.append(difference[frame_levels_db(mixture) - _rms_db(mixture) >= ACTIVE_BELOW_DB])
    return np.concatenate(kept)


def dominance(local_snr: np.ndarray, threshold_db: float = 10.0) -> dict[str, float]:
    """Shares of frames where source 0 leads, source 1 leads, or neither by ``threshold_db``."""
    if local_snr.size == 0:
        return {"first": math.nan, "second": math.nan, "neither": math.nan}
    first, second = float(np.mean(local_snr > threshold_db)), float(np.mean(local_snr < -threshold_db))
    return {"first": first, "second": second, "neither": 1.0 - first - second}


def _table(header: list[str], rows: list[list[str]], caption: str) -> str:
    return f"{markdown_table(header, rows, 'll' + 'r' * (len(header) - 2))}\n\n_{caption}_"


def split_summary(dataset: Any) -> tuple[str, dict[str, Any]]:
    """A Markdown table of a built data set's splits (language, items, recordings and minutes per
    source), and the same as data (for ``save_table``)."""
    languages = dataset.manifest.get("notes", {}).get("languages", {})
    names = list(dataset.source_names)
    header = ["split", "language", "items", *(f"{n} files" for n in names), *(f"{n} (min)" for n in names)]
    rows, data = [], {"data": dataset.name, "params": dict(dataset.params), "splits": {}}
    for split in dataset.splits:
        index = dataset.stream_index(split)
        files = {n: len({piece["file"] for piece in index.get(n, [])}) for n in names}
        minutes = {n: dataset.duration_seconds(split)[n] / 60.0 for n in names}
        count = dataset.manifest["item_counts"].get(split)
        language = languages.get(split, "-")
        rows.append([split, language, "-" if count is None else str(count),
                     *(str(files[n]) if index.get(n) else "-" for n in names), *(f"{minutes[n]:.1f}" for n in names)])  # fmt: skip
        data["splits"][split] = {"language": language, "items": count, "files": files, "minutes": minutes}
    caption = (f"{dataset.name}, seed {dataset.params.get('seed')}, SNR {dataset.snr_db:g} dB, "
               f"{'fast' if dataset.params.get('fast') else 'full'} mode; items are fixed "
               f"{dataset.params.get('segment_seconds')} s evaluation mixtures")  # fmt: skip
    return _table(header, rows, caption), data


def speaker_summary(
    f0: Sequence[SpeakerF0], levels: Mapping[tuple[str, str], Mapping[str, float]]
) -> tuple[str, dict[str, Any]]:
    """A Markdown table of pitch and loudness per speaker (``levels``: ``(split, source)`` →
    :func:`level_statistics`), and the same as data."""
    header = ["split", "source", "analysed (s)", "voiced", "F0 median (Hz)", "F0 10–90 % (Hz)",
              "RMS (dBFS)", "active frames", "level spread 10–90 % (dB)"]  # fmt: skip
    rows, data = [], []
    for entry in f0:
        low, median, high = (entry.percentile(q) for q in (10, 50, 90))
        record = {"split": entry.split, "source": entry.source, "seconds": entry.seconds,
                  "voiced_fraction": entry.voiced_fraction, "f0_median_hz": median, "f0_p10_hz": low,
                  "f0_p90_hz": high, **levels[(entry.split, entry.source)]}
        rows.append([entry.split, entry.source, f"{entry.seconds:.0f}",
                     f"{100 * entry.voiced_fraction:.0f} %", f"{median:.0f}",
                     f"{low:.0f}–{high:.0f}", f"{record['rms_dbfs']:.1f}",
                     f"{100 * record['active_fraction']:.0f} %", f"{record['level_spread_db']:.1f}"])
        data.append({k: None if isinstance(v, float) and math.isnan(v) else v for k, v in record.items()})
    caption = (f"F0 by pyin ({F0_MIN_HZ:g}–{F0_MAX_HZ:g} Hz) on random excerpts; levels of the whole stream "
               f"before mixing; active = within {-ACTIVE_BELOW_DB:g} dB of the stream's RMS level")  # fmt: skip
    return _table(header, rows, caption), {"rows": data}
