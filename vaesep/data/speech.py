"""The default data set: two real speakers from the Fish Fillets NG voice packs.

The Debian packages ``fillets-ng-data-nl`` and ``fillets-ng-data-cs`` hold
studio voice acting for the two fish of the game: speaker code ``v`` (the big
fish, a male voice around 135 Hz) and ``m`` (the small fish, a higher voice
around 215–290 Hz), about 40 minutes each per language, as 22.05 kHz stereo
OGG files ``<level>/<lang>/<line>-<speaker>[-<word>].ogg``.

* Dutch (``nl``) is split by utterance file into train/valid/test (80/10/10)
  by a hash of the relative path: independent of the seed, so the test set
  never changes.
* Czech (``cs``, other actors) is the speaker-independent test set
  ``test_cs``. It never enters train or valid; :func:`check_czech_held_out`
  enforces that on every build.
* Each utterance is decoded to 16 kHz mono, its leading and trailing silence
  is trimmed (``librosa.effects.trim``, ``top_db`` = 40: frames more than
  40 dB below the utterance's loudest frame), and the utterances of each
  speaker are concatenated in file order into one stream per split.
* Evaluation items are 4 s long (see
  :func:`vaesep.data.mixing.cut_evaluation_items`). ``test_cs`` is capped at
  100 items; to keep the build short only the Czech files those items need
  are decoded: a deterministic subset, the first files in hash order
  (:func:`vaesep.data.splits.hash_order`) whose trimmed audio covers the
  items plus a 15 % margin for skipped silent segments.

Notebook 01, section "The speech data".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import soundfile as sf

from vaesep.audio import SAMPLE_RATE
from vaesep.data.cache import DatasetWriter
from vaesep.data.decode import TrimmedAudio, decode_many
from vaesep.data.mixing import concatenate_pieces
from vaesep.data.registry import BuildRequest, DatasetBuilder
from vaesep.data.splits import assign_split, hash_order
from vaesep.data.system import missing_data_error

FILLETS_SOUND_ROOT = Path("/usr/share/games/fillets-ng/sound")
LANGUAGE_PACKAGES: dict[str, str] = {"nl": "fillets-ng-data-nl", "cs": "fillets-ng-data-cs"}
SPEAKERS: tuple[str, ...] = ("v", "m")
TRAINING_LANGUAGE = "nl"
HELD_OUT_LANGUAGE = "cs"
HELD_OUT_SPLIT = "test_cs"
TRIM_TOP_DB = 40.0
DECODE_MARGIN = 1.15
"""Decode 15 % more audio than capped items need: silent segments are skipped."""
TRIMMED_FRACTION_GUESS = 0.8
"""Rough share of a file left after trimming, used only to size the first decoding batch."""

Plan = dict[str, dict[str, list[str]]]
"""split → speaker → relative paths (sorted)."""


def speaker_of(path: str | Path) -> str:
    """The speaker code: the second dash-separated field of the file stem (``let-m-divna`` → ``m``)."""
    fields = Path(path).stem.split("-")
    return fields[1] if len(fields) > 1 else ""


def language_of(relative_path: str) -> str:
    """The language directory of ``<level>/<lang>/<file>.ogg``."""
    return Path(relative_path).parts[-2]


def split_plan(root: Path) -> Plan:
    """Assign every ``v``/``m`` utterance under ``root`` to its split.

    Returns:
        ``{"train"|"valid"|"test"|"test_cs": {"v": [...], "m": [...]}}`` of
        paths relative to ``root``, sorted.
    """
    plan: Plan = {split: {speaker: [] for speaker in SPEAKERS} for split in SpeechBuilder.splits}
    for language in (TRAINING_LANGUAGE, HELD_OUT_LANGUAGE):
        for path in sorted(root.glob(f"*/{language}/*.ogg")):
            speaker = speaker_of(path)
            if speaker not in SPEAKERS:
                continue  # sound effects and the few lines of other characters
            relative = path.relative_to(root).as_posix()
            split = HELD_OUT_SPLIT if language == HELD_OUT_LANGUAGE else assign_split(relative)
            plan[split][speaker].append(relative)
    check_czech_held_out(plan)
    return plan


def check_czech_held_out(plan: Mapping[str, Mapping[str, list[str]]]) -> None:
    """Raise if a Czech file is in train/valid or a Dutch one in ``test_cs``.

    A plain ``if``/``raise`` rather than ``assert``: it must hold even under ``python -O``.
    """
    for split, speakers in plan.items():
        expected = HELD_OUT_LANGUAGE if split == HELD_OUT_SPLIT else TRAINING_LANGUAGE
        for files in speakers.values():
            wrong = [f for f in files if language_of(f) != expected]
            if wrong:
                raise RuntimeError(
                    f"split {split!r} must hold only {expected!r} recordings but has {wrong[:3]}; "
                    "the Czech speakers are the held-out test set and never enter train or valid"
                )


class SpeechBuilder(DatasetBuilder):
    """Builds ``data.build("speech")`` (see the module docstring)."""

    version = "1"
    source_names = SPEAKERS
    splits = ("train", "valid", "test", HELD_OUT_SPLIT)

    def default_root(self) -> Path:
        return FILLETS_SOUND_ROOT

    def settings(self, fast: bool) -> dict[str, Any]:
        if fast:
            return {
                "segment_seconds": 4.0,
                "trim_top_db": TRIM_TOP_DB,
                "train_seconds_per_source": 180.0,
                "max_items": {"valid": 8, "test": 12, HELD_OUT_SPLIT: 12},
            }
        return {
            "segment_seconds": 4.0,
            "trim_top_db": TRIM_TOP_DB,
            "train_seconds_per_source": None,
            "max_items": {"valid": None, "test": None, HELD_OUT_SPLIT: 100},
        }

    def check_system_data(self, root: Path | None) -> None:
        root = root or FILLETS_SOUND_ROOT
        missing = [
            package
            for language, package in LANGUAGE_PACKAGES.items()
            if not any(root.glob(f"*/{language}/*.ogg"))
        ]
        if missing:
            raise missing_data_error("speech", missing, f"not found under {root}")

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        plan = split_plan(root or FILLETS_SOUND_ROOT)
        return sorted(f for files in plan[split].values() for f in files)

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = request.root or FILLETS_SOUND_ROOT
        settings = request.settings
        plan = split_plan(root)
        segment_samples = int(round(settings["segment_seconds"] * SAMPLE_RATE))
        needed = {"train": settings["train_seconds_per_source"]}
        for split, cap in settings["max_items"].items():
            needed[split] = (
                None if cap is None else cap * settings["segment_seconds"] * DECODE_MARGIN
            )
        decoded = _decode_plan(root, plan, needed, settings["trim_top_db"], request.progress)
        for split in self.splits:
            streams, stream_index = {}, {}
            for speaker in SPEAKERS:
                pieces = [
                    (f, decoded[f].audio, decoded[f].file_offset)
                    for f in decoded_files(plan[split][speaker], decoded, needed[split])
                ]
                streams[speaker], stream_index[speaker] = concatenate_pieces(pieces)
            writer.add_split_with_items(
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                max_items=settings["max_items"],
            )
        writer.note(
            "languages",
            {
                "train": TRAINING_LANGUAGE,
                "valid": TRAINING_LANGUAGE,
                "test": TRAINING_LANGUAGE,
                HELD_OUT_SPLIT: HELD_OUT_LANGUAGE,
            },
        )
        writer.note(
            "empty_files_skipped", sorted(f for f, d in decoded.items() if d.audio.size == 0)
        )
        writer.note("split_rule", "Dutch: sha1 of the relative path, 80/10/10; Czech: test_cs only")


def decoded_files(
    files: list[str], decoded: Mapping[str, TrimmedAudio], needed_seconds: float | None
) -> list[str]:
    """The files a stream is made of, in file (path) order.

    Uncapped: all of ``files``. Capped: the shortest prefix of ``files`` in
    hash order whose trimmed audio reaches ``needed_seconds`` (or all of
    them if they fall short), so the choice does not depend on how many
    files happened to be decoded. Empty recordings are left out.
    """
    if needed_seconds is None:
        return sorted(f for f in files if decoded[f].audio.size > 0)
    chosen, total = [], 0.0
    for relative in hash_order(files):
        if total >= needed_seconds:
            break
        if decoded[relative].audio.size > 0:
            chosen.append(relative)
            total += decoded[relative].audio.shape[0] / SAMPLE_RATE
    return sorted(chosen)


def _decode_plan(
    root: Path, plan: Plan, needed: Mapping[str, float | None], top_db: float, progress: bool
) -> dict[str, TrimmedAudio]:
    """Decode every file the streams need, in as few parallel batches as possible.

    Returns:
        relative path → trimmed audio, for (at least) the files the build uses.
    """
    decoded: dict[str, TrimmedAudio] = {}

    def shortfall(files: list[str], seconds: float) -> list[str]:
        # next files in hash order to decode for a capped group, sized from file headers
        have = sum(decoded[f].audio.shape[0] for f in files if f in decoded) / SAMPLE_RATE
        if have >= seconds or all(f in decoded for f in files):
            return []
        wanted, estimate = [], have
        for relative in hash_order(files):
            if relative in decoded:
                continue
            if estimate >= seconds:
                break
            wanted.append(relative)
            estimate += sf.info(str(root / relative)).duration * TRIMMED_FRACTION_GUESS
        return wanted

    batch = [
        f
        for split, speakers in plan.items()
        if needed[split] is None
        for files in speakers.values()
        for f in files
    ]
    while True:
        batch += [
            f
            for split, speakers in plan.items()
            if needed[split] is not None
            for files in speakers.values()
            for f in shortfall(files, needed[split])
        ]
        if not batch:
            return decoded
        results = decode_many(
            [root / f for f in batch],
            top_db=top_db,
            progress=progress,
            desc=f"decoding {len(batch)} utterances",
        )
        decoded.update(zip(batch, results, strict=True))
        batch = []
