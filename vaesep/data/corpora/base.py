"""The shared reader of every corpus loader: finding the corpus, reading its files, decoding it.

A loader (:class:`CorpusBuilder`) declares where its corpus may sit inside the folder the
user passed (the corpus folder or the folder an archive unpacked into, any case) and what
marks it, lists each split's files and decodes them on a small process pool, in order,
appending to one ``.npy`` stream per source on disk: memory grows with the longest file,
not with the corpus. A wrong folder or a damaged file stops the build with a message
naming it and the section of ``data/README.md`` to read.
Notebook 01, section "Bring your own corpus"; data/README.md, "When something is wrong".
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE, resample
from vaesep.data.builder import (
    BuildRequest,
    DatasetBuilder,
    DatasetWriter,
    MissingSystemDataError,
    hash_order,
)
from vaesep.data.decode import ordered_map, trim_silence
from vaesep.runtime import progress_bar

TRIM_TOP_DB = 40.0  # utterances lose leading and trailing frames 40 dB below their loudest

Unit = tuple[str, tuple[Any, ...]]
"""One decoding job: (file id relative to the root, arguments of the decode function)."""
Decoded = tuple[dict[str, np.ndarray], int]
"""A decoded unit: (source → (n,) float32 at 16 kHz, where the audio starts in the file)."""


class CorpusLayoutError(MissingSystemDataError):
    """The corpus root is not given or lacks the expected files (skipped like absent data)."""


class CorpusFileError(RuntimeError):
    """A corpus file cannot be decoded: unreadable, truncated or in an unsupported coding."""


def readme_pointer(section: str) -> str:
    return f'see data/README.md, section "{section}"'


def file_error(path: Path | str, problem: str, section: str) -> CorpusFileError:
    return CorpusFileError(
        f"{path}: {problem}. Re-extract or re-download this file from the original archive; "
        f"{readme_pointer(section)}"
    )


def child(directory: Path, name: str) -> Path:
    """``directory / name`` in any case (an exact match wins); a trailing ``/`` is ignored."""
    name = name.rstrip("/")
    if (directory / name).exists() or not directory.is_dir():
        return directory / name
    matches = sorted(entry for entry in directory.iterdir() if entry.name.lower() == name.lower())
    return matches[0] if matches else directory / name


def entries(directory: Path, keep: Callable[[Path], bool]) -> list[Path]:
    """The entries of ``directory`` that ``keep`` accepts, sorted; none if it is no folder."""
    return sorted(p for p in (directory.iterdir() if directory.is_dir() else ()) if keep(p))


def relative_id(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def check_sphere(path: Path, section: str) -> None:
    """Refuse a compressed or truncated NIST SPHERE file: libsndfile would fail obscurely
    on the first and read the second without a word."""
    import soundfile as sf

    with open(path, "rb") as handle:
        head = handle.read(1024)  # TIMIT's headers are 1024 bytes; larger ones are read in full
        if not head.startswith(b"NIST_1A"):
            return
        size = head.split(b"\n", 2)[1].strip()
        head += handle.read(max(0, int(size) - len(head)) if size.isdigit() else 0)
    text = head.decode("ascii", "replace").split("\nend_head", 1)[0]  # lines: "name -type value"
    fields = {name: value.strip() for name, value in re.findall(r"^(\S+) \S+ (.*)$", text, re.M)}
    coding = fields.get("sample_coding", "pcm")
    if coding.lower() != "pcm":
        problem = (
            f"its samples are coded as {coding!r}, which vaesep does not decode; decompress it "
            "first, e.g. `sph2pipe -f wav in.wav out.wav` (sph2pipe from the LDC) or "
            "`sox in.sph out.wav`"
        )
        raise file_error(path, problem, section)
    announced, present = int(fields.get("sample_count", 0)), sf.info(str(path)).frames
    if present < announced:
        problem = (
            f"truncated: the header announces {announced} samples but only {present} are present"
        )
        raise file_error(path, problem, section)


def riff_shortfall(path: Path) -> int:
    """Bytes missing from the end of a RIFF/WAVE data chunk (libsndfile reads a cut-off WAV
    silently shortened); 0 if complete or not RIFF."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            chunk_id, length = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":  # streaming writers leave the size open (0 or 0xFFFFFFFF)
                return 0 if length in (0, 0xFFFFFFFF) else max(0, position + 8 + length - size)
            position += 8 + length + (length & 1)  # chunks are padded to even sizes
    return 0


def read_corpus_audio(path: Path, section: str) -> tuple[np.ndarray, int]:
    """A WAV, FLAC or SPHERE file at its own rate: ``((n, n_channels) float32, rate)``; a
    missing, unreadable, truncated or compressed file raises :class:`CorpusFileError`."""
    import soundfile as sf

    if not path.is_file():
        problem = "the file is missing (it was listed when the build started)"
        raise file_error(path, problem, section)
    try:
        check_sphere(path, section)
        if missing := riff_shortfall(path):
            problem = f"truncated: {missing} bytes of its audio data are missing"
            raise file_error(path, problem, section)
        expected = sf.info(str(path)).frames
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except CorpusFileError:
        raise
    except (RuntimeError, OSError, ValueError, struct.error) as exc:
        raise file_error(path, f"unreadable ({exc})", section) from None
    if samples.shape[0] < expected:
        problem = f"truncated: {expected} frames announced, {samples.shape[0]} decoded"
        raise file_error(path, problem, section)
    return samples, int(rate)


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(n, n_channels)`` at any rate → ``(n',)`` float32 at 16 kHz (channel mean, soxr HQ)."""
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    return resample(np.ascontiguousarray(mono, dtype=np.float32), sample_rate, SAMPLE_RATE)


def decode_speech_file(path: str, source: str, section: str) -> Decoded:
    """One utterance as trimmed 16 kHz mono for ``source``; an empty file gives an empty array."""
    samples, rate = read_corpus_audio(Path(path), section)
    if samples.shape[0] == 0:
        return {source: np.zeros(0, dtype=np.float32)}, 0
    trimmed, start = trim_silence(to_mono_16k(samples, rate), TRIM_TOP_DB)
    return {source: trimmed}, start


class NpyVectorAppender:
    """A float32 ``.npy`` vector written at its end in constant memory: the format-1.0 header
    reserves room for the length to grow, so :meth:`close` rewrites it in place."""

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
        self._handle.seek(0)
        self._write_header()
        if self._handle.tell() != self._data_offset:  # numpy changed its padding: never corrupt
            raise RuntimeError(f"the .npy header of {self.path} changed size while finishing")
        self._handle.close()


class CorpusBuilder(DatasetBuilder):
    """The one reader of downloaded corpora. An adapter declares the data below and
    :meth:`units`, which lists each split's files (raising :class:`CorpusLayoutError` for an
    incomplete corpus); :meth:`write_split` may add to or replace how a split is written."""

    corpus: str = ""
    readme_section: str = ""  # of data/README.md, named by every error
    markers: tuple[str, ...] = ()  # entries that mark the corpus folder ("NAME/": a folder)
    wrappers: tuple[str, ...] = ()  # sub-folders of the root the corpus folder may be
    layout: str = ""  # the expected layout in one line, for errors
    decoder: Callable[..., Decoded] = staticmethod(decode_speech_file)  # module-level: the pool
    decoded_sources: tuple[str, ...] | None = None  # None: every source comes from the files
    empty_note: str | None = None  # manifest note listing each split's files without audio
    count_note: str | None = None  # manifest note with the number of files per split
    notes: Mapping[str, Any] = {}  # fixed facts for the manifest
    caps_setting = ""  # the settings key of the fast-mode caps, split → cap
    primary: str | None = None  # the stream evaluation items are placed on (None: the shortest)

    def layout_error(self, root: Path, missing: str, expected: str) -> CorpusLayoutError:
        """``missing``: the first expected file or folder not there; ``expected``: the layout."""
        return CorpusLayoutError(
            f"The {self.corpus!r} corpus was not found under {root}: {missing} is missing. "
            f"Expected {expected}, as unpacked from the original archive (no renaming); "
            f"{readme_pointer(self.readme_section)}"
        )

    def locate(self, root: Path) -> Path:
        """``root`` or the first ``root/<wrapper>`` (any case) with every marker."""
        for folder in (root, *(child(root, wrapper) for wrapper in self.wrappers)):
            if all(child(folder, marker).exists() for marker in self.markers):
                return folder
        missing = next(marker for marker in self.markers if not child(root, marker).exists())
        raise self.layout_error(root, missing, self.layout)

    def units(self, folder: Path, root: Path, caps: Any) -> dict[str, list[Unit]]:
        """Decoding units per split; ``caps``: ``settings[caps_setting]``, None for whole splits."""
        raise NotImplementedError

    def unit_list(
        self, root: Path, paths: Iterable[Path], *arguments: Any, seconds: float | None = None
    ) -> list[Unit]:
        """``(id, (path, *arguments, readme_section))`` for ``paths`` in id order; given
        ``seconds``, only those first in hash order of their ids whose header durations reach
        it: a capped subset that favours no speaker or chapter."""
        import soundfile as sf

        by_id = {relative_id(path, root): path for path in paths}
        chosen, total = list(by_id) if seconds is None else [], 0.0
        for file_id in [] if seconds is None else hash_order(by_id):
            if total >= seconds:
                break
            chosen.append(file_id)
            try:
                check_sphere(by_id[file_id], self.readme_section)
                total += float(sf.info(str(by_id[file_id])).duration)
            except CorpusFileError:
                raise
            except (RuntimeError, OSError, ValueError) as exc:
                problem = f"unreadable header ({exc})"
                raise file_error(by_id[file_id], problem, self.readme_section) from None
        return [(i, (str(by_id[i]), *arguments, self.readme_section)) for i in sorted(chosen)]

    def plan(self, root: Path | None, settings: Mapping[str, Any] | None) -> dict[str, list[Unit]]:
        """The units of every split under ``root`` (capped by ``settings``; None: whole)."""
        if root is None:
            raise CorpusLayoutError(
                f"The {self.corpus!r} corpus is read from files you download yourself, so it needs "
                f"their folder: data.build({self.corpus!r}, root='/path/to/it') or `vaesep data "
                f"prepare {self.corpus} --root /path/to/it`; {readme_pointer(self.readme_section)}"
            )
        caps = None if settings is None else settings.get(self.caps_setting)
        return self.units(self.locate(Path(root)), Path(root), caps)

    def check_system_data(self, root: Path | None) -> None:
        self.plan(root, None)  # raises for a wrong or incomplete folder

    def split_files(self, split: str, root: Path | None) -> list[str]:
        return sorted(file_id for file_id, _ in self.plan(root, None)[split])

    def write_split(
        self, request: BuildRequest, writer: DatasetWriter, split: str, streams: dict, index: dict
    ) -> None:
        writer.add_split(
            split, streams=streams, stream_index=index, request=request,
            max_items=request.settings["max_items"], primary=self.primary,
        )  # fmt: skip

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        plan = self.plan(request.root, request.settings)
        for split in self.splits:
            streams, index, empty = self.decode_split(request, writer, split, plan[split])
            self.write_split(request, writer, split, streams, index)
            if self.empty_note:
                writer.note(f"{self.empty_note}_{split}", empty)
        for key, value in self.notes.items():
            writer.note(key, value)
        if self.count_note:
            writer.note(self.count_note, {split: len(units) for split, units in plan.items()})

    def decode_split(
        self, request: BuildRequest, writer: DatasetWriter, split: str, units: Sequence[Unit]
    ) -> tuple[dict[str, np.memmap], dict[str, list[dict[str, Any]]], list[str]]:
        """Decode ``units`` in order (``decoder(*arguments)`` on the pool) into the split's
        stream files. Returns memory-mapped streams, the stream index and the ids of units
        without audio; raises if a source gets none."""
        sources = self.decoded_sources or self.source_names
        paths = {source: writer.stream_path(split, source) for source in sources}
        appenders = {source: NpyVectorAppender(path) for source, path in paths.items()}
        index: dict[str, list[dict[str, Any]]] = {source: [] for source in paths}
        empty: list[str] = []
        try:
            decoded = ordered_map(self.decoder, [arguments for _, arguments in units])
            bar = progress_bar(zip(units, decoded, strict=True), request.progress,
                               total=len(units), desc=f"{self.corpus} {split}")  # fmt: skip
            for (file_id, _), (audio, file_offset) in bar:
                if all(a.size == 0 for a in audio.values()):
                    empty.append(file_id)
                for source, samples in audio.items():
                    if samples.size:
                        index[source].append(
                            {"file": file_id, "stream_offset": appenders[source].n_samples,
                             "length": int(samples.shape[0]), "file_offset": int(file_offset)}
                        )  # fmt: skip
                        appenders[source].append(samples)
        finally:
            for appender in appenders.values():
                appender.close()
        if silent := [source for source, pieces in index.items() if not pieces]:
            raise CorpusLayoutError(
                f"the {split!r} split of {self.corpus!r} has no audio for {silent}; the corpus "
                f"folder is incomplete; {readme_pointer(self.readme_section)}"
            )
        return {s: np.load(path, mmap_mode="r") for s, path in paths.items()}, index, empty
