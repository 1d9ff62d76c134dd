"""Denoising: Dutch speech against real recorded noise (hiss, machines, rooms).

The ``speech`` source is the Dutch speech of the ``speech`` set (both speakers merged back into
file order: a dialogue, same train/valid/test files); the ``noise`` source comes from recordings
in the Debian package ``sonic-pi-samples`` (mostly CC0 sounds from freesound.org, 1–10 s each).
We kept noise-like, roughly stationary recordings (no drums, melodic loops or one-shot
effects), and every split has its *own* (:data:`NOISE_FILES`), so valid and test noises are
never heard in training. Each recording is trimmed of fade-in/out silence (30 dB), scaled to
unit RMS (a segment spanning two recordings is not dominated by the louder one) and tiled to at
least 8 s (short loops repeat, as loops do). ``snr_db`` is the speech-to-noise ratio.
Notebook 01, section "A short tour of the other data sets".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE, load_audio, rms
from vaesep.data.builder import (
    BuildRequest,
    DatasetBuilder,
    DatasetWriter,
    get_builder,
    missing_data_error,
)
from vaesep.data.cache import build
from vaesep.data.decode import trim_silence
from vaesep.data.mixing import concatenate_pieces

SONIC_PI_SAMPLES = Path("/usr/share/sonic-pi/samples")
PACKAGE = "sonic-pi-samples"
NOISE_FILES: dict[str, tuple[str, ...]] = {
    # a 3D printer, steam in a sauna, a low drone, a haunted room hum, an electric buzz,
    # an industrial machine loop, a cinematic rumble
    "train": (
        "loop_3d_printer.flac", "ambi_sauna.flac", "ambi_drone.flac", "ambi_haunted_hum.flac",
        "loop_electric.flac", "loop_industrial.flac", "misc_cineboom.flac",
    ),
    "valid": ("ambi_soft_buzz.flac", "ambi_lunar_land.flac"),  # a soft buzz, a hissing landing
    "test": ("vinyl_hiss.flac", "loop_drone_g_97.flac", "ambi_glass_hum.flac"),
}  # fmt: skip
NOISE_TRIM_TOP_DB = 30.0
MIN_NOISE_SECONDS = 8.0


def noise_stream(root: Path, files: tuple[str, ...]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """``files`` trimmed, normalised, tiled and concatenated: ``(stream, index)``."""
    pieces = []
    for name in files:
        audio, start = trim_silence(load_audio(root / name, SAMPLE_RATE), NOISE_TRIM_TOP_DB)
        audio = audio / rms(audio)
        repeats = int(np.ceil(MIN_NOISE_SECONDS * SAMPLE_RATE / audio.shape[0]))
        pieces += [(name, audio, start)] * repeats
    return concatenate_pieces(pieces)


class NoiseBuilder(DatasetBuilder):
    """Builds ``data.build("noise")``: ``root`` is the sonic-pi samples folder; the speech
    is ``data.build("speech")`` at its default location, in the same cache."""

    version = "1"
    source_names = ("speech", "noise")
    default_root = SONIC_PI_SAMPLES

    def settings(self, fast: bool) -> dict[str, Any]:
        caps = {"valid": 8, "test": 12} if fast else {"valid": None, "test": None}
        files = {split: list(names) for split, names in NOISE_FILES.items()}
        return {"segment_seconds": 4.0, "noise_files": files, "max_items": caps}

    def check_system_data(self, root: Path | None) -> None:
        root = root or SONIC_PI_SAMPLES
        wanted = [name for names in NOISE_FILES.values() for name in names]
        if missing := [name for name in wanted if not (root / name).is_file()]:
            what = f"{len(missing)} recordings missing from {root}, e.g. {missing[0]}"
            raise missing_data_error("noise", [PACKAGE], what)
        get_builder("speech").check_system_data(None)

    def split_files(self, split: str, root: Path | None) -> list[str]:
        return sorted(NOISE_FILES[split])

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        speech = build("speech", seed=request.seed, fast=request.fast, cache_dir=request.cache_root,
                       progress=request.progress)  # fmt: skip
        for split in self.splits:
            streams, index = speech.streams(split), speech.stream_index(split)
            # both speakers' utterances merged back into file order: a dialogue
            pieces = sorted((p["file"], speaker, p) for speaker, ps in index.items() for p in ps)
            speech_stream, speech_index = concatenate_pieces([
                (file, streams[speaker][p["stream_offset"] :][: p["length"]], p["file_offset"])
                for file, speaker, p in pieces
            ])  # fmt: skip
            noise, noise_index = noise_stream(request.root or SONIC_PI_SAMPLES, NOISE_FILES[split])
            writer.add_split(split, streams={"speech": speech_stream, "noise": noise},
                             stream_index={"speech": speech_index, "noise": noise_index},
                             request=request, max_items=request.settings["max_items"],
                             primary="speech")  # fmt: skip
        writer.note("speech_manifest_sha256", speech.manifest_hash)
