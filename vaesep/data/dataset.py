"""The handle to a built data set: memory-mapped arrays, metadata, a printable summary.

On disk (``<cache>/<name>/<key>/``, see :mod:`vaesep.data.cache`)::

    manifest.json                 sha256 and size of every file, parameters, notes
    stream_<split>_<source>.npy   (n_samples,) float32 at 16 kHz: the split's audio of one source
    stream_index_<split>.json     which file each stretch of a stream came from
    sources_<split>.npy           (n_items, n_sources, n_samples) float32: fixed evaluation items
    items_<split>.json            per item: stream offsets, gains, files

Notebook 01, sections "Building the data set" and "Looking at one test mixture".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.files import markdown_table

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


def file_sha256(path: Path, chunk_bytes: int = 8 << 20) -> str:
    """Hex sha256 of a file, read in chunks so large streams need no extra memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class BuiltDataset:
    """A data set built into the cache by :func:`vaesep.data.build`. Arrays are read-only
    memory maps, so only the parts you index are read from disk. ``params`` holds seed,
    snr_db, fast, root and the size settings; ``manifest_hash`` (sha256 of manifest.json,
    stored in checkpoints) makes two handles equal."""

    name: str
    path: Path
    source_names: tuple[str, ...]
    sample_rate: int
    splits: tuple[str, ...]
    params: dict[str, Any]
    manifest_hash: str
    manifest: dict[str, Any] = field(repr=False)
    _loaded: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> BuiltDataset:
        """Open a built folder without verifying it (:func:`vaesep.data.build` does that)."""
        raw = (Path(path) / MANIFEST).read_bytes()
        m, digest = json.loads(raw), hashlib.sha256(raw).hexdigest()
        return cls(m["name"], Path(path), tuple(m["source_names"]), int(m["sample_rate"]),
                   tuple(m["splits"]), dict(m["params"]), digest, m)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BuiltDataset):
            return NotImplemented
        return self.manifest_hash == other.manifest_hash

    def __hash__(self) -> int:
        return hash(self.manifest_hash)

    @property
    def n_sources(self) -> int:
        return len(self.source_names)

    @property
    def evaluation_splits(self) -> tuple[str, ...]:
        return tuple(self.manifest["evaluation_splits"])  # splits with fixed items

    @property
    def snr_db(self) -> float:
        return float(self.params["snr_db"])

    def _require_split(self, split: str, *, items: bool = False) -> None:
        if split not in self.splits:
            splits = list(self.splits)
            raise ValueError(f"{self.name!r} has no split {split!r}; its splits are {splits}")
        if items and split not in self.evaluation_splits:
            raise ValueError(
                f"split {split!r} of {self.name!r} has no fixed mixtures: it is used through "
                f"dynamic mixing. Draw mixtures with data.random_segments(dataset, {split!r}, n, "
                f"seconds, rng=np.random.default_rng(0)); fixed items exist for "
                f"{list(self.evaluation_splits)}"
            )

    def _array(self, filename: str) -> np.ndarray:
        if filename not in self._loaded:
            self._loaded[filename] = np.load(self.path / filename, mmap_mode="r")
        return self._loaded[filename]

    def sources(self, split: str) -> np.ndarray:
        """The fixed evaluation items of ``split``: a read-only memory map
        ``(n_items, n_sources, n_samples)`` float32, the first source at unit RMS and the
        others at ``10**(-snr_db/20)``; the mixture is their sum."""
        self._require_split(split, items=True)
        return self._array(f"sources_{split}.npy")

    def mixtures(self, split: str) -> np.ndarray:
        """``sources(split).sum(axis=1)``: ``(n_items, n_samples)`` float32, in memory."""
        if f"mixtures {split}" not in self._loaded:
            self._loaded[f"mixtures {split}"] = self.sources(split).sum(axis=1, dtype=np.float32)
        return self._loaded[f"mixtures {split}"]

    def streams(self, split: str) -> dict[str, np.ndarray]:
        """Source name → the split's concatenated, silence-trimmed audio, a read-only memory map
        ``(n_samples,)`` float32 at 16 kHz. Dynamic mixing (:func:`vaesep.data.random_segments`)
        cuts training examples from these."""
        self._require_split(split)
        return {source: self._array(f"stream_{split}_{source}.npy") for source in self.source_names}

    def stream_rms(self, split: str) -> dict[str, float]:
        self._require_split(split)
        return dict(self.manifest["stream_rms"][split])

    def items(self, split: str) -> list[dict[str, Any]]:
        """Per item: for each source, its stream offset, gain and the files it came from."""
        self._require_split(split, items=True)
        return json.loads((self.path / f"items_{split}.json").read_text(encoding="utf-8"))

    def stream_index(self, split: str) -> dict[str, list[dict[str, Any]]]:
        """Per source, its pieces: ``{"file", "stream_offset", "length", "file_offset"}``."""
        self._require_split(split)
        path = self.path / f"stream_index_{split}.json"
        if not path.is_file():  # generated sets point at no files
            return {source: [] for source in self.source_names}
        return json.loads(path.read_text(encoding="utf-8"))

    def duration_seconds(self, split: str) -> dict[str, float]:
        self._require_split(split)
        return dict(self.manifest["durations_seconds"][split])

    def describe(self) -> str:
        """A table of splits, item counts and stream durations, for printing."""
        segment = self.params.get("segment_seconds")
        rows = []
        for split in self.splits:
            count, seconds = self.manifest["item_counts"].get(split), self.duration_seconds(split)
            length = "-" if count is None or segment is None else f"{segment:g} s"
            rows.append([split, "-" if count is None else count, length,
                         *(f"{seconds[n] / 60:.1f}" for n in self.source_names)])  # fmt: skip
        header = ["split", "items", "item length", *(f"{n} (min)" for n in self.source_names)]
        mode = "fast" if self.params.get("fast") else "full"
        return "\n".join([
            f"{self.name}: sources {', '.join(self.source_names)} | {self.sample_rate} Hz | seed "
            f"{self.params['seed']} | SNR {self.snr_db:g} dB | {mode} mode",
            f"cache {self.path}  (manifest sha256 {self.manifest_hash[:12]}…)",
            "", markdown_table(header, rows),
            "", "'items' are fixed evaluation mixtures; durations are the stream lengths.",
        ])  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"BuiltDataset(name={self.name!r}, source_names={self.source_names!r}, "
            f"splits={self.splits!r}, seed={self.params['seed']}, snr_db={self.snr_db:g}, "
            f"fast={self.params.get('fast')}, path='{self.path}')"
        )
