"""An ipywidgets explorer of one encoder's latent space (notebook 03, "Exploring by hand").

Sliders move a latent point along the top principal directions of the
encoder's posterior means (in units of the cloud's standard deviation along
each), the matching decoder turns the point into a spectrum frame, and the
plot is redrawn; a button plays the frame held for a moment. The figure is
rendered to PNG into an ``ipywidgets.Image``, so the view looks the same in
JupyterLab, classic Notebook and VS Code, and builds without any frontend
(the tests and ``nbmake`` drive it headless). :meth:`LatentExplorer.static_figure`
draws the same decodings for a few slider settings as a plain matplotlib
grid, for readers of a static copy of the notebook.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from vaesep.latent import (
    LatentSet,
    as_vae,
    decode_latents,
    frames_db,
    hold_frame,
    pca_projection,
)
from vaesep.models import MaskingNetwork, NeuralSeparator
from vaesep.plots.latent import plot_frame_grid
from vaesep.spectral import DEFAULT_STFT, STFTConfig


def _wav_bytes(signal: np.ndarray, sample_rate: int) -> bytes:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.clip(signal, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


class LatentExplorer:
    """Sliders over the top principal directions of one encoder's latent, decoding live.

    Args:
        model: a VAE separator or network.
        codes: encoded frames (:func:`vaesep.latent.encode_frames`); their μ
            for ``encoder`` define the principal directions and slider scales.
        encoder: which encoder's latent to explore (default: the first).
        bases: named starting points ``(latent,)``; default the cloud's mean.
        n_directions: number of sliders (principal directions).
        slider_range: each slider spans ± this many standard deviations.
        config: STFT settings (frequency axis, sound).
        max_frequency: upper limit of the plot's frequency axis (Hz).
    """

    def __init__(
        self,
        model: MaskingNetwork | NeuralSeparator,
        codes: LatentSet,
        *,
        encoder: str | None = None,
        bases: Mapping[str, np.ndarray] | None = None,
        n_directions: int = 4,
        slider_range: float = 3.0,
        config: STFTConfig = DEFAULT_STFT,
        max_frequency: float = 4000.0,
    ) -> None:
        self.network = as_vae(model)
        self.encoder = encoder or codes.encoder_names[0]
        self.config = config
        self.pca = pca_projection(codes.means(self.encoder), n_components=n_directions)
        self.bases = {"mean of the codes": self.pca.mean.astype(np.float32), **dict(bases or {})}

        self.sliders = [
            widgets.FloatSlider(
                value=0.0,
                min=-slider_range,
                max=slider_range,
                step=0.1,
                description=f"PC{k + 1} ({100 * self.pca.explained[k]:.0f} %)",
                continuous_update=False,
                readout_format="+.1f",
                style={"description_width": "90px"},
                layout=widgets.Layout(width="380px"),
            )
            for k in range(self.pca.components.shape[0])
        ]
        self.base_menu = widgets.Dropdown(
            options=list(self.bases), description="start at", layout=widgets.Layout(width="380px")
        )
        self.reset_button = widgets.Button(description="reset sliders", icon="undo")
        self.play_button = widgets.Button(description="play frame", icon="play")
        self.player = widgets.Box()
        self.image = widgets.Image(format="png")

        freqs = config.bin_frequencies()
        self.figure = Figure(figsize=(7.5, 3.2), layout="constrained")
        self.axis = self.figure.subplots()
        base_frame = self._decode(self._base())
        self._peak = float(base_frame.max())
        (self.base_line,) = self.axis.plot(
            freqs,
            frames_db(base_frame, reference=self._peak),
            color="0.7",
            linewidth=1.0,
            label="start point",
        )
        (self.line,) = self.axis.plot(
            freqs,
            frames_db(base_frame, reference=self._peak),
            color="tab:purple",
            linewidth=1.2,
            label="slider point",
        )
        self.axis.set_xlim(0, max_frequency)
        shown = frames_db(base_frame, reference=self._peak)[freqs <= max_frequency]
        self.axis.set_ylim(max(-80.0, float(np.floor(shown.min() / 10.0) * 10.0) - 20.0), 15)
        self.axis.set_xlabel("frequency (Hz)")
        self.axis.set_ylabel("decoded level (dB re start)")
        self.axis.legend(loc="upper right", fontsize="small")

        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        self.base_menu.observe(self._on_base, names="value")
        self.reset_button.on_click(lambda _button: self.reset())
        self.play_button.on_click(lambda _button: self.play())
        self.widget = widgets.VBox(
            [
                widgets.HBox(
                    [
                        widgets.VBox([self.base_menu, *self.sliders]),
                        widgets.VBox([self.reset_button, self.play_button, self.player]),
                    ]
                ),
                self.image,
            ]
        )
        self.update()

    # ------------------------------------------------------------------ state

    def _base(self) -> np.ndarray:
        return self.bases[self.base_menu.value]

    def _decode(self, z: np.ndarray) -> np.ndarray:
        return decode_latents(self.network, np.asarray(z)[None], encoder=self.encoder)[0]

    @property
    def offsets(self) -> np.ndarray:
        """Current slider values (standard deviations along each principal direction)."""
        return np.array([slider.value for slider in self.sliders])

    def latent(self) -> np.ndarray:
        """The latent point the sliders describe, ``(latent,)``."""
        return self.pca.point(self.offsets, base=self._base())

    def decoded(self) -> np.ndarray:
        """The decoder's frame for the current point, ``(n_bins,)``."""
        return self._decode(self.latent())

    # ------------------------------------------------------------------ callbacks

    def update(self) -> None:
        """Decode the current point, redraw the line and re-render the image."""
        self.line.set_ydata(frames_db(self.decoded(), reference=self._peak))
        norm = float(np.linalg.norm(self.latent()))
        self.axis.set_title(
            f"decoder {self.encoder}: offsets {np.round(self.offsets, 1).tolist()}, ‖z‖ = {norm:.1f}",
            fontsize="small",
        )
        self.image.value = _png_bytes(self.figure)

    def _on_change(self, _change: dict) -> None:
        self.update()

    def _on_base(self, _change: dict) -> None:
        base_frame = self._decode(self._base())
        self._peak = float(base_frame.max())
        self.base_line.set_ydata(frames_db(base_frame, reference=self._peak))
        self.update()

    def reset(self) -> None:
        """All sliders back to 0 (one redraw)."""
        for slider in self.sliders:
            slider.unobserve(self._on_change, names="value")
            slider.value = 0.0
            slider.observe(self._on_change, names="value")
        self.update()

    def play(self, seconds: float = 0.75) -> np.ndarray:
        """Put a player for the current frame, held ``seconds``, in the view; returns the sound."""
        wave = hold_frame(self.decoded(), seconds, self.config)
        self.player.children = (
            widgets.Audio(
                value=_wav_bytes(wave, self.config.sample_rate),
                format="wav",
                autoplay=True,
                loop=False,
            ),
        )
        return wave

    # ------------------------------------------------------------------ static version

    def static_figure(
        self, values: Sequence[float] = (-2.0, 0.0, 2.0), n_directions: int | None = None
    ) -> Figure:
        """Decoded frames for a few settings of each slider (the others at 0), as a grid.

        Rows are principal directions, columns slider values; the start point's
        frame is drawn in grey in every panel.
        """
        n = len(self.sliders) if n_directions is None else min(n_directions, len(self.sliders))
        base = self._base()
        grid = np.empty((n, len(values), self.config.n_bins), dtype=np.float32)
        for k in range(n):
            offsets = np.zeros(n)
            points = []
            for value in values:
                offsets[k] = value
                points.append(self.pca.point(offsets, base=base))
            grid[k] = decode_latents(self.network, np.stack(points), encoder=self.encoder)
        return plot_frame_grid(
            grid,
            [f"PC{k + 1}" for k in range(n)],
            [f"{value:+g} σ" for value in values],
            reference=self._decode(base),
            config=self.config,
            title=f"Decoder {self.encoder} along the top principal directions of encoder {self.encoder}'s codes",
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def latent_explorer(
    model: MaskingNetwork | NeuralSeparator, codes: LatentSet, **options: object
) -> LatentExplorer:
    """Build a :class:`LatentExplorer`; display it with ``display(explorer.widget)``."""
    return LatentExplorer(model, codes, **options)
