"""The default data set: two real speakers from the Fish Fillets NG voice packs.

``fillets-ng-data-nl`` and ``fillets-ng-data-cs`` hold studio voice acting for the game's two
fish, speaker ``v`` (a male voice around 135 Hz) and ``m`` (around 215–290 Hz), about 40
minutes each per language, as OGG files ``<level>/<lang>/<line>-<speaker>[-<word>].ogg``.
Dutch is split by file into train/valid/test (80/10/10) by a hash of the relative path, so the
test set never changes; Czech (other actors) is only the speaker-independent test set
``test_cs`` (:func:`check_czech_held_out` refuses any other plan). Utterances are decoded to
16 kHz, trimmed of silence 40 dB below their loudest frame and concatenated in file order.
Items are 4 s; a capped split (``test_cs``: 100 items; every split in fast mode) decodes only
the first files in hash order whose trimmed audio covers the items plus 15 %.
Notebook 01, sections "Where the audio comes from" and "Splits that never leak".
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from vaesep.audio import SAMPLE_RATE
from vaesep.data.builder import (
    BuildRequest,
    DatasetBuilder,
    DatasetWriter,
    assign_split,
    first_in_hash_order,
    missing_data_error,
)
from vaesep.data.decode import decode_trimmed, parallel_map
from vaesep.data.mixing import concatenate_pieces

FILLETS_SOUND_ROOT = Path("/usr/share/games/fillets-ng/sound")
LANGUAGE_PACKAGES = {"nl": "fillets-ng-data-nl", "cs": "fillets-ng-data-cs"}
SPEAKERS = ("v", "m")
TRAINING_LANGUAGE, HELD_OUT_LANGUAGE, HELD_OUT_SPLIT = "nl", "cs", "test_cs"
TRIM_TOP_DB = 40.0
DECODE_MARGIN = 1.15  # decode 15 % more audio than capped items need: silent segments are skipped
TRIMMED_FRACTION_GUESS = 0.8  # rough share of a file left after trimming: sizes the first batch

Plan = dict[str, dict[str, list[str]]]  # split → speaker → relative paths, sorted
Decoded = dict[str, tuple[np.ndarray, int]]  # relative path → (trimmed audio, start in the file)


def language_of(relative_path: str) -> str:
    return Path(relative_path).parts[-2]  # the language folder of <level>/<lang>/<file>.ogg


def split_plan(root: Path) -> Plan:
    """Every ``v``/``m`` utterance under ``root``, assigned to its split."""
    plan: Plan = {split: {speaker: [] for speaker in SPEAKERS} for split in SpeechBuilder.splits}
    for language in (TRAINING_LANGUAGE, HELD_OUT_LANGUAGE):
        for path in sorted(root.glob(f"*/{language}/*.ogg")):
            speaker = (path.stem.split("-") + [""])[1]  # let-m-divna → m
            if speaker not in SPEAKERS:
                continue  # sound effects and the few lines of other characters
            relative = path.relative_to(root).as_posix()
            split = HELD_OUT_SPLIT if language == HELD_OUT_LANGUAGE else assign_split(relative)
            plan[split][speaker].append(relative)
    check_czech_held_out(plan)
    return plan


def check_czech_held_out(plan: Mapping[str, Mapping[str, list[str]]]) -> None:
    """RuntimeError if a Czech file is in train/valid or a Dutch one in ``test_cs``
    (an ``if``, not an ``assert``: it must hold under ``python -O`` too)."""
    for split, speakers in plan.items():
        expected = HELD_OUT_LANGUAGE if split == HELD_OUT_SPLIT else TRAINING_LANGUAGE
        for files in speakers.values():
            if wrong := [f for f in files if language_of(f) != expected]:
                raise RuntimeError(
                    f"split {split!r} must hold only {expected!r} recordings but has {wrong[:3]}; "
                    "the Czech speakers are the held-out test set and never enter train or valid"
                )


def decoded_files(files: list[str], decoded: Decoded, needed_seconds: float | None) -> list[str]:
    """The non-empty files a stream is made of, in path order: all of ``files``, or (capped)
    the shortest prefix in hash order whose trimmed audio reaches ``needed_seconds``."""
    if needed_seconds is not None:
        files = first_in_hash_order(files, needed_seconds, 0.0,
                                    lambda f: decoded[f][0].shape[0] / SAMPLE_RATE)  # fmt: skip
    return sorted(f for f in files if decoded[f][0].size > 0)


def decode_plan(root: Path, plan: Plan, needed: Mapping[str, float | None], top_db: float,
                progress: bool | None) -> Decoded:  # fmt: skip
    """Relative path → trimmed audio of every file the streams need, in few parallel batches:
    all of uncapped splits; for capped ones the next in hash order until enough."""
    decoded: Decoded = {}

    def wanted(files: list[str], seconds: float | None) -> list[str]:
        new = [f for f in files if f not in decoded]
        if seconds is None:
            return new
        done = sum(decoded[f][0].shape[0] for f in files if f in decoded) / SAMPLE_RATE
        return first_in_hash_order(
            new, seconds, done, lambda f: sf.info(str(root / f)).duration * TRIMMED_FRACTION_GUESS
        )

    while batch := [f for split, by_speaker in plan.items() for files in by_speaker.values()
                    for f in wanted(files, needed[split])]:  # fmt: skip
        jobs = [(str(root / f), top_db) for f in batch]
        desc = f"decoding {len(batch)} utterances"
        results = parallel_map(decode_trimmed, jobs, progress=progress, desc=desc)
        decoded.update(zip(batch, results, strict=True))
    return decoded


class SpeechBuilder(DatasetBuilder):
    """Builds ``data.build("speech")`` (see the module docstring)."""

    version = "1"
    source_names = SPEAKERS
    splits = ("train", "valid", "test", HELD_OUT_SPLIT)
    default_root = FILLETS_SOUND_ROOT

    def settings(self, fast: bool) -> dict[str, Any]:
        caps = (8, 12, 12) if fast else (None, None, 100)
        return {"segment_seconds": 4.0, "trim_top_db": TRIM_TOP_DB,
                "train_seconds_per_source": 180.0 if fast else None,
                "max_items": dict(zip(self.splits[1:], caps, strict=True))}  # fmt: skip

    def check_system_data(self, root: Path | None) -> None:
        root = root or FILLETS_SOUND_ROOT
        found = {lang: any(root.glob(f"*/{lang}/*.ogg")) for lang in LANGUAGE_PACKAGES}
        if missing := [package for lang, package in LANGUAGE_PACKAGES.items() if not found[lang]]:
            raise missing_data_error("speech", missing, f"not found under {root}")

    def split_files(self, split: str, root: Path | None) -> list[str]:
        by_speaker = split_plan(root or FILLETS_SOUND_ROOT)[split]
        return sorted(f for files in by_speaker.values() for f in files)

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root, settings = request.root or FILLETS_SOUND_ROOT, request.settings
        plan = split_plan(root)
        needed = {"train": settings["train_seconds_per_source"]}
        for split, cap in settings["max_items"].items():
            seconds = None if cap is None else cap * settings["segment_seconds"] * DECODE_MARGIN
            needed[split] = seconds
        decoded = decode_plan(root, plan, needed, settings["trim_top_db"], request.progress)
        for split in self.splits:
            streams, stream_index = {}, {}
            for speaker in SPEAKERS:
                chosen = decoded_files(plan[split][speaker], decoded, needed[split])
                pieces = [(f, *decoded[f]) for f in chosen]
                streams[speaker], stream_index[speaker] = concatenate_pieces(pieces)
            writer.add_split(split, streams=streams, stream_index=stream_index, request=request,
                             max_items=settings["max_items"])  # fmt: skip
        languages = {split: TRAINING_LANGUAGE for split in ("train", "valid", "test")}
        writer.note("languages", {**languages, HELD_OUT_SPLIT: HELD_OUT_LANGUAGE})
        writer.note("empty_files_skipped", sorted(f for f, d in decoded.items() if d[0].size == 0))
        writer.note("split_rule", "Dutch: sha1 of the relative path, 80/10/10; Czech: test_cs only")
