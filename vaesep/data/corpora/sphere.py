"""Reading NIST SPHERE files, the format TIMIT is distributed in.

A SPHERE file is a plain-text header (``NIST_1A``, its size in bytes, then
``name -type value`` lines up to ``end_head``) followed by the samples.
TIMIT's are uncompressed 16-bit PCM, which this module reads with numpy
alone, so a truncated file is recognised by comparing ``sample_count`` with
the bytes actually present. Other corpora from the LDC (WSJ, Switchboard)
use ``shorten`` compression inside SPHERE; we do not decode it, and say so
with the command that does. data/README.md, section "TIMIT".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAGIC = b"NIST_1A"
_FIRST_READ = 1024  # every TIMIT header is exactly 1024 bytes; larger ones are read in full
_BYTE_ORDERS = {"01": "<", "10": ">", "1": "<"}
DECOMPRESS_HINT = (
    "decompress it first, e.g. `sph2pipe -f wav in.wav out.wav` (sph2pipe from the LDC) "
    "or `sox in.sph out.wav`"
)


class SphereError(ValueError):
    """A SPHERE file this reader cannot decode; the message says why (the caller adds the path).

    data/README.md, section "TIMIT".
    """


def is_sphere(path: Path) -> bool:
    """True if the file starts with the SPHERE magic ``NIST_1A``, whatever its extension.

    data/README.md, section "TIMIT".
    """
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def read_header(path: Path) -> tuple[dict[str, str | int | float], int]:
    """Parse a SPHERE header.

    Returns:
        ``(fields, header_bytes)``: field name → value (``-i`` as int, ``-r``
        as float, ``-sN`` as str) and the offset of the first sample.

    Raises:
        SphereError: not a SPHERE file, or a malformed header.

    data/README.md, section "TIMIT".
    """
    with open(path, "rb") as handle:
        head = handle.read(_FIRST_READ)
        lines = head.split(b"\n", 2)
        if len(lines) < 3 or lines[0].strip() != MAGIC:
            raise SphereError("not a NIST SPHERE file (no NIST_1A header)")
        try:
            header_bytes = int(lines[1].strip())
        except ValueError:
            raise SphereError(f"unreadable SPHERE header size {lines[1][:20]!r}") from None
        if header_bytes > len(head):
            head += handle.read(header_bytes - len(head))
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
    """Read an uncompressed PCM SPHERE file.

    Returns:
        ``(samples (n_samples, n_channels) float32 in [-1, 1), sample_rate)``.

    Raises:
        SphereError: compressed (shorten, wavpack, ulaw ...), an unsupported
            sample size, or fewer samples on disk than the header announces.

    data/README.md, section "TIMIT".
    """
    fields, header_bytes = read_header(path)
    coding = str(fields.get("sample_coding", "pcm"))
    if coding.lower() != "pcm":
        raise SphereError(
            f"its samples are coded as {coding!r}, which vaesep does not decode; {DECOMPRESS_HINT}"
        )
    sample_bytes = int(fields.get("sample_n_bytes", 2))
    channels = int(fields.get("channel_count", 1))
    rate = fields.get("sample_rate")
    count = fields.get("sample_count")
    if rate is None or count is None:
        raise SphereError("its header lacks sample_rate or sample_count")
    if sample_bytes not in (1, 2, 4):
        raise SphereError(f"{sample_bytes}-byte samples are not supported")
    order = _BYTE_ORDERS.get(str(fields.get("sample_byte_format", "01")))
    if order is None:
        raise SphereError(f"unknown sample_byte_format {fields.get('sample_byte_format')!r}")
    dtype = np.dtype(f"{order}i{sample_bytes}")
    expected = int(count) * channels
    samples = np.fromfile(path, dtype=dtype, offset=header_bytes, count=expected)
    if samples.size < expected:
        raise SphereError(
            f"truncated: the header announces {int(count)} samples per channel but only "
            f"{samples.size // max(channels, 1)} are present"
        )
    scale = float(2 ** (8 * sample_bytes - 1))
    audio = (samples.astype(np.float32) / scale).reshape(-1, channels)
    return audio, int(rate)
