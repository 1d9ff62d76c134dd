"""MUSDB18: vocals against accompaniment (drums + bass + other).

Reads MUSDB18-HQ (``train|test/<track>/<stem>.wav``; also the compressed set
decoded by ``musdbconvert``) or, with ``ffmpeg`` on ``PATH``, the compressed
``train|test/<track>.stem.mp4``. The musdb package's 14 validation tracks are
``valid``; stems are averaged to mono at 16 kHz; items are 4 s inside a track,
at most 4 per valid and 10 per test track.
data/README.md, section "MUSDB18", has the corpus, its layout and our choices.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.data.builder import BuildRequest, DatasetWriter
from vaesep.data.corpora.base import (
    CorpusBuilder,
    CorpusLayoutError,
    Decoded,
    add_recording_split,
    child,
    file_error,
    find_corpus_dir,
    layout_error,
    read_corpus_audio,
    readme_pointer,
    relative_id,
    subdir,
    to_mono_16k,
)  # fmt: skip
from vaesep.data.splits import hash_order

SECTION = "MUSDB18"
STEMS = ("vocals", "drums", "bass", "other")
ACCOMPANIMENT_STEMS = ("drums", "bass", "other")
STEM_STREAMS = {"mixture": 0, "drums": 1, "bass": 2, "other": 3, "vocals": 4}
"""Audio stream of each stem inside a ``.stem.mp4`` file (the musdb package's ``stem_ids``)."""
STEMS_SUFFIX = ".stem.mp4"
STEMS_RATE = 44100
VALIDATION_TRACKS = (
    "Actions - One Minute Smile", "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies", "Patrick Talbot - A Reason To Leave", "Triviul - Angelsaint",
    "Alexander Ross - Goodbye Bolero", "Fergessen - Nos Palpitants", "Leaf - Summerghost",
    "Skelpolu - Human Mistakes", "Young Griffo - Pennies", "ANiMAL - Rockshow",
    "James May - On The Line", "Meaxic - Take A Step", "Traffic Experiment - Sirens",
)  # fmt: skip
"""The ``validation_tracks`` of the musdb package (``musdb/configs/mus.yaml``)."""


def track_name(path: Path) -> str:
    """``train/ANiMAL - Rockshow`` or ``….stem.mp4`` → ``ANiMAL - Rockshow``."""
    return path.name[: -len(STEMS_SUFFIX)] if path.name.endswith(STEMS_SUFFIX) else path.name


def split_tracks(split_dir: Path, layout: str) -> list[Path]:
    """Track folders (``"wav"`` layout) or ``.stem.mp4`` files (``"stems"``) of a split folder, sorted."""
    if not split_dir.is_dir():
        return []
    if layout == "wav":
        return sorted(p for p in split_dir.iterdir() if p.is_dir())
    return sorted(p for p in split_dir.iterdir() if p.name.endswith(STEMS_SUFFIX))


def _stem_16k(path: Path) -> np.ndarray:
    samples, rate = read_corpus_audio(path, SECTION)
    return to_mono_16k(samples, rate)


def decode_wav_track(track_dir: str) -> Decoded:
    """One HQ track folder → ``{"vocals", "accompaniment"}`` at 16 kHz mono; stems are read one
    at a time, so a worker holds about one stereo 44.1 kHz stem (~85 MB for four minutes)."""
    folder = Path(track_dir)
    vocals = _stem_16k(folder / "vocals.wav")
    accompaniment = np.zeros_like(vocals)
    for stem in ACCOMPANIMENT_STEMS:
        audio = _stem_16k(folder / f"{stem}.wav")
        if audio.shape != vocals.shape:
            raise file_error(
                folder / f"{stem}.wav", f"{audio.shape[0]} samples at 16 kHz where vocals.wav has "
                f"{vocals.shape[0]}; the stems of a track must have one length", SECTION,
            )  # fmt: skip
        accompaniment += audio
    return {"vocals": vocals, "accompaniment": accompaniment}, 0


def decode_stems_file(path: str, ffmpeg: str) -> Decoded:
    """One ``.stem.mp4`` → ``{"vocals", "accompaniment"}`` through ``ffmpeg``, each stem as
    stereo float at its own rate, then averaged and resampled exactly like the WAV stems."""
    stems = {}
    for stem in STEMS:
        command = [
            ffmpeg, "-nostdin", "-v", "error", "-i", path, "-map", f"0:a:{STEM_STREAMS[stem]}",
            "-ac", "2", "-ar", str(STEMS_RATE), "-f", "f32le", "-",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, check=False)
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise file_error(path, f"ffmpeg could not decode stem stream {STEM_STREAMS[stem]}: {message}", SECTION)
        samples = np.frombuffer(result.stdout, dtype="<f4")
        if samples.size == 0 or samples.size % 2:
            raise file_error(path, f"ffmpeg returned no audio for stem stream {STEM_STREAMS[stem]}", SECTION)
        stems[stem] = to_mono_16k(samples.reshape(-1, 2), STEMS_RATE)
    lengths = {stem: audio.shape[0] for stem, audio in stems.items()}
    if len(set(lengths.values())) != 1:
        raise file_error(path, f"its stems decode to different lengths {lengths}", SECTION)
    accompaniment = sum(stems[stem] for stem in ACCOMPANIMENT_STEMS)
    return {"vocals": stems["vocals"], "accompaniment": accompaniment}, 0


class MUSDB18Builder(CorpusBuilder):
    """Builds ``data.build("musdb18", root=...)`` (see the module docstring)."""

    version = "1"
    corpus = "musdb18"
    readme_section = SECTION
    source_names = ("vocals", "accompaniment")
    splits = ("train", "valid", "test")

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "validation_tracks": list(VALIDATION_TRACKS),
            "items_per_track": {"valid": 2, "test": 2} if fast else {"valid": 4, "test": 10},
            "max_tracks": {"train": 4, "valid": 1, "test": 3} if fast else None,
        }

    def locate(self, root: Path) -> Path:
        """The folder with ``train/`` and ``test/``: ``root`` or a ``musdb18hq``/``musdb18`` sub-folder."""
        folder = find_corpus_dir(
            root, lambda f: all(child(f, name) is not None for name in ("train", "test")),
            ("musdb18hq", "MUSDB18-HQ", "musdb18", "MUSDB18"),
        )  # fmt: skip
        if folder is None:
            missing = next(name for name in ("train", "test") if child(root, name) is None)
            raise layout_error(
                self.corpus, root, f"{missing}/", "train/<track>/{mixture,vocals,drums,bass,other}.wav and "
                "test/<track>/… (MUSDB18-HQ), or train/<track>.stem.mp4 (compressed MUSDB18)", SECTION,
            )  # fmt: skip
        self.tracks(folder, root)  # raises for incomplete tracks or a missing decoder
        return folder

    def layout(self, folder: Path) -> str:
        """``"wav"`` for the HQ/decoded layout, ``"stems"`` for ``.stem.mp4`` files."""
        split_dirs = [subdir(folder, name) for name in ("train", "test")]
        if any(split_tracks(d, "wav") for d in split_dirs):
            return "wav"
        return "stems" if any(split_tracks(d, "stems") for d in split_dirs) else "wav"

    def tracks(self, folder: Path, root: Path) -> dict[str, list[Path]]:
        """Tracks per musdb folder (``train``, ``test``), checked to be complete and decodable."""
        layout, found = self.layout(folder), {}
        for name in ("train", "test"):
            split_dir = subdir(folder, name)
            found[name] = split_tracks(split_dir, layout)
            if not found[name]:
                raise layout_error(
                    self.corpus, root, f"any track in {relative_id(split_dir, root)}/",
                    f"{name}/<track>/vocals.wav … (MUSDB18-HQ) or {name}/<track>.stem.mp4", SECTION,
                )  # fmt: skip
            missing = [t / f"{s}.wav" for t in found[name] for s in STEMS if child(t, f"{s}.wav") is None]
            if layout == "wav" and missing:
                raise layout_error(self.corpus, root, relative_id(missing[0], root),
                                   f"{name}/<track>/{{mixture,vocals,drums,bass,other}}.wav", SECTION)  # fmt: skip
        if layout == "stems":
            self.ffmpeg()
        return found

    def ffmpeg(self) -> str:
        """The ``ffmpeg`` program that decodes ``.stem.mp4`` files, or the error saying what to do."""
        location = shutil.which("ffmpeg")
        if location is None:
            raise CorpusLayoutError(
                "The compressed MUSDB18 (.stem.mp4) needs ffmpeg to decode, and ffmpeg is not on "
                "PATH. Install it (sudo apt-get install -y ffmpeg), or convert the stems to WAV "
                "once with the musdb package (pip install musdb; musdbconvert <root> <wav root>) "
                f"and pass the WAV root, or use MUSDB18-HQ; {readme_pointer(SECTION)}"
            )
        return location

    def planned_tracks(self, root: Path, max_tracks: dict[str, int] | None) -> dict[str, list[Path]]:
        """Tracks per split (train / valid / test); capped (fast mode) to the first in hash order."""
        found = self.tracks(self.locate(root), root)
        plan = {
            "train": [t for t in found["train"] if track_name(t) not in VALIDATION_TRACKS],
            "valid": [t for t in found["train"] if track_name(t) in VALIDATION_TRACKS],
            "test": found["test"],
        }
        if not plan["valid"]:
            raise layout_error(self.corpus, root, "the 14 musdb validation tracks in train/",
                               "train/Actions - One Minute Smile/… (the full 100 training tracks)", SECTION)  # fmt: skip
        if max_tracks is None:
            return plan
        capped = {split: set(hash_order(t.name for t in tracks)[: max_tracks[split]]) for split, tracks in plan.items()}
        return {split: [t for t in tracks if t.name in capped[split]] for split, tracks in plan.items()}

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        root = self.require_root(root)
        return [relative_id(track, root) for track in self.planned_tracks(root, None)[split]]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = self.require_root(request.root)
        settings = request.settings
        plan = self.planned_tracks(root, settings["max_tracks"])
        layout = self.layout(self.locate(root))
        for split in self.splits:
            if layout == "wav":
                function, extra = decode_wav_track, ()
            else:
                function, extra = decode_stems_file, (self.ffmpeg(),)
            units = [(relative_id(track, root), (str(track), *extra)) for track in plan[split]]
            streams, index, _ = self.decode_split(request, writer, split, units, function)
            add_recording_split(
                writer, split, request, streams, index, recordings_of="vocals",
                items_per_recording=settings["items_per_track"].get(split),
            )  # fmt: skip
        writer.note("layout", "MUSDB18-HQ / decoded WAV" if layout == "wav" else "stems via ffmpeg")
        writer.note("track_counts", {split: len(tracks) for split, tracks in plan.items()})
        writer.note("accompaniment", "drums + bass + other")
