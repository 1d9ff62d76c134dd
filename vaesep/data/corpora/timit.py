"""TIMIT: speech vs noise, for the denoising task.

TIMIT (LDC93S1) holds 6300 read sentences, ten from each of 630 speakers of
eight American English dialect regions, 16 kHz 16-bit, as distributed:
``TIMIT/TRAIN|TEST/DR1..DR8/<sex><initials><digit>/<utterance>.WAV`` with
NIST SPHERE headers (``sa1``/``sa2`` are the two dialect sentences every
speaker reads, ``si*``/``sx*`` the others). Copies with lower-case names or
with files converted to RIFF (``SA1.WAV.wav``) are read as well;
shorten-compressed SPHERE files are reported with the command that
decompresses them.

Splits (our choices, speaker-disjoint):

* ``test``: every speaker of ``TEST`` (168), ``train``/``valid``: the 462
  speakers of ``TRAIN``, the first tenth of them in hash order
  (:func:`vaesep.data.splits.hash_order`) being ``valid``;
* the ``sa`` sentences are left out, because every speaker reads the same
  two texts, so they would put test sentences into training.

The ``noise`` source is either the offline noises of the ``noise`` data set
(Debian package ``sonic-pi-samples``; separate recordings for train, valid
and test, :data:`vaesep.data.noise.NOISE_FILES`) or a folder of your own
noise recordings: ``TIMITBuilder(noise_dir=...)`` or the environment
variable ``VAESEP_NOISE_DIR``. Such a folder either has ``train/``,
``valid/`` and ``test/`` sub-folders, or is split by file (the first tenth
in hash order test, the next tenth valid, at least one file each). Each
recording is trimmed, scaled to unit RMS and tiled to at least 8 s
(:func:`vaesep.data.noise.noise_stream`); noises are held in memory, so
keep such a folder under an hour or so. Speech utterances are trimmed like
the default speech set (40 dB). ``snr_db`` is the speech-to-noise ratio.

data/README.md, section "TIMIT".
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.base import CorpusBuilder, first_seconds_in_hash_order
from vaesep.data.corpora.errors import (
    CorpusFileError,
    CorpusLayoutError,
    layout_error,
    readme_pointer,
)
from vaesep.data.corpora.layout import child, find_corpus_dir, relative_id, require_root
from vaesep.data.corpora.reading import decode_speech_file
from vaesep.data.corpora.streaming import Unit, publish_all, require_audio
from vaesep.data.noise import NOISE_FILES, PACKAGE, SONIC_PI_SAMPLES, noise_stream
from vaesep.data.registry import BuildRequest
from vaesep.data.splits import hash_order
from vaesep.data.system import missing_data_error

SECTION = "TIMIT"
NOISE_DIR_ENV = "VAESEP_NOISE_DIR"
NOISE_SUFFIXES = (".wav", ".flac", ".ogg")
DIALECT_REGION = re.compile(r"^dr[1-8]$", re.IGNORECASE)
SPEAKER_DIR = re.compile(r"^[fm][a-z]{3}\d$", re.IGNORECASE)
VALID_SPEAKER_SHARE = 0.1
TRIM_TOP_DB = 40.0
NoisePlan = dict[str, Any]
"""``{"source": "sonic-pi-samples" | "folder", "dir": str, "files": {split: [relative paths]}}``."""


def utterance_files(speaker_dir: Path, include_sa: bool) -> list[Path]:
    """One file per utterance of a speaker folder, sorted by utterance id.

    Where a copy holds both ``SA1.WAV`` and a converted ``SA1.WAV.wav``, the
    shorter name (the original) is used.

    data/README.md, section "TIMIT".
    """
    chosen: dict[str, Path] = {}
    for path in sorted(speaker_dir.iterdir(), key=lambda p: (len(p.name), p.name)):
        if not path.is_file() or not path.name.lower().endswith(".wav"):
            continue
        utterance = path.name.split(".", 1)[0].lower()
        if not include_sa and utterance.startswith("sa"):
            continue
        chosen.setdefault(utterance, path)
    return [chosen[u] for u in sorted(chosen)]


def speaker_dirs(part_dir: Path) -> list[Path]:
    """``DR*/<speaker>`` folders of ``TRAIN`` or ``TEST``, sorted by speaker id.

    data/README.md, section "TIMIT".
    """
    regions = [d for d in sorted(part_dir.iterdir()) if d.is_dir() and DIALECT_REGION.match(d.name)]
    speakers = [s for r in regions for s in r.iterdir() if s.is_dir() and SPEAKER_DIR.match(s.name)]
    return sorted(speakers, key=lambda s: s.name.lower())


def split_speakers(corpus_dir: Path) -> dict[str, list[Path]]:
    """Speaker folders per split: ``TEST`` → test; ``TRAIN`` → valid (first tenth in hash order) and train.

    data/README.md, section "TIMIT".
    """
    training = speaker_dirs(child(corpus_dir, "TRAIN") or corpus_dir / "TRAIN")
    by_id = {speaker.name.lower(): speaker for speaker in training}
    valid = set(hash_order(by_id)[: math.ceil(len(by_id) * VALID_SPEAKER_SHARE)])
    return {
        "train": [by_id[s] for s in sorted(by_id) if s not in valid],
        "valid": [by_id[s] for s in sorted(by_id) if s in valid],
        "test": speaker_dirs(child(corpus_dir, "TEST") or corpus_dir / "TEST"),
    }


def noise_plan(noise_dir: Path | None) -> NoisePlan:
    """Which noise recordings each split uses (see the module docstring); part of the cache key.

    data/README.md, section "TIMIT".
    """
    if noise_dir is None:
        return {
            "source": PACKAGE,
            "dir": str(SONIC_PI_SAMPLES),
            "files": {split: list(files) for split, files in NOISE_FILES.items()},
        }
    noise_dir = Path(noise_dir).expanduser().absolute()
    files: dict[str, list[str]] = {}
    subfolders = {split: child(noise_dir, split) for split in ("train", "valid", "test")}
    if all(folder is not None and folder.is_dir() for folder in subfolders.values()):
        for split, folder in subfolders.items():
            files[split] = sorted(relative_id(p, noise_dir) for p in _audio_files(folder))
    else:
        ordered = hash_order(relative_id(p, noise_dir) for p in _audio_files(noise_dir))
        held_out = max(1, round(len(ordered) * 0.1))
        files = {
            "test": sorted(ordered[:held_out]),
            "valid": sorted(ordered[held_out : 2 * held_out]),
            "train": sorted(ordered[2 * held_out :]),
        }
    return {"source": "folder", "dir": str(noise_dir), "files": files}


def _audio_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in NOISE_SUFFIXES
    )


class TIMITBuilder(CorpusBuilder):
    """Builds ``data.build("timit", root=...)`` (see the module docstring).

    Args:
        noise_dir: a folder of your own noise recordings; None uses
            ``$VAESEP_NOISE_DIR`` if set, else the offline ``sonic-pi-samples`` noises.
        include_sa: keep the two dialect sentences every speaker reads.

    data/README.md, section "TIMIT".
    """

    version = "1"
    corpus = "timit"
    readme_section = SECTION
    source_names = ("speech", "noise")
    splits = ("train", "valid", "test")

    def __init__(
        self, noise_dir: str | os.PathLike | None = None, include_sa: bool = False
    ) -> None:
        self.noise_dir = None if noise_dir is None else Path(noise_dir)
        self.include_sa = include_sa

    def chosen_noise_dir(self) -> Path | None:
        """The noise folder in use: the constructor's, else ``$VAESEP_NOISE_DIR``, else None (offline)."""
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

        def has_parts(folder: Path) -> bool:
            return all(child(folder, part) is not None for part in ("TRAIN", "TEST"))

        folder = find_corpus_dir(root, has_parts, ("TIMIT", "data"))
        if folder is None:
            missing = next(part for part in ("TRAIN", "TEST") if child(root, part) is None)
            raise layout_error(
                self.corpus, root, f"{missing}/",
                "TIMIT/TRAIN/DR1/FCJF0/SI1027.WAV … and TIMIT/TEST/DR1/… (NIST SPHERE, as on the "
                "LDC disc)", SECTION,
            )  # fmt: skip
        for split, speakers in split_speakers(folder).items():
            if not speakers:
                part = "TEST" if split == "test" else "TRAIN"
                raise layout_error(
                    self.corpus, root, f"speaker folders in {part}/DR1..DR8/",
                    f"{part}/DR1/FCJF0/SI1027.WAV …", SECTION,
                )  # fmt: skip
        return folder

    def check_system_data(self, root: Path | None) -> None:
        super().check_system_data(root)
        self.check_noise()

    def check_noise(self) -> None:
        """Raise if the noise recordings are absent (the package, or an empty split of the folder)."""
        plan = noise_plan(self.chosen_noise_dir())
        noise_dir = Path(plan["dir"])
        if plan["source"] == PACKAGE:
            missing = [
                f
                for files in plan["files"].values()
                for f in files
                if not (noise_dir / f).is_file()
            ]
            if missing:
                raise missing_data_error(
                    "timit", [PACKAGE],
                    f"the offline noises, e.g. {noise_dir / missing[0]}; or point "
                    f"{NOISE_DIR_ENV} at a folder of your own noise recordings",
                )  # fmt: skip
            return
        if not noise_dir.is_dir():
            raise CorpusLayoutError(
                f"The noise folder {noise_dir} (from {NOISE_DIR_ENV} or noise_dir=) does not "
                f"exist; {readme_pointer(SECTION)}"
            )
        empty = [split for split, files in plan["files"].items() if not files]
        if empty:
            raise CorpusLayoutError(
                f"The noise folder {noise_dir} gives no recordings for {empty}: it needs at "
                f"least three .wav/.flac/.ogg files, or train/, valid/ and test/ sub-folders "
                f"with at least one each; {readme_pointer(SECTION)}"
            )

    def planned_files(
        self, root: Path, seconds: dict[str, float] | None
    ) -> dict[str, list[tuple[str, Path]]]:
        """``(id, path)`` of the utterances per split; capped (fast mode) by duration in hash order."""
        plan = {}
        for split, speakers in split_speakers(self.locate(root)).items():
            files = [
                (relative_id(path, root), path)
                for speaker in speakers
                for path in utterance_files(speaker, self.include_sa)
            ]
            plan[split] = first_seconds_in_hash_order(
                files, None if seconds is None else seconds[split], SECTION
            )
        return plan

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        root = require_root(self.corpus, root, SECTION)
        return [file_id for file_id, _ in self.planned_files(root, None)[split]]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = require_root(self.corpus, request.root, SECTION)
        settings = request.settings
        plan = self.planned_files(root, settings["seconds_per_split"])
        noise = settings["noise"]
        segment_samples = int(round(settings["segment_seconds"] * SAMPLE_RATE))
        for split in self.splits:
            units = [
                Unit(file_id, (str(path), "speech", settings["trim_top_db"], SECTION))
                for file_id, path in plan[split]
            ]
            files = self.decode_run(request, writer, split, units, decode_speech_file, ("speech",))
            require_audio(files, self.corpus, split, SECTION)
            streams, stream_index = publish_all(writer, split, files)
            streams["noise"], stream_index["noise"] = _noise(
                Path(noise["dir"]), noise["files"][split]
            )
            writer.add_split_with_items(
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                max_items=settings["max_items"],
                primary="speech",
            )
        writer.note("noise", {"source": noise["source"], "dir": noise["dir"]})
        writer.note("utterance_counts", {split: len(files) for split, files in plan.items()})
        writer.note("split_rule", "TEST: test; TRAIN speakers: first tenth in hash order valid")


def _noise(noise_dir: Path, files: list[str]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """:func:`vaesep.data.noise.noise_stream` with a damaged recording reported by name."""
    try:
        return noise_stream(noise_dir, tuple(files))
    except (OSError, ValueError) as exc:
        raise CorpusFileError(f"noise recording: {exc}; {readme_pointer(SECTION)}") from None
