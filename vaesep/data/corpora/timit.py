"""TIMIT: speech against noise, for the denoising task.

Speaker-disjoint splits: ``TEST`` is test, the first tenth of the ``TRAIN``
speakers in hash order valid; the shared ``SA`` sentences are left out.
Upper- and lower-case copies and converted ``SA1.WAV.wav`` files are read.
The noise is the ``noise`` set's recordings (:mod:`vaesep.data.noise`) or a
folder of your own (``noise_dir=`` or ``$VAESEP_NOISE_DIR``: ``train/``,
``valid/``, ``test/`` sub-folders, or flat, split by hash).
data/README.md, section "TIMIT", has the corpus, its layout and our choices.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.data.builder import BuildRequest, DatasetWriter
from vaesep.data.corpora.base import (
    CorpusBuilder,
    CorpusFileError,
    CorpusLayoutError,
    child,
    decode_speech_file,
    find_corpus_dir,
    first_seconds_in_hash_order,
    layout_error,
    readme_pointer,
    relative_id,
    subdir,
)  # fmt: skip
from vaesep.data.noise import NOISE_FILES, PACKAGE, SONIC_PI_SAMPLES, noise_stream
from vaesep.data.splits import hash_order
from vaesep.data.system import missing_data_error

SECTION = "TIMIT"
NOISE_DIR_ENV = "VAESEP_NOISE_DIR"
NOISE_SUFFIXES = (".wav", ".flac", ".ogg")
DIALECT_REGION = re.compile(r"^dr[1-8]$", re.IGNORECASE)
SPEAKER_DIR = re.compile(r"^[fm][a-z]{3}\d$", re.IGNORECASE)
VALID_SPEAKER_SHARE = 0.1
TRIM_TOP_DB = 40.0


def utterance_files(speaker_dir: Path, include_sa: bool) -> list[Path]:
    """One file per utterance of a speaker folder, by utterance id; where a copy holds both
    ``SA1.WAV`` and a converted ``SA1.WAV.wav``, the shorter name (the original) wins."""
    chosen: dict[str, Path] = {}
    for path in sorted(speaker_dir.iterdir(), key=lambda p: (len(p.name), p.name)):
        utterance = path.name.split(".", 1)[0].lower()
        if path.is_file() and path.name.lower().endswith(".wav") and (include_sa or not utterance.startswith("sa")):
            chosen.setdefault(utterance, path)
    return [chosen[u] for u in sorted(chosen)]


def speaker_dirs(part_dir: Path) -> list[Path]:
    """``DR*/<speaker>`` folders of ``TRAIN`` or ``TEST``, sorted by speaker id."""
    regions = [d for d in sorted(part_dir.iterdir()) if d.is_dir() and DIALECT_REGION.match(d.name)]
    speakers = [s for r in regions for s in r.iterdir() if s.is_dir() and SPEAKER_DIR.match(s.name)]
    return sorted(speakers, key=lambda s: s.name.lower())


def split_speakers(corpus_dir: Path) -> dict[str, list[Path]]:
    """Speaker folders per split: ``TEST`` → test; ``TRAIN`` → valid (first tenth in hash order) and train."""
    by_id = {s.name.lower(): s for s in speaker_dirs(subdir(corpus_dir, "TRAIN"))}
    valid = set(hash_order(by_id)[: math.ceil(len(by_id) * VALID_SPEAKER_SHARE)])
    return {
        "train": [by_id[s] for s in sorted(by_id) if s not in valid],
        "valid": [by_id[s] for s in sorted(by_id) if s in valid],
        "test": speaker_dirs(subdir(corpus_dir, "TEST")),
    }


def noise_plan(noise_dir: Path | None) -> dict[str, Any]:
    """``{"source", "dir", "files": {split: [relative paths]}}``: the noise recordings of each
    split (see the module docstring); part of the cache key."""
    if noise_dir is None:
        files = {split: list(names) for split, names in NOISE_FILES.items()}
        return {"source": PACKAGE, "dir": str(SONIC_PI_SAMPLES), "files": files}
    noise_dir = Path(noise_dir).expanduser().absolute()

    def audio_files(folder: Path | None) -> list[str]:
        if folder is None or not folder.is_dir():
            return []
        found = (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in NOISE_SUFFIXES)
        return sorted(relative_id(p, noise_dir) for p in found)

    subfolders = {split: child(noise_dir, split) for split in ("train", "valid", "test")}
    if all(folder is not None and folder.is_dir() for folder in subfolders.values()):
        files = {split: audio_files(folder) for split, folder in subfolders.items()}
    else:
        ordered = hash_order(audio_files(noise_dir))
        held_out = max(1, round(len(ordered) * 0.1))
        files = {
            "test": sorted(ordered[:held_out]),
            "valid": sorted(ordered[held_out : 2 * held_out]),
            "train": sorted(ordered[2 * held_out :]),
        }
    return {"source": "folder", "dir": str(noise_dir), "files": files}


class TIMITBuilder(CorpusBuilder):
    """Builds ``data.build("timit", root=...)``; ``noise_dir``: your noise recordings (None:
    ``$VAESEP_NOISE_DIR``, else the offline noises); ``include_sa``: keep the shared sentences."""

    version = "1"
    corpus = "timit"
    readme_section = SECTION
    source_names = ("speech", "noise")
    splits = ("train", "valid", "test")

    def __init__(self, noise_dir: str | os.PathLike | None = None, include_sa: bool = False) -> None:
        self.noise_dir = None if noise_dir is None else Path(noise_dir)
        self.include_sa = include_sa

    def chosen_noise_dir(self) -> Path | None:
        """The constructor's noise folder, else ``$VAESEP_NOISE_DIR``, else None (offline noises)."""
        configured = os.environ.get(NOISE_DIR_ENV, "").strip()
        return self.noise_dir or (Path(configured) if configured else None)

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "trim_top_db": TRIM_TOP_DB,
            "include_sa": self.include_sa,
            "valid_speaker_share": VALID_SPEAKER_SHARE,
            "noise": noise_plan(self.chosen_noise_dir()),
            "seconds_per_split": {"train": 180.0, "valid": 60.0, "test": 80.0} if fast else None,
            "max_items": {"valid": 8, "test": 12} if fast else {"valid": 200, "test": 400},
        }

    def locate(self, root: Path) -> Path:
        """The folder with ``TRAIN/`` and ``TEST/``: ``root`` or ``root/TIMIT`` (any case)."""
        folder = find_corpus_dir(root, lambda f: all(child(f, p) is not None for p in ("TRAIN", "TEST")),
                                 ("TIMIT", "data"))  # fmt: skip
        if folder is None:
            missing = next(part for part in ("TRAIN", "TEST") if child(root, part) is None)
            raise layout_error(self.corpus, root, f"{missing}/", "TIMIT/TRAIN/DR1/FCJF0/SI1027.WAV … and "
                               "TIMIT/TEST/DR1/… (NIST SPHERE, as on the LDC disc)", SECTION)  # fmt: skip
        for split, speakers in split_speakers(folder).items():
            if not speakers:
                part = "TEST" if split == "test" else "TRAIN"
                raise layout_error(self.corpus, root, f"speaker folders in {part}/DR1..DR8/",
                                   f"{part}/DR1/FCJF0/SI1027.WAV …", SECTION)  # fmt: skip
        return folder

    def check_system_data(self, root: Path | None) -> None:
        super().check_system_data(root)
        self.check_noise()

    def check_noise(self) -> None:
        """Raise if the noise recordings are absent (the package, or an empty split of the folder)."""
        plan = noise_plan(self.chosen_noise_dir())
        noise_dir = Path(plan["dir"])
        if plan["source"] == PACKAGE:
            missing = [f for files in plan["files"].values() for f in files if not (noise_dir / f).is_file()]
            if missing:
                raise missing_data_error(
                    "timit", [PACKAGE], f"the offline noises, e.g. {noise_dir / missing[0]}; or point "
                    f"{NOISE_DIR_ENV} at a folder of your own noise recordings",
                )  # fmt: skip
        elif not noise_dir.is_dir():
            raise CorpusLayoutError(f"The noise folder {noise_dir} (from {NOISE_DIR_ENV} or noise_dir=) does "
                                    f"not exist; {readme_pointer(SECTION)}")  # fmt: skip
        elif empty := [split for split, files in plan["files"].items() if not files]:
            raise CorpusLayoutError(
                f"The noise folder {noise_dir} gives no recordings for {empty}: it needs at least three "
                ".wav/.flac/.ogg files, or train/, valid/ and test/ sub-folders with at least one "
                f"each; {readme_pointer(SECTION)}"
            )

    def planned_files(self, root: Path, seconds: dict[str, float] | None) -> dict[str, list[tuple[str, Path]]]:
        """``(id, path)`` of the utterances per split; capped (fast mode) by duration in hash order."""
        plan = {}
        for split, speakers in split_speakers(self.locate(root)).items():
            files = [(relative_id(p, root), p) for s in speakers for p in utterance_files(s, self.include_sa)]
            plan[split] = first_seconds_in_hash_order(files, None if seconds is None else seconds[split], SECTION)
        return plan

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        return [file_id for file_id, _ in self.planned_files(self.require_root(root), None)[split]]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = self.require_root(request.root)
        settings, noise = request.settings, request.settings["noise"]
        plan = self.planned_files(root, settings["seconds_per_split"])
        for split in self.splits:
            units = [(i, (str(path), "speech", settings["trim_top_db"], SECTION)) for i, path in plan[split]]
            streams, index, _ = self.decode_split(request, writer, split, units, decode_speech_file, ("speech",))
            streams["noise"], index["noise"] = _noise(Path(noise["dir"]), noise["files"][split])
            writer.add_split_with_items(
                split, streams=streams, stream_index=index, request=request, max_items=settings["max_items"], primary="speech",
            )  # fmt: skip
        writer.note("noise", {"source": noise["source"], "dir": noise["dir"]})
        writer.note("utterance_counts", {split: len(files) for split, files in plan.items()})
        writer.note("split_rule", "TEST: test; TRAIN speakers: first tenth in hash order valid")


def _noise(noise_dir: Path, files: list[str]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """:func:`vaesep.data.noise.noise_stream`, with a damaged recording reported by name."""
    try:
        return noise_stream(noise_dir, tuple(files))
    except (OSError, ValueError) as exc:
        raise CorpusFileError(f"noise recording: {exc}; {readme_pointer(SECTION)}") from None
