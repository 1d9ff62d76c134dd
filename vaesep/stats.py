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
from vaesep.spectral import DEFAULT_STFT, STFTConfig

F0_MIN_HZ: float = 60.0  # below any adult speaking voice
F0_MAX_HZ: float = 500.0  # above the small fish's excited lines
ACTIVE_BELOW_DB: float = -30.0  # a frame this far below the stream's RMS level, or less, is active

_TINY = 1e-12


@dataclass(frozen=True)
class F0Track:
    """Per frame ``(n_frames,)``: centre time (s), F0 (Hz, NaN unvoiced), pyin's voiced probability."""

    times: np.ndarray
    f0_hz: np.ndarray
    voiced_probability: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        return np.isfinite(self.f0_hz)


def estimate_f0(
    signal: np.ndarray, sr: int = SAMPLE_RATE, *, fmin: float = F0_MIN_HZ, fmax: float = F0_MAX_HZ,
    config: STFTConfig = DEFAULT_STFT,
) -> F0Track:
    """F0 of a mono waveform ``(n_samples,)`` by ``librosa.pyin`` in [fmin, fmax], on the frames of
    :func:`vaesep.spectral.stft` (``config`` rescaled to ``sr``)."""
    import librosa

    signal = np.ascontiguousarray(signal, dtype=np.float32)
    if signal.ndim != 1:
        raise ValueError(f"signal must be 1-D (n_samples,), got shape {signal.shape}")
    scale = config.sample_rate / sr
    frame_length = max(int(round(config.n_fft / scale)), 64)
    hop_length = max(int(round(config.hop_length / scale)), 1)
    if signal.shape[0] < frame_length:
        raise ValueError(f"signal of {signal.shape[0]} samples is shorter than one analysis frame ({frame_length})")
    f0, _, probability = librosa.pyin(signal, fmin=fmin, fmax=fmax, sr=sr, frame_length=frame_length,
                                      hop_length=hop_length, center=True)
    times = np.arange(f0.shape[0]) * hop_length / sr
    return F0Track(times, f0.astype(np.float64), np.nan_to_num(probability).astype(np.float64))


def both_voiced_window(tracks: Sequence[F0Track | np.ndarray], window_frames: int) -> int:
    """First frame of the ``window_frames`` window where all tracks (or F0 arrays) are voiced most
    often: where both voices sound at once; 0 when the tracks are shorter than the window."""
    arrays = [np.asarray(t.f0_hz if isinstance(t, F0Track) else t, dtype=float) for t in tracks]
    if not arrays:
        raise ValueError("give at least one F0 track")
    length = min(a.size for a in arrays)
    together = np.all([np.isfinite(a[:length]) for a in arrays], axis=0).astype(float)
    if window_frames >= length:
        return 0
    return int(np.argmax(np.convolve(together, np.ones(window_frames), mode="valid")))


def excerpt_offsets(n_samples: int, excerpt_samples: int, n_excerpts: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted starts of ``n_excerpts`` consecutive excerpts chosen at random (all if there are fewer)."""
    if excerpt_samples < 1:
        raise ValueError(f"excerpt_samples must be positive, got {excerpt_samples}")
    grid = np.arange(n_samples // excerpt_samples, dtype=np.int64) * excerpt_samples
    if grid.size == 0:
        raise ValueError(f"a stream of {n_samples} samples is shorter than one excerpt ({excerpt_samples})")
    return grid if n_excerpts >= grid.size else np.sort(rng.choice(grid, size=n_excerpts, replace=False))


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

    @property
    def median_hz(self) -> float:
        return self.percentile(50.0)


def speaker_f0(
    dataset: Any, split: str, *, seconds: float = 60.0, excerpt_seconds: float = 4.0, seed: int = 0,
    progress: bool = True,
) -> dict[str, SpeakerF0]:
    """F0 statistics of every source of a built data set: pyin on random excerpts, ``seconds`` each."""
    from tqdm.auto import tqdm

    sr = dataset.sample_rate
    excerpt = int(round(excerpt_seconds * sr))
    n_excerpts = max(1, int(math.ceil(seconds / excerpt_seconds)))
    jobs = []
    for index, (name, stream) in enumerate(dataset.streams(split).items()):
        rng = np.random.default_rng([seed, index])
        jobs += [(name, stream, int(offset)) for offset in excerpt_offsets(stream.shape[0], excerpt, n_excerpts, rng)]
    values: dict[str, list[np.ndarray]] = {name: [] for name in dataset.source_names}
    frames = dict.fromkeys(dataset.source_names, 0)
    for name, stream, offset in tqdm(jobs, desc=f"pitch (pyin) of {dataset.name}/{split}", disable=not progress,
                                     leave=False):
        track = estimate_f0(np.array(stream[offset : offset + excerpt]), sr)
        values[name].append(track.f0_hz[track.voiced])
        frames[name] += track.f0_hz.size
    counts = {name: sum(1 for job in jobs if job[0] == name) for name in dataset.source_names}
    return {name: SpeakerF0(name, split, np.concatenate(values[name]) if values[name] else np.zeros(0), frames[name],
                            counts[name] * excerpt / sr)
            for name in dataset.source_names}


def frame_levels_db(signal: np.ndarray, config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """RMS level in dBFS of each unpadded ``config.n_fft`` frame, ``(n_frames,)`` (one if shorter)."""
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1 or signal.size == 0:
        raise ValueError(f"signal must be a non-empty 1-D array, got shape {signal.shape}")
    length = min(config.n_fft, signal.size)
    starts = np.arange(1 + (signal.size - length) // config.hop_length) * config.hop_length
    energy = np.concatenate([[0.0], np.cumsum(np.square(signal))])
    return 10.0 * np.log10(np.maximum((energy[starts + length] - energy[starts]) / length, _TINY))


@dataclass(frozen=True)
class LevelStatistics:
    """One stream's RMS (dBFS), share of active frames, and each active frame's level relative to it."""

    source: str
    split: str
    rms_dbfs: float
    active_fraction: float
    active_levels_db: np.ndarray

    def spread_db(self, low: float = 10.0, high: float = 90.0) -> float:
        if not self.active_levels_db.size:
            return math.nan
        low_db, high_db = np.percentile(self.active_levels_db, [low, high])
        return float(high_db - low_db)


def level_statistics(
    stream: np.ndarray, *, source: str = "", split: str = "", config: STFTConfig = DEFAULT_STFT,
    max_seconds: float | None = 600.0,
) -> LevelStatistics:
    """:class:`LevelStatistics` of a waveform ``(n_samples,)``, its first ``max_seconds`` (None: all)."""
    signal = np.asarray(stream, dtype=np.float64)
    if max_seconds is not None:
        signal = signal[: int(max_seconds * config.sample_rate)]
    rms_db = 10.0 * math.log10(max(float(np.mean(np.square(signal))), _TINY))
    relative = frame_levels_db(signal, config) - rms_db
    active = relative >= ACTIVE_BELOW_DB
    return LevelStatistics(source, split, rms_db, float(np.mean(active)), relative[active])


def dataset_levels(dataset: Any, split: str, *, max_seconds: float | None = 600.0) -> dict[str, LevelStatistics]:
    """:func:`level_statistics` of every source stream of one split, in source order."""
    return {name: level_statistics(stream, source=name, split=split, max_seconds=max_seconds)
            for name, stream in dataset.streams(split).items()}


def local_snr_db(sources: np.ndarray, *, config: STFTConfig = DEFAULT_STFT, floor_db: float = ACTIVE_BELOW_DB) -> np.ndarray:
    """Per frame, source 0 over source 1 in dB, in mixtures ``(n_items, 2, n_samples)``: a 0 dB mixture
    is 0 dB only on average. Frames more than ``floor_db`` below the mixture's RMS are left out."""
    sources = np.asarray(sources, dtype=np.float64)
    if sources.ndim != 3 or sources.shape[1] != 2:
        raise ValueError(f"sources must have shape (n_items, 2, n_samples), got {sources.shape}")
    kept = []
    for first, second in sources:
        mixture = first + second
        rms_db = 10.0 * math.log10(max(float(np.mean(np.square(mixture))), _TINY))
        difference = frame_levels_db(first, config) - frame_levels_db(second, config)
        kept.append(difference[frame_levels_db(mixture, config) - rms_db >= floor_db])
    return np.concatenate(kept)


def dominance(local_snr: np.ndarray, threshold_db: float = 10.0) -> dict[str, float]:
    """Shares of frames where source 0 leads, source 1 leads, or neither by ``threshold_db``."""
    local_snr = np.asarray(local_snr, dtype=float)
    if local_snr.size == 0:
        return {"first": math.nan, "second": math.nan, "neither": math.nan}
    first, second = float(np.mean(local_snr > threshold_db)), float(np.mean(local_snr < -threshold_db))
    return {"first": first, "second": second, "neither": 1.0 - first - second}


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
                     *(str(files[n]) if index.get(n) else "-" for n in names), *(f"{minutes[n]:.1f}" for n in names)])
        data["splits"][split] = {"language": language, "items": count, "files": files, "minutes": minutes}
    caption = (f"_{dataset.name}, seed {dataset.params.get('seed')}, SNR {dataset.snr_db:g} dB, "
               f"{'fast' if dataset.params.get('fast') else 'full'} mode; items are fixed "
               f"{dataset.params.get('segment_seconds')} s evaluation mixtures_")
    return f"{markdown_table(header, rows, 'll' + 'r' * (len(header) - 2))}\n\n{caption}", data


def speaker_summary(
    f0: Sequence[SpeakerF0], levels: Mapping[tuple[str, str], LevelStatistics] | None = None
) -> tuple[str, dict[str, Any]]:
    """A Markdown table of pitch (and, given ``(split, source)`` → levels, loudness) per speaker, and data."""
    header = ["split", "source", "analysed (s)", "voiced", "F0 median (Hz)", "F0 10–90 % (Hz)"]
    if levels:
        header += ["RMS (dBFS)", "active frames", "level spread 10–90 % (dB)"]
    rows, data = [], []
    for entry in f0:
        row = [entry.split, entry.source, f"{entry.seconds:.0f}", f"{100 * entry.voiced_fraction:.0f} %",
               f"{entry.median_hz:.0f}", f"{entry.percentile(10):.0f}–{entry.percentile(90):.0f}"]
        record: dict[str, Any] = {
            "split": entry.split, "source": entry.source, "seconds": entry.seconds,
            "voiced_fraction": entry.voiced_fraction, "f0_median_hz": entry.median_hz,
            "f0_p10_hz": entry.percentile(10), "f0_p90_hz": entry.percentile(90),
        }
        level = (levels or {}).get((entry.split, entry.source))
        if levels and level is None:
            row += ["-", "-", "-"]
        elif level is not None:
            row += [f"{level.rms_dbfs:.1f}", f"{100 * level.active_fraction:.0f} %", f"{level.spread_db():.1f}"]
            record.update(rms_dbfs=level.rms_dbfs, active_fraction=level.active_fraction,
                          level_spread_db=level.spread_db())
        rows.append(row)
        data.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
    levels_note = (f"; levels of the whole stream before mixing; active = within {-ACTIVE_BELOW_DB:g} dB of the "
                   "stream's RMS level" if levels else "")
    caption = f"_F0 by pyin ({F0_MIN_HZ:g}–{F0_MAX_HZ:g} Hz) on random excerpts{levels_note}_"
    return f"{markdown_table(header, rows, 'll' + 'r' * (len(header) - 2))}\n\n{caption}", {"rows": data}
