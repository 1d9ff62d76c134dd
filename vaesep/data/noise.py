"""Denoising: Dutch speech vs real recorded noise (hiss, machines, rooms).

The ``speech`` source is the Dutch speech of the ``speech`` data set (both
speakers, utterances in file order, same train/valid/test files); the
``noise`` source comes from recordings in the Debian package
``sonic-pi-samples`` (CC0 sounds from freesound.org, 1–10 s each).

Which noises (our choice; listed so results can be traced): we kept the
recordings that are noise-like and roughly stationary, and left out drums,
melodic loops and one-shot effects. Every split has its *own* recordings,
so valid and test noises are never heard in training:

* train: a 3D printer, steam hissing in a sauna, a low drone, a haunted
  room hum, an electric buzz, an industrial machine loop, a cinematic rumble;
* valid: a soft electric buzz, a hissing "lunar landing";
* test: vinyl hiss, a G drone, a glass hum.

Each recording is trimmed of fade-in/fade-out silence (30 dB), scaled to
unit RMS (so a segment spanning two recordings is not dominated by the
louder one) and tiled to at least 8 s (short loops repeat, as loops do),
then concatenated. Items put speech first: ``snr_db`` is the speech-to-noise
ratio, 0 dB by default. Notebook 01, section "Other data sets: music and noise".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE, load_audio, rms
from vaesep.data.cache import DatasetWriter
from vaesep.data.decode import trim_silence
from vaesep.data.mixing import concatenate_pieces
from vaesep.data.registry import BuildRequest, DatasetBuilder, get_builder
from vaesep.data.system import missing_data_error

SONIC_PI_SAMPLES = Path("/usr/share/sonic-pi/samples")
PACKAGE = "sonic-pi-samples"
NOISE_FILES: dict[str, tuple[str, ...]] = {
    "train": (
        "loop_3d_printer.flac",
        "ambi_sauna.flac",
        "ambi_drone.flac",
        "ambi_haunted_hum.flac",
        "loop_electric.flac",
        "loop_industrial.flac",
        "misc_cineboom.flac",
    ),
    "valid": ("ambi_soft_buzz.flac", "ambi_lunar_land.flac"),
    "test": ("vinyl_hiss.flac", "loop_drone_g_97.flac", "ambi_glass_hum.flac"),
}
NOISE_TRIM_TOP_DB = 30.0
MIN_NOISE_SECONDS = 8.0


def noise_stream(root: Path, files: tuple[str, ...]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Trim, normalise and tile ``files`` (see the module docstring), then concatenate.

    Returns:
        ``(stream (n,) float32, stream index)``; a tiled recording appears as one
        piece per repetition.
    """
    pieces = []
    for name in files:
        audio, start = trim_silence(load_audio(root / name, SAMPLE_RATE), NOISE_TRIM_TOP_DB)
        audio = audio / rms(audio)
        repeats = int(np.ceil(MIN_NOISE_SECONDS * SAMPLE_RATE / audio.shape[0]))
        pieces += [(name, audio, start)] * repeats
    return concatenate_pieces(pieces)


def _interleave_speakers(
    streams: dict[str, np.ndarray], index: dict[str, list[dict[str, Any]]]
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Both speakers' utterances merged back into file order: a dialogue, not two monologues."""
    pieces = sorted(
        (piece["file"], streams[speaker], piece)
        for speaker, speaker_pieces in index.items()
        for piece in speaker_pieces
    )
    return concatenate_pieces(
        [
            (
                file_id,
                stream[p["stream_offset"] : p["stream_offset"] + p["length"]],
                p["file_offset"],
            )
            for file_id, stream, p in pieces
        ]
    )


class NoiseBuilder(DatasetBuilder):
    """Builds ``data.build("noise")`` (see the module docstring).

    ``root`` is the sonic-pi samples directory; the speech comes from
    ``data.build("speech")`` at its default location, in the same cache.
    """

    version = "1"
    source_names = ("speech", "noise")
    splits = ("train", "valid", "test")

    def default_root(self) -> Path:
        return SONIC_PI_SAMPLES

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "segment_seconds": 4.0,
            "noise_files": {split: list(files) for split, files in NOISE_FILES.items()},
            "max_items": {"valid": 8, "test": 12} if fast else {"valid": None, "test": None},
        }

    def check_system_data(self, root: Path | None) -> None:
        root = root or SONIC_PI_SAMPLES
        missing = [n for files in NOISE_FILES.values() for n in files if not (root / n).is_file()]
        if missing:
            raise missing_data_error(
                "noise",
                [PACKAGE],
                f"{len(missing)} recordings missing from {root}, e.g. {missing[0]}",
            )
        get_builder("speech").check_system_data(None)

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        return sorted(NOISE_FILES[split])

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        from vaesep.data.building import build

        root = request.root or SONIC_PI_SAMPLES
        speech = build(
            "speech",
            seed=request.seed,
            fast=request.fast,
            cache_dir=request.cache_root,
            progress=request.progress,
        )
        segment_samples = int(round(request.settings["segment_seconds"] * SAMPLE_RATE))
        for split in self.splits:
            speech_stream, speech_index = _interleave_speakers(
                speech.streams(split), speech.stream_index(split)
            )
            noise, noise_index = noise_stream(root, NOISE_FILES[split])
            streams = {"speech": speech_stream, "noise": noise}
            stream_index = {"speech": speech_index, "noise": noise_index}
            writer.add_split_with_items(
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                max_items=request.settings["max_items"],
                primary="speech",
            )
        writer.note("speech_manifest_sha256", speech.manifest_hash)
