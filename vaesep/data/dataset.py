"""The handle to a built data set: arrays, metadata, a printable summary.

Notebook 01, section "The speech data" shows one in use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.data.cache import MANIFEST


@dataclass(frozen=True, eq=False)
class BuiltDataset:
    """A data set as built into the cache by :func:`vaesep.data.build`.

    Arrays are memory-mapped read-only: opening a data set costs nothing, and
    only the parts you index are read from disk.

    Attributes:
        name: registered name, e.g. ``"speech"``.
        path: the cache directory holding the files.
        source_names: one per source, e.g. ``("v", "m")``.
        sample_rate: Hz (16000).
        splits: every split, e.g. ``("train", "valid", "test", "test_cs")``.
        params: seed, snr_db, fast, root, segment_seconds and the builder's caps.
        manifest_hash: sha256 of ``manifest.json``; model checkpoints store it.
    """

    name: str
    path: Path
    source_names: tuple[str, ...]
    sample_rate: int
    splits: tuple[str, ...]
    params: dict[str, Any]
    manifest_hash: str
    manifest: dict[str, Any] = field(repr=False)
    _loaded: dict[tuple[str, ...], Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> BuiltDataset:
        """Open a built directory (no verification; :func:`vaesep.data.build` does that)."""
        path = Path(path)
        raw = (path / MANIFEST).read_bytes()
        manifest = json.loads(raw)
        return cls(
            name=manifest["name"],
            path=path,
            source_names=tuple(manifest["source_names"]),
            sample_rate=int(manifest["sample_rate"]),
            splits=tuple(manifest["splits"]),
            params=dict(manifest["params"]),
            manifest_hash=hashlib.sha256(raw).hexdigest(),
            manifest=manifest,
        )

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
        """Splits with fixed evaluation items (all but ``train`` for the built-in sets)."""
        return tuple(self.manifest["evaluation_splits"])

    @property
    def snr_db(self) -> float:
        """The ratio of the first source to each other one in the fixed items, in dB."""
        return float(self.params["snr_db"])

    def _require_split(self, split: str) -> None:
        if split not in self.splits:
            raise ValueError(
                f"{self.name!r} has no split {split!r}; its splits are {list(self.splits)}"
            )

    def _require_items(self, split: str) -> None:
        self._require_split(split)
        if split not in self.evaluation_splits:
            raise ValueError(
                f"split {split!r} of {self.name!r} has no fixed mixtures: it is used through dynamic "
                f"mixing. Draw mixtures with data.random_segments(dataset, {split!r}, n, seconds, "
                f"rng=np.random.default_rng(0)); fixed items exist for {list(self.evaluation_splits)}"
            )

    def _cached(self, key: tuple[str, ...], load: Any) -> Any:
        if key not in self._loaded:
            self._loaded[key] = load()
        return self._loaded[key]

    def sources(self, split: str) -> np.ndarray:
        """The fixed evaluation items of ``split``.

        Returns:
            read-only memory map, ``(n_items, n_sources, n_samples)`` float32,
            each source already scaled (unit RMS for the first, then
            ``10**(-snr_db/20)`` for the others); the mixture is their sum.
        """
        self._require_items(split)
        return self._cached(
            ("sources", split), lambda: np.load(self.path / f"sources_{split}.npy", mmap_mode="r")
        )

    def mixtures(self, split: str) -> np.ndarray:
        """``sources(split).sum(axis=1)``: shape ``(n_items, n_samples)`` float32 (in memory)."""
        return self._cached(
            ("mixtures", split), lambda: self.sources(split).sum(axis=1, dtype=np.float32)
        )

    def streams(self, split: str) -> dict[str, np.ndarray]:
        """Per source, the split's concatenated, silence-trimmed audio.

        Returns:
            source name → read-only memory map ``(n_samples,)`` float32 at
            16 kHz. Dynamic mixing (:func:`vaesep.data.random_segments`) cuts
            training examples from these.
        """
        self._require_split(split)
        return {
            source: self._cached(
                ("stream", split, source),
                lambda source=source: np.load(
                    self.path / f"stream_{split}_{source}.npy", mmap_mode="r"
                ),
            )
            for source in self.source_names
        }

    def stream_rms(self, split: str) -> dict[str, float]:
        """Per source, the RMS of the whole stream (the reference for "near-silent")."""
        self._require_split(split)
        return dict(self.manifest["stream_rms"][split])

    def items(self, split: str) -> list[dict[str, Any]]:
        """Per item: for each source, its stream offset, gain and the files it came from."""
        self._require_items(split)
        return json.loads((self.path / f"items_{split}.json").read_text(encoding="utf-8"))

    def stream_index(self, split: str) -> dict[str, list[dict[str, Any]]]:
        """Per source, the pieces of the stream: ``{"file", "stream_offset", "length", "file_offset"}``."""
        self._require_split(split)
        index_path = self.path / f"stream_index_{split}.json"
        if not index_path.is_file():
            return {source: [] for source in self.source_names}
        return json.loads(index_path.read_text(encoding="utf-8"))

    def duration_seconds(self, split: str) -> dict[str, float]:
        """Per source, the duration of the split's stream in seconds."""
        self._require_split(split)
        return dict(self.manifest["durations_seconds"][split])

    def describe(self) -> str:
        """A table of splits, item counts and stream durations, for printing."""
        mode = "fast" if self.params.get("fast") else "full"
        lines = [
            f"{self.name}: sources {', '.join(self.source_names)} | {self.sample_rate} Hz | "
            f"seed {self.params['seed']} | SNR {self.snr_db:g} dB | {mode} mode",
            f"cache {self.path}  (manifest sha256 {self.manifest_hash[:12]}…)",
        ]
        segment = self.params.get("segment_seconds")
        columns = [f"{name} (min)" for name in self.source_names]
        widths = [max(len(column), 8) + 2 for column in columns]
        header = f"{'split':<9}{'items':>7}{'item length':>13}" + "".join(
            f"{column:>{width}}" for column, width in zip(columns, widths, strict=True)
        )
        lines += [header, "-" * len(header)]
        for split in self.splits:
            count = self.manifest["item_counts"].get(split)
            items = "-" if count is None else str(count)
            length = "-" if count is None or segment is None else f"{segment:g} s"
            durations = self.duration_seconds(split)
            lines.append(
                f"{split:<9}{items:>7}{length:>13}"
                + "".join(
                    f"{durations[name] / 60:>{width}.1f}"
                    for name, width in zip(self.source_names, widths, strict=True)
                )
            )
        lines.append("'items' are fixed evaluation mixtures; durations are the stream lengths.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"BuiltDataset(name={self.name!r}, source_names={self.source_names!r}, "
            f"splits={self.splits!r}, seed={self.params['seed']}, snr_db={self.snr_db:g}, "
            f"fast={self.params.get('fast')}, path='{self.path}')"
        )
