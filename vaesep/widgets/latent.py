"""Sliders over one encoder's latent space, decoded live (notebook 03, section 5 "Exploring by hand").

Each slider moves a latent point along one of the top principal directions of the encoder's
posterior means, in standard deviations of the cloud along it; the matching decoder turns the
point into a spectrum frame. The figure is rendered to PNG in an ``ipywidgets.Image``, so the
view looks the same in JupyterLab, Notebook, VS Code and Colab (ipywidgets 7 and 8) and builds
with no frontend at all (tests, ``nbmake``); :meth:`LatentExplorer.static_figure` draws the
same decodings for a few slider settings, for readers of a static copy.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from IPython.display import Audio
from matplotlib.figure import Figure

from vaesep.latent import LatentSet, as_vae, pca_projection
from vaesep.latent.decoding import decode_latents, griffin_lim
from vaesep.plots.latent import frames_db, plot_frame_grid
from vaesep.spectral import DEFAULT_STFT, STFTConfig

WIDE = widgets.Layout(width="380px")


class LatentExplorer:
    """Sliders over the top ``n_directions`` principal directions of ``encoder``'s codes (default:
    the first encoder), each spanning ± ``slider_range`` σ, from the codes' mean or one of the named
    ``bases`` ``(latent,)``; show it with ``display(explorer.widget)``."""

    def __init__(self, model, codes: LatentSet, *, encoder: str | None = None,
                 bases: Mapping[str, np.ndarray] | None = None, n_directions: int = 4,
                 slider_range: float = 3.0, config: STFTConfig = DEFAULT_STFT,
                 max_frequency: float = 4000.0) -> None:
        self.network, self.config = as_vae(model), config
        self.encoder = encoder or codes.encoder_names[0]
        self.pca = pca_projection(codes.means(self.encoder), n_components=n_directions)
        self.bases = {"mean of the codes": self.pca.mean.astype(np.float32), **dict(bases or {})}
        self.sliders = [widgets.FloatSlider(value=0.0, min=-slider_range, max=slider_range, step=0.1,
                                            description=f"PC{k + 1} ({100 * share:.0f} %)", continuous_update=False,
                                            readout_format="+.1f", style={"description_width": "90px"}, layout=WIDE)
                        for k, share in enumerate(self.pca.explained)]
        self.base_menu = widgets.Dropdown(options=list(self.bases), description="start at", layout=WIDE)
        reset_button = widgets.Button(description="reset sliders", icon="undo")
        play_button = widgets.Button(description="play frame", icon="play")
        self.player, self.image = widgets.Box(), widgets.Image(format="png")

        self.figure = Figure(figsize=(7.5, 3.2), layout="constrained")
        self.axis = self.figure.subplots()
        freqs = config.bin_frequencies()
        (self.base_line,) = self.axis.plot(freqs, freqs * 0, color="0.7", linewidth=1.0, label="start point")
        (self.line,) = self.axis.plot(freqs, freqs * 0, color="tab:purple", linewidth=1.2, label="slider point")
        self.axis.set(xlim=(0, max_frequency), xlabel="frequency (Hz)", ylabel="decoded level (dB re start)")
        self.axis.legend(loc="upper right", fontsize="small")
        self._draw_base()
        shown = self.base_line.get_ydata()[freqs <= max_frequency]
        self.axis.set_ylim(max(-80.0, float(np.floor(shown.min() / 10.0) * 10.0) - 20.0), 15)

        for slider in self.sliders:
            slider.observe(self._on_change, names="value")
        self.base_menu.observe(self._on_base, names="value")
        reset_button.on_click(lambda _button: self.reset())
        play_button.on_click(lambda _button: self.play())
        controls = widgets.HBox([widgets.VBox([self.base_menu, *self.sliders]),
                                 widgets.VBox([reset_button, play_button, self.player])])
        self.widget = widgets.VBox([controls, self.image])
        self.update()

    def _decode(self, z: np.ndarray) -> np.ndarray:
        return decode_latents(self.network, np.atleast_2d(z), encoder=self.encoder)

    def _draw_base(self) -> None:
        """Decode the start point; its peak is the plot's 0 dB."""
        base_frame = self._decode(self.bases[self.base_menu.value])[0]
        self._peak = float(base_frame.max())
        self.base_line.set_ydata(frames_db(base_frame, reference=self._peak))

    @property
    def offsets(self) -> np.ndarray:
        """Slider values: standard deviations along each principal direction."""
        return np.array([slider.value for slider in self.sliders])

    def latent(self) -> np.ndarray:
        """The latent point ``(latent,)`` the sliders describe."""
        return self.pca.point(self.offsets, base=self.bases[self.base_menu.value])

    def update(self) -> None:
        """Decode the current point, redraw its line and re-render the image."""
        self.line.set_ydata(frames_db(self._decode(self.latent())[0], reference=self._peak))
        self.axis.set_title(f"decoder {self.encoder}: offsets {np.round(self.offsets, 1).tolist()}, "
                            f"‖z‖ = {np.linalg.norm(self.latent()):.1f}", fontsize="small")
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=90)
        self.image.value = buffer.getvalue()

    def _on_change(self, _change: dict) -> None:
        self.update()

    def _on_base(self, _change: dict) -> None:
        self._draw_base()
        self.update()

    def reset(self) -> None:
        """All sliders back to 0, with one redraw instead of one per slider."""
        for slider in self.sliders:
            slider.unobserve(self._on_change, names="value")
            slider.value = 0.0
            slider.observe(self._on_change, names="value")
        self.update()

    def play(self, seconds: float = 0.75) -> np.ndarray:
        """Put a player of the current frame, held ``seconds`` (Griffin-Lim, faded), in the view."""
        n_frames = max(int(seconds * self.config.sample_rate / self.config.hop_length), 2)
        frames = np.repeat(self._decode(self.latent()), n_frames, axis=0)
        wave = griffin_lim(frames, n_iter=16, config=self.config)
        ramp = np.linspace(0.0, 1.0, min(len(wave) // 8, 800), dtype=np.float32)
        wave[: ramp.size] *= ramp
        wave[len(wave) - ramp.size :] *= ramp[::-1]
        # IPython's Audio writes the 16-bit PCM WAV that every browser plays
        wav = Audio(np.clip(wave, -1.0, 1.0), rate=self.config.sample_rate, normalize=False).data
        self.player.children = (widgets.Audio(value=wav, format="wav", autoplay=True, loop=False),)
        return wave

    def static_figure(self, values: Sequence[float] = (-2.0, 0.0, 2.0), n_directions: int | None = None) -> Figure:
        """Decoded frames for a few values of each slider (the others at 0): rows are principal
        directions, columns slider values, the start point in grey."""
        n = len(self.sliders) if n_directions is None else min(n_directions, len(self.sliders))
        base = self.bases[self.base_menu.value]
        grid = np.stack([self._decode(np.stack([self.pca.point(np.eye(n)[k] * value, base=base) for value in values]))
                         for k in range(n)])
        return plot_frame_grid(
            grid, [f"PC{k + 1}" for k in range(n)], [f"{value:+g} σ" for value in values],
            reference=self._decode(base)[0], config=self.config,
            title=f"Decoder {self.encoder} along the top principal directions of encoder {self.encoder}'s codes",
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
