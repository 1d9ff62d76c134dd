"""Light notebook outputs (every notebook): one labelled player per comparison, compact figures.
IPython's ``Audio`` scales every clip to its own peak, so a quiet estimate sounds as loud as a
loud one; :func:`multitrack` plays all tracks at one scale, in plain HTML (no widget state)."""

from __future__ import annotations

import base64
import html
import io
import uuid
from collections.abc import Mapping

import numpy as np
import soundfile
from IPython.display import HTML

HEADROOM = 0.99  # the loudest peak of a comparison, as a share of full scale

# starting one player pauses the others and picks up where the last one stopped, so versions
# compare on the same syllable; where scripts do not run, each track still has its own player
_LINK = """<script>(() => {
  const players = [...document.querySelectorAll("#%s audio")];
  let last = null;
  for (const player of players) player.addEventListener("play", () => {
    if (last && last !== player) player.currentTime = last.currentTime;
    for (const other of players) if (other !== player) other.pause();
    last = player;
  });
})();</script>"""


def audio_bytes(signal: np.ndarray, rate: int, format: str) -> bytes:
    """``signal`` clipped to [-1, 1] as 16-bit ``format`` (FLAC, WAV: every browser plays them)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(signal, -1.0, 1.0), rate, "PCM_16", format=format)
    return buffer.getvalue()


def multitrack(tracks: Mapping[str, np.ndarray], rate: int, *, title: str) -> HTML:
    """Linked players of ``tracks`` (label → waveform), the loudest peak at :data:`HEADROOM`,
    each labelled with its level in dB re the first; ``title`` names the target source."""
    waves = {str(name): np.asarray(wave, dtype=np.float64).ravel() for name, wave in tracks.items()}
    if not waves:
        raise ValueError("multitrack needs at least one track (label → waveform)")
    peak = max(float(np.max(np.abs(wave), initial=0.0)) for wave in waves.values())
    scale = HEADROOM / peak if peak > 0 else 1.0
    first = np.sqrt(np.mean(np.square(next(iter(waves.values()))))) or 1.0
    key = f"vaesep-player-{uuid.uuid4().hex[:12]}"
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(name)}</td><td style='text-align:right'>"
        f"{20 * np.log10(max(np.sqrt(np.mean(np.square(wave))), 1e-10) / first):+.1f} dB</td>"
        "<td><audio controls preload='none' src='data:audio/flac;base64,"
        f"{base64.b64encode(audio_bytes(wave * scale, rate, 'FLAC')).decode('ascii')}'>"
        "</audio></td></tr>" for name, wave in waves.items())
    return HTML(f"<div id='{key}'><b>{html.escape(title)}</b><table>{rows}</table></div>"
                + _LINK % key)


def compact_png(figure) -> bytes:
    """``figure`` as a PNG of at most 256 colours, cropped like the inline backend's: a colour
    map has 256 entries, so a spectrogram keeps its colours and loses two thirds of its bytes."""
    from PIL import Image

    drawn, packed = io.BytesIO(), io.BytesIO()
    figure.savefig(drawn, format="png", bbox_inches="tight")
    image = Image.open(drawn).convert("RGB")
    # maximum coverage keeps a colour bar's gradient whole (octree and median cut band it)
    palette = image.quantize(256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    palette.save(packed, "png", optimize=True)
    return packed.getvalue()


def compact_figures() -> None:
    """Show this kernel's figures through :func:`compact_png` (call it after ``%matplotlib
    inline``, which would put back its own PNGs); outside IPython, nothing."""
    from IPython import get_ipython
    from matplotlib.figure import Figure

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, compact_png)
