"""MIR-1K: singing voice against accompaniment, with the split of the DRNN papers.

``MIR-1K/Wavfile/<singer>_<song>_<clip>.wav`` is stereo with the accompaniment
on the left and the voice on the right. The clips of ``abjones`` and ``amy``
train (the first ninth in hash order validates), the other 17 singers test, as
in Huang et al. (2014, 2015); items are 4 s inside each clip.
data/README.md, section "MIR-1K", has the corpus, its layout and our choices.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from vaesep.data.builder import BuildRequest, DatasetWriter
from vaesep.data.corpora.base import (
    CorpusBuilder,
    Decoded,
    add_recording_split,
    file_error,
    find_corpus_dir,
    layout_error,
    read_corpus_audio,
    relative_id,
    subdir,
    to_mono_16k,
)  # fmt: skip
from vaesep.data.splits import hash_order

SECTION = "MIR-1K"
CLIP_FOLDER = "Wavfile"
TRAINING_SINGERS = ("abjones", "amy")
VALID_SHARE = 1.0 / 9.0
ACCOMPANIMENT_CHANNEL, VOICE_CHANNEL = 0, 1


def singer_of(clip: Path) -> str:
    """``abjones_1_01.wav`` → ``abjones`` (lower case: the corpus spells some ``Ani``, ``Kenshin``)."""
    return clip.stem.rsplit("_", 2)[0].lower()


def split_clips(clips: list[Path]) -> dict[str, list[Path]]:
    """Every clip assigned to train / valid / test (see the module docstring), each sorted."""
    training = [c for c in clips if singer_of(c) in TRAINING_SINGERS]
    valid = set(hash_order(c.name for c in training)[: math.ceil(len(training) * VALID_SHARE)])
    return {
        "train": sorted(c for c in training if c.name not in valid),
        "valid": sorted(c for c in training if c.name in valid),
        "test": sorted(c for c in clips if singer_of(c) not in TRAINING_SINGERS),
    }


def decode_clip(path: str) -> Decoded:
    """One stereo clip → ``{"voice": right, "accompaniment": left}`` at 16 kHz."""
    samples, rate = read_corpus_audio(Path(path), SECTION)
    if samples.shape[1] != 2:
        raise file_error(
            path, f"expected 2 channels (accompaniment left, voice right), found {samples.shape[1]}", SECTION
        )
    voice = to_mono_16k(samples[:, VOICE_CHANNEL : VOICE_CHANNEL + 1], rate)
    accompaniment = to_mono_16k(samples[:, ACCOMPANIMENT_CHANNEL : ACCOMPANIMENT_CHANNEL + 1], rate)
    return {"voice": voice, "accompaniment": accompaniment}, 0


class MIR1KBuilder(CorpusBuilder):
    """Builds ``data.build("mir1k", root=...)`` (see the module docstring)."""

    version = "1"
    corpus = "mir1k"
    readme_section = SECTION
    source_names = ("voice", "accompaniment")
    splits = ("train", "valid", "test")

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "training_singers": list(TRAINING_SINGERS),
            "valid_share": VALID_SHARE,
            "items_per_clip": {"valid": 1, "test": 1} if fast else {"valid": None, "test": None},
            "max_clips": {"train": 40, "valid": 4, "test": 12} if fast else None,
        }

    def locate(self, root: Path) -> Path:
        """The ``MIR-1K`` folder (``root`` or ``root/MIR-1K``), with the clips of both groups."""
        folder = find_corpus_dir(root, lambda f: bool(self.clips(f)), ("MIR-1K",))
        if folder is None:
            raise layout_error(self.corpus, root, f"{CLIP_FOLDER}/ with the clips",
                               "MIR-1K/Wavfile/abjones_1_01.wav … (1000 stereo clips)", SECTION)  # fmt: skip
        clips = self.clips(folder)
        for group, present in (
            ("training singers abjones/amy", any(singer_of(c) in TRAINING_SINGERS for c in clips)),
            ("test singers", any(singer_of(c) not in TRAINING_SINGERS for c in clips)),
        ):
            if not present:
                raise layout_error(self.corpus, root, f"every clip of the {group} in {CLIP_FOLDER}/",
                                   "MIR-1K/Wavfile/<singer>_<song>_<clip>.wav for all 19 singers", SECTION)  # fmt: skip
        return folder

    @staticmethod
    def clips(folder: Path) -> list[Path]:
        """Every clip in ``<folder>/Wavfile``, sorted."""
        clips = subdir(folder, CLIP_FOLDER)
        return sorted(p for p in clips.iterdir() if p.is_file() and p.suffix.lower() == ".wav") if clips.is_dir() else []

    def planned_clips(self, root: Path, max_clips: dict[str, int] | None) -> dict[str, list[Path]]:
        """Clips per split; capped (fast mode) to the first ones in hash order."""
        plan = split_clips(self.clips(self.locate(root)))
        if max_clips is None:
            return plan
        capped = {split: set(hash_order(c.name for c in clips)[: max_clips[split]]) for split, clips in plan.items()}
        return {split: [c for c in clips if c.name in capped[split]] for split, clips in plan.items()}

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        root = self.require_root(root)
        return [relative_id(clip, root) for clip in self.planned_clips(root, None)[split]]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = self.require_root(request.root)
        settings = request.settings
        plan = self.planned_clips(root, settings["max_clips"])
        for split in self.splits:
            units = [(relative_id(clip, root), (str(clip),)) for clip in plan[split]]
            streams, index, empty = self.decode_split(request, writer, split, units, decode_clip)
            add_recording_split(
                writer, split, request, streams, index, recordings_of="voice",
                items_per_recording=settings["items_per_clip"].get(split),
            )  # fmt: skip
            writer.note(f"empty_clips_skipped_{split}", empty)
        writer.note("clip_counts", {split: len(clips) for split, clips in plan.items()})
        writer.note("channels", {"accompaniment": "left", "voice": "right"})
        writer.note("split_rule", "abjones+amy: train, first ninth in hash order valid; the other singers: test")
