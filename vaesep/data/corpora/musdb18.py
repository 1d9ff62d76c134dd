"""MUSDB18: vocals vs accompaniment (the sum of drums, bass and other).

MUSDB18 (Rafii et al., 2017) holds 150 full-length music tracks (about 10
hours), 100 for training and 50 for test, each with four stems: ``vocals``,
``drums``, ``bass``, ``other``, and their ``mixture``. Two editions:

* MUSDB18-HQ, uncompressed: ``train|test/<track>/{mixture,vocals,drums,bass,other}.wav``,
  44.1 kHz stereo. The compressed edition decoded with the ``musdb``
  package's ``musdbconvert`` has the same layout.
* MUSDB18, compressed: ``train|test/<track>.stem.mp4`` (Native Instruments
  stems: stream 0 mixture, 1 drums, 2 bass, 3 other, 4 vocals, AAC). We
  decode these only when ``ffmpeg`` is on ``PATH``; otherwise the error says
  how to convert them.

Splits follow the ``musdb`` package: its 14 ``validation_tracks`` of the
training folder are ``valid``, the other 86 ``train``, the 50 test tracks
``test``. Each stem is averaged to mono and resampled to 16 kHz (soxr); the
accompaniment is the sum of drums, bass and other (the mixture file is not
read: the mixture is the sum of the stems by construction). Evaluation items
are 4 s inside one track where both vocals and accompaniment are audible,
at most 4 per valid and 10 per test track (seeded), mixed at ``snr_db``
(vocals over accompaniment, 0 dB by default, unlike the natural mix).

data/README.md, section "MUSDB18".
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.base import CorpusBuilder
from vaesep.data.corpora.errors import CorpusLayoutError, file_error, layout_error, readme_pointer
from vaesep.data.corpora.items import add_recording_split
from vaesep.data.corpora.layout import child, find_corpus_dir, relative_id, require_root
from vaesep.data.corpora.reading import DecodedUnit, read_corpus_audio, to_mono_16k
from vaesep.data.corpora.streaming import Unit, publish_all, require_audio
from vaesep.data.registry import BuildRequest
from vaesep.data.splits import hash_order

SECTION = "MUSDB18"
STEMS = ("vocals", "drums", "bass", "other")
ACCOMPANIMENT_STEMS = ("drums", "bass", "other")
STEM_STREAMS = {"mixture": 0, "drums": 1, "bass": 2, "other": 3, "vocals": 4}
"""Audio stream of each stem inside a ``.stem.mp4`` file (the musdb package's ``stem_ids``)."""
STEMS_SUFFIX = ".stem.mp4"
STEMS_RATE = 44100
VALIDATION_TRACKS = (
    "Actions - One Minute Smile",
    "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies",
    "Patrick Talbot - A Reason To Leave",
    "Triviul - Angelsaint",
    "Alexander Ross - Goodbye Bolero",
    "Fergessen - Nos Palpitants",
    "Leaf - Summerghost",
    "Skelpolu - Human Mistakes",
    "Young Griffo - Pennies",
    "ANiMAL - Rockshow",
    "James May - On The Line",
    "Meaxic - Take A Step",
    "Traffic Experiment - Sirens",
)
"""The ``validation_tracks`` of the musdb package (``musdb/configs/mus.yaml``)."""


def track_name(path: Path) -> str:
    """``train/ANiMAL - Rockshow`` or ``train/ANiMAL - Rockshow.stem.mp4`` → ``ANiMAL - Rockshow``.

    data/README.md, section "MUSDB18".
    """
    return path.name[: -len(STEMS_SUFFIX)] if path.name.endswith(STEMS_SUFFIX) else path.name


def wav_tracks(split_dir: Path) -> list[Path]:
    """Track folders of one split folder (HQ/decoded layout), sorted.

    data/README.md, section "MUSDB18".
    """
    return sorted(p for p in split_dir.iterdir() if p.is_dir()) if split_dir.is_dir() else []


def stem_files(split_dir: Path) -> list[Path]:
    """``.stem.mp4`` files of one split folder (compressed layout), sorted.

    data/README.md, section "MUSDB18".
    """
    if not split_dir.is_dir():
        return []
    return sorted(p for p in split_dir.iterdir() if p.name.endswith(STEMS_SUFFIX))


def decode_wav_track(track_dir: str) -> DecodedUnit:
    """One HQ track folder → ``{"vocals", "accompaniment"}`` at 16 kHz mono (a process-pool job).

    Stems are read one at a time, so a worker holds about one stereo
    44.1 kHz stem (~85 MB for four minutes) plus the 16 kHz results.

    data/README.md, section "MUSDB18".
    """
    folder = Path(track_dir)
    vocals = _stem_16k(folder / "vocals.wav")
    accompaniment = np.zeros_like(vocals)
    for stem in ACCOMPANIMENT_STEMS:
        audio = _stem_16k(folder / f"{stem}.wav")
        if audio.shape != vocals.shape:
            raise file_error(
                folder / f"{stem}.wav",
                f"{audio.shape[0]} samples at 16 kHz where vocals.wav has {vocals.shape[0]}; "
                "the stems of a track must have one length",
                SECTION,
            )
        accompaniment += audio
    return DecodedUnit({"vocals": vocals, "accompaniment": accompaniment}, 0)


def _stem_16k(path: Path) -> np.ndarray:
    samples, rate = read_corpus_audio(path, SECTION)
    return to_mono_16k(samples, rate)


def decode_stems_file(path: str, ffmpeg: str) -> DecodedUnit:
    """One ``.stem.mp4`` → ``{"vocals", "accompaniment"}`` via ``ffmpeg`` (a process-pool job).

    data/README.md, section "MUSDB18".
    """
    stems = {stem: _ffmpeg_stem(Path(path), ffmpeg, STEM_STREAMS[stem]) for stem in STEMS}
    lengths = {stem: audio.shape[0] for stem, audio in stems.items()}
    if len(set(lengths.values())) != 1:
        raise file_error(path, f"its stems decode to different lengths {lengths}", SECTION)
    accompaniment = sum(stems[stem] for stem in ACCOMPANIMENT_STEMS)
    return DecodedUnit({"vocals": stems["vocals"], "accompaniment": accompaniment}, 0)


def _ffmpeg_stem(path: Path, ffmpeg: str, stream: int) -> np.ndarray:
    # stereo float at the native rate, averaged and resampled here exactly like the WAV stems
    command = [
        ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", f"0:a:{stream}",
        "-ac", "2", "-ar", str(STEMS_RATE), "-f", "f32le", "-",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise file_error(
            path, f"ffmpeg could not decode stem stream {stream}: {message[-1:]}", SECTION
        )
    samples = np.frombuffer(result.stdout, dtype="<f4")
    if samples.size == 0 or samples.size % 2:
        raise file_error(path, f"ffmpeg returned no audio for stem stream {stream}", SECTION)
    return to_mono_16k(samples.reshape(-1, 2), STEMS_RATE)


class MUSDB18Builder(CorpusBuilder):
    """Builds ``data.build("musdb18", root=...)`` (see the module docstring).

    data/README.md, section "MUSDB18".
    """

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

        def has_splits(folder: Path) -> bool:
            return all(child(folder, name) is not None for name in ("train", "test"))

        folder = find_corpus_dir(
            root, has_splits, ("musdb18hq", "MUSDB18-HQ", "musdb18", "MUSDB18")
        )
        if folder is None:
            missing = next(name for name in ("train", "test") if child(root, name) is None)
            raise layout_error(
                self.corpus, root, f"{missing}/",
                "train/<track>/{mixture,vocals,drums,bass,other}.wav and test/<track>/… "
                "(MUSDB18-HQ), or train/<track>.stem.mp4 (compressed MUSDB18)", SECTION,
            )  # fmt: skip
        self.tracks(folder, root)  # raises for incomplete tracks or a missing decoder
        return folder

    def layout(self, folder: Path) -> str:
        """``"wav"`` for the HQ/decoded layout, ``"stems"`` for ``.stem.mp4`` files."""
        split_dirs = [child(folder, name) or folder / name for name in ("train", "test")]
        if any(wav_tracks(d) for d in split_dirs):
            return "wav"
        return "stems" if any(stem_files(d) for d in split_dirs) else "wav"

    def tracks(self, folder: Path, root: Path) -> dict[str, list[Path]]:
        """Track folders (or ``.stem.mp4`` files) per musdb folder (``train``, ``test``), checked."""
        layout = self.layout(folder)
        found = {}
        for name in ("train", "test"):
            split_dir = child(folder, name) or folder / name
            tracks = wav_tracks(split_dir) if layout == "wav" else stem_files(split_dir)
            if not tracks:
                raise layout_error(
                    self.corpus, root, f"any track in {relative_id(split_dir, root)}/",
                    f"{name}/<track>/vocals.wav … (MUSDB18-HQ) or {name}/<track>.stem.mp4", SECTION,
                )  # fmt: skip
            if layout == "wav":
                for track in tracks:
                    for stem in STEMS:
                        if child(track, f"{stem}.wav") is None:
                            raise layout_error(
                                self.corpus, root, relative_id(track / f"{stem}.wav", root),
                                f"{name}/<track>/{{mixture,vocals,drums,bass,other}}.wav", SECTION,
                            )  # fmt: skip
            found[name] = tracks
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

    def planned_tracks(
        self, root: Path, max_tracks: dict[str, int] | None
    ) -> dict[str, list[Path]]:
        """Tracks per split (train / valid / test); capped (fast mode) to the first in hash order."""
        found = self.tracks(self.locate(root), root)
        validation = set(VALIDATION_TRACKS)
        plan = {
            "train": [t for t in found["train"] if track_name(t) not in validation],
            "valid": [t for t in found["train"] if track_name(t) in validation],
            "test": found["test"],
        }
        if not plan["valid"]:
            raise layout_error(
                self.corpus, root, "the 14 musdb validation tracks in train/",
                "train/Actions - One Minute Smile/… (the full 100 training tracks)", SECTION,
            )  # fmt: skip
        if max_tracks is None:
            return plan
        capped = {}
        for split, tracks in plan.items():
            by_name = {track.name: track for track in tracks}
            capped[split] = sorted(by_name[n] for n in hash_order(by_name)[: max_tracks[split]])
        return capped

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        root = require_root(self.corpus, root, SECTION)
        return [relative_id(track, root) for track in self.planned_tracks(root, None)[split]]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = require_root(self.corpus, request.root, SECTION)
        settings = request.settings
        plan = self.planned_tracks(root, settings["max_tracks"])
        layout = self.layout(self.locate(root))
        segment_samples = int(round(settings["segment_seconds"] * SAMPLE_RATE))
        for split in self.splits:
            if layout == "wav":
                function, units = (
                    decode_wav_track,
                    [Unit(relative_id(track, root), (str(track),)) for track in plan[split]],
                )
            else:
                ffmpeg = self.ffmpeg()
                function, units = (
                    decode_stems_file,
                    [Unit(relative_id(track, root), (str(track), ffmpeg)) for track in plan[split]],
                )
            files = self.decode_run(request, writer, split, units, function)
            require_audio(files, self.corpus, split, SECTION)
            streams, stream_index = publish_all(writer, split, files)
            add_recording_split(
                writer,
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                items_per_recording=settings["items_per_track"],
                recordings_of="vocals",
            )
        writer.note("layout", "MUSDB18-HQ / decoded WAV" if layout == "wav" else "stems via ffmpeg")
        writer.note("track_counts", {split: len(tracks) for split, tracks in plan.items()})
        writer.note("accompaniment", "drums + bass + other")
