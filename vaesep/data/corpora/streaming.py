"""Decoding a corpus into on-disk streams, in bounded memory, resumably.

A corpus split becomes one stream per source: the decoded 16 kHz audio of
its files, one after another. For MUSDB18 or LibriSpeech that is gigabytes,
so nothing here holds a whole stream in memory:

* files are decoded on a small process pool (:func:`ordered_map`) with only
  a few results in flight, and appended in file order to one ``.npy`` file
  per source (:class:`NpyVectorAppender`);
* those files live in the build's resume directory
  (:meth:`vaesep.data.DatasetWriter.resume_dir`) next to a ``progress.json``
  checkpoint, written every few seconds and whenever the build stops, so an
  interrupted ``vaesep data prepare`` continues from the last file it finished;
* a finished stream is hard-linked into the build (:func:`publish`), never
  copied, and handed to ``writer.add_split`` as a memory map.

data/README.md, sections "Memory and disk" and "Interrupted builds".
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.errors import CorpusLayoutError, readme_pointer
from vaesep.data.corpora.reading import DecodedUnit
from vaesep.data.decode import trim_silence, worker_count

CHECKPOINT_SECONDS = 15.0
"""How often the progress of a decoding run is saved (and always when it stops)."""

PROGRESS_FILE = "progress.json"
_SERIAL_BELOW = 8  # starting processes costs more than decoding a handful of files
_IN_FLIGHT_PER_WORKER = 2  # decoded-but-unwritten results stay bounded by this


class Unit(NamedTuple):
    """One decoding job: a file (speech), a clip (MIR-1K) or a track folder (MUSDB18).

    Attributes:
        file_id: path relative to the corpus root, recorded in the stream index.
        arguments: passed to the decode function, which returns a
            :class:`~vaesep.data.corpora.reading.DecodedUnit`.

    data/README.md, section "Memory and disk".
    """

    file_id: str
    arguments: tuple[Any, ...]


class StreamFiles(NamedTuple):
    """A finished decoding run.

    Attributes:
        paths: source → ``.npy`` file, ``(n_samples,)`` float32, in the resume directory.
        index: source → pieces ``{"file", "stream_offset", "length", "file_offset"}``.
        empty_files: ids of files that held no audio (skipped).

    data/README.md, section "Memory and disk".
    """

    paths: dict[str, Path]
    index: dict[str, list[dict[str, Any]]]
    empty_files: list[str]


class NpyVectorAppender:
    """A float32 ``.npy`` vector that grows at its end and can be reopened after an interruption.

    The header is numpy's own (format 1.0), which reserves room for the length
    to grow, so :meth:`close` rewrites it in place and the data is never
    copied. Until then the header says length 0 and the file is not a valid
    stream; only :meth:`close` makes it one.

    Args:
        path: the file.
        keep_samples: 0 starts a new file; otherwise reopen ``path`` and keep
            its first ``keep_samples`` samples (the last checkpoint), dropping
            anything written after it.

    data/README.md, section "Memory and disk".
    """

    def __init__(self, path: Path, keep_samples: int = 0) -> None:
        self.path = Path(path)
        if keep_samples > 0:
            self._handle = open(self.path, "r+b")
            np.lib.format.read_magic(self._handle)
            np.lib.format.read_array_header_1_0(self._handle)
            self._data_offset = self._handle.tell()
            available = (self.path.stat().st_size - self._data_offset) // 4
            if available < keep_samples:
                self._handle.close()
                raise ValueError(
                    f"{self.path.name} holds {available} samples, fewer than its checkpoint"
                )
            self._handle.truncate(self._data_offset + 4 * keep_samples)
            self._handle.seek(0, os.SEEK_END)
        else:
            self._handle = open(self.path, "w+b")
            self._write_header(0)
            self._data_offset = self._handle.tell()
        self.n_samples = keep_samples

    def _write_header(self, n_samples: int) -> None:
        header = {"descr": "<f4", "fortran_order": False, "shape": (n_samples,)}
        np.lib.format.write_array_header_1_0(self._handle, header)

    def append(self, audio: np.ndarray) -> None:
        """Add ``(n,)`` samples at the end."""
        self._handle.write(np.ascontiguousarray(audio, dtype="<f4").tobytes())
        self.n_samples += int(audio.shape[0])

    def flush(self) -> None:
        """Push written samples to the operating system (a checkpoint must not precede its data)."""
        self._handle.flush()

    def close(self) -> None:
        """Write the final length into the header; the file is then a normal ``.npy`` vector."""
        self._handle.flush()
        self._handle.seek(0)
        self._write_header(self.n_samples)
        if self._handle.tell() != self._data_offset:  # numpy changed its padding: never corrupt
            raise RuntimeError(f"the .npy header of {self.path} changed size while finishing")
        self._handle.close()


def _write_json_atomically(path: Path, value: Any) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(value), encoding="utf-8")
    os.replace(temporary, path)


def units_digest(function: Callable[..., DecodedUnit], units: Sequence[Unit]) -> str:
    """Fingerprint of a decoding run, so a checkpoint is only reused for the same files and settings.

    data/README.md, section "Interrupted builds".
    """
    blob = json.dumps(
        [
            function.__module__,
            function.__qualname__,
            [[u.file_id, repr(u.arguments)] for u in units],
        ]
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class _Checkpointed:
    """The appenders and index of one decoding run, plus its ``progress.json``."""

    def __init__(self, directory: Path, source_names: Sequence[str], digest: str) -> None:
        self.directory = directory
        self.digest = digest
        directory.mkdir(parents=True, exist_ok=True)
        self.paths = {source: directory / f"{source}.npy" for source in source_names}
        try:
            self._restore(self._load(source_names))
        except (OSError, ValueError):  # a damaged checkpoint: decoding again is always safe
            self._restore({})

    def _restore(self, saved: dict[str, Any]) -> None:
        """Take up the state of ``saved`` (``{}``: a fresh start) and open the appenders."""
        self.done: int = saved.get("units_done", 0)
        self.complete: bool = saved.get("complete", False)
        self.index: dict[str, list[dict[str, Any]]] = saved.get(
            "index", {source: [] for source in self.paths}
        )
        self.empty: list[str] = saved.get("empty_files", [])
        lengths = saved.get("lengths", {})
        self.appenders: dict[str, NpyVectorAppender] = {}
        if not self.complete:
            self.appenders = {
                source: NpyVectorAppender(path, lengths.get(source, 0))
                for source, path in self.paths.items()
            }

    def _load(self, source_names: Sequence[str]) -> dict[str, Any]:
        """The saved progress of this very run, or {} to start afresh."""
        try:
            saved = json.loads((self.directory / PROGRESS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        files_present = all((self.directory / f"{s}.npy").is_file() for s in source_names)
        return saved if saved.get("digest") == self.digest and files_present else {}

    def add(self, file_id: str, decoded: DecodedUnit) -> None:
        """Append one decoded unit to its source streams and index."""
        if all(audio.size == 0 for audio in decoded.audio.values()):
            self.empty.append(file_id)
        for source, audio in decoded.audio.items():
            if audio.size == 0:
                continue
            appender = self.appenders[source]
            self.index[source].append(
                {
                    "file": file_id,
                    "stream_offset": appender.n_samples,
                    "length": int(audio.shape[0]),
                    "file_offset": int(decoded.file_offset),
                }
            )
            appender.append(audio)
        self.done += 1

    def checkpoint(self) -> None:
        """Save the progress so far (samples first, then the record that points at them)."""
        for appender in self.appenders.values():
            appender.flush()
        _write_json_atomically(
            self.directory / PROGRESS_FILE,
            {
                "digest": self.digest,
                "units_done": self.done,
                "complete": self.complete,
                "lengths": {s: a.n_samples for s, a in self.appenders.items()},
                "index": self.index,
                "empty_files": self.empty,
            },
        )

    def finish(self) -> StreamFiles:
        """Close the appenders (final headers) and mark the run complete."""
        if not self.complete:
            for appender in self.appenders.values():
                appender.close()
            self.complete = True
            _write_json_atomically(
                self.directory / PROGRESS_FILE,
                {
                    "digest": self.digest,
                    "units_done": self.done,
                    "complete": True,
                    "index": self.index,
                    "empty_files": self.empty,
                },
            )
        return StreamFiles(dict(self.paths), self.index, list(self.empty))


def _pool_context() -> multiprocessing.context.BaseContext | None:
    # as in vaesep.data.decode: fork shares the imported modules and does not
    # re-run a user's script; where fork is unsafe (macOS, Windows) decode serially
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def ordered_map(
    function: Callable[..., DecodedUnit], arguments: Sequence[tuple[Any, ...]]
) -> Iterator[DecodedUnit]:
    """``function(*a)`` for each ``a``, in order, on up to :func:`~vaesep.data.decode.worker_count` processes.

    Unlike :func:`vaesep.data.decode.parallel_map` it yields results as they
    are ready and keeps at most two per worker in flight, so decoding a
    10-hour corpus never holds more than a few files in memory.

    data/README.md, section "Memory and disk".
    """
    workers = min(worker_count(), len(arguments))
    context = _pool_context()
    if workers <= 1 or context is None or len(arguments) < _SERIAL_BELOW:
        for argument in arguments:
            yield function(*argument)
        return
    # import librosa and compile its trimming code once here, so forked workers share
    # both instead of each paying seconds for them
    trim_silence(np.zeros(4096, dtype=np.float32), 60.0)

    queue = iter(arguments)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[DecodedUnit]] = deque(
            pool.submit(function, *argument)
            for argument in islice(queue, workers * _IN_FLIGHT_PER_WORKER)
        )
        try:
            while pending:
                result = pending.popleft().result()
                following = next(queue, None)
                if following is not None:
                    pending.append(pool.submit(function, *following))
                yield result
        finally:
            for future in pending:
                future.cancel()


def decode_streams(
    directory: Path,
    units: Sequence[Unit],
    function: Callable[..., DecodedUnit],
    source_names: Sequence[str],
    *,
    progress: bool,
    desc: str,
) -> StreamFiles:
    """Decode ``units`` in order into one ``.npy`` stream per source under ``directory``.

    Resumable: if ``directory`` holds a checkpoint of the same run (same
    function, files and arguments), decoding continues after the last unit
    it recorded; a finished run is returned at once.

    Args:
        directory: a sub-folder of the writer's resume directory, one per run.
        units: the files, in stream order.
        function: module-level decode function, ``function(*unit.arguments)``.
        source_names: the sources the units fill.
        progress: show a progress bar.
        desc: its label, e.g. ``"musdb18 train"``.

    Returns:
        the finished stream files and their indexes.

    data/README.md, section "Interrupted builds".
    """
    from tqdm.auto import tqdm

    run = _Checkpointed(directory, source_names, units_digest(function, units))
    if run.complete:
        return run.finish()
    remaining = units[run.done :]
    bar = tqdm(total=len(units), initial=run.done, desc=desc, unit="file", disable=not progress)
    saved_at = time.monotonic()
    try:
        decoded_units = ordered_map(function, [unit.arguments for unit in remaining])
        for unit, decoded in zip(remaining, decoded_units, strict=True):
            run.add(unit.file_id, decoded)
            bar.update()
            if time.monotonic() - saved_at > CHECKPOINT_SECONDS:
                run.checkpoint()
                saved_at = time.monotonic()
    finally:
        # also on errors and Ctrl-C: the next run starts after the last finished file
        run.checkpoint()
        bar.close()
    return run.finish()


def publish(writer: DatasetWriter, split: str, source: str, path: Path) -> np.memmap:
    """Put a finished stream file into the build as ``stream_<split>_<source>.npy``.

    A hard link costs no time or disk and leaves the resume copy intact should
    the build still fail; filesystems without hard links get a copy.

    Returns:
        the read-only memory map to pass to ``writer.add_split``.

    data/README.md, section "Memory and disk".
    """
    destination = writer.stream_path(split, source)
    destination.unlink(missing_ok=True)
    try:
        os.link(path, destination)
    except OSError:
        shutil.copyfile(path, destination)
    return np.load(destination, mmap_mode="r")


def publish_all(
    writer: DatasetWriter, split: str, files: StreamFiles
) -> tuple[dict[str, np.memmap], dict[str, list[dict[str, Any]]]]:
    """:func:`publish` every source of ``files``; returns ``(streams, stream_index)`` for ``add_split``.

    data/README.md, section "Memory and disk".
    """
    streams = {source: publish(writer, split, source, path) for source, path in files.paths.items()}
    return streams, files.index


def require_audio(files: StreamFiles, corpus: str, split: str, section: str) -> None:
    """Raise if a source got no audio at all in ``split`` (every file empty or absent).

    data/README.md, section "Memory and disk".
    """
    silent = [source for source, index in files.index.items() if not index]
    if silent:
        raise CorpusLayoutError(
            f"the {split!r} split of {corpus!r} has no audio for {silent}; the corpus folder "
            f"is incomplete; {readme_pointer(section)}"
        )
