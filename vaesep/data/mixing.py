"""Cutting mixtures out of source streams: fixed evaluation items and dynamic mixing.

Both follow :func:`vaesep.audio.mix_at_snr`: every source segment is scaled to unit RMS, every
source after the first then by ``10 ** (-snr_db / 20)``, and the mixture is the plain sum.
Notebook 01, section "Building the data set" (fixed items); notebook 02, section "From
waveforms to training frames (dynamic mixing)".
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaesep.audio import mix_at_snr, rms
from vaesep.data.dataset import BuiltDataset

SILENCE_BELOW_DB = -30.0  # quieter segments are skipped or redrawn: their SNR would be set by noise
MAX_REDRAWS = 100  # per example, before concluding that a stream is silent almost everywhere
STREAM_LEVEL_CHUNK = 1 << 22  # samples per read when measuring a memory-mapped stream (16 MB)


def scale_to_snr(segments: np.ndarray, snr_db: float) -> np.ndarray:
    """``(n_sources, n_samples)`` segments scaled so source 0 has unit RMS and leads every
    other one by ``snr_db`` (pairwise :func:`vaesep.audio.mix_at_snr`); float32."""
    if segments.shape[0] == 1:
        return (segments / rms(segments[0])).astype(np.float32)
    scaled = np.empty(segments.shape, dtype=np.float32)
    for index in range(1, segments.shape[0]):
        scaled[0], scaled[index] = mix_at_snr(segments[0], segments[index], snr_db)
    return scaled


def stream_level(stream: np.ndarray) -> float:
    """RMS of a whole stream; a memory-mapped one (a corpus built on disk) is read in chunks."""
    if not isinstance(stream, np.memmap):
        return rms(stream)
    total = 0.0
    for start in range(0, stream.shape[0], STREAM_LEVEL_CHUNK):
        chunk = np.asarray(stream[start : start + STREAM_LEVEL_CHUNK], dtype=np.float64)
        total += float(np.dot(chunk, chunk))
    return float(np.sqrt(total / max(stream.shape[0], 1)))


def silence_threshold(stream_rms: float) -> float:
    return stream_rms * 10.0 ** (SILENCE_BELOW_DB / 20.0)


def segment_rms(stream: np.ndarray, offsets: np.ndarray, length: int) -> np.ndarray:
    squares = [np.mean(np.square(stream[o : o + length], dtype=np.float64)) for o in offsets]
    return np.sqrt(np.array(squares))


def concatenate_pieces(
    pieces: Sequence[tuple[str, np.ndarray, int]],
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Join ``(file id, audio, offset in the decoded file)`` pieces into ``(stream, index)``,
    one ``{"file", "stream_offset", "length", "file_offset"}`` per piece."""
    index, position = [], 0
    for file_id, audio, file_offset in pieces:
        index.append({"file": file_id, "stream_offset": position, "length": int(audio.shape[0]),
                      "file_offset": int(file_offset)})  # fmt: skip
        position += int(audio.shape[0])
    audio = [np.asarray(audio, dtype=np.float32) for _, audio, _ in pieces]
    return (np.concatenate(audio) if audio else np.zeros(0)).astype(np.float32, copy=False), index


def locate(index: Sequence[Mapping[str, Any]], offset: int, length: int) -> list[dict[str, Any]]:
    """The files a stretch ``[offset, offset + length)`` of a stream was cut from: one
    ``{"file", "file_offset", "length"}`` per overlapped piece of ``index``, in order."""
    position = max(bisect.bisect_right([p["stream_offset"] for p in index], offset) - 1, 0)
    found, end = [], offset + length
    for piece in index[position:]:
        if piece["stream_offset"] >= end:
            break
        start = piece["stream_offset"]
        lo, hi = max(offset, start), min(end, start + piece["length"])
        if hi > lo:
            found.append({"file": piece["file"], "file_offset": piece["file_offset"] + lo - start,
                          "length": hi - lo})  # fmt: skip
    return found


def _voiced_grid(stream: np.ndarray, length: int) -> np.ndarray:
    """Offsets of the consecutive, non-silent ``length``-sample segments of a stream."""
    grid = np.arange(stream.shape[0] // length, dtype=np.int64) * length
    return grid[segment_rms(stream, grid, length) >= silence_threshold(stream_level(stream))]


def _random_voiced_offsets(
    stream: np.ndarray, count: int, length: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` seeded random offsets of non-silent segments, overlap allowed."""
    if stream.shape[0] < length:
        raise ValueError(f"a stream of {stream.shape[0]} samples is shorter than one segment "
                         f"({length})")  # fmt: skip
    threshold = silence_threshold(stream_level(stream))
    offsets = rng.integers(0, stream.shape[0] - length + 1, size=count)
    for _ in range(MAX_REDRAWS):
        quiet = segment_rms(stream, offsets, length) < threshold
        if not quiet.any():
            return offsets
        offsets[quiet] = rng.integers(0, stream.shape[0] - length + 1, size=int(quiet.sum()))
    raise ValueError("could not find enough non-silent segments; the stream is almost all silence")


def cut_evaluation_items(
    streams: Mapping[str, np.ndarray], *, segment_samples: int, snr_db: float,
    rng: np.random.Generator, max_items: int | None = None, primary: str | None = None,
    aligned: bool = False, stream_index: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]]]:  # fmt: skip
    """Fixed, non-overlapping evaluation items: ``(sources (n_items, n_sources, segment_samples)
    float32, one dict per item)``. The *primary* stream (default: the shortest) is cut into
    consecutive non-silent segments, each paired with a segment of every other source drawn
    without replacement from its own consecutive segments (seeded random, possibly
    overlapping ones if too few); ``aligned=True`` cuts every source at the same offsets,
    where every stem is audible. ``max_items`` keeps a seeded subset, in stream order."""
    names = list(streams)
    primary = primary or min(names, key=lambda name: streams[name].shape[0])
    if aligned and len({streams[name].shape[0] for name in names}) != 1:
        raise ValueError("aligned items need streams of equal length")
    if aligned:  # every stem must be audible, or the pair says nothing
        candidates = np.arange(streams[primary].shape[0] // segment_samples) * segment_samples
        for name in names:
            candidates = np.intersect1d(candidates, _voiced_grid(streams[name], segment_samples))
    else:
        candidates = _voiced_grid(streams[primary], segment_samples)
    if max_items is not None and candidates.size > max_items:
        candidates = np.sort(rng.choice(candidates, size=max_items, replace=False))
    if (n_items := int(candidates.size)) == 0:
        raise ValueError(
            f"no non-silent segment of {segment_samples} samples in the {primary!r} stream; "
            "the split is too short for even one item"
        )
    offsets: dict[str, np.ndarray] = {}
    for name in names:
        if name == primary or aligned:
            offsets[name] = candidates
        elif (grid := _voiced_grid(streams[name], segment_samples)).size >= n_items:
            offsets[name] = rng.permutation(grid)[:n_items]
        else:
            offsets[name] = _random_voiced_offsets(streams[name], n_items, segment_samples, rng)
    sources = np.empty((n_items, len(names), segment_samples), dtype=np.float32)
    items: list[dict[str, Any]] = []
    for item in range(n_items):
        starts = [int(offsets[name][item]) for name in names]
        pairs = zip(names, starts, strict=True)
        segments = np.stack([streams[name][o : o + segment_samples] for name, o in pairs])
        sources[item] = scale_to_snr(segments, snr_db)
        record: dict[str, Any] = {"index": item, "snr_db": float(snr_db), "sources": {}}
        for position, (name, offset) in enumerate(zip(names, starts, strict=True)):
            gain = rms(sources[item, position]) / rms(segments[position])
            entry: dict[str, Any] = {"stream_offset": offset, "gain": gain}
            if stream_index is not None and stream_index.get(name):
                entry["files"] = locate(stream_index[name], offset, segment_samples)
            record["sources"][name] = entry
        items.append(record)
    return sources, items


def random_segments(
    dataset: BuiltDataset, split: str, n: int, seconds: float, *, rng: np.random.Generator,
    snr_db: float | None = None,
) -> np.ndarray:  # fmt: skip
    """``n`` fresh training mixtures of ``seconds`` from a split's streams (dynamic mixing):
    ``(n, n_sources, n_samples)`` float32, the mixture is ``.sum(axis=1)``. Every source gets
    its own random offset; near-silent segments are redrawn; levels as in
    :func:`scale_to_snr` at ``snr_db`` (default the data set's)."""
    streams = [dataset.streams(split)[name] for name in dataset.source_names]
    levels = dataset.stream_rms(split)
    thresholds = np.array([silence_threshold(levels[name]) for name in dataset.source_names])
    length = int(round(seconds * dataset.sample_rate))
    if n < 0 or length <= 0:
        raise ValueError(f"need n >= 0 and seconds > 0, got n={n}, seconds={seconds}")
    limits = np.array([stream.shape[0] - length + 1 for stream in streams])
    if limits.min() <= 0:
        shortest = min(stream.shape[0] for stream in streams) / dataset.sample_rate
        raise ValueError(f"{seconds} s segments do not fit in the {split!r} streams "
                         f"({shortest:.1f} s)")  # fmt: skip
    out = np.empty((n, len(streams), length), dtype=np.float32)
    segments = np.empty((len(streams), length), dtype=np.float32)
    for example in range(n):
        for _ in range(MAX_REDRAWS):
            offsets = rng.integers(0, limits)
            for source, stream in enumerate(streams):
                segments[source] = stream[offsets[source] : offsets[source] + length]
            loudness = np.sqrt(np.mean(np.square(segments, dtype=np.float64), axis=1))
            if np.all(loudness >= thresholds):
                break
        else:
            raise ValueError(f"{MAX_REDRAWS} draws of {seconds} s from {split!r} were all "
                             "near-silent; use longer segments")  # fmt: skip
        out[example] = scale_to_snr(segments, dataset.snr_db if snr_db is None else float(snr_db))
    return out
