"""Sliders over one encoder's latent space, decoded live (notebook 03, 5 "Exploring by hand").
The figure is a PNG in an ``ipywidgets.Image``: the same in every frontend (ipywidgets 7 and 8)
and built with none (tests, ``nbmake``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
import numpy as np
from IPython.display import Audio
from matplotlib.figure import Figure

from vaesep.latent import LatentSet, as_vae, pca_projection
from vaesep.latent.decoding import decode_latents, griffin_lim
from vaesep.plots.latent import plot_frame_grid
from vaesep.spectral import DEFAULT_STFT

WIDE = widgets.Layout(width="380px")


class LatentExplorer:
    """Sliders (± 3 σ) along the top ``n_directions`` principal directions of ``encoder``'s codes,
    from their mean or one of the named ``bases``; show it with ``display(explorer.widget)``."""

    def __init__(self, model, codes: LatentSet, *, encoder: str | None = None,
                 bases: Mapping[str, np.ndarray] | None = None, n_directions: int = 4) -> None:
        self.network = as_vae(model)
        self.encoder = encoder or codes.encoder_names[0]
        self.pca = pca_projection(codes.means(self.encoder), n_components=n_directions)
        self.bases = {"mean of the codes": self.pca.mean.astype(np.float32), **dict(bases or {})}
        self.sliders = [widgets.FloatSlider(
            value=0.0, min=-3.0, max=3.0, step=0.1, description=f"PC{k + 1} ({100 * share:.0f} %)",
            continuous_update=False, readout_format="+.1f", style={"description_width": "90px"},
            layout=WIDE) for k, share in enumerate(self.pca.explained)]
        self.base_menu = widgets.Dropdown(options=list(self.bases), description="start at",
                                          layout=WIDE)
        reset_button = widgets.Button(description="reset sliders", icon="undo")
        play_button = widgets.Button(description="play frame", icon="play")
        self.player, self.image = widgets.Box(), widgets.Image(format="png")
        for control in (*self.sliders, self.base_menu):
            control.observe(self.update, names="value")
        reset_button.on_click(lambda _button: self.reset())
        play_button.on_click(lambda _button: self.play())
        controls = widgets.HBox([widgets.VBox([self.base_menu, *self.sliders]),
                                 widgets.VBox([reset_button, play_button, self.player])])
        self.widget = widgets.VBox([controls, self.image])
        self.update()

    def _decode(self, z: np.ndarray) -> np.ndarray:
        return decode_latents(self.network, np.atleast_2d(z), encoder=self.encoder)

    @property
    def offsets(self) -> np.ndarray:
        """Slider values: standard deviations along each principal direction."""
        return np.array([slider.value for slider in self.sliders])

    def latent(self) -> np.ndarray:
        """The latent point ``(latent,)`` the sliders describe."""
        return self.pca.point(self.offsets, base=self.bases[self.base_menu.value])

    def update(self, _change: dict | None = None) -> None:
        """Decode the current point and re-render the image, the start point's frame in grey."""
        z, base = self.latent(), self.bases[self.base_menu.value]
        label = f"offsets {np.round(self.offsets, 1).tolist()}, ‖z‖ = {np.linalg.norm(z):.1f}"
        figure = plot_frame_grid(self._decode(z)[None], [f"decoder {self.encoder}"], [label],
                                 self._decode(base)[0])
        figure.set_size_inches(7.5, 3.2)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90)
        self.image.value = buffer.getvalue()

    def reset(self) -> None:
        """All sliders back to 0, with one redraw instead of one per slider."""
        for slider in self.sliders:
            slider.unobserve(self.update, names="value")
            slider.value = 0.0
            slider.observe(self.update, names="value")
        self.update()

    def play(self, seconds: float = 0.75) -> np.ndarray:
        """Put a player of the current frame, held ``seconds`` (Griffin-Lim, faded), in the view."""
        n_frames = max(int(seconds * DEFAULT_STFT.sample_rate / DEFAULT_STFT.hop_length), 2)
        wave = griffin_lim(np.repeat(self._decode(self.latent()), n_frames, axis=0), n_iter=16)
        ramp = np.linspace(0.0, 1.0, min(len(wave) // 8, 800), dtype=np.float32)
        wave[: ramp.size] *= ramp
        wave[len(wave) - ramp.size :] *= ramp[::-1]
        # IPython's Audio writes the 16-bit PCM WAV that every browser plays
        wav = Audio(np.clip(wave, -1.0, 1.0), rate=DEFAULT_STFT.sample_rate, normalize=False).data
        self.player.children = (widgets.Audio(value=wav, format="wav", autoplay=True, loop=False),)
        return wave

    def static_figure(self, values: Sequence[float] = (-2.0, 0.0, 2.0)) -> Figure:
        """Decoded frames for a few values of each slider (the others at 0), the start in grey."""
        n, base = len(self.sliders), self.bases[self.base_menu.value]
        grid = np.stack([self._decode(np.stack([self.pca.point(np.eye(n)[k] * value, base=base)
                                                for value in values])) for k in range(n)])
        title = (f"Decoder {self.encoder} along the top principal directions of encoder "
                 f"{self.encoder}'s codes")
        return plot_frame_grid(grid, [f"PC{k + 1}" for k in range(n)],
                               [f"{value:+g} σ" for value in values], self._decode(base)[0],
                               title=title)
