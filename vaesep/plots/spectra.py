"""Waveforms, spectrograms and masks: the time-frequency pictures of every notebook.

Notebook 01 introduces them ("Looking at one test mixture", "Why this STFT",
"Oracle masks: the ceiling"); notebooks 02, 03, 04 and 06 show separated sources with
:func:`plot_spectrograms`. Spectrograms and masks are given time-major,
``(n_frames, n_bins)``, as the networks hold them; only the drawing transposes,
to put time across and frequency up. Every function returns its Figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from vaesep.audio import SAMPLE_RATE
from vaesep.spectral import DEFAULT_STFT, STFTConfig, magnitude, stft

DB_RANGE = 80.0
"""Dynamic range shown in spectrograms (dB below each figure's loudest bin)."""
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_HARMONIC_COLOURS = ("white", "cyan", "lime", "yellow")


def _magnitudes(wave: np.ndarray, config: STFTConfig) -> np.ndarray:
    """Magnitude spectrogram ``(n_frames, n_bins)`` of one waveform."""
    return magnitude(stft(np.asarray(wave, dtype=np.float32), config))


def _decibels(spectrum: np.ndarray, peak: float) -> np.ndarray:
    return 20 * np.log10(np.maximum(spectrum / peak, 10 ** (-DB_RANGE / 20)))


def _show(axis, image: np.ndarray, config: STFTConfig, *, first: int = 0,
          value_range: tuple[float, float] = (-DB_RANGE, 0.0), cmap: str = "magma"):
    """Draw ``image`` ``(n_frames, n_bins)`` starting at frame ``first``, time across, frequency up."""
    seconds, half_bin = config.hop_length / config.sample_rate, config.sample_rate / config.n_fft / 2
    extent = (first * seconds, (first + len(image)) * seconds, -half_bin, config.sample_rate / 2 + half_bin)
    return axis.imshow(np.asarray(image).T, origin="lower", aspect="auto", extent=extent, cmap=cmap,
                       vmin=value_range[0], vmax=value_range[1], interpolation="nearest")


def _rows(n_rows: int, height: float = 2.2) -> tuple[Figure, np.ndarray]:
    figure = Figure(figsize=(10.0, height * n_rows), layout="constrained")
    return figure, np.atleast_1d(figure.subplots(n_rows, 1, sharex=True, sharey=True))


def plot_waveforms(signals: Mapping[str, np.ndarray], sr: int = SAMPLE_RATE, title: str | None = None) -> Figure:
    """One row per named waveform ``(n_samples,)``, amplitude against seconds."""
    figure, axes = _rows(len(signals), height=1.4)
    for axis, (name, signal) in zip(axes, signals.items(), strict=True):
        axis.plot(np.arange(len(signal)) / sr, signal, linewidth=0.5)
        axis.set_ylabel(f"{name}\namplitude")
    axes[-1].set_xlabel("time (s)")
    if title:
        figure.suptitle(title)
    return figure


def _image_rows(images: Mapping[str, np.ndarray], config: STFTConfig, value_range: tuple[float, float],
                cmap: str, colour_label: str, title: str | None, max_frequency: float) -> Figure:
    """One row per ``(n_frames, n_bins)`` image on shared axes, one colour bar."""
    figure, axes = _rows(len(images))
    for axis, (name, values) in zip(axes, images.items(), strict=True):
        image = _show(axis, values, config, value_range=value_range, cmap=cmap)
        axis.set_ylim(0, max_frequency)
        axis.set_ylabel(f"{name}\nfrequency (Hz)")
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label=colour_label, shrink=0.8)
    if title:
        figure.suptitle(title)
    return figure


def plot_spectrograms(signals: Mapping[str, np.ndarray], config: STFTConfig = DEFAULT_STFT, *,
                      title: str | None = None, max_frequency: float = 4000.0) -> Figure:
    """Log-magnitude spectrograms on one colour scale (dB re the loudest bin of all).

    Args:
        signals: name → waveform ``(n_samples,)`` at ``config.sample_rate``, or name →
            magnitude spectrogram ``(n_frames, n_bins)`` (time-major).
        max_frequency: top of the frequency axis in Hz (the speech harmonics that
            matter for separation sit below 4 kHz).
    """
    spectra = {name: _magnitudes(s, config) if np.ndim(s) == 1 else np.asarray(s) for name, s in signals.items()}
    peak = max(float(np.max(s)) for s in spectra.values()) or 1.0
    decibels = {name: _decibels(spectrum, peak) for name, spectrum in spectra.items()}
    return _image_rows(decibels, config, (-DB_RANGE, 0.0), "magma", "level (dB re. max)", title, max_frequency)


def plot_masks(masks: Mapping[str, np.ndarray], config: STFTConfig = DEFAULT_STFT, *,
               title: str | None = None, max_frequency: float = 4000.0) -> Figure:
    """Masks ``(n_frames, n_bins)`` (time-major) with values in [0, 1], one row each."""
    return _image_rows(masks, config, (0.0, 1.0), "viridis", "mask value", title, max_frequency)


def plot_stft_resolutions(signal: np.ndarray, configs: Sequence[STFTConfig], *, start: float = 0.0,
                          duration: float = 1.5, max_frequency: float = 1200.0, title: str | None = None) -> Figure:
    """The same excerpt analysed with different STFT settings, one row each.

    Short frames resolve onsets but smear harmonics together; long frames resolve
    harmonics but blur in time. Row titles give frame length, bin spacing and hop.
    """
    figure = Figure(figsize=(10.0, 2.3 * len(configs)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(configs), 1, sharex=True))
    # the window's gain grows with its length; dividing by n_fft puts every row on one scale
    spectra = [_magnitudes(signal, config) / config.n_fft for config in configs]
    peak = max(float(np.max(s)) for s in spectra) or 1.0
    for axis, config, spectrum in zip(axes, configs, spectra, strict=True):
        frame_seconds = config.hop_length / config.sample_rate
        first = int(round(start / frame_seconds))
        last = min(first + max(int(round(duration / frame_seconds)), 1), len(spectrum))
        image = _show(axis, _decibels(spectrum[first:last], peak), config, first=first)
        axis.set_ylim(0, max_frequency)
        axis.set_ylabel("frequency (Hz)")
        axis.set_title(f"n_fft {config.n_fft}: {1000 * config.n_fft / config.sample_rate:.0f} ms frames, "
                       f"{config.sample_rate / config.n_fft:.1f} Hz bins, "
                       f"hop {1000 * frame_seconds:.0f} ms", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label="level (dB re. max)", shrink=0.8)
    if title:
        figure.suptitle(title)
    return figure


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
                       config: STFTConfig = DEFAULT_STFT, start: float = 0.0, duration: float = 1.5,
                       frame_time: float | None = None, max_frequency: float = 1200.0, n_harmonics: int = 8,
                       title: str | None = None) -> Figure:
    """Resolved harmonics: a zoomed spectrogram and the spectrum of one frame.

    Left: the low frequencies of the *last* signal (give the mixture last), each
    source's harmonics ``k·F0(t)`` drawn over it. Right: one frame's spectrum of
    every signal, with the harmonics of each source's F0 in that frame marked.

    Args:
        signals: name → waveform ``(n_samples,)``, e.g. ``{"v": ..., "m": ..., "mixture": ...}``.
        f0_tracks: source name → F0 per STFT frame (NaN when unvoiced), e.g. ``estimate_f0(wave).f0_hz``.
        start, duration: the time window shown on the left, in seconds.
        frame_time: the frame shown on the right. Default: in the window, the frame where
            every tracked source is voiced and the quieter is loudest (both sets of harmonics
            show); the window's middle if there is none.
    """
    f0_tracks = dict(f0_tracks or {})
    spectra = {name: _magnitudes(s, config) for name, s in signals.items()}
    peak = max(float(np.max(s)) for s in spectra.values()) or 1.0
    names = list(spectra)
    shown = spectra[names[-1]]
    frame_seconds = config.hop_length / config.sample_rate
    first = int(round(start / frame_seconds))
    last = min(first + int(round(duration / frame_seconds)), len(shown))
    if last <= first:
        raise ValueError(f"the window start={start} s, duration={duration} s holds no frame")
    if frame_time is None:
        frame = _both_audible_frame(spectra, f0_tracks, first, last)
    else:
        frame = int(round(frame_time / frame_seconds))
    frame = min(frame, len(shown) - 1)
    frequencies = config.bin_frequencies()

    figure = Figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1.6, 1.0])
    image = _show(left, _decibels(shown[first:last], peak), config, first=first)
    times = np.arange(first, last) * frame_seconds
    for index, (name, track) in enumerate(f0_tracks.items()):
        track = np.asarray(track, dtype=float)[first:last]
        for k in range(1, n_harmonics + 1):
            left.plot(times[: track.size], k * track, color=_HARMONIC_COLOURS[index % len(_HARMONIC_COLOURS)],
                      linewidth=0.7, alpha=0.55, linestyle="--" if index % 2 else ":",
                      label=f"k·F0 of {name}" if k == 1 else None)
    left.axvline(frame * frame_seconds, color="0.8", linewidth=0.8)
    left.set_ylim(0, max_frequency)
    left.set_xlabel("time (s)")
    left.set_ylabel(f"{names[-1]}\nfrequency (Hz)")
    if f0_tracks:
        left.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="white")
    figure.colorbar(image, ax=left, label="level (dB re. max)", shrink=0.9)

    # the shown signal (the mixture) as a broad grey band behind the sources' thin lines
    right.plot(frequencies, _decibels(shown[frame], peak), linewidth=3.0, color="0.75", label=names[-1])
    for index, name in enumerate(names[:-1]):
        right.plot(frequencies, _decibels(spectra[name][frame], peak), linewidth=1.0,
                   color=COLOURS[index % len(COLOURS)], label=name)
    for name, track in f0_tracks.items():
        f0 = float(np.asarray(track, dtype=float)[frame]) if frame < len(track) else float("nan")
        if not np.isfinite(f0):
            continue
        colour = COLOURS[names.index(name) % len(COLOURS)] if name in names else "0.4"
        for k in range(1, n_harmonics + 1):
            right.axvline(k * f0, color=colour, linewidth=0.6, linestyle=":", alpha=0.8)
    right.set_xlim(0, max_frequency)
    right.set_ylim(-DB_RANGE, 3)
    right.set_xlabel("frequency (Hz)")
    right.set_ylabel("level (dB re. max)")
    right.set_title(f"one frame at {frame * frame_seconds:.2f} s (dotted: k·F0)", fontsize=9)
    right.legend(fontsize=8)
    right.grid(alpha=0.3)
    if title:
        figure.suptitle(title)
    return figure
