"""The on-disk cache of built data sets: layout, manifest, verification.

Layout::

    <cache>/<name>/<key>/manifest.json
                         stream_<split>_<source>.npy   (n_samples,) float32
                         stream_index_<split>.json     which file each stretch of a stream came from
                         sources_<split>.npy           (n_items, n_sources, n_samples) float32
                         items_<split>.json            per-item metadata

A build in progress lives in ``<cache>/<name>/.<key>.partial-<pid>/``; work a
builder wants to keep across an interrupted build (decoded corpus streams)
lives in ``<cache>/<name>/.<key>.resume/`` (:meth:`DatasetWriter.resume_dir`),
which is deleted once the build is published.

``<key>`` is a short hash of everything the contents depend on, so a changed
seed, SNR, mode, root or builder version lands in a new directory rather than
overwriting an old one. The manifest lists the sha256 and size of every
file; the hash of the manifest itself is what model checkpoints store to say
which data they were trained on. Notebook 01, section "Where the data lives".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.data.mixing import cut_evaluation_items, stream_level

if TYPE_CHECKING:
    from vaesep.data.registry import BuildRequest

CACHE_ENV = "VAESEP_CACHE"
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
KEY_LENGTH = 12
_PARTIAL_TAG = ".partial-"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def cache_dir() -> Path:
    """Root of the data cache: ``$VAESEP_CACHE`` if set, else ``~/.cache/vaesep``.

    Notebook 01, section "Where the data lives".
    """
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "vaesep"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and fixed separators, so equal content gives equal bytes."""
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False)


def dataset_key(name: str, builder_version: str, params: Mapping[str, Any]) -> str:
    """Short hash naming the cache directory of one (name, version, params) combination."""
    blob = canonical_json({"name": name, "builder_version": builder_version, "params": params})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def file_sha256(path: Path, chunk_bytes: int = 8 << 20) -> str:
    """Hex sha256 of a file, read in chunks so large streams need no extra memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def _stream_file(split: str, source: str) -> str:
    return f"stream_{split}_{source}.npy"


def _sources_file(split: str) -> str:
    return f"sources_{split}.npy"


def _already_in_place(array: np.ndarray, destination: Path, what: str) -> bool:
    """True if ``array`` is the whole memory map of ``destination`` (written there by the builder).

    A builder that streams a large corpus to disk writes the file at its final
    name and passes the memory map, so nothing is copied or held in memory.
    A map of only part of that file cannot be saved over itself: ValueError.
    """
    filename = getattr(array, "filename", None)
    if not isinstance(array, np.memmap) or filename is None:
        return False
    if not destination.exists() or not Path(filename).samefile(destination):
        return False
    on_disk = np.load(destination, mmap_mode="r")
    if array.shape != on_disk.shape or array.dtype != np.float32 or not array.flags.c_contiguous:
        raise ValueError(
            f"{what} is a partial or non-float32 view of {destination.name}; pass the whole "
            "float32 memory map of the file (or an in-memory array)"
        )
    array.flush()
    return True


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"cannot store {type(value).__name__} in a manifest")


def _write_json(path: Path, value: Any) -> None:
    text = json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False, default=_json_default)
    path.write_text(text + "\n", encoding="utf-8")


class DatasetWriter:
    """What a builder writes its splits through (see :mod:`vaesep.data.registry`).

    Args:
        directory: the (temporary) directory being filled.
        source_names: the data set's sources, in ``sources`` axis order.
        sample_rate: Hz; always :data:`vaesep.audio.SAMPLE_RATE` for the built-in sets.
    """

    def __init__(
        self,
        directory: Path,
        source_names: Sequence[str],
        sample_rate: int = SAMPLE_RATE,
        resume_directory: Path | None = None,
    ) -> None:
        for source in source_names:
            if not _SAFE_NAME.match(source):
                raise ValueError(f"source name {source!r} must be letters, digits, '-' or '_'")
        self.directory = Path(directory)
        self.source_names = tuple(source_names)
        self.sample_rate = int(sample_rate)
        self.splits: list[str] = []
        self.item_counts: dict[str, int] = {}
        self.durations: dict[str, dict[str, float]] = {}
        self.stream_rms: dict[str, dict[str, float]] = {}
        self.notes: dict[str, Any] = {}
        self._resume_directory = None if resume_directory is None else Path(resume_directory)

    def scratch_dir(self) -> Path:
        """A temporary directory for intermediate files; removed before the build is published."""
        scratch = self.directory / ".scratch"
        scratch.mkdir(exist_ok=True)
        return scratch

    def resume_dir(self) -> Path:
        """A directory that survives an interrupted build of the same request.

        :func:`vaesep.data.build` passes ``<cache>/<name>/.<key>.resume``, so a
        rerun with the same arguments finds what the interrupted one decoded;
        it is removed once the build is published. A writer created without
        one (tests, ad-hoc use) falls back to a sub-directory of
        :meth:`scratch_dir`. data/README.md, section "Interrupted builds".
        """
        directory = self._resume_directory or self.scratch_dir() / "resume"
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def stream_path(self, split: str, source: str) -> Path:
        """Where :meth:`add_split` keeps the stream of ``source`` in ``split``.

        A builder too large for memory may write the ``.npy`` file here itself
        and pass its memory map (``np.load(path, mmap_mode="r")``) to
        :meth:`add_split`, which then keeps it in place. data/README.md,
        section "Memory and disk".
        """
        return self.directory / _stream_file(split, source)

    def sources_path(self, split: str) -> Path:
        """Where :meth:`add_split` keeps the evaluation items of ``split`` (see :meth:`stream_path`)."""
        return self.directory / _sources_file(split)

    def note(self, key: str, value: Any) -> None:
        """Record a builder-specific fact (instruments, noise files, ...) in the manifest."""
        self.notes[key] = value

    def add_split(
        self,
        split: str,
        *,
        streams: Mapping[str, np.ndarray],
        stream_index: Mapping[str, list[dict[str, Any]]] | None = None,
        sources: np.ndarray | None = None,
        items: list[dict[str, Any]] | None = None,
    ) -> None:
        """Write one split.

        Args:
            split: its name (letters, digits, ``_``).
            streams: source name → ``(n_samples,)`` float32 concatenated audio.
            stream_index: source name → list of pieces
                ``{"file", "stream_offset", "length", "file_offset"}``
                saying which file each stretch of the stream came from.
            sources: evaluation items, ``(n_items, n_sources, n_samples)``
                float32, already scaled to the data set's SNR; None for a
                split used only through its streams (training).
            items: one metadata dict per item (required with ``sources``).
        """
        if not _SAFE_NAME.match(split) or split in self.splits:
            raise ValueError(f"split name {split!r} is invalid or already written")
        if set(streams) != set(self.source_names):
            raise ValueError(
                f"streams have sources {sorted(streams)}; expected {self.source_names}"
            )
        self.durations[split] = {}
        self.stream_rms[split] = {}
        for source in self.source_names:
            destination = self.stream_path(split, source)
            stream = streams[source]
            in_place = _already_in_place(stream, destination, f"stream {split}/{source}")
            if not in_place:
                stream = np.ascontiguousarray(stream, dtype=np.float32)
            if stream.ndim != 1 or stream.size == 0:
                raise ValueError(f"stream {split}/{source} must be a non-empty 1-D array")
            if not in_place:
                np.save(destination, stream)
            self.durations[split][source] = round(stream.size / self.sample_rate, 3)
            # stream_level is rms() for in-memory arrays (unchanged manifests), chunked for maps
            self.stream_rms[split][source] = stream_level(stream)
        if stream_index is not None:
            _write_json(self.directory / f"stream_index_{split}.json", dict(stream_index))
        if sources is not None:
            destination = self.sources_path(split)
            in_place = _already_in_place(sources, destination, f"sources of split {split!r}")
            if not in_place:
                sources = np.ascontiguousarray(sources, dtype=np.float32)
            if sources.ndim != 3 or sources.shape[1] != len(self.source_names):
                raise ValueError(
                    f"sources of split {split!r} have shape {sources.shape}; expected "
                    f"(n_items, {len(self.source_names)}, n_samples)"
                )
            if items is None or len(items) != sources.shape[0]:
                raise ValueError(f"split {split!r} needs one item dict per row of sources")
            if not in_place:
                np.save(destination, sources)
            _write_json(self.directory / f"items_{split}.json", items)
            self.item_counts[split] = int(sources.shape[0])
        self.splits.append(split)

    def add_split_with_items(
        self,
        split: str,
        *,
        streams: Mapping[str, np.ndarray],
        stream_index: Mapping[str, list[dict[str, Any]]] | None = None,
        request: BuildRequest,
        segment_samples: int,
        max_items: int | None | Mapping[str, int | None],
        **cut_options: Any,
    ) -> None:
        """Write a split of a stream-based data set, cutting its evaluation items.

        ``train`` keeps only its streams (dynamic mixing draws from them);
        every other split also gets fixed items from
        :func:`vaesep.data.mixing.cut_evaluation_items`, drawn with
        ``request.rng("items", split)`` at ``request.snr_db``, so every builder
        cuts its items the same reproducible way.

        Args:
            split, streams, stream_index: as for :meth:`add_split`.
            request: the build request (seed, SNR).
            segment_samples: length of every evaluation item in samples.
            max_items: at most this many items (None: as many as the streams
                give), or a mapping split → that cap (the builders' settings).
            cut_options: ``primary``, ``aligned``: see ``cut_evaluation_items``.
        """
        if split == "train":
            self.add_split(split, streams=streams, stream_index=stream_index)
            return
        sources, items = cut_evaluation_items(
            streams,
            segment_samples=segment_samples,
            snr_db=request.snr_db,
            rng=request.rng("items", split),
            max_items=max_items[split] if isinstance(max_items, Mapping) else max_items,
            stream_index=stream_index,
            **cut_options,
        )
        self.add_split(
            split, streams=streams, stream_index=stream_index, sources=sources, items=items
        )

    def finish(self, header: Mapping[str, Any]) -> dict[str, Any]:
        """Hash every file and write ``manifest.json``; returns the manifest.

        Args:
            header: name, key, params and versions (written by :func:`vaesep.data.build`).
        """
        shutil.rmtree(self.directory / ".scratch", ignore_errors=True)
        files = sorted(p for p in self.directory.iterdir() if p.is_file() and p.name != MANIFEST)
        manifest = {
            **header,
            "format": MANIFEST_FORMAT,
            "source_names": list(self.source_names),
            "sample_rate": self.sample_rate,
            "splits": list(self.splits),
            "evaluation_splits": [s for s in self.splits if s in self.item_counts],
            "item_counts": self.item_counts,
            "durations_seconds": self.durations,
            "stream_rms": self.stream_rms,
            "notes": self.notes,
            "files": {p.name: file_sha256(p) for p in files},
            "file_bytes": {p.name: p.stat().st_size for p in files},
        }
        (self.directory / MANIFEST).write_text(canonical_json(manifest) + "\n", encoding="utf-8")
        return manifest


def verification_problem(directory: Path, params: Mapping[str, Any]) -> str | None:
    """Check a built directory against its manifest; None if it is intact.

    Every listed file must exist with the recorded size and sha256, and the
    manifest's params must be the requested ones.

    Returns:
        a short description of the first problem found, or None.
    """
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({exc})"
    if manifest.get("format") != MANIFEST_FORMAT:
        return f"manifest format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}"
    if manifest.get("params") != json.loads(canonical_json(dict(params))):
        return "manifest parameters differ from the requested ones"
    sizes = manifest.get("file_bytes", {})
    for name in manifest.get("files", {}):
        path = directory / name
        if not path.is_file():
            return f"missing file {name}"
        if path.stat().st_size != sizes.get(name):
            return f"{name} has the wrong size"
    # sizes first (cheap), then contents
    for name, expected_hash in manifest.get("files", {}).items():
        if file_sha256(directory / name) != expected_hash:
            return f"{name} does not match its sha256"
    return None


@contextlib.contextmanager
def build_lock(base: Path, key: str) -> Iterator[None]:
    """Hold an exclusive lock while building ``key`` (POSIX ``flock``; a no-op elsewhere).

    Two notebooks or test workers asking for the same data set at the same
    time then build it once instead of racing for the final rename.
    """
    base.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the atomic rename still keeps caches whole
        yield
        return
    with open(base / f".{key}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def resume_dir(base: Path, key: str) -> Path:
    """Work kept across interrupted builds of ``key`` (see :meth:`DatasetWriter.resume_dir`).

    :func:`remove_leftovers` leaves it alone; :func:`vaesep.data.build`
    deletes it after publishing the build.
    """
    return base / f".{key}.resume"


def partial_dir(base: Path, key: str) -> Path:
    """The temporary directory this process builds ``key`` in."""
    return base / f".{key}{_PARTIAL_TAG}{os.getpid()}"


def remove_leftovers(base: Path, key: str) -> list[Path]:
    """Delete temporary directories of interrupted builds of ``key``.

    Called while holding :func:`build_lock`, so no live build owns them.

    Returns:
        the directories that were removed.
    """
    leftovers = sorted(base.glob(f".{key}{_PARTIAL_TAG}*")) + sorted(base.glob(f".{key}.stale-*"))
    for leftover in leftovers:
        shutil.rmtree(leftover, ignore_errors=True)
    return leftovers


def discard(directory: Path) -> None:
    """Remove a failed or corrupted build: rename first, so a half-deleted dir is never read."""
    stale = directory.with_name(f".{directory.name}.stale-{os.getpid()}")
    shutil.rmtree(stale, ignore_errors=True)
    os.replace(directory, stale)
    shutil.rmtree(stale, ignore_errors=True)
