"""Fixed evaluation items for music corpora: cut inside each clip or track, stems aligned.

:func:`vaesep.data.mixing.cut_evaluation_items` cuts aligned items on a
grid over the whole concatenated stream, so an item may straddle two songs.
For MIR-1K and MUSDB18 an item should be a piece of *one* recording, as in
the published evaluations, which score each clip or track on its own. So
here every clip/track is cut into consecutive segments, a segment is kept
only if every stem is audible in it (more than 30 dB above the stem's
stream level, as elsewhere), and at most ``items_per_file`` of them are
kept per recording (seeded choice). Items are written straight into the
build as a memory map, so a large test set never sits in memory.
data/README.md, section "How the corpora are mixed".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vaesep.audio import rms
from vaesep.data.mixing import scale_to_snr, segment_rms, silence_threshold, stream_level

if TYPE_CHECKING:
    from vaesep.data.cache import DatasetWriter
    from vaesep.data.registry import BuildRequest


def audible_offsets(
    streams: Mapping[str, np.ndarray],
    piece: Mapping[str, Any],
    segment_samples: int,
    thresholds: Mapping[str, float],
) -> np.ndarray:
    """Stream offsets of the consecutive segments of one recording in which every stem is audible.

    Args:
        streams: source → ``(n_samples,)`` aligned streams.
        piece: the recording's entry in the stream index (``stream_offset``, ``length``).
        segment_samples: item length.
        thresholds: source → RMS below which a segment counts as silent.

    Returns:
        ``(n_kept,)`` int64 offsets into the streams.

    data/README.md, section "How the corpora are mixed".
    """
    count = int(piece["length"]) // segment_samples
    offsets = int(piece["stream_offset"]) + np.arange(count, dtype=np.int64) * segment_samples
    for source, stream in streams.items():
        if offsets.size == 0:
            break
        offsets = offsets[segment_rms(stream, offsets, segment_samples) >= thresholds[source]]
    return offsets


def cut_items_per_recording(
    streams: Mapping[str, np.ndarray],
    pieces: Sequence[Mapping[str, Any]],
    *,
    segment_samples: int,
    snr_db: float,
    rng: np.random.Generator,
    items_per_recording: int | None,
    out_path: Path,
) -> tuple[np.memmap, list[dict[str, Any]]]:
    """Cut aligned evaluation items inside each recording and write them to ``out_path``.

    Args:
        streams: source → ``(n_samples,)`` float32, all of one length, in source order.
        pieces: the stream index shared by all sources (one piece per recording).
        segment_samples: length of every item.
        snr_db: level of source 0 over each other source
            (:func:`vaesep.data.mixing.scale_to_snr`).
        rng: the only source of randomness (which segments a capped recording keeps).
        items_per_recording: keep at most this many per recording; None keeps all.
        out_path: ``writer.sources_path(split)``.

    Returns:
        ``(sources, items)``: a read-only memory map ``(n_items, n_sources,
        segment_samples)`` float32 and one dict per item (recording, offsets,
        gains). data/README.md, section "How the corpora are mixed".
    """
    names = list(streams)
    thresholds = {name: silence_threshold(stream_level(streams[name])) for name in names}
    chosen: list[tuple[int, Mapping[str, Any]]] = []
    for piece in pieces:
        offsets = audible_offsets(streams, piece, segment_samples, thresholds)
        if items_per_recording is not None and offsets.size > items_per_recording:
            offsets = np.sort(rng.choice(offsets, size=items_per_recording, replace=False))
        chosen += [(int(offset), piece) for offset in offsets]
    if not chosen:
        raise ValueError(
            f"no segment of {segment_samples} samples in which every stem is audible; "
            "the split is too short or silent for even one item"
        )
    sources = np.lib.format.open_memmap(
        out_path, mode="w+", dtype=np.float32, shape=(len(chosen), len(names), segment_samples)
    )
    items: list[dict[str, Any]] = []
    for position, (offset, piece) in enumerate(chosen):
        segments = np.stack([streams[name][offset : offset + segment_samples] for name in names])
        sources[position] = scale_to_snr(segments, snr_db)
        within = int(piece["file_offset"]) + offset - int(piece["stream_offset"])
        items.append(
            {
                "index": position,
                "snr_db": float(snr_db),
                "file": piece["file"],
                "sources": {
                    name: {
                        "stream_offset": offset,
                        "gain": rms(sources[position, slot]) / rms(segments[slot]),
                        "files": [
                            {
                                "file": piece["file"],
                                "file_offset": within,
                                "length": segment_samples,
                            }
                        ],
                    }
                    for slot, name in enumerate(names)
                },
            }
        )
    sources.flush()
    del sources
    return np.load(out_path, mmap_mode="r"), items


def add_recording_split(
    writer: DatasetWriter,
    split: str,
    *,
    streams: Mapping[str, np.ndarray],
    stream_index: Mapping[str, list[dict[str, Any]]],
    request: BuildRequest,
    segment_samples: int,
    items_per_recording: Mapping[str, int | None],
    recordings_of: str,
) -> None:
    """Write one split of a multitrack corpus, with items cut inside each recording.

    ``train`` keeps only its streams; every other split also gets the items of
    :func:`cut_items_per_recording`, drawn with ``request.rng("items", split)``.

    Args:
        writer: the data set being built.
        split: the split's name.
        streams, stream_index: as for ``DatasetWriter.add_split``; every source's
            stream is aligned with the others.
        request: the build request (seed, SNR).
        segment_samples: length of every item.
        items_per_recording: split → cap per recording (None: every audible segment).
        recordings_of: the source whose stream index lists the recordings.
    """
    if split == "train":
        writer.add_split(split, streams=streams, stream_index=stream_index)
        return
    sources, items = cut_items_per_recording(
        streams,
        stream_index[recordings_of],
        segment_samples=segment_samples,
        snr_db=request.snr_db,
        rng=request.rng("items", split),
        items_per_recording=items_per_recording[split],
        out_path=writer.sources_path(split),
    )
    writer.add_split(
        split, streams=streams, stream_index=stream_index, sources=sources, items=items
    )
