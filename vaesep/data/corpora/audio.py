"""Reading corpus files (WAV, FLAC, NIST SPHERE), with damaged files reported by name.

libsndfile reads all three, TIMIT's 16-bit PCM SPHERE files included, but it
quietly shortens a WAV whose data chunk an interrupted download cut off, so
the chunk size is checked against the file size first; it cannot decode the
``shorten``-compressed SPHERE files of other LDC corpora, which are refused
with the command that decompresses them.
data/README.md, sections "TIMIT" and "When something is wrong".
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaesep.audio import SAMPLE_RATE, resample
from vaesep.data.corpora.base import CorpusFileError, DecodedUnit, file_error
from vaesep.data.decode import trim_silence
from vaesep.data.splits import hash_order

DECOMPRESS_HINT = (
    "decompress it first, e.g. `sph2pipe -f wav in.wav out.wav` (sph2pipe from the LDC) "
    "or `sox in.sph out.wav`"
)
_UNKNOWN_CHUNK_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave the data size open


def sphere_header(path: Path) -> dict[str, str] | None:
    """The ``name -type value`` fields of a NIST SPHERE header; None for other files."""
    with open(path, "rb") as handle:
        head = handle.read(1024)  # TIMIT's headers are 1024 bytes; larger ones are read in full
        if not head.startswith(b"NIST_1A"):
            return None
        size = head.split(b"\n", 2)[1].strip()
        head += handle.read(max(0, int(size) - len(head)) if size.isdigit() else 0)
    fields = {}
    for line in head.decode("ascii", "replace").splitlines()[2:]:
        if line.strip() == "end_head":
            break
        parts = line.split(" ", 2)
        if len(parts) == 3:
            fields[parts[0]] = parts[2].strip()
    return fields


def _check_sphere(path: Path, section: str) -> None:
    """Refuse a compressed or truncated SPHERE file (libsndfile would fail obscurely, or read
    a truncated one without a word)."""
    import soundfile as sf

    fields = sphere_header(path)
    if fields is None:
        return
    coding = fields.get("sample_coding", "pcm")
    if coding.lower() != "pcm":
        problem = f"its samples are coded as {coding!r}, which vaesep does not decode; {DECOMPRESS_HINT}"
        raise file_error(path, problem, section)
    announced, present = int(fields.get("sample_count", 0)), sf.info(str(path)).frames
    if present < announced:
        problem = f"truncated: the header announces {announced} samples but only {present} are present"
        raise file_error(path, problem, section)


def riff_shortfall(path: Path) -> int:
    """Bytes missing from the end of a RIFF/WAVE file's data chunk; 0 if complete or not RIFF."""
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
                return 0 if length in _UNKNOWN_CHUNK_SIZES else max(0, position + 8 + length - size)
            position += 8 + length + (length & 1)  # chunks are padded to even sizes
    return 0


def read_corpus_audio(path: Path, section: str) -> tuple[np.ndarray, int]:
    """One corpus file at its own rate: ``(samples (n, n_channels) float32, rate)``, ``n`` may be 0.

    Raises:
        CorpusFileError: missing, unreadable, truncated or compressed in a way we do
            not decode; the message names the file and the README ``section``.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise file_error(path, "the file is missing (it was listed when the build started)", section)
    try:
        _check_sphere(path, section)
        missing = riff_shortfall(path)
        if missing:
            raise file_error(path, f"truncated: {missing} bytes of its audio data are missing", section)
        expected = sf.info(str(path)).frames
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except CorpusFileError:
        raise
    except (RuntimeError, OSError, ValueError, struct.error) as exc:
        raise file_error(path, f"unreadable ({exc})", section) from None
    if samples.shape[0] < expected:
        raise file_error(path, f"truncated: {expected} frames announced, {samples.shape[0]} decoded", section)
    return samples, int(rate)


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """``(n, n_channels)`` at any rate → ``(n',)`` float32 at 16 kHz (channel mean, soxr HQ)."""
    mono = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1, dtype=np.float32)
    return resample(np.ascontiguousarray(mono, dtype=np.float32), sample_rate, SAMPLE_RATE)


def decode_speech_file(path: str, source: str, top_db: float, section: str) -> DecodedUnit:
    """One utterance as trimmed 16 kHz mono for ``source`` (trimmed like the default speech
    set); an empty file gives an empty array, which is skipped and listed in the manifest."""
    samples, rate = read_corpus_audio(Path(path), section)
    if samples.shape[0] == 0:
        return DecodedUnit({source: np.zeros(0, dtype=np.float32)}, 0)
    trimmed, start = trim_silence(to_mono_16k(samples, rate), top_db)
    return DecodedUnit({source: trimmed}, start)


def audio_seconds(path: Path, section: str) -> float:
    """Duration of a corpus file from its header alone."""
    import soundfile as sf

    try:
        _check_sphere(path, section)
        return float(sf.info(str(path)).duration)
    except CorpusFileError:
        raise
    except (RuntimeError, OSError, ValueError) as exc:
        raise file_error(path, f"unreadable header ({exc})", section) from None


def first_seconds_in_hash_order(
    files: Sequence[tuple[str, Path]], seconds: float | None, section: str
) -> list[tuple[str, Path]]:
    """A deterministic subset of ``(id, path)`` pairs holding about ``seconds`` of audio: taken
    in hash order of their ids (favouring no speaker or chapter) until their header durations
    reach ``seconds``, returned in id order. ``None`` keeps every file."""
    if seconds is None:
        return sorted(files)
    by_id, chosen, total = dict(files), [], 0.0
    for file_id in hash_order(by_id):
        if total >= seconds:
            break
        chosen.append((file_id, by_id[file_id]))
        total += audio_seconds(by_id[file_id], section)
    return sorted(chosen)
