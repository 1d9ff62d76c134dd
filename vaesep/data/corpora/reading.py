"""Decoding corpus files, with damaged files reported by name.

Every corpus file goes through :func:`read_corpus_audio`: SPHERE files
(TIMIT) through our own reader, everything else (WAV, FLAC) through
libsndfile. libsndfile quietly shortens a WAV whose data chunk was cut off
by an interrupted download, so we compare the chunk size with the file size
first; any other failure becomes a :class:`CorpusFileError` that names the
file. data/README.md, section "When something is wrong".
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple

import numpy as np

from vaesep.audio import SAMPLE_RATE, resample
from vaesep.data.corpora.errors import CorpusFileError, file_error
from vaesep.data.corpora.sphere import SphereError, is_sphere, read_sphere
from vaesep.data.decode import trim_silence

_UNKNOWN_CHUNK_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave the data size open


class DecodedUnit(NamedTuple):
    """What decoding one unit of a corpus (a file, a clip, a track) gives.

    Attributes:
        audio: source name → ``(n_samples,)`` float32 at 16 kHz. Music units
            give every source, all of one length; speech units give the one
            source (speaker, sex) the file belongs to.
        file_offset: where ``audio`` starts inside the decoded file, in
            samples at 16 kHz (non-zero after trimming leading silence).

    data/README.md, section "When something is wrong".
    """

    audio: dict[str, np.ndarray]
    file_offset: int


def riff_shortfall(path: Path) -> int:
    """Bytes missing from the end of a RIFF/WAVE file's data chunk; 0 if complete or not RIFF.

    data/README.md, section "When something is wrong".
    """
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        position = 12
        while position + 8 <= size:
            handle.seek(position)
            chunk_id, length = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                if length in _UNKNOWN_CHUNK_SIZES:
                    return 0
                return max(0, position + 8 + length - size)
            position += 8 + length + (length & 1)  # chunks are padded to even sizes
    return 0


def read_corpus_audio(path: Path, section: str) -> tuple[np.ndarray, int]:
    """Read one corpus file at its own rate, keeping its channels.

    Args:
        path: a WAV, FLAC or NIST SPHERE file (SPHERE is recognised by its header).
        section: the ``data/README.md`` section to point at in errors.

    Returns:
        ``(samples (n_samples, n_channels) float32, sample_rate)``; ``n_samples``
        may be 0 for an empty recording.

    Raises:
        CorpusFileError: the file is missing, unreadable, truncated or compressed
            in a way we do not decode; the message names the file.

    data/README.md, section "When something is wrong".
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise file_error(
            path, "the file is missing (it was listed when the build started)", section
        )
    try:
        if is_sphere(path):
            return read_sphere(path)
        missing = riff_shortfall(path)
        if missing:
            raise file_error(
                path, f"truncated: {missing} bytes of its audio data are missing", section
            )
        expected = sf.info(str(path)).frames
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except CorpusFileError:
        raise
    except SphereError as exc:
        raise file_error(path, str(exc), section) from None
    except (RuntimeError, OSError, ValueError, struct.error) as exc:
        raise file_error(path, f"unreadable ({exc})", section) from None
    if samples.shape[0] < expected:
        raise file_error(
            path, f"truncated: {expected} frames announced, {samples.shape[0]} decoded", section
        )
    return samples, int(rate)


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(n, n_channels)`` at any rate → ``(n',)`` float32 at 16 kHz (channel mean, soxr HQ).

    data/README.md, section "When something is wrong".
    """
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    return resample(np.ascontiguousarray(mono, dtype=np.float32), sample_rate, SAMPLE_RATE)


def decode_speech_file(path: str, source: str, top_db: float, section: str) -> DecodedUnit:
    """Decode one utterance to trimmed 16 kHz mono for ``source`` (a process-pool job).

    Leading and trailing stretches more than ``top_db`` below the loudest
    frame are cut (:func:`vaesep.data.decode.trim_silence`), as for the
    default speech set. An empty file gives an empty array, which the
    stream builder skips and lists in the manifest.

    data/README.md, section "When something is wrong".
    """
    samples, rate = read_corpus_audio(Path(path), section)
    if samples.shape[0] == 0:
        return DecodedUnit({source: np.zeros(0, dtype=np.float32)}, 0)
    trimmed, start = trim_silence(to_mono_16k(samples, rate), top_db)
    return DecodedUnit({source: trimmed}, start)
