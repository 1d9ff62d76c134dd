"""Waveforms, log-magnitude spectrograms and masks, on shared time/frequency axes.

Notebook 01 ("Looking at the data", "Oracle masks: the ceiling") and
notebook 02 ("Separating test mixtures") use these.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from vaesep.audio import SAMPLE_RATE
from vaesep.spectral import DEFAULT_STFT, STFTConfig, magnitude, stft

DB_RANGE = 80.0
"""Dynamic range shown in spectrograms (dB below each figure's loudest bin)."""


def _figure(n_rows: int, height: float = 2.2, width: float = 10.0) -> tuple[Figure, np.ndarray]:
    figure = Figure(figsize=(width, height * n_rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(n_rows, 1, sharex=True, sharey=True))
    return figure, axes


def plot_waveforms(
    signals: Mapping[str, np.ndarray], sr: int = SAMPLE_RATE, title: str | None = None
) -> Figure:
    """One row per named waveform ``(n_samples,)``, amplitude against seconds."""
    figure, axes = _figure(len(signals), height=1.4)
    for axis, (name, signal) in zip(axes, signals.items(), strict=True):
        axis.plot(np.arange(len(signal)) / sr, signal, linewidth=0.5)
        axis.set_ylabel(f"{name}\namplitude")
    axes[-1].set_xlabel("time (s)")
    if title:
        figure.suptitle(title)
    return figure


def plot_spectrograms(
    signals: Mapping[str, np.ndarray],
    config: STFTConfig = DEFAULT_STFT,
    *,
    title: str | None = None,
    max_frequency: float = 4000.0,
) -> Figure:
    """Log-magnitude spectrograms of named waveforms, on one colour scale.

    Args:
        signals: name → waveform ``(n_samples,)`` at ``config.sample_rate``, or
            name → magnitude spectrogram ``(n_frames, n_bins)``.
        max_frequency: upper limit of the frequency axis in Hz (speech
            harmonics that matter for separation sit below 4 kHz).
    """
    spectra = {
        name: magnitude(stft(np.asarray(s, dtype=np.float32), config)) if np.ndim(s) == 1 else np.asarray(s)
        for name, s in signals.items()
    }
    peak = max(float(np.max(s)) for s in spectra.values()) or 1.0
    decibels = {
        name: 20 * np.log10(np.maximum(spectrum / peak, 10 ** (-DB_RANGE / 20)))
        for name, spectrum in spectra.items()
    }
    return _time_frequency_rows(
        decibels, config, (-DB_RANGE, 0.0), "magma", "level (dB re. max)", title, max_frequency
    )


def _time_frequency_rows(
    images: Mapping[str, np.ndarray],
    config: STFTConfig,
    value_range: tuple[float, float],
    cmap: str,
    colour_label: str,
    title: str | None,
    max_frequency: float,
) -> Figure:
    """One row per ``(n_frames, n_bins)`` image on shared time/frequency axes, one colour bar."""
    figure, axes = _figure(len(images))
    image = None
    for axis, (name, values) in zip(axes, images.items(), strict=True):
        duration = values.shape[0] * config.hop_length / config.sample_rate
        image = axis.imshow(
            values.T,  # (n_bins, n_frames): frequency upwards, for display only
            origin="lower",
            aspect="auto",
            extent=(0.0, duration, 0.0, config.sample_rate / 2),
            vmin=value_range[0],
            vmax=value_range[1],
            cmap=cmap,
            interpolation="nearest",
        )
        axis.set_ylim(0, max_frequency)
        axis.set_ylabel(f"{name}\nfrequency (Hz)")
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label=colour_label, shrink=0.8)
    if title:
        figure.suptitle(title)
    return figure


def plot_masks(
    masks: Mapping[str, np.ndarray],
    config: STFTConfig = DEFAULT_STFT,
    *,
    title: str | None = None,
    max_frequency: float = 4000.0,
) -> Figure:
    """Masks ``(n_frames, n_bins)`` with values in [0, 1], one row each."""
    return _time_frequency_rows(masks, config, (0.0, 1.0), "viridis", "mask value", title, max_frequency)
