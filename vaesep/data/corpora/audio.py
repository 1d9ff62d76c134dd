"""Reading corpus files (WAV, FLAC, NIST SPHERE), with damaged files reported by name.

libsndfile reads WAV and FLAC, but quietly shortens a WAV whose data chunk
an interrupted download cut off, so the chunk size is checked against the
file size first. TIMIT's NIST SPHERE files (a text header ``NIST_1A``, its
size, ``name -type value`` lines up to ``end_head``, then 16-bit PCM) are read
with numpy; ``shorten``-compressed SPHERE files are refused with the command
that decompresses them. data/README.md, sections "TIMIT" and "When something is wrong".
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

SPHERE_MAGIC = b"NIST_1A"
DECOMPRESS_HINT = (
    "decompress it first, e.g. `sph2pipe -f wav in.wav out.wav` (sph2pipe from the LDC) "
    "or `sox in.sph out.wav`"
)
_BYTE_ORDERS = {"01": "<", "10": ">", "1": "<"}
_UNKNOWN_CHUNK_SIZES = (0, 0xFFFFFFFF)  # streaming writers leave the data size open


class SphereError(ValueError):
    """A SPHERE file this reader cannot decode; the message says why (the caller adds the path)."""


def is_sphere(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(SPHERE_MAGIC)) == SPHERE_MAGIC


def read_sphere_header(path: Path) -> tuple[dict[str, str | int | float], int]:
    """``(fields, offset of the first sample)``: ``-i`` fields as int, ``-r`` as float, ``-s`` as str."""
    with open(path, "rb") as handle:
        head = handle.read(1024)  # every TIMIT header is 1024 bytes; larger ones are read in full
        lines = head.split(b"\n", 2)
        if len(lines) < 3 or lines[0].strip() != SPHERE_MAGIC:
            raise SphereError("not a NIST SPHERE file (no NIST_1A header)")
        try:
            header_bytes = int(lines[1].strip())
        except ValueError:
            raise SphereError(f"unreadable SPHERE header size {lines[1][:20]!r}") from None
        head += handle.read(max(0, header_bytes - len(head)))
    if len(head) < header_bytes:
        raise SphereError("the file ends inside its SPHERE header")
    fields: dict[str, str | int | float] = {}
    for raw in head[:header_bytes].split(b"\n")[2:]:
        line = raw.decode("ascii", "replace").rstrip("\r")
        if line.strip() == "end_head":
            return fields, header_bytes
        parts = line.split(" ", 2)
        if len(parts) < 3:
            continue  # blank padding or comments
        name, kind, value = parts
        if kind == "-i":
            fields[name] = int(value)
        elif kind == "-r":
            fields[name] = float(value)
        elif kind.startswith("-s"):
            fields[name] = value[: int(kind[2:])] if kind[2:].isdigit() else value
    raise SphereError("the SPHERE header has no end_head line")


def read_sphere(path: Path) -> tuple[np.ndarray, int]:
    """An uncompressed PCM SPHERE file as ``(samples (n, n_channels) float32 in [-1, 1), rate)``."""
    fields, header_bytes = read_sphere_header(path)
    coding = str(fields.get("sample_coding", "pcm"))
    if coding.lower() != "pcm":
        raise SphereError(f"its samples are coded as {coding!r}, which vaesep does not decode; {DECOMPRESS_HINT}")
    sample_bytes = int(fields.get("sample_n_bytes", 2))
    channels = int(fields.get("channel_count", 1))
    rate, count = fields.get("sample_rate"), fields.get("sample_count")
    if rate is None or count is None:
        raise SphereError("its header lacks sample_rate or sample_count")
    if sample_bytes not in (1, 2, 4):
        raise SphereError(f"{sample_bytes}-byte samples are not supported")
    order = _BYTE_ORDERS.get(str(fields.get("sample_byte_format", "01")))
    if order is None:
        raise SphereError(f"unknown sample_byte_format {fields.get('sample_byte_format')!r}")
    expected = int(count) * channels
    samples = np.fromfile(path, dtype=np.dtype(f"{order}i{sample_bytes}"), offset=header_bytes, count=expected)
    if samples.size < expected:
        raise SphereError(
            f"truncated: the header announces {int(count)} samples per channel but only "
            f"{samples.size // max(channels, 1)} are present"
        )
    return (samples.astype(np.float32) / float(2 ** (8 * sample_bytes - 1))).reshape(-1, channels), int(rate)


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
        if is_sphere(path):
            return read_sphere(path)
        missing = riff_shortfall(path)
        if missing:
            raise file_error(path, f"truncated: {missing} bytes of its audio data are missing", section)
        expected = sf.info(str(path)).frames
        samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except CorpusFileError:
        raise
    except SphereError as exc:
        raise file_error(path, str(exc), section) from None
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
    """Duration of a corpus file from its header alone (SPHERE, WAV, FLAC)."""
    import soundfile as sf

    try:
        if is_sphere(path):
            fields, _ = read_sphere_header(path)
            return int(fields["sample_count"]) / int(fields["sample_rate"])
        return float(sf.info(str(path)).duration)
    except (SphereError, KeyError, RuntimeError, OSError, ValueError) as exc:
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
