"""Waveforms, spectrograms and masks: the time-frequency pictures of every notebook.

Notebook 01 introduces them ("Looking at one test mixture", "Why this STFT", "Oracle masks:
the ceiling"); notebooks 02, 03, 04 and 06 show separated sources. Spectrograms and masks are
given time-major, ``(n_frames, n_bins)``, as the networks hold them; only the drawing
transposes, to put time across and frequency up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from vaesep.audio import SAMPLE_RATE
from vaesep.spectral import DEFAULT_STFT, STFTConfig, magnitude, stft

DB_RANGE = 80.0  # dynamic range shown, dB below each figure's loudest bin
DB_LABEL = "level (dB re. max)"
ZOOM = 1200.0  # Hz: the top of the zoomed views, where the low harmonics are resolved


def with_title(figure: Figure, title: str | None) -> Figure:
    """``figure``, with ``title`` above it if one is given."""
    if title:
        figure.suptitle(title)
    return figure


def _magnitudes(signals: Mapping[str, np.ndarray], config: STFTConfig) -> tuple[dict[str, np.ndarray], float]:
    """Magnitude spectrograms ``(n_frames, n_bins)`` of waveforms (spectrograms pass through), and their peak."""
    spectra = {name: magnitude(stft(np.asarray(s, dtype=np.float32), config)) if np.ndim(s) == 1 else np.asarray(s)
               for name, s in signals.items()}
    return spectra, max(float(np.max(s)) for s in spectra.values()) or 1.0


def _decibels(spectrum: np.ndarray, peak: float) -> np.ndarray:
    return 20 * np.log10(np.maximum(spectrum / peak, 10 ** (-DB_RANGE / 20)))


def _show(axis, image: np.ndarray, config: STFTConfig, max_frequency: float, *, first: int = 0,
          value_range: tuple[float, float] = (-DB_RANGE, 0.0), cmap: str = "magma"):
    """Draw ``image`` ``(n_frames, n_bins)`` from frame ``first`` on, time across, frequency up."""
    seconds, half_bin = config.hop_length / config.sample_rate, config.sample_rate / config.n_fft / 2
    extent = (first * seconds, (first + len(image)) * seconds, -half_bin, config.sample_rate / 2 + half_bin)
    shown = axis.imshow(np.asarray(image).T, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                        vmin=value_range[0], vmax=value_range[1], interpolation="nearest")
    axis.set_ylim(0, max_frequency)
    return shown


def _rows(n_panels: int, height: float = 2.2) -> tuple[Figure, np.ndarray]:
    """One panel per row; past six, two columns of shorter panels (no page-long figure)."""
    columns = 1 if n_panels <= 6 else 2
    n_rows, height = -(-n_panels // columns), height if columns == 1 else 0.75 * height
    figure = Figure(figsize=(10.0 if columns == 1 else 12.0, height * n_rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(n_rows, columns, sharex=True, sharey=True)).ravel()
    for spare in axes[n_panels:]:
        spare.set_visible(False)
    return figure, axes[:n_panels]


def plot_waveforms(signals: Mapping[str, np.ndarray], sr: int = SAMPLE_RATE, title: str | None = None) -> Figure:
    """One row per named waveform ``(n_samples,)``, amplitude against seconds."""
    figure, axes = _rows(len(signals), height=1.4)
    for axis, (name, signal) in zip(axes, signals.items(), strict=True):
        axis.plot(np.arange(len(signal)) / sr, signal, linewidth=0.5)
        axis.set_ylabel(f"{name}\namplitude")
    axes[-1].set_xlabel("time (s)")
    return with_title(figure, title)


def _image_rows(images: Mapping[str, np.ndarray], value_range: tuple[float, float], cmap: str,
                colour_label: str, title: str | None, max_frequency: float) -> Figure:
    """One row per ``(n_frames, n_bins)`` image on shared axes, one colour bar."""
    figure, axes = _rows(len(images))
    for axis, (name, values) in zip(axes, images.items(), strict=True):
        image = _show(axis, values, DEFAULT_STFT, max_frequency, value_range=value_range, cmap=cmap)
        axis.set_ylabel(f"{name}\nfrequency (Hz)")
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label=colour_label, shrink=0.8)
    return with_title(figure, title)


def plot_spectrograms(signals: Mapping[str, np.ndarray], *, title: str | None = None,
                      max_frequency: float = 4000.0) -> Figure:
    """Log-magnitude spectrograms of waveforms ``(n_samples,)`` or magnitudes ``(n_frames, n_bins)``,
    on one colour scale (dB re the loudest bin of all); speech harmonics that matter sit below 4 kHz."""
    spectra, peak = _magnitudes(signals, DEFAULT_STFT)
    decibels = {name: _decibels(spectrum, peak) for name, spectrum in spectra.items()}
    return _image_rows(decibels, (-DB_RANGE, 0.0), "magma", DB_LABEL, title, max_frequency)


def plot_masks(masks: Mapping[str, np.ndarray], *, title: str | None = None) -> Figure:
    """Masks ``(n_frames, n_bins)`` (time-major) with values in [0, 1], one row each."""
    return _image_rows(masks, (0.0, 1.0), "viridis", "mask value", title, 4000.0)


def plot_stft_resolutions(signal: np.ndarray, configs: Sequence[STFTConfig], *, start: float = 0.0,
                          duration: float = 1.5, title: str | None = None) -> Figure:
    """The same excerpt under different STFT settings, one row each: short frames resolve onsets
    but smear harmonics, long frames resolve harmonics but blur in time."""
    figure = Figure(figsize=(10.0, 2.3 * len(configs)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(configs), 1, sharex=True))
    # the window's gain grows with its length; dividing by n_fft puts every row on one scale
    spectra = [_magnitudes({"": signal}, config)[0][""] / config.n_fft for config in configs]
    peak = max(float(np.max(s)) for s in spectra) or 1.0
    for axis, config, spectrum in zip(axes, configs, spectra, strict=True):
        frame_seconds = config.hop_length / config.sample_rate
        first = int(round(start / frame_seconds))
        last = min(first + max(int(round(duration / frame_seconds)), 1), len(spectrum))
        image = _show(axis, _decibels(spectrum[first:last], peak), config, ZOOM, first=first)
        axis.set_ylabel("frequency (Hz)")
        axis.set_title(f"n_fft {config.n_fft}: {1000 * config.n_fft / config.sample_rate:.0f} ms frames, "
                       f"{config.sample_rate / config.n_fft:.1f} Hz bins, "
                       f"hop {1000 * frame_seconds:.0f} ms", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label=DB_LABEL, shrink=0.8)
    return with_title(figure, title)


def _both_audible_frame(spectra: Mapping[str, np.ndarray], f0_tracks: Mapping[str, np.ndarray],
                        first: int, last: int) -> int:
    """The frame in [first, last) where every tracked source is voiced and the quietest is loudest."""
    tracked = [name for name in f0_tracks if name in spectra]
    voiced = np.ones(last - first, dtype=bool)
    for name in tracked:
        track = np.full(last, np.nan)
        given = np.asarray(f0_tracks[name], dtype=float)[:last]
        track[: given.size] = given
        voiced &= np.isfinite(track[first:last])
    if not tracked or not voiced.any():
        return (first + last) // 2
    energy = np.min([np.sum(np.square(spectra[name][first:last]), axis=1) for name in tracked], axis=0)
    return int(np.arange(first, last)[voiced][np.argmax(energy[voiced])])


def plot_harmonic_zoom(signals: Mapping[str, np.ndarray], f0_tracks: Mapping[str, np.ndarray] | None = None, *,
                       start: float = 0.0, duration: float = 1.5, title: str | None = None) -> Figure:
    """Resolved harmonics: left, the low frequencies of the *last* waveform (the mixture) from
    ``start`` for ``duration`` seconds, with each source's ``k·F0(t)``, k ≤ 8, drawn over it
    (``f0_tracks``: source → F0 per STFT frame, NaN unvoiced); right, the spectrum of every signal
    with the harmonics marked in the frame where every tracked source is voiced and the quieter is
    loudest (the window's middle if there is none)."""
    f0_tracks = dict(f0_tracks or {})
    spectra, peak = _magnitudes(signals, DEFAULT_STFT)
    names = list(spectra)
    shown = spectra[names[-1]]
    frame_seconds = DEFAULT_STFT.hop_length / DEFAULT_STFT.sample_rate
    first = int(round(start / frame_seconds))
    last = min(first + int(round(duration / frame_seconds)), len(shown))
    if last <= first:
        raise ValueError(f"the window start={start} s, duration={duration} s holds no frame")
    frame = _both_audible_frame(spectra, f0_tracks, first, last)
    frequencies = DEFAULT_STFT.bin_frequencies()

    figure = Figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1.6, 1.0])
    image = _show(left, _decibels(shown[first:last], peak), DEFAULT_STFT, ZOOM, first=first)
    times = np.arange(first, last) * frame_seconds
    for index, (name, track) in enumerate(f0_tracks.items()):
        track = np.asarray(track, dtype=float)[first:last]
        for k in range(1, 9):
            left.plot(times[: track.size], k * track, color=("white", "cyan", "lime", "yellow")[index % 4],
                      linewidth=0.7, alpha=0.55, linestyle="--" if index % 2 else ":",
                      label=f"k·F0 of {name}" if k == 1 else None)
    left.axvline(frame * frame_seconds, color="0.8", linewidth=0.8)
    left.set(xlabel="time (s)", ylabel=f"{names[-1]}\nfrequency (Hz)")
    if f0_tracks:
        left.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="white")
    figure.colorbar(image, ax=left, label=DB_LABEL, shrink=0.9)

    # the shown signal (the mixture) as a broad grey band behind the sources' thin lines
    right.plot(frequencies, _decibels(shown[frame], peak), linewidth=3.0, color="0.75", label=names[-1])
    for index, name in enumerate(names[:-1]):
        right.plot(frequencies, _decibels(spectra[name][frame], peak), linewidth=1.0, color=f"C{index}", label=name)
    for name, track in f0_tracks.items():
        f0 = float(np.asarray(track, dtype=float)[frame]) if frame < len(track) else float("nan")
        for k in range(1, 9) if np.isfinite(f0) else ():
            right.axvline(k * f0, color=f"C{names.index(name)}" if name in names else "0.4",
                          linewidth=0.6, linestyle=":", alpha=0.8)
    right.set(xlim=(0, ZOOM), ylim=(-DB_RANGE, 3), xlabel="frequency (Hz)", ylabel=DB_LABEL)
    right.set_title(f"one frame at {frame * frame_seconds:.2f} s (dotted: k·F0)", fontsize=9)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    return with_title(figure, title)
