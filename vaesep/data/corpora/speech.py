"""Speech corpora: TSP (two speakers), TIMIT (speech vs noise), LibriSpeech (women vs men).

* TSP: each speaker's utterances, trimmed and concatenated in file-name order; the last
  10 % of that stream is ``test``, the last ninth of the rest ``valid``. Items are 2 s.
* TIMIT, speaker-disjoint: ``TEST`` is test, the first tenth of the ``TRAIN`` speakers in
  hash order valid, without the shared ``SA`` sentences. The noise is the ``noise`` set's
  recordings (:mod:`vaesep.data.noise`) or a folder of your own (``noise_dir=`` or
  ``$VAESEP_NOISE_DIR``) with ``train/``, ``valid/`` and ``test/`` sub-folders.
* LibriSpeech: ``female`` against ``male`` readers (sex from ``SPEAKERS.TXT``).

data/README.md, sections "TSP", "TIMIT" and "LibriSpeech", has each corpus's origin,
layout and our choices.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import vaesep.data.corpora.base as base
import vaesep.data.noise as noise
from vaesep.data.builder import BuildRequest, DatasetWriter, hash_order, missing_data_error
from vaesep.data.mixing import locate

HUANG_PAIRS: tuple[tuple[str, str], ...] = (("FA", "MC"), ("FA", "FB"), ("MC", "MD"))
TSP_RATE_FOLDERS = ("48k", "16k-LP7")  # preferred first: we resample the 48 kHz originals ourselves
TSP_FILE_NAME = re.compile(r"^(?P<speaker>[A-Z]{2})\d{2}_\d{2}\.wav$", re.IGNORECASE)
TEST_FRACTION = 0.1
VALID_SHARE_OF_REST = 1.0 / 9.0
FAST_ITEMS = {"valid": 8, "test": 12}  # evaluation items per split in fast mode


def speaker_files(folder: Path, speaker: str) -> list[Path]:
    """The TSP utterances in ``folder/<speaker>/`` (any case), in file-name order."""
    def spoken_by(path: Path) -> bool:  # the first two letters of a TSP name are the speaker
        return bool(TSP_FILE_NAME.match(path.name)) and path.name[:2].upper() == speaker

    return base.entries(base.child(folder, speaker), spoken_by)


def split_bounds(n_samples: int) -> dict[str, tuple[int, int]]:
    """Sample ranges of train / valid / test in one speaker's stream: 80 / 10 / 10 %."""
    test_start = n_samples - int(round(n_samples * TEST_FRACTION))
    valid_start = test_start - int(round(test_start * VALID_SHARE_OF_REST))
    bounds = (0, valid_start, test_start, n_samples)
    return {split: bounds[i : i + 2] for i, split in enumerate(("train", "valid", "test"))}


class TSPBuilder(base.CorpusBuilder):
    """``data.build("tsp", root=...)`` and the other pairs; ``pair``: two speaker codes."""

    readme_section = "TSP"

    def __init__(self, pair: Sequence[str] = HUANG_PAIRS[0]) -> None:
        speakers = tuple(code.upper() for code in pair)
        if len(speakers) != 2 or speakers[0] == speakers[1]:
            problem = "a TSP pair is two different speaker codes like ('FA', 'MC')"
            raise ValueError(f"{problem}, got {pair!r}")
        self.source_names = speakers
        self.corpus = "tsp" if speakers == HUANG_PAIRS[0] else f"tsp-{'-'.join(speakers)}".lower()

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "pair": list(self.source_names),
            "segment_seconds": 2.0,
            "trim_top_db": base.TRIM_TOP_DB,
            "test_fraction": TEST_FRACTION,
            "valid_share_of_rest": VALID_SHARE_OF_REST,
            "max_items": dict(FAST_ITEMS) if fast else {"valid": None, "test": None},
        }

    def locate(self, root: Path) -> Path:
        """The folder holding the speaker folders: ``root/48k``, ``root/16k-LP7`` or ``root``."""
        rate_folders = (base.child(root, name) for name in TSP_RATE_FOLDERS)
        candidates = [*(folder for folder in rate_folders if folder.exists()), root]
        for candidate in candidates:
            if all(speaker_files(candidate, speaker) for speaker in self.source_names):
                return candidate
        nearest = candidates[0]  # a rate folder if one exists: that is where the speakers belong
        speaker = next(s for s in self.source_names if not speaker_files(nearest, s))
        missing = f"{base.relative_id(nearest / speaker, root)}/ with files like {speaker}01_01.wav"
        expected = (
            f"48k/{speaker}/{speaker}01_01.wav … (or 16k-LP7/…) under the folder you unzipped "
            "48k.zip or 16k-LP7.zip into"
        )
        raise self.layout_error(root, missing, expected)

    def units(self, folder: Path, root: Path, caps: Any) -> dict[str, list[base.Unit]]:
        # every file feeds every split: the splits are stretches of each speaker's stream
        files = [(s, speaker_files(folder, s)) for s in self.source_names]
        return dict.fromkeys(self.splits, [u for s, f in files for u in self.unit_list(root, f, s)])

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        folder = self.locate(request.root)
        units = self.units(folder, request.root, None)["train"]
        whole, index, empty = self.decode_split(request, writer, "all", units)
        for split in self.splits:
            bounds = {s: split_bounds(whole[s].shape[0])[split] for s in self.source_names}
            streams = {s: np.array(whole[s][slice(*bounds[s])]) for s in self.source_names}
            pieces: dict[str, list[dict[str, Any]]] = {}  # each slice's index, offsets re-based
            for speaker, (start, stop) in bounds.items():
                pieces[speaker], position = [], 0
                for found in locate(index[speaker], start, stop - start):
                    pieces[speaker].append({**found, "stream_offset": position})
                    position += found["length"]
            self.write_split(request, writer, split, streams, pieces)
        del whole  # close the memory maps before their files go
        for speaker in self.source_names:
            writer.stream_path("all", speaker).unlink()
        writer.note("recordings", base.relative_id(folder, request.root))
        writer.note("split_rule", "per speaker: last 10% test, last ninth of the rest valid")
        writer.note("empty_files_skipped", empty)


NOISE_DIR_ENV = "VAESEP_NOISE_DIR"
NOISE_SUFFIXES = (".wav", ".flac", ".ogg")
DIALECT_REGION = re.compile(r"^dr[1-8]$", re.IGNORECASE)
SPEAKER_DIR = re.compile(r"^[fm][a-z]{3}\d$", re.IGNORECASE)
VALID_SPEAKER_SHARE = 0.1


def utterance_files(speaker_dir: Path, include_sa: bool) -> list[Path]:
    """One file per utterance of a TIMIT speaker folder, by utterance id; where a copy holds
    both ``SA1.WAV`` and a converted ``SA1.WAV.wav``, the shorter name (the original) wins."""
    chosen: dict[str, Path] = {}
    for path in sorted(speaker_dir.iterdir(), key=lambda p: (len(p.name), p.name)):
        utterance = path.name.split(".", 1)[0].lower()
        wanted = include_sa or not utterance.startswith("sa")
        if path.is_file() and path.name.lower().endswith(".wav") and wanted:
            chosen.setdefault(utterance, path)
    return [chosen[u] for u in sorted(chosen)]


def speaker_dirs(part_dir: Path) -> list[Path]:
    """``DR*/<speaker>`` folders of ``TRAIN`` or ``TEST``, sorted by speaker id."""
    regions = base.entries(part_dir, lambda d: d.is_dir() and bool(DIALECT_REGION.match(d.name)))
    speakers = [s for r in regions for s in r.iterdir() if s.is_dir() and SPEAKER_DIR.match(s.name)]
    return sorted(speakers, key=lambda s: s.name.lower())


class TIMITBuilder(base.CorpusBuilder):
    """Builds ``data.build("timit", root=...)``; ``noise_dir``: your noise recordings (None:
    ``$VAESEP_NOISE_DIR``, else the offline noises); ``include_sa``: keep the shared sentences."""

    corpus = "timit"
    readme_section = "TIMIT"
    source_names = ("speech", "noise")
    decoded_sources = ("speech",)
    primary = "speech"
    markers = ("TRAIN/", "TEST/")
    wrappers = ("TIMIT", "data")
    layout = (
        "TIMIT/TRAIN/DR1/FCJF0/SI1027.WAV … and TIMIT/TEST/DR1/… "
        "(NIST SPHERE, as on the LDC disc)"
    )
    caps_setting = "seconds_per_split"
    count_note = "utterance_counts"
    notes = {"split_rule": "TEST: test; TRAIN speakers: first tenth in hash order valid"}

    def __init__(self, noise_dir: str | os.PathLike | None = None, include_sa: bool = False):
        self.noise_dir = None if noise_dir is None else Path(noise_dir)
        self.include_sa = include_sa

    def noise_plan(self) -> dict[str, Any]:
        """``{"source", "dir", "files": {split: [relative paths]}}``: the recordings of the
        constructor's folder, else ``$VAESEP_NOISE_DIR``, else the offline noises."""
        configured = os.environ.get(NOISE_DIR_ENV, "").strip()
        noise_dir = self.noise_dir or (Path(configured) if configured else None)
        if noise_dir is None:
            files = {split: list(names) for split, names in noise.NOISE_FILES.items()}
            return {"source": noise.PACKAGE, "dir": str(noise.SONIC_PI_SAMPLES), "files": files}
        noise_dir, files = Path(noise_dir).expanduser().absolute(), {}
        for split in ("train", "valid", "test"):
            folder = base.child(noise_dir, split)
            found = folder.rglob("*") if folder.is_dir() else ()
            kept = (p for p in found if p.suffix.lower() in NOISE_SUFFIXES)
            files[split] = sorted(base.relative_id(p, noise_dir) for p in kept)
        return {"source": "folder", "dir": str(noise_dir), "files": files}

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "trim_top_db": base.TRIM_TOP_DB,
            "include_sa": self.include_sa,
            "valid_speaker_share": VALID_SPEAKER_SHARE,
            "noise": self.noise_plan(),
            "seconds_per_split": {"train": 180.0, "valid": 60.0, "test": 80.0} if fast else None,
            "max_items": dict(FAST_ITEMS) if fast else {"valid": 200, "test": 400},
        }

    def units(self, folder: Path, root: Path, caps: Any) -> dict[str, list[base.Unit]]:
        """The utterances per split (``TEST``; ``TRAIN`` speakers: the first tenth in hash
        order valid, the rest train); capped (fast mode) by duration in hash order."""
        by_id = {s.name.lower(): s for s in speaker_dirs(base.child(folder, "TRAIN"))}
        valid = set(hash_order(by_id)[: math.ceil(len(by_id) * VALID_SPEAKER_SHARE)])
        speakers = {
            "train": [by_id[s] for s in sorted(by_id) if s not in valid],
            "valid": [by_id[s] for s in sorted(by_id) if s in valid],
            "test": speaker_dirs(base.child(folder, "TEST")),
        }
        for split, found in speakers.items():
            if not found:
                part = "TEST" if split == "test" else "TRAIN"
                expected = f"{part}/DR1/FCJF0/SI1027.WAV …"
                raise self.layout_error(root, f"speaker folders in {part}/DR1..DR8/", expected)
        return {
            split: self.unit_list(
                root, [p for s in found for p in utterance_files(s, self.include_sa)], "speech",
                seconds=caps and caps[split],
            )  # fmt: skip
            for split, found in speakers.items()
        }

    def check_system_data(self, root: Path | None) -> None:
        """Raise for a wrong corpus folder, offline noises not installed or a noise folder
        with an empty split."""
        super().check_system_data(root)
        plan = self.noise_plan()
        noise_dir, pointer = Path(plan["dir"]), base.readme_pointer(self.readme_section)
        if plan["source"] == noise.PACKAGE:
            files = [f for files in plan["files"].values() for f in files]
            if missing := [f for f in files if not (noise_dir / f).is_file()]:
                raise missing_data_error(
                    "timit",
                    [noise.PACKAGE],
                    f"the offline noises, e.g. {noise_dir / missing[0]}; or point "
                    f"{NOISE_DIR_ENV} at a folder of your own noise recordings",
                )
        elif not noise_dir.is_dir():
            raise base.CorpusLayoutError(
                f"The noise folder {noise_dir} (from {NOISE_DIR_ENV} or noise_dir=) does not "
                f"exist; {pointer}"
            )
        elif empty := [split for split, files in plan["files"].items() if not files]:
            raise base.CorpusLayoutError(
                f"The noise folder {noise_dir} gives no recordings for {empty}: it needs train/, "
                f"valid/ and test/ sub-folders with at least one .wav/.flac/.ogg file each; "
                f"{pointer}"
            )

    def write_split(
        self, request: BuildRequest, writer: DatasetWriter, split: str, streams: dict, index: dict
    ) -> None:
        chosen = request.settings["noise"]
        try:  # a damaged recording is reported by name
            noises = noise.noise_stream(Path(chosen["dir"]), tuple(chosen["files"][split]))
        except (OSError, ValueError) as exc:
            pointer = base.readme_pointer(self.readme_section)
            raise base.CorpusFileError(f"noise recording: {exc}; {pointer}") from None
        streams["noise"], index["noise"] = noises
        super().write_split(request, writer, split, streams, index)
        writer.note("noise", {"source": chosen["source"], "dir": chosen["dir"]})


LIBRISPEECH_SUBSETS = {"train": "train-clean-100", "valid": "dev-clean", "test": "test-clean"}
SPEAKERS_FILE = "SPEAKERS.TXT"
SEX_TO_SOURCE = {"F": "female", "M": "male"}


def read_speaker_sexes(path: Path) -> dict[str, str]:
    """``SPEAKERS.TXT`` → speaker id → ``"F"`` or ``"M"``. Lines are ``ID | SEX | SUBSET |
    MINUTES | NAME`` and names may contain ``|``, so a line is split at most four times."""
    sexes = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        fields = [field.strip() for field in line.split("|", 4)]  # ";" comments fail isdigit
        if len(fields) > 1 and fields[0].isdigit() and fields[1] in SEX_TO_SOURCE:
            sexes[fields[0]] = fields[1]
    return sexes


class LibriSpeechBuilder(base.CorpusBuilder):
    """Builds ``data.build("librispeech", root=...)``; ``subsets``: split → subset folder,
    ``train_hours_per_source``: cap the training audio per sex (None: the whole subset)."""

    corpus = "librispeech"
    readme_section = "LibriSpeech"
    source_names = ("female", "male")
    empty_note = "empty_files_skipped"
    markers = (SPEAKERS_FILE,)
    wrappers = ("LibriSpeech",)
    layout = (
        "LibriSpeech/SPEAKERS.TXT and LibriSpeech/<subset>/<speaker>/<chapter>/*.flac "
        "(every openslr archive unpacks into LibriSpeech/)"
    )
    caps_setting = "hours_per_source"

    def __init__(
        self,
        subsets: Mapping[str, str] = LIBRISPEECH_SUBSETS,
        train_hours_per_source: float | None = None,
    ) -> None:
        if set(subsets) != set(self.splits):
            raise ValueError(f"subsets must map each of {self.splits} to a subset folder")
        self.subsets = dict(subsets)
        self.train_hours_per_source = train_hours_per_source
        self.notes = {
            "subsets": self.subsets,
            "pairing": "female stream vs male stream; readers' sex from SPEAKERS.TXT",
        }

    def settings(self, fast: bool) -> dict[str, Any]:
        hours = {"train": self.train_hours_per_source, "valid": 0.5, "test": 1.0}
        return {
            "subsets": dict(self.subsets),
            "segment_seconds": 4.0,
            "trim_top_db": base.TRIM_TOP_DB,
            "hours_per_source": {"train": 0.05, "valid": 0.02, "test": 0.02} if fast else hours,
            "max_items": dict(FAST_ITEMS) if fast else {"valid": 200, "test": 400},
        }

    def units(self, folder: Path, root: Path, caps: Any) -> dict[str, list[base.Unit]]:
        """Per split, every utterance (``caps`` None) or the first hours per sex in hash
        order; readers missing from SPEAKERS.TXT are left out (their sex is unknown)."""
        for subset in self.subsets.values():
            if not base.child(folder, subset).exists():
                missing = f"{base.relative_id(folder / subset, root)}/"
                layout = f"LibriSpeech/{subset}/<speaker>/<chapter>/*.flac"
                unpack = f"unpack {subset}.tar.gz next to the others"
                raise self.layout_error(root, missing, f"{layout} ({unpack})")
        sexes, plan = read_speaker_sexes(base.child(folder, SPEAKERS_FILE)), {}
        for split, subset in self.subsets.items():
            files: dict[str, list[Path]] = {source: [] for source in self.source_names}
            listed = base.entries(base.child(folder, subset), lambda d: d.name in sexes)
            for reader in (d for d in listed if d.is_dir()):
                files[SEX_TO_SOURCE[sexes[reader.name]]] += reader.glob("*/*.flac")
            if missing := [source for source, found in files.items() if not found]:
                expected = (
                    f"LibriSpeech/{subset}/<speaker>/<chapter>/<speaker>-<chapter>-"
                    "<utterance>.flac, readers listed in SPEAKERS.TXT"
                )
                missing_files = f"any {missing[0]} reader's .flac in {subset}/"
                raise self.layout_error(root, missing_files, expected)
            seconds = caps and caps[split] and caps[split] * 3600.0
            plan[split] = [
                unit for source, found in files.items()
                for unit in self.unit_list(root, found, source, seconds=seconds)
            ]  # fmt: skip
        return plan
