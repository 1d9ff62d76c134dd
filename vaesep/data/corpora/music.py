"""Music corpora: MIR-1K (singing voice, right channel, against the left) and MUSDB18-HQ
(vocals against drums + bass + other).

Both are scored per clip or track, so items (4 s) are cut *inside* each recording
(:class:`MusicCorpusBuilder`). data/README.md, sections "MIR-1K", "MUSDB18" and
"How the corpora are mixed", has the layouts and splits.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

import vaesep.data.corpora.base as base
from vaesep.audio import SAMPLE_RATE, rms
from vaesep.data.builder import BuildRequest, DatasetWriter, hash_order
from vaesep.data.mixing import scale_to_snr, segment_rms, silence_threshold, stream_level


def capped(paths: list[Path], cap: int | None) -> list[Path]:
    """``paths``, or (fast mode) only the first ``cap`` of them in hash order of their names."""
    kept = set(hash_order(p.name for p in paths)[:cap])
    return [p for p in paths if p.name in kept]


class MusicCorpusBuilder(base.CorpusBuilder):
    """A corpus of recordings whose first source is the target. The items of every split but
    ``train`` are cut inside each recording: consecutive segments in which every stem is
    audible, at most ``settings[items_setting][split]`` per recording (seeded by
    ``request.rng("items", split)``), written straight to disk."""

    items_setting = ""

    def units(self, folder: Path, root: Path, caps: Any) -> dict[str, list[base.Unit]]:
        """The recordings per split, capped (fast mode) to the first in hash order of names."""
        plan = self.recordings(folder, root)
        return {s: self.unit_list(root, capped(p, caps and caps[s])) for s, p in plan.items()}

    def recordings(self, folder: Path, root: Path) -> dict[str, list[Path]]:
        """The clip files or track folders of each split, checked to be complete."""
        raise NotImplementedError

    def write_split(
        self, request: BuildRequest, writer: DatasetWriter, split: str, streams: dict, index: dict
    ) -> None:
        if split == "train":
            writer.add_split(split, streams=streams, stream_index=index)
            return
        names, rng = list(streams), request.rng("items", split)
        per_recording = request.settings[self.items_setting].get(split)
        segment = int(round(request.settings["segment_seconds"] * SAMPLE_RATE))
        thresholds = {name: silence_threshold(stream_level(streams[name])) for name in names}
        chosen: list[tuple[int, dict[str, Any]]] = []
        for piece in index[self.source_names[0]]:
            grid = np.arange(int(piece["length"]) // segment, dtype=np.int64) * segment
            offsets = int(piece["stream_offset"]) + grid
            for name in names:
                if offsets.size:
                    loud = segment_rms(streams[name], offsets, segment) >= thresholds[name]
                    offsets = offsets[loud]
            if per_recording is not None and offsets.size > per_recording:
                offsets = np.sort(rng.choice(offsets, size=per_recording, replace=False))
            chosen += [(int(offset), piece) for offset in offsets]
        if not chosen:
            raise ValueError(
                f"no segment of {segment} samples in which every stem is audible; "
                "the split is too short or silent for even one item"
            )
        path, shape = writer.sources_path(split), (len(chosen), len(names), segment)
        sources = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
        items: list[dict[str, Any]] = []
        for position, (offset, piece) in enumerate(chosen):
            segments = np.stack([streams[name][offset : offset + segment] for name in names])
            sources[position] = scale_to_snr(segments, request.snr_db)
            file_offset = int(piece["file_offset"]) + offset - int(piece["stream_offset"])
            where = {"file": piece["file"], "length": segment, "file_offset": file_offset}
            gains = [rms(sources[position, k]) / rms(segments[k]) for k in range(len(names))]
            entries = {
                name: {"stream_offset": offset, "gain": gain, "files": [where]}
                for name, gain in zip(names, gains, strict=True)
            }
            item = {"index": position, "snr_db": float(request.snr_db), "file": piece["file"]}
            items.append({**item, "sources": entries})
        sources.flush()
        del sources
        sources = np.load(path, mmap_mode="r")
        writer.add_split(split, streams=streams, stream_index=index, sources=sources, items=items)


MIR1K_TRAINING_SINGERS = ("abjones", "amy")
MIR1K_VALID_SHARE = 1.0 / 9.0


def singer_of(clip: Path) -> str:
    """``abjones_1_01.wav`` → ``abjones``, lower case (the corpus spells some ``Ani``)."""
    return clip.stem.rsplit("_", 2)[0].lower()


def decode_clip(path: str, section: str) -> base.Decoded:
    """One stereo MIR-1K clip → ``{"voice": right, "accompaniment": left}`` at 16 kHz."""
    samples, rate = base.read_corpus_audio(Path(path), section)
    if samples.shape[1] != 2:
        problem = f"expected 2 channels (accompaniment left, voice right), found {samples.shape[1]}"
        raise base.file_error(path, problem, section)
    voice = base.to_mono_16k(samples[:, 1:2], rate)
    return {"voice": voice, "accompaniment": base.to_mono_16k(samples[:, :1], rate)}, 0


class MIR1KBuilder(MusicCorpusBuilder):
    """Builds ``data.build("mir1k", root=...)`` (see the module docstring)."""

    corpus = "mir1k"
    readme_section = "MIR-1K"
    source_names = ("voice", "accompaniment")
    decoder = staticmethod(decode_clip)
    markers = ("Wavfile/",)
    wrappers = ("MIR-1K",)
    layout = "MIR-1K/Wavfile/abjones_1_01.wav … (1000 stereo clips)"
    caps_setting = "max_clips"
    items_setting = "items_per_clip"
    empty_note = "empty_clips_skipped"
    count_note = "clip_counts"
    notes = {
        "channels": {"accompaniment": "left", "voice": "right"},
        "split_rule": (
            "abjones+amy: train, first ninth in hash order valid; the other singers: test"
        ),
    }

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "training_singers": list(MIR1K_TRAINING_SINGERS),
            "valid_share": MIR1K_VALID_SHARE,
            "items_per_clip": {"valid": 1, "test": 1} if fast else {"valid": None, "test": None},
            "max_clips": {"train": 40, "valid": 4, "test": 12} if fast else None,
        }

    def recordings(self, folder: Path, root: Path) -> dict[str, list[Path]]:
        """The clips in ``Wavfile/`` (see the module docstring)."""
        clips = base.entries(
            base.child(folder, "Wavfile"), lambda p: p.is_file() and p.suffix.lower() == ".wav"
        )
        training = [c for c in clips if singer_of(c) in MIR1K_TRAINING_SINGERS]
        test = [c for c in clips if singer_of(c) not in MIR1K_TRAINING_SINGERS]
        for group, found in (("training singers abjones/amy", training), ("test singers", test)):
            if not found:
                expected = "MIR-1K/Wavfile/<singer>_<song>_<clip>.wav for all 19 singers"
                raise self.layout_error(root, f"every clip of the {group} in Wavfile/", expected)
        n_valid = math.ceil(len(training) * MIR1K_VALID_SHARE)
        valid = set(hash_order(c.name for c in training)[:n_valid])
        return {
            "train": [c for c in training if c.name not in valid],
            "valid": [c for c in training if c.name in valid],
            "test": test,
        }


MUSDB_STEMS = ("vocals", "drums", "bass", "other")
MUSDB_VALIDATION_TRACKS = (
    "Actions - One Minute Smile", "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies", "Patrick Talbot - A Reason To Leave", "Triviul - Angelsaint",
    "Alexander Ross - Goodbye Bolero", "Fergessen - Nos Palpitants", "Leaf - Summerghost",
    "Skelpolu - Human Mistakes", "Young Griffo - Pennies", "ANiMAL - Rockshow",
    "James May - On The Line", "Meaxic - Take A Step", "Traffic Experiment - Sirens",
)  # fmt: skip
"""The ``validation_tracks`` of the musdb package (``musdb/configs/mus.yaml``)."""


def decode_track(track_dir: str, section: str) -> base.Decoded:
    """One track folder → ``{"vocals", "accompaniment"}`` at 16 kHz mono; stems are read one at a
    time, so a worker holds about one stereo 44.1 kHz stem (~85 MB for four minutes)."""
    stems = []
    for stem in MUSDB_STEMS:
        path = Path(track_dir) / f"{stem}.wav"
        stems.append(base.to_mono_16k(*base.read_corpus_audio(path, section)))
        if stems[-1].shape != stems[0].shape:
            problem = (
                f"{stems[-1].shape[0]} samples at 16 kHz where vocals.wav has "
                f"{stems[0].shape[0]}; the stems of a track must have one length"
            )
            raise base.file_error(path, problem, section)
    accompaniment = np.zeros_like(stems[0])
    for audio in stems[1:]:
        accompaniment += audio  # in this order, for bit-identical sums
    return {"vocals": stems[0], "accompaniment": accompaniment}, 0


class MUSDB18Builder(MusicCorpusBuilder):
    """Builds ``data.build("musdb18", root=...)`` (see the module docstring)."""

    corpus = "musdb18"
    readme_section = "MUSDB18"
    source_names = ("vocals", "accompaniment")
    decoder = staticmethod(decode_track)
    markers = ("train/", "test/")
    wrappers = ("musdb18hq", "MUSDB18-HQ", "musdb18", "MUSDB18")
    layout = (
        "train/<track>/{mixture,vocals,drums,bass,other}.wav and test/<track>/… (MUSDB18-HQ)"
    )
    caps_setting = "max_tracks"
    items_setting = "items_per_track"
    count_note = "track_counts"
    notes = {"layout": "MUSDB18-HQ / decoded WAV", "accompaniment": "drums + bass + other"}

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "validation_tracks": list(MUSDB_VALIDATION_TRACKS),
            "items_per_track": {"valid": 2, "test": 2} if fast else {"valid": 4, "test": 10},
            "max_tracks": {"train": 4, "valid": 1, "test": 3} if fast else None,
        }

    def recordings(self, folder: Path, root: Path) -> dict[str, list[Path]]:
        """The complete track folders; the musdb validation tracks of ``train/`` are valid."""
        found = {}
        for name in ("train", "test"):
            split_dir = base.child(folder, name)
            found[name] = base.entries(split_dir, Path.is_dir)
            if not found[name] and any(split_dir.glob("*.stem.mp4")):
                raise base.CorpusLayoutError(
                    f"{split_dir} holds the compressed MUSDB18 (.stem.mp4), which vaesep does not "
                    "decode. Use MUSDB18-HQ, or convert the stems to WAV once with the musdb "
                    "package (pip install musdb; musdbconvert <root> <wav root>) and pass the WAV "
                    f"root; {base.readme_pointer(self.readme_section)}"
                )
            if not found[name]:
                missing = f"any track in {base.relative_id(split_dir, root)}/"
                expected = f"{name}/<track>/vocals.wav … (MUSDB18-HQ)"
                raise self.layout_error(root, missing, expected)
            stems = [t / f"{s}.wav" for t in found[name] for s in MUSDB_STEMS]
            if missing := [p for p in stems if not base.child(p.parent, p.name).exists()]:
                expected = f"{name}/<track>/{{mixture,vocals,drums,bass,other}}.wav"
                raise self.layout_error(root, base.relative_id(missing[0], root), expected)
        plan = {
            "train": [t for t in found["train"] if t.name not in MUSDB_VALIDATION_TRACKS],
            "valid": [t for t in found["train"] if t.name in MUSDB_VALIDATION_TRACKS],
            "test": found["test"],
        }
        if not plan["valid"]:
            expected = "train/Actions - One Minute Smile/… (the full 100 training tracks)"
            raise self.layout_error(root, "the 14 musdb validation tracks in train/", expected)
        return plan
