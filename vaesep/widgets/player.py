"""The listening test's player (notebook 05): a trial's clips play in sync, one audible at a time.
As in webMUSHRA a letter switches what you hear without moving the position; the audio runs in
the browser (``player.js``, an anywidget module), Python says which clip, whether it plays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import traitlets

from vaesep.widgets.outputs import audio_bytes

try:
    import anywidget
except ImportError as exc:  # an environment installed before vaesep needed it
    raise ImportError(
        "the listening test's player needs anywidget: pip install 'anywidget>=0.9,<0.12' "
        "(or reinstall vaesep: pip install -e '.[dev]' -c requirements/constraints.txt)"
    ) from exc

CSS = """
.vaesep-sync-player { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
.vaesep-sync-player input { width: 4.5em; }
.vaesep-sync-player .vaesep-time { min-width: 10em; font-family: monospace; }
.vaesep-sync-player .vaesep-bar { position: relative; width: 320px; height: 14px;
  background: #ddd; cursor: pointer; }
.vaesep-sync-player .vaesep-region { position: absolute; height: 100%; background: #9cf; }
.vaesep-sync-player .vaesep-head { position: absolute; width: 2px; height: 100%; background: #c00; }
"""


class SyncPlayer(anywidget.AnyWidget):
    """Clips that play together, looping ``loop`` (seconds); ``active`` is the audible one."""

    _esm = Path(__file__).with_name("player.js")
    _css = CSS
    clips = traitlets.Dict(traitlets.Bytes()).tag(sync=True)  # name -> 16-bit WAV
    active = traitlets.Unicode("").tag(sync=True)
    playing = traitlets.Bool(False).tag(sync=True)
    loop = traitlets.List(traitlets.Float(), [0.0, 0.0], minlen=2, maxlen=2).tag(sync=True)

    def load(self, clips: dict[str, np.ndarray], sample_rate: int) -> None:
        """Stop, and put ``clips`` (name -> samples, all of one length) in the player."""
        lengths = {name: len(signal) for name, signal in clips.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"clips of one trial must have the same length to play in sync, got {lengths}; "
                "render the stimuli again with vaesep.listening.render_stimuli"
            )
        with self.hold_sync():  # one message: the browser never sees a half-changed player
            self.playing, self.active = False, ""
            self.loop = [0.0, max(lengths.values(), default=0) / sample_rate]
            self.clips = {name: audio_bytes(signal, sample_rate, "WAV")
                          for name, signal in clips.items()}

    def switch_to(self, name: str) -> None:
        """Make ``name`` audible at the current position (and start playing)."""
        if name not in self.clips:
            raise KeyError(f"no clip {name!r} in the player; it has {sorted(self.clips)}")
        with self.hold_sync():
            self.active, self.playing = name, True


def colab_metadata() -> dict:
    """Display metadata that makes Colab render anywidgets (its custom widget manager); {}
    elsewhere. A view that publishes its own bundle, not through anywidget, must pass it."""
    return getattr(getattr(anywidget, "_util", None), "get_repr_metadata", dict)()

