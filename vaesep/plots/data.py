"""Figures about the data: split sizes, pitch, levels, and what the STFT resolves.

Notebook 01 uses all of them. Every function returns a matplotlib Figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from vaesep.plots.spectrograms import DB_RANGE
from vaesep.spectral import DEFAULT_STFT, STFTConfig, magnitude, stft

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
_HARMONIC_COLOURS = ("white", "cyan", "lime", "yellow")


def plot_split_durations(dataset, title: str | None = None) -> Figure:
    """Minutes of audio per split and source (horizontal bars), languages in the labels.

    Args:
        dataset: a :class:`vaesep.data.BuiltDataset`.
    """
    languages = dataset.manifest.get("notes", {}).get("languages", {})
    splits = list(dataset.splits)
    names = list(dataset.source_names)
    figure = Figure(figsize=(7.5, 0.55 * len(splits) * len(names) + 1.2), layout="constrained")
    axis = figure.subplots()
    height = 0.8 / len(names)
    positions = np.arange(len(splits))
    for index, name in enumerate(names):
        minutes = [dataset.duration_seconds(split)[name] / 60.0 for split in splits]
        bars = axis.barh(
            positions + (index - (len(names) - 1) / 2) * height,
            minutes,
            height=height,
            color=_COLOURS[index % len(_COLOURS)],
            label=f"source {name}",
        )
        axis.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
    labels = [f"{split} ({languages[split]})" if split in languages else split for split in splits]
    axis.set_yticks(positions, labels)
    axis.invert_yaxis()
    axis.set_xlabel("duration of the split's stream (minutes)")
    axis.margins(x=0.12)
    axis.legend(loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title or f"{dataset.name}: audio per split")
    return figure


def plot_f0_histograms(
    f0: Mapping[str, np.ndarray],
    *,
    title: str | None = None,
    fmin: float = 50.0,
    fmax: float = 500.0,
    n_bins: int = 60,
) -> Figure:
    """Distributions of voiced-frame F0, one histogram per label, on a log-frequency axis.

    Args:
        f0: label (e.g. ``"v, Dutch"``) → F0 values in Hz.
        fmin, fmax: the axis range in Hz.
    """
    figure = Figure(figsize=(8.0, 3.4), layout="constrained")
    axis = figure.subplots()
    edges = np.geomspace(fmin, fmax, n_bins + 1)
    for index, (label, values) in enumerate(f0.items()):
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        if not values.size:
            continue
        colour = _COLOURS[index % len(_COLOURS)]
        median = float(np.median(values))
        weights = np.full(values.size, 100.0 / values.size)
        axis.hist(
            values,
            bins=edges,
            weights=weights,
            histtype="step",
            linewidth=1.6,
            color=colour,
            linestyle="-" if index % 2 == 0 else "--",
            label=f"{label}: median {median:.0f} Hz",
        )
        axis.axvline(median, color=colour, linewidth=0.8, alpha=0.7)
    axis.set_xscale("log")
    ticks = [tick for tick in (50, 70, 100, 150, 200, 300, 400, 500) if fmin <= tick <= fmax]
    axis.set_xticks(ticks, [str(tick) for tick in ticks])
    axis.minorticks_off()
    axis.set_xlim(fmin, fmax)
    axis.set_xlabel("fundamental frequency F0 (Hz, log scale)")
    axis.set_ylabel("share of voiced frames (%)")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    if title:
        axis.set_title(title)
    return figure


def plot_db_histograms(
    values: Mapping[str, np.ndarray],
    *,
    xlabel: str,
    title: str | None = None,
    bins: int | np.ndarray = 60,
    reference_lines: Mapping[str, float] | None = None,
) -> Figure:
    """Histograms of dB values (levels, local SNRs), one per label, as shares in %.

    Args:
        values: label → values in dB.
        xlabel: what the values are, with the unit.
        reference_lines: label → x position drawn as a dotted vertical line.
    """
    figure = Figure(figsize=(8.0, 3.2), layout="constrained")
    axis = figure.subplots()
    arrays = {label: np.asarray(v, dtype=float) for label, v in values.items()}
    finite = [v[np.isfinite(v)] for v in arrays.values() if np.isfinite(v).any()]
    if isinstance(bins, int) and finite:
        low = min(float(np.percentile(v, 0.5)) for v in finite)
        high = max(float(np.percentile(v, 99.5)) for v in finite)
        bins = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    for index, (label, array) in enumerate(arrays.items()):
        array = array[np.isfinite(array)]
        if not array.size:
            continue
        axis.hist(
            array,
            bins=bins,
            weights=np.full(array.size, 100.0 / array.size),
            histtype="step",
            linewidth=1.6,
            color=_COLOURS[index % len(_COLOURS)],
            label=label,
        )
    for label, position in (reference_lines or {}).items():
        axis.axvline(position, linestyle=":", color="0.3")
        axis.annotate(label, (position, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                      textcoords="offset points", fontsize=8)
    axis.set_xlabel(xlabel)
    axis.set_ylabel("share of frames (%)")
    axis.legend(fontsize=8)
    axis.grid(alpha=0.3)
    if title:
        axis.set_title(title)
    return figure


def _decibels(spectrum: np.ndarray, peak: float) -> np.ndarray:
    return 20 * np.log10(np.maximum(spectrum / peak, 10 ** (-DB_RANGE / 20)))


def _both_audible_frame(
    spectra: Mapping[str, np.ndarray], f0_tracks: Mapping[str, np.ndarray], first: int, last: int
) -> int:
    """The frame in [first, last) where all tracked sources are voiced and the quietest is loudest."""
    tracked = [name for name in f0_tracks if name in spectra]
    if not tracked:
        return (first + last) // 2
    frames = np.arange(first, last)
    voiced = np.ones(frames.size, dtype=bool)
    for name in tracked:
        track = np.asarray(f0_tracks[name], dtype=float)
        padded = np.full(last, np.nan)
        padded[: min(track.size, last)] = track[:last]
        voiced &= np.isfinite(padded[first:last])
    if not voiced.any():
        return (first + last) // 2
    energy = np.min([np.sum(np.square(spectra[name][:, first:last]), axis=0) for name in tracked], axis=0)
    return int(frames[voiced][np.argmax(energy[voiced])])


def plot_harmonic_zoom(
    signals: Mapping[str, np.ndarray],
    f0_tracks: Mapping[str, np.ndarray] | None = None,
    *,
    config: STFTConfig = DEFAULT_STFT,
    start: float = 0.0,
    duration: float = 1.5,
    frame_time: float | None = None,
    max_frequency: float = 1200.0,
    n_harmonics: int = 8,
    title: str | None = None,
) -> Figure:
    """Resolved harmonics: a zoomed spectrogram and the spectrum of one frame.

    Left: the low-frequency part of the *last* signal in ``signals`` (give
    the mixture last) with each source's harmonics ``k·F0(t)`` drawn over it.
    Right: one frame's spectrum of every signal, with the harmonics of each
    source's F0 in that frame marked.

    Args:
        signals: name → waveform ``(n_samples,)`` at ``config.sample_rate``
            (e.g. ``{"v": ..., "m": ..., "mixture": ...}``).
        f0_tracks: source name → F0 per STFT frame of the whole signal
            (NaN when unvoiced), e.g. ``estimate_f0(wave).f0_hz``.
        start, duration: the time window shown on the left, in seconds.
        frame_time: the frame shown on the right. Default: within the window, the
            frame where every tracked source is voiced and the quieter of them is
            loudest (so both sets of harmonics show); the window's middle if none is.
        max_frequency: upper limit of both frequency axes in Hz.
        n_harmonics: harmonics drawn per source.
    """
    f0_tracks = dict(f0_tracks or {})
    # (n_bins, n_frames) here: turned round for display, frequency upwards
    spectra = {name: magnitude(stft(np.asarray(s, dtype=np.float32), config)).T for name, s in signals.items()}
    peak = max(float(np.max(s)) for s in spectra.values()) or 1.0
    names = list(spectra)
    shown = names[-1]
    frame_seconds = config.hop_length / config.sample_rate
    first = int(round(start / frame_seconds))
    last = min(first + int(round(duration / frame_seconds)), spectra[shown].shape[1])
    if last <= first:
        raise ValueError(f"the window start={start} s, duration={duration} s holds no frame")
    if frame_time is None:
        frame = _both_audible_frame(spectra, f0_tracks, first, last)
    else:
        frame = int(round(frame_time / frame_seconds))
    frame = min(frame, spectra[shown].shape[1] - 1)
    frequencies = config.bin_frequencies()

    figure = Figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1.6, 1.0])
    image = left.imshow(
        _decibels(spectra[shown][:, first:last], peak),
        origin="lower",
        aspect="auto",
        extent=(first * frame_seconds, last * frame_seconds, -frequencies[1] / 2,
                frequencies[-1] + frequencies[1] / 2),
        vmin=-DB_RANGE,
        vmax=0.0,
        cmap="magma",
        interpolation="nearest",
    )
    times = np.arange(first, last) * frame_seconds
    for index, (name, track) in enumerate(f0_tracks.items()):
        track = np.asarray(track, dtype=float)[first:last]
        colour = _HARMONIC_COLOURS[index % len(_HARMONIC_COLOURS)]
        for k in range(1, n_harmonics + 1):
            left.plot(times[: track.size], k * track, color=colour, linewidth=0.7, alpha=0.55,
                      linestyle="--" if index % 2 else ":", label=f"k·F0 of {name}" if k == 1 else None)
    left.axvline(frame * frame_seconds, color="0.8", linewidth=0.8)
    left.set_ylim(0, max_frequency)
    left.set_xlabel("time (s)")
    left.set_ylabel(f"{shown}\nfrequency (Hz)")
    if f0_tracks:
        left.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="white")
    figure.colorbar(image, ax=left, label="level (dB re. max)", shrink=0.9)

    # the shown signal (the mixture) as a broad grey band behind the sources' thin lines
    right.plot(frequencies, _decibels(spectra[shown][:, frame], peak), linewidth=3.0, color="0.75", label=shown)
    for index, name in enumerate(names[:-1]):
        right.plot(frequencies, _decibels(spectra[name][:, frame], peak), linewidth=1.0,
                   color=_COLOURS[index % len(_COLOURS)], label=name)
    for name, track in f0_tracks.items():
        f0 = float(np.asarray(track, dtype=float)[frame]) if frame < len(track) else float("nan")
        if np.isfinite(f0):
            colour = _COLOURS[names.index(name) % len(_COLOURS)] if name in names else "0.4"
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


def plot_stft_resolutions(
    signal: np.ndarray,
    configs: Sequence[STFTConfig],
    *,
    start: float = 0.0,
    duration: float = 1.5,
    max_frequency: float = 1200.0,
    title: str | None = None,
) -> Figure:
    """The same excerpt analysed with different STFT settings, one row each.

    Short frames resolve onsets but smear harmonics together; long frames
    resolve harmonics but blur in time. Row titles give each setting's frame
    length, bin spacing and hop.
    """
    figure = Figure(figsize=(10.0, 2.3 * len(configs)), layout="constrained")
    axes = np.atleast_1d(figure.subplots(len(configs), 1, sharex=True))
    spectra = []
    for config in configs:
        spectrum = magnitude(stft(np.asarray(signal, dtype=np.float32), config)).T  # (n_bins, n_frames) for display
        # the window's gain grows with its length; normalise so rows share one scale
        spectra.append(spectrum / config.n_fft)
    peak = max(float(np.max(s)) for s in spectra) or 1.0
    image = None
    for axis, config, spectrum in zip(axes, configs, spectra, strict=True):
        frame_seconds = config.hop_length / config.sample_rate
        first = int(round(start / frame_seconds))
        last = min(first + max(int(round(duration / frame_seconds)), 1), spectrum.shape[1])
        frequencies = config.bin_frequencies()
        image = axis.imshow(
            _decibels(spectrum[:, first:last], peak),
            origin="lower",
            aspect="auto",
            extent=(first * frame_seconds, last * frame_seconds, -frequencies[1] / 2,
                    frequencies[-1] + frequencies[1] / 2),
            vmin=-DB_RANGE,
            vmax=0.0,
            cmap="magma",
            interpolation="nearest",
        )
        axis.set_ylim(0, max_frequency)
        axis.set_ylabel("frequency (Hz)")
        axis.set_title(
            f"n_fft {config.n_fft}: {1000 * config.n_fft / config.sample_rate:.0f} ms frames, "
            f"{config.sample_rate / config.n_fft:.1f} Hz bins, hop {1000 * config.hop_length / config.sample_rate:.0f} ms",
            fontsize=9,
        )
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label="level (dB re. max)", shrink=0.8)
    if title:
        figure.suptitle(title)
    return figure

