"""How a data set is built: splits, the request, the builder contract, the writer and the registry.

The contract: subclass :class:`DatasetBuilder`, implement ``build(request, writer)`` and
:func:`register` an instance. ``build`` reads only local files (under ``request.root``),
draws every random number from ``request.rng("some", "label")`` (same request,
bit-identical files), and writes each split once through ``writer.add_split``, which
stores the streams (source → 1-D float32 16 kHz) and, given the request, cuts the fixed
evaluation items of every split but ``train``. Notebook 01, "Bring your own corpus".
Real audio is read from Debian packages, never downloaded: a missing package stops the
build with the exact command to run (notebook 01, "Where the audio comes from").
"""

from __future__ import annotations

import abc
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.data.dataset import MANIFEST, MANIFEST_FORMAT, file_sha256
from vaesep.data.mixing import cut_evaluation_items, stream_level
from vaesep.files import write_json

INSTALL_SCRIPT = "scripts/install-system-data.sh"
SPLIT_BOUNDS = (("train", 0.8), ("valid", 0.9))  # 80/10/10: train below 0.8, valid below 0.9
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed for ``key`` on every run and machine (SHA-1: ``hash`` is salted)."""
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2.0**64


def assign_split(key: str) -> str:
    """The split of the file with relative path ``key``, by a hash of the path: not the seed or a
    listing, so adding files never moves it (notebook 01, "Splits that never leak")."""
    position = stable_fraction(key)
    return next((split for split, upper in SPLIT_BOUNDS if position < upper), "test")


def hash_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in a fixed pseudo-random order: "the first k in hash order" is a capped split's
    deterministic subset that favours no level, speaker or chapter."""
    return sorted(keys, key=lambda key: (stable_fraction(key), key))


def first_in_hash_order(files: Iterable[str], seconds: float, start: float,
                        seconds_of: Callable[[str], float]) -> list[str]:  # fmt: skip
    """The shortest prefix of ``files`` in hash order whose ``seconds_of`` add up, from
    ``start``, to ``seconds``: a capped split's deterministic subset."""
    chosen, total = [], start
    for relative in hash_order(files):
        if total >= seconds:
            break
        chosen.append(relative)
        total += seconds_of(relative)
    return chosen


class MissingSystemDataError(RuntimeError):
    """A data set needs files or programs from system packages that are not installed."""


def install_command(packages: Iterable[str]) -> str:
    """The shell command that installs ``packages`` on Debian, Ubuntu or Colab."""
    return "sudo apt-get install -y " + " ".join(packages)


def missing_data_error(dataset: str, packages: Iterable[str], what: str) -> MissingSystemDataError:
    """The error for ``dataset`` whose ``packages`` are absent; ``what``: what is missing where."""
    packages = list(packages)
    return MissingSystemDataError(
        f"The {dataset!r} data set needs the Debian package(s) {' '.join(packages)} ({what}). "
        f"Install them with: {install_command(packages)}   (or: bash {INSTALL_SCRIPT}). "
        "Without them, data.build('synthetic') works on any machine."
    )


@dataclass(frozen=True)
class BuildRequest:
    """Everything a builder may depend on. ``settings``: the builder's size settings for this
    mode (part of the cache key); ``cache_root`` lets a builder build a set it depends on into
    the same cache (the noise set reuses the speech set)."""

    name: str
    seed: int
    snr_db: float
    fast: bool
    root: Path | None
    settings: Mapping[str, Any] = field(default_factory=dict)
    progress: bool | None = None
    cache_root: Path | None = None

    def rng(self, *labels: str) -> np.random.Generator:
        """A generator for one purpose, from the seed and ``labels``: a new draw for one split
        never shifts the numbers another split receives."""
        digests = (hashlib.sha1(label.encode("utf-8")).digest()[:4] for label in labels)
        words = tuple(int.from_bytes(digest, "big") for digest in digests)
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=words))


class DatasetBuilder(abc.ABC):
    """Base class of every data set builder. Bump ``version`` whenever the output changes: it is
    part of the cache key, so old caches are rebuilt rather than silently reused."""

    version: str = "1"
    source_names: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("train", "valid", "test")
    default_root: Path | None = None  # where the data lives when root=None

    def settings(self, fast: bool) -> dict[str, Any]:
        """Size parameters (segment length, caps) for full or fast mode; JSON-serialisable."""
        return {}

    def check_system_data(self, root: Path | None) -> None:
        """Raise :class:`MissingSystemDataError` if files or programs are absent."""
        return None  # generated sets have nothing to check

    def split_files(self, split: str, root: Path | None) -> list[str]:
        """Identifiers (relative paths) of the files of ``split``; empty for generated sets."""
        return []

    @abc.abstractmethod
    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        """Write every split of the data set through ``writer``."""


def _save(array: np.ndarray, destination: Path, what: str, ndim: int) -> np.ndarray:
    """Save ``array`` as float32 ``.npy``, unless it is the whole memory map of ``destination``
    (a corpus decoded straight into its final file), which stays as it is; returns the array."""
    filename = getattr(array, "filename", None)
    in_place = bool(isinstance(array, np.memmap) and filename and destination.exists()
                    and os.path.samefile(filename, destination))  # fmt: skip
    if in_place:
        on_disk = np.load(destination, mmap_mode="r")
        whole = array.shape == on_disk.shape and array.dtype == np.float32
        if not (whole and array.flags.c_contiguous):
            raise ValueError(
                f"{what} is a partial or non-float32 view of {destination.name}; pass the whole "
                "float32 memory map of the file (or an in-memory array)"
            )  # a partial view cannot be saved over itself
        array.flush()
    else:
        array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim != ndim or (ndim == 1 and array.size == 0):
        kind = "a non-empty 1-D" if ndim == 1 else f"a {ndim}-D"
        raise ValueError(f"{what} must be {kind} array, not one of shape {array.shape}")
    if not in_place:
        np.save(destination, array)
    return array


class DatasetWriter:
    """What a builder writes its splits through, into the (temporary) ``directory``."""

    def __init__(self, directory: Path, source_names: Sequence[str]) -> None:
        if bad := [s for s in source_names if not _SAFE_NAME.match(s)]:
            raise ValueError(f"source names {bad} must be letters, digits, '-' or '_'")
        self.directory, self.source_names = Path(directory), tuple(source_names)
        self.sample_rate = SAMPLE_RATE
        self.splits: list[str] = []
        self.item_counts: dict[str, int] = {}
        self.durations: dict[str, dict[str, float]] = {}
        self.stream_rms: dict[str, dict[str, float]] = {}
        self.notes: dict[str, Any] = {}

    def stream_path(self, split: str, source: str) -> Path:
        return self.directory / f"stream_{split}_{source}.npy"

    def sources_path(self, split: str) -> Path:
        return self.directory / f"sources_{split}.npy"

    def note(self, key: str, value: Any) -> None:
        """Record a builder-specific fact (instruments, noise files, …) in the manifest."""
        self.notes[key] = value

    def add_split(
        self, split: str, *, streams: Mapping[str, np.ndarray],
        stream_index: Mapping[str, list[dict[str, Any]]] | None = None,
        sources: np.ndarray | None = None, items: list[dict[str, Any]] | None = None,
        request: BuildRequest | None = None,
        max_items: int | None | Mapping[str, int | None] = None, **cut_options: Any,
    ) -> None:  # fmt: skip
        """Write one split: ``streams`` source → ``(n_samples,)`` float32; ``stream_index``
        source → pieces ``{"file", "stream_offset", "length", "file_offset"}``; ``sources``
        ``(n_items, n_sources, n_samples)`` float32 with one ``items`` dict per row. Given a
        ``request``, every split but ``train`` gets items cut by
        :func:`~vaesep.data.mixing.cut_evaluation_items` with ``request.rng("items", split)`` at
        ``request.snr_db``; ``max_items``: a cap, None (all), or split → cap."""
        if not _SAFE_NAME.match(split) or split in self.splits:
            raise ValueError(f"split name {split!r} is invalid or already written")
        if set(streams) != set(self.source_names):
            raise ValueError(f"streams have sources {sorted(streams)}, not {self.source_names}")
        if request is not None and sources is None and split != "train":
            segment = int(round(request.settings["segment_seconds"] * SAMPLE_RATE))
            cap = max_items[split] if isinstance(max_items, Mapping) else max_items
            sources, items = cut_evaluation_items(
                streams, segment_samples=segment, snr_db=request.snr_db, max_items=cap,
                rng=request.rng("items", split), stream_index=stream_index, **cut_options,
            )  # fmt: skip
        self.durations[split], self.stream_rms[split] = {}, {}
        for source in self.source_names:
            path = self.stream_path(split, source)
            stream = _save(streams[source], path, f"stream {split}/{source}", 1)
            self.durations[split][source] = round(stream.size / self.sample_rate, 3)
            self.stream_rms[split][source] = stream_level(stream)
        if stream_index is not None:
            index_path = self.directory / f"stream_index_{split}.json"
            write_json(index_path, dict(stream_index), sort_keys=True)
        if sources is not None:
            sources = _save(sources, self.sources_path(split), f"sources of split {split!r}", 3)
            rows = None if items is None else len(items)
            if (rows, sources.shape[1]) != (len(sources), len(self.source_names)):
                raise ValueError(
                    f"sources of split {split!r} have shape {sources.shape}: expected "
                    f"(n_items, {len(self.source_names)}, n_samples), with one item dict per row"
                )
            write_json(self.directory / f"items_{split}.json", items, sort_keys=True)
            self.item_counts[split] = int(sources.shape[0])
        self.splits.append(split)

    def finish(self, header: Mapping[str, Any]) -> dict[str, Any]:
        """Hash every file and write ``manifest.json`` (``header``: name, key, params, versions)."""
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
        write_json(self.directory / MANIFEST, manifest, sort_keys=True)
        return manifest


_REGISTRY: dict[str, DatasetBuilder] = {}


def register(name: str, builder: DatasetBuilder, *, replace: bool = False) -> None:
    """Make ``builder`` available as ``data.build(name)``; ``replace=True`` re-registers a name."""
    if not isinstance(builder, DatasetBuilder):
        kind = type(builder).__name__
        raise TypeError(f"builder must be an instance of vaesep.data.DatasetBuilder, got {kind}")
    if not re.fullmatch(r"[a-z0-9_\-]+", name):
        raise ValueError(f"data set names are lowercase letters, digits, '-' and '_'; got {name!r}")
    if name in _REGISTRY and not replace:
        raise ValueError(f"a data set named {name!r} is already registered; pass replace=True")
    _REGISTRY[name] = builder


def available() -> list[str]:
    """Names :func:`vaesep.data.build` accepts."""
    return list(_REGISTRY)


def get_builder(name: str) -> DatasetBuilder:
    """The builder registered as ``name``; ValueError listing the names if unknown."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        names = ", ".join(available())
        raise ValueError(f"unknown data set {name!r}; available data sets: {names}") from None


def resolve_root(builder: DatasetBuilder, root: str | os.PathLike | None) -> Path | None:
    """``root`` as an absolute path, or the builder's default location when None."""
    return builder.default_root if root is None else Path(root).expanduser().absolute()


def split_files(name: str, split: str, *, root: str | os.PathLike | None = None) -> list[str]:
    """The files (relative paths; chorale ids for ``chorales``) of one whole split, sorted; a capped
    build uses a subset, recorded in its stream index. Notebook 01, "Splits that never leak"."""
    builder = get_builder(name)
    if split not in builder.splits:
        raise ValueError(f"unknown split {split!r}; this data set has {list(builder.splits)}")
    resolved = resolve_root(builder, root)
    builder.check_system_data(resolved)
    return builder.split_files(split, resolved)
