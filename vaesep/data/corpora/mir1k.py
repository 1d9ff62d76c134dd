"""MIR-1K: singing voice vs accompaniment, with the split of the DRNN papers.

MIR-1K (Hsu and Jang, 2010) holds 1000 clips of 4–13 s cut from 110
karaoke recordings of Chinese pop songs, sung by 19 amateurs (8 women, 11
men), 133 minutes in all. ``MIR-1K/Wavfile/<singer>_<song>_<clip>.wav`` is
16 kHz stereo with the accompaniment on the left channel and the voice on
the right, so the two sources are exact.

As in Huang et al. (2014, 2015):

* the 175 clips of the singers ``abjones`` and ``amy`` are for training and
  validation, the other 825 clips of 17 singers for test (unseen singers);
* the voice and the accompaniment are mixed at 0 dB (``snr_db`` is the
  voice-to-accompaniment ratio; ``voice`` is the target, listed first).

Our choices: validation is the first ninth of the 175 clips in hash order
(20 clips, :func:`vaesep.data.splits.hash_order`; same songs as training, it
only steers early stopping). Evaluation items are 4 s segments cut inside
each clip (every audible one; :mod:`vaesep.data.corpora.items`), so a
clip contributes one to three items where the papers score whole clips;
GNSDR over items weights by length just as GNSDR over clips does, but the
numbers are not the papers' to the decimal. Training mixes freshly drawn
voice and accompaniment segments (dynamic mixing), which plays the role of
Huang et al.'s circular shifts of the voice against the accompaniment.

data/README.md, section "MIR-1K".
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from vaesep.audio import SAMPLE_RATE
from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.base import CorpusBuilder
from vaesep.data.corpora.errors import file_error, layout_error
from vaesep.data.corpora.items import add_recording_split
from vaesep.data.corpora.layout import (
    child,
    files_with_suffix,
    find_corpus_dir,
    relative_id,
    require_root,
)
from vaesep.data.corpora.reading import DecodedUnit, read_corpus_audio, to_mono_16k
from vaesep.data.corpora.streaming import Unit, publish_all, require_audio
from vaesep.data.registry import BuildRequest
from vaesep.data.splits import hash_order

SECTION = "MIR-1K"
CLIP_FOLDER = "Wavfile"
TRAINING_SINGERS = ("abjones", "amy")
"""The two singers whose 175 clips Huang et al. train on."""
VALID_SHARE = 1.0 / 9.0
ACCOMPANIMENT_CHANNEL, VOICE_CHANNEL = 0, 1


def singer_of(clip: Path) -> str:
    """``abjones_1_01.wav`` → ``abjones`` (lower case: the corpus spells some ``Ani``, ``Kenshin``).

    data/README.md, section "MIR-1K".
    """
    return clip.stem.rsplit("_", 2)[0].lower()


def split_clips(clips: list[Path]) -> dict[str, list[Path]]:
    """Assign every clip to train / valid / test (see the module docstring), each sorted.

    data/README.md, section "MIR-1K".
    """
    training = [c for c in clips if singer_of(c) in TRAINING_SINGERS]
    by_name = {clip.name: clip for clip in training}
    n_valid = math.ceil(len(training) * VALID_SHARE)
    valid = set(hash_order(by_name)[:n_valid])
    return {
        "train": sorted(c for c in training if c.name not in valid),
        "valid": sorted(c for c in training if c.name in valid),
        "test": sorted(c for c in clips if singer_of(c) not in TRAINING_SINGERS),
    }


def decode_clip(path: str) -> DecodedUnit:
    """One stereo clip → ``{"voice": right, "accompaniment": left}``, 16 kHz (a process-pool job).

    data/README.md, section "MIR-1K".
    """
    samples, rate = read_corpus_audio(Path(path), SECTION)
    if samples.shape[1] != 2:
        raise file_error(
            path,
            f"expected 2 channels (accompaniment left, voice right), found {samples.shape[1]}",
            SECTION,
        )
    return DecodedUnit(
        {
            "voice": to_mono_16k(samples[:, VOICE_CHANNEL : VOICE_CHANNEL + 1], rate),
            "accompaniment": to_mono_16k(
                samples[:, ACCOMPANIMENT_CHANNEL : ACCOMPANIMENT_CHANNEL + 1], rate
            ),
        },
        0,
    )


class MIR1KBuilder(CorpusBuilder):
    """Builds ``data.build("mir1k", root=...)`` (see the module docstring).

    data/README.md, section "MIR-1K".
    """

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
        """The ``MIR-1K`` folder: ``root`` itself or ``root/MIR-1K``; it must hold ``Wavfile/``."""

        def has_clips(folder: Path) -> bool:
            found = child(folder, CLIP_FOLDER)
            return found is not None and bool(files_with_suffix(found, [".wav"]))

        folder = find_corpus_dir(root, has_clips, ("MIR-1K",))
        if folder is None:
            raise layout_error(
                self.corpus,
                root,
                f"{CLIP_FOLDER}/ with the clips",
                "MIR-1K/Wavfile/abjones_1_01.wav … (1000 stereo clips)",
                SECTION,
            )
        clips = self.clips(folder)
        for group, present in (
            ("training singers abjones/amy", any(singer_of(c) in TRAINING_SINGERS for c in clips)),
            ("test singers", any(singer_of(c) not in TRAINING_SINGERS for c in clips)),
        ):
            if not present:
                raise layout_error(
                    self.corpus,
                    root,
                    f"every clip of the {group} in {CLIP_FOLDER}/",
                    "MIR-1K/Wavfile/<singer>_<song>_<clip>.wav for all 19 singers",
                    SECTION,
                )
        return folder

    @staticmethod
    def clips(folder: Path) -> list[Path]:
        """Every clip in ``<folder>/Wavfile``, sorted."""
        return files_with_suffix(child(folder, CLIP_FOLDER) or folder / CLIP_FOLDER, [".wav"])

    def planned_clips(self, root: Path, max_clips: dict[str, int] | None) -> dict[str, list[Path]]:
        """Clips per split; capped (fast mode) to the first ones in hash order."""
        plan = split_clips(self.clips(self.locate(root)))
        if max_clips is None:
            return plan
        capped = {}
        for split, clips in plan.items():
            by_name = {clip.name: clip for clip in clips}
            capped[split] = sorted(by_name[n] for n in hash_order(by_name)[: max_clips[split]])
        return capped

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        root = require_root(self.corpus, root, SECTION)
        return [
            relative_id(clip, root) for clip in split_clips(self.clips(self.locate(root)))[split]
        ]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = require_root(self.corpus, request.root, SECTION)
        settings = request.settings
        plan = self.planned_clips(root, settings["max_clips"])
        segment_samples = int(round(settings["segment_seconds"] * SAMPLE_RATE))
        for split in self.splits:
            units = [Unit(relative_id(clip, root), (str(clip),)) for clip in plan[split]]
            files = self.decode_run(request, writer, split, units, decode_clip)
            require_audio(files, self.corpus, split, SECTION)
            streams, stream_index = publish_all(writer, split, files)
            add_recording_split(
                writer,
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                items_per_recording=settings["items_per_clip"],
                recordings_of="voice",
            )
            writer.note(f"empty_clips_skipped_{split}", files.empty_files)
        writer.note("clip_counts", {split: len(clips) for split, clips in plan.items()})
        writer.note("channels", {"accompaniment": "left", "voice": "right"})
        writer.note(
            "split_rule",
            "abjones+amy: train, first ninth in hash order valid; the other singers: test",
        )
