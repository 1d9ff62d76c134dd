"""Light notebook outputs: one labelled player per comparison, at true levels; compact figures.

IPython's ``Audio`` scales every clip to its own peak, so a quiet estimate sounds as loud as a
loud one. :func:`multitrack` scales all the tracks of a comparison by one factor (the loudest
peak of all), names each, and links their players: starting one pauses the others and picks up
at the position of the last one played, so the versions can be compared on the same syllable.
The clips are embedded as FLAC (lossless, half the bytes of WAV). Plain HTML and a few lines of
JavaScript, no widget state: where scripts do not run (an untrusted notebook) every track still
has its labelled player. :func:`compact_figures` stores a kernel's figures as 256-colour PNGs,
about a third of the bytes for a spectrogram, so an executed notebook opens quickly.
"""

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

_LINK = """<script>(() => {
  const players = [...document.querySelectorAll("#%s audio")];
  let last = null;
  for (const player of players) player.addEventListener("play", () => {
    if (last && last !== player) player.currentTime = last.currentTime;
    for (const other of players) if (other !== player) other.pause();
    last = player;
  });
})();</script>"""


def flac_data_uri(signal: np.ndarray, rate: int) -> str:
    """``signal`` (samples in [-1, 1]) as a ``data:`` URI of a 16-bit FLAC file."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(signal, -1.0, 1.0), rate, format="FLAC", subtype="PCM_16")
    return "data:audio/flac;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def multitrack(tracks: Mapping[str, np.ndarray], rate: int, *, title: str) -> HTML:
    """One player for ``tracks`` (label → waveform ``(n_samples,)``), all scaled by one factor so
    that the loudest peak is at :data:`HEADROOM` of full scale; ``title`` says what is compared
    (name the target source). Each label shows the track's level in dB re the first track."""
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
        f"<td><audio controls preload='none' src='{flac_data_uri(wave * scale, rate)}'></audio></td></tr>"
        for name, wave in waves.items()
    )
    return HTML(f"<div id='{key}'><b>{html.escape(title)}</b><table>{rows}</table></div>" + _LINK % key)


def compact_png(figure) -> bytes:
    """``figure`` (matplotlib) as a PNG of at most 256 colours, cropped like the inline backend's:
    a colour map has 256 entries, so a spectrogram keeps its colours and loses its bulk."""
    from PIL import Image

    drawn, packed = io.BytesIO(), io.BytesIO()
    figure.savefig(drawn, format="png", bbox_inches="tight")
    image = Image.open(drawn).convert("RGB")
    # maximum coverage keeps a colour bar's gradient whole (octree and median cut band it)
    palette = image.quantize(256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE)
    palette.save(packed, "png", optimize=True)
    return packed.getvalue()


def compact_figures() -> None:
    """Show every matplotlib figure of this IPython kernel through :func:`compact_png` (call it
    after ``%matplotlib inline``, which would put back its own PNGs); outside IPython, nothing."""
    from IPython import get_ipython
    from matplotlib.figure import Figure

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, compact_png)
