"""What every corpus loader shares: finding the corpus, clear errors, decoding it to streams.

A corpus loader is a :class:`~vaesep.data.DatasetBuilder` whose files the
user downloads (:class:`CorpusBuilder`). It finds the corpus inside the
folder the user passed (either the folder an archive unpacked into or the
corpus folder itself, in upper or lower case), lists each split's files as
decoding :class:`Unit` s, and :func:`decode_streams` turns them into one
stream per source: files decoded on a small process pool, in order, appended
to the stream's ``.npy`` file on disk, so memory grows with the longest
file, not with the corpus. A wrong folder or a damaged file stops the build
with a message naming it and the section of ``data/README.md`` to read.
Notebook 01, section "Bring your own corpus"; data/README.md, sections
"Real corpora", "Memory and disk" and "When something is wrong".
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from vaesep.audio import SAMPLE_RATE, rms
from vaesep.data.builder import BuildRequest, DatasetBuilder, DatasetWriter
from vaesep.data.decode import ordered_map
from vaesep.data.mixing import scale_to_snr, segment_rms, silence_threshold, stream_level
from vaesep.data.system import MissingSystemDataError


class CorpusLayoutError(MissingSystemDataError):
    """The corpus root is not given or lacks the files the loader expects. A
    :class:`~vaesep.data.MissingSystemDataError`, so code that skips absent data skips it too."""


class CorpusFileError(RuntimeError):
    """A corpus file cannot be decoded: unreadable, truncated or in an unsupported coding."""


def readme_pointer(section: str) -> str:
    return f'see data/README.md, section "{section}"'


def layout_error(corpus: str, root: Path, missing: str, expected: str, section: str) -> CorpusLayoutError:
    """The error for a root that does not look like the corpus: ``missing`` is the first
    expected file or folder that is not there, ``expected`` the layout in one line."""
    return CorpusLayoutError(
        f"The {corpus!r} corpus was not found under {root}: {missing} is missing. "
        f"Expected {expected}, as unpacked from the original archive (no renaming); "
        f"{readme_pointer(section)}"
    )


def file_error(path: Path | str, problem: str, section: str) -> CorpusFileError:
    """The error for one damaged corpus file, named in full, with what to do about it."""
    return CorpusFileError(
        f"{path}: {problem}. Re-extract or re-download this file from the original archive; "
        f"{readme_pointer(section)}"
    )


def child(directory: Path, name: str) -> Path | None:
    """The entry of ``directory`` called ``name`` in any case (an exact match wins); None if absent."""
    if (directory / name).exists():
        return directory / name
    if not directory.is_dir():
        return None
    matches = sorted(entry for entry in directory.iterdir() if entry.name.lower() == name.lower())
    return matches[0] if matches else None


def find_corpus_dir(root: Path, looks_right: Callable[[Path], bool], wrappers: Sequence[str]) -> Path | None:
    """``root`` itself or the first ``root/<wrapper>`` (any case) that ``looks_right``."""
    if looks_right(root):
        return root
    for wrapper in wrappers:
        candidate = child(root, wrapper)
        if candidate is not None and looks_right(candidate):
            return candidate
    return None


def files_with_suffix(directory: Path, suffixes: Iterable[str]) -> list[Path]:
    """Files directly in ``directory`` with one of ``suffixes`` (any case), sorted."""
    wanted = {suffix.lower() for suffix in suffixes}
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in wanted)


def relative_id(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes: the id stream indexes record."""
    return path.relative_to(root).as_posix()


class Unit(NamedTuple):
    """One decoding job: a file (speech), a clip (MIR-1K) or a track (MUSDB18).

    Attributes:
        file_id: path relative to the corpus root, recorded in the stream index.
        arguments: for the decode function, which returns a :class:`DecodedUnit`.
    """

    file_id: str
    arguments: tuple[Any, ...]


class DecodedUnit(NamedTuple):
    """A decoded unit: source name → ``(n,)`` float32 at 16 kHz (all sources of one length for
    music; the one source a speech file belongs to), and where the audio starts in the decoded
    file (non-zero after trimming leading silence)."""

    audio: dict[str, np.ndarray]
    file_offset: int


class NpyVectorAppender:
    """A float32 ``.npy`` vector written at its end in constant memory.

    numpy's format-1.0 header reserves room for the length to grow, so
    :meth:`close` rewrites it in place and the samples are never copied.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.n_samples = Path(path), 0
        self._handle = open(self.path, "w+b")
        self._write_header()
        self._data_offset = self._handle.tell()

    def _write_header(self) -> None:
        header = {"descr": "<f4", "fortran_order": False, "shape": (self.n_samples,)}
        np.lib.format.write_array_header_1_0(self._handle, header)

    def append(self, audio: np.ndarray) -> None:
        self._handle.write(np.ascontiguousarray(audio, dtype="<f4").tobytes())
        self.n_samples += int(audio.shape[0])

    def close(self) -> None:
        """Write the final length into the header; the file is then a normal ``.npy`` vector."""
        self._handle.seek(0)
        self._write_header()
        if self._handle.tell() != self._data_offset:  # numpy changed its padding: never corrupt
            raise RuntimeError(f"the .npy header of {self.path} changed size while finishing")
        self._handle.close()


def decode_streams(
    paths: Mapping[str, Path],
    units: Sequence[Unit],
    function: Callable[..., DecodedUnit],
    *,
    progress: bool,
    desc: str,
) -> tuple[dict[str, np.memmap], dict[str, list[dict[str, Any]]], list[str]]:
    """Decode ``units`` in order into one ``.npy`` stream per source.

    Args:
        paths: source → the stream file to write (usually ``writer.stream_path``).
        units: the files, in stream order.
        function: module-level decode function, called as ``function(*unit.arguments)``.

    Returns:
        ``(streams, index, empty_files)``: source → read-only memory map; source →
        pieces ``{"file", "stream_offset", "length", "file_offset"}``; ids of units
        without audio (skipped).
    """
    from tqdm.auto import tqdm

    appenders = {source: NpyVectorAppender(path) for source, path in paths.items()}
    index: dict[str, list[dict[str, Any]]] = {source: [] for source in paths}
    empty: list[str] = []
    try:
        decoded_units = ordered_map(function, [unit.arguments for unit in units])
        for unit, decoded in tqdm(zip(units, decoded_units, strict=True), total=len(units), desc=desc, disable=not progress):
            if all(audio.size == 0 for audio in decoded.audio.values()):
                empty.append(unit.file_id)
            for source, audio in decoded.audio.items():
                if audio.size:
                    index[source].append(
                        {"file": unit.file_id, "stream_offset": appenders[source].n_samples,
                         "length": int(audio.shape[0]), "file_offset": int(decoded.file_offset)}
                    )  # fmt: skip
                    appenders[source].append(audio)
    finally:
        for appender in appenders.values():
            appender.close()
    return {s: np.load(path, mmap_mode="r") for s, path in paths.items()}, index, empty


class CorpusBuilder(DatasetBuilder):
    """Base class of the loaders for downloaded corpora.

    Attributes:
        corpus: the registered name used in messages, e.g. ``"tsp"``.
        readme_section: the ``data/README.md`` section describing the corpus.
    """

    corpus: str = ""
    readme_section: str = ""

    def default_root(self) -> Path | None:
        return None  # corpora live wherever the user unpacked them

    @abc.abstractmethod
    def locate(self, root: Path) -> Path:
        """The corpus folder inside ``root``, or :class:`CorpusLayoutError` naming what is missing."""

    def require_root(self, root: Path | None) -> Path:
        """``root``, or the error saying how to pass one (corpora have no default location)."""
        if root is None:
            raise CorpusLayoutError(
                f"The {self.corpus!r} corpus is read from files you download yourself, so it needs "
                f"their folder: data.build({self.corpus!r}, root='/path/to/it') or `vaesep data "
                f"prepare {self.corpus} --root /path/to/it`; {readme_pointer(self.readme_section)}"
            )
        return Path(root)

    def check_system_data(self, root: Path | None) -> None:
        self.locate(self.require_root(root))

    def decode_split(
        self, request: BuildRequest, writer: DatasetWriter, split: str, units: Sequence[Unit],
        function: Callable[..., DecodedUnit], sources: Sequence[str] | None = None,
        paths: Mapping[str, Path] | None = None,
    ) -> tuple[dict[str, np.memmap], dict[str, list[dict[str, Any]]], list[str]]:  # fmt: skip
        """:func:`decode_streams` into the split's stream files (or ``paths``); ``sources``
        (default all) are the sources the units fill. Raises if one gets no audio at all."""
        sources = self.source_names if sources is None else sources
        paths = paths or {source: writer.stream_path(split, source) for source in sources}
        desc = f"{self.corpus} {split}"
        streams, index, empty = decode_streams(paths, units, function, progress=request.progress, desc=desc)
        silent = [source for source, pieces in index.items() if not pieces]
        if silent:
            raise CorpusLayoutError(
                f"the {split!r} split of {self.corpus!r} has no audio for {silent}; the corpus folder "
                f"is incomplete; {readme_pointer(self.readme_section)}"
            )
        return streams, index, empty


def add_recording_split(
    writer: DatasetWriter,
    split: str,
    request: BuildRequest,
    streams: Mapping[str, np.ndarray],
    stream_index: Mapping[str, list[dict[str, Any]]],
    *,
    recordings_of: str,
    items_per_recording: int | None,
) -> None:
    """Write a split of a music corpus, with its evaluation items cut *inside* each recording.

    MIR-1K and MUSDB18 are scored per clip or track, so an item must not
    straddle two songs: each recording (a piece of the stream index of
    ``recordings_of``) is cut into consecutive segments, a segment is kept only if every
    stem is audible in it (as elsewhere, within 30 dB of the stem's stream
    level), and at most ``items_per_recording`` of them are kept (a seeded
    choice with ``request.rng("items", split)``). Items are written straight to
    disk, so a large test set never sits in memory; ``train`` keeps only streams.
    data/README.md, section "How the corpora are mixed".
    """
    if split == "train":
        writer.add_split(split, streams=streams, stream_index=stream_index)
        return
    names, rng = list(streams), request.rng("items", split)
    segment_samples = int(round(request.settings["segment_seconds"] * SAMPLE_RATE))
    thresholds = {name: silence_threshold(stream_level(streams[name])) for name in names}
    chosen: list[tuple[int, Mapping[str, Any]]] = []
    for piece in stream_index[recordings_of]:
        count = int(piece["length"]) // segment_samples
        offsets = int(piece["stream_offset"]) + np.arange(count, dtype=np.int64) * segment_samples
        for name in names:
            if offsets.size:
                offsets = offsets[segment_rms(streams[name], offsets, segment_samples) >= thresholds[name]]
        if items_per_recording is not None and offsets.size > items_per_recording:
            offsets = np.sort(rng.choice(offsets, size=items_per_recording, replace=False))
        chosen += [(int(offset), piece) for offset in offsets]
    if not chosen:
        raise ValueError(
            f"no segment of {segment_samples} samples in which every stem is audible; "
            "the split is too short or silent for even one item"
        )
    path = writer.sources_path(split)
    shape = (len(chosen), len(names), segment_samples)
    sources = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    items: list[dict[str, Any]] = []
    for position, (offset, piece) in enumerate(chosen):
        segments = np.stack([streams[name][offset : offset + segment_samples] for name in names])
        sources[position] = scale_to_snr(segments, request.snr_db)
        where = {"file": piece["file"], "length": segment_samples,
                 "file_offset": int(piece["file_offset"]) + offset - int(piece["stream_offset"])}  # fmt: skip
        gains = {name: rms(sources[position, slot]) / rms(segments[slot]) for slot, name in enumerate(names)}
        items.append(
            {"index": position, "snr_db": float(request.snr_db), "file": piece["file"],
             "sources": {n: {"stream_offset": offset, "gain": gains[n], "files": [where]} for n in names}}
        )  # fmt: skip
    sources.flush()
    del sources
    sources = np.load(path, mmap_mode="r")
    writer.add_split(split, streams=streams, stream_index=stream_index, sources=sources, items=items)
