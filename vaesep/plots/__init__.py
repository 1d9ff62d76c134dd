"""Figures for the notebooks; every function returns its matplotlib Figure.

Spectrograms and masks are time-major, ``(n_frames, n_bins)``, as the networks hold them (01 "Why
this STFT", "Oracle masks"; every notebook); charts show the data (01), training (02), scores (01,
02, 04) and inference (06). Notebook 03's are in :mod:`vaesep.plots.latent` (import it by name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

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


def _magnitudes(signals: Mapping[str, np.ndarray],
                config: STFTConfig) -> tuple[dict[str, np.ndarray], float]:
    """Magnitudes ``(n_frames, n_bins)`` of waveforms (spectrograms pass through); their peak."""
    spectra = {name: np.asarray(s) if np.ndim(s) != 1
               else magnitude(stft(np.asarray(s, dtype=np.float32), config))
               for name, s in signals.items()}
    return spectra, max(float(np.max(s)) for s in spectra.values()) or 1.0


def _decibels(spectrum: np.ndarray, peak: float) -> np.ndarray:
    return 20 * np.log10(np.maximum(spectrum / peak, 10 ** (-DB_RANGE / 20)))


def _show(axis, image: np.ndarray, config: STFTConfig, max_frequency: float, *, first: int = 0,
          value_range: tuple[float, float] = (-DB_RANGE, 0.0), cmap: str = "magma"):
    """Draw ``image`` ``(n_frames, n_bins)`` from frame ``first`` on, time across, frequency up."""
    seconds = config.hop_length / config.sample_rate
    half_bin = config.sample_rate / config.n_fft / 2
    extent = (first * seconds, (first + len(image)) * seconds, -half_bin,
              config.sample_rate / 2 + half_bin)
    shown = axis.imshow(np.asarray(image).T, origin="lower", aspect="auto", extent=extent,
                        cmap=cmap, vmin=value_range[0], vmax=value_range[1],
                        interpolation="nearest")
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


def plot_waveforms(signals: Mapping[str, np.ndarray], sr: int = SAMPLE_RATE,
                   title: str | None = None) -> Figure:
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
        image = _show(axis, values, DEFAULT_STFT, max_frequency, value_range=value_range,
                      cmap=cmap)
        axis.set_ylabel(f"{name}\nfrequency (Hz)")
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label=colour_label, shrink=0.8)
    return with_title(figure, title)


def plot_spectrograms(signals: Mapping[str, np.ndarray], *, title: str | None = None,
                      max_frequency: float = 4000.0) -> Figure:
    """Spectrograms of waveforms or magnitudes in dB re the loudest bin of all, up to 4 kHz."""
    spectra, peak = _magnitudes(signals, DEFAULT_STFT)
    decibels = {name: _decibels(spectrum, peak) for name, spectrum in spectra.items()}
    return _image_rows(decibels, (-DB_RANGE, 0.0), "magma", DB_LABEL, title, max_frequency)


def plot_masks(masks: Mapping[str, np.ndarray], *, title: str | None = None) -> Figure:
    """Masks ``(n_frames, n_bins)`` (time-major) with values in [0, 1], one row each."""
    return _image_rows(masks, (0.0, 1.0), "viridis", "mask value", title, 4000.0)


def plot_stft_resolutions(signal: np.ndarray, configs: Sequence[STFTConfig], *, start: float = 0.0,
                          duration: float = 1.5, title: str | None = None) -> Figure:
    """One excerpt under several STFT settings: short frames resolve onsets, long ones harmonics."""
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
        axis.set_title(f"n_fft {config.n_fft}: {1000 * config.n_fft / config.sample_rate:.0f} ms "
                       f"frames, {config.sample_rate / config.n_fft:.1f} Hz bins, "
                       f"hop {1000 * frame_seconds:.0f} ms", fontsize=9)
    axes[-1].set_xlabel("time (s)")
    figure.colorbar(image, ax=list(axes), label=DB_LABEL, shrink=0.8)
    return with_title(figure, title)


def _both_audible_frame(spectra: Mapping[str, np.ndarray], f0_tracks: Mapping[str, np.ndarray],
                        first: int, last: int) -> int:
    """The frame in [first, last) where every tracked source is voiced and the quietest loudest."""
    tracked = [name for name in f0_tracks if name in spectra]
    voiced = np.ones(last - first, dtype=bool)
    for name in tracked:  # a track shorter than the window is unvoiced past its end
        given = np.asarray(f0_tracks[name], dtype=float)[:last]
        voiced &= np.isfinite(np.pad(given, (0, last - given.size), constant_values=np.nan))[first:]
    if not tracked or not voiced.any():
        return (first + last) // 2
    energy = np.min([np.sum(np.square(spectra[name][first:last]), axis=1) for name in tracked],
                    axis=0)
    return int(np.arange(first, last)[voiced][np.argmax(energy[voiced])])


def plot_harmonic_zoom(signals: Mapping[str, np.ndarray],
                       f0_tracks: Mapping[str, np.ndarray] | None = None, *, start: float = 0.0,
                       duration: float = 1.5, title: str | None = None) -> Figure:
    """Left: the last signal's (the mixture's) low frequencies with each source's k·F0(t), k ≤ 8
    (``f0_tracks``: F0 per frame, NaN unvoiced); right: every spectrum in one frame where all
    tracked sources are voiced (:func:`_both_audible_frame`), harmonics marked."""
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

    figure = Figure(figsize=(11.0, 4.0), layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=[1.6, 1.0])
    image = _show(left, _decibels(shown[first:last], peak), DEFAULT_STFT, ZOOM, first=first)
    times = np.arange(first, last) * frame_seconds
    for index, (name, track) in enumerate(f0_tracks.items()):
        track = np.asarray(track, dtype=float)[first:last]
        for k in range(1, 9):
            left.plot(times[: track.size], k * track, linewidth=0.7, alpha=0.55,
                      color=("white", "cyan", "lime", "yellow")[index % 4],
                      linestyle="--" if index % 2 else ":",
                      label=f"k·F0 of {name}" if k == 1 else None)
    left.axvline(frame * frame_seconds, color="0.8", linewidth=0.8)
    left.set(xlabel="time (s)", ylabel=f"{names[-1]}\nfrequency (Hz)")
    if f0_tracks:
        left.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="white")
    figure.colorbar(image, ax=left, label=DB_LABEL, shrink=0.9)

    # the shown signal (the mixture) as a broad grey band behind the sources' thin lines
    frequencies = DEFAULT_STFT.bin_frequencies()
    right.plot(frequencies, _decibels(shown[frame], peak), linewidth=3.0, color="0.75",
               label=names[-1])
    for index, name in enumerate(names[:-1]):
        right.plot(frequencies, _decibels(spectra[name][frame], peak), linewidth=1.0,
                   color=f"C{index}", label=name)
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


def _axis(width: float, height: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots()


def plot_split_durations(dataset, title: str | None = None) -> Figure:
    """Minutes of audio per split and source of a :class:`vaesep.data.BuiltDataset`, as bars."""
    languages = dataset.manifest.get("notes", {}).get("languages", {})
    splits, names = list(dataset.splits), list(dataset.source_names)
    figure, axis = _axis(7.5, 0.55 * len(splits) * len(names) + 1.2)
    height, positions = 0.8 / len(names), np.arange(len(splits))
    for index, name in enumerate(names):
        minutes = [dataset.duration_seconds(split)[name] / 60.0 for split in splits]
        bars = axis.barh(positions + (index - (len(names) - 1) / 2) * height, minutes,
                         height=height, color=f"C{index}", label=f"source {name}")
        axis.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
    axis.set_yticks(positions, [f"{s} ({languages[s]})" if s in languages else s for s in splits])
    axis.invert_yaxis()
    axis.set_xlabel("duration of the split's stream (minutes)")
    axis.margins(x=0.12)
    axis.legend(loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title or f"{dataset.name}: audio per split")
    return figure


def _histograms(values: Mapping[str, Any], edges, ylabel: str, xlabel: str, title: str | None,
                dashed_alternate: bool = False) -> tuple[Figure, Any]:
    """One step histogram per label of the finite values, as shares in %, on one axis."""
    figure, axis = _axis(8.0, 3.4)
    for index, (label, array) in enumerate(values.items()):
        if array.size:
            axis.hist(array, bins=edges, weights=np.full(array.size, 100.0 / array.size),
                      histtype="step", linewidth=1.6, color=f"C{index}", label=label,
                      linestyle="--" if dashed_alternate and index % 2 else "-")
    axis.set(xlabel=xlabel, ylabel=ylabel)
    axis.grid(alpha=0.3)
    axis.set_title(title or "")
    return figure, axis


def _finite(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    arrays = {label: np.asarray(v, dtype=float) for label, v in values.items()}
    return {label: array[np.isfinite(array)] for label, array in arrays.items()}


def plot_f0_histograms(f0: Mapping[str, np.ndarray], *, title: str | None = None) -> Figure:
    """Voiced-frame F0 (Hz; NaN left out) per label on a log axis, 50 to 500 Hz, medians marked."""
    finite = _finite(f0)
    medians = [float(np.median(v)) if v.size else np.nan for v in finite.values()]
    labelled = {f"{label}: median {median:.0f} Hz": v
                for (label, v), median in zip(finite.items(), medians, strict=True)}
    figure, axis = _histograms(labelled, np.geomspace(50.0, 500.0, 61),
                               "share of voiced frames (%)",
                               "fundamental frequency F0 (Hz, log scale)", title, True)
    for index, median in enumerate(medians):
        if np.isfinite(median):
            axis.axvline(median, color=f"C{index}", linewidth=0.8, alpha=0.7)
    axis.set_xscale("log")
    ticks = (50, 70, 100, 150, 200, 300, 400, 500)
    axis.set_xticks(ticks, [str(tick) for tick in ticks])
    axis.minorticks_off()
    axis.set_xlim(50.0, 500.0)
    axis.legend(fontsize=8)
    return figure


def plot_db_histograms(values: Mapping[str, np.ndarray], *, xlabel: str, title: str | None = None,
                       reference_lines: Mapping[str, float] | None = None) -> Figure:
    """dB values per label in 60 bins over the 0.5th to 99.5th percentiles; dotted references."""
    finite = _finite(values)
    filled = [v for v in finite.values() if v.size]
    low = min((float(np.percentile(v, 0.5)) for v in filled), default=0.0)
    high = max((float(np.percentile(v, 99.5)) for v in filled), default=1.0)
    bins = np.linspace(low, high if high > low else low + 1.0, 61)
    figure, axis = _histograms(finite, bins, "share of frames (%)", xlabel, title)
    figure.set_size_inches(8.0, 3.2)
    for label, position in (reference_lines or {}).items():
        axis.axvline(position, linestyle=":", color="0.3")
        axis.annotate(label, (position, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                      textcoords="offset points", fontsize=8)
    axis.legend(fontsize=8)
    return figure


def plot_history(history: Mapping[str, Sequence[float]], title: str | None = None) -> Figure:
    """Train and valid curves of each loss term of a ``train`` history, a panel each: a VAE's
    total loss hides which of reconstruction and KL is moving."""
    terms = [key[len("train_") :] for key in history if key.startswith("train_")]
    figure = Figure(figsize=(4.0 * max(len(terms), 1), 3.0), layout="constrained")
    axes = figure.subplots(1, max(len(terms), 1), squeeze=False)[0]
    epochs = list(history.get("epoch", range(1, len(history.get("train_loss", [])) + 1)))
    for axis, term in zip(axes, terms, strict=False):  # no terms: one empty axis
        for split, style in (("train", "-"), ("valid", "--")):
            if values := history.get(f"{split}_{term}"):
                axis.plot(epochs[: len(values)], values, style, marker=".", label=split)
        axis.set(title=term, xlabel="epoch",
                 ylabel="nats per frame" if term != "loss" else "loss per frame")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.legend()
    return with_title(figure, title)


class LiveLossPlot:
    """Redraws :func:`plot_history` in place: ``train(..., on_epoch_end=LiveLossPlot())``.
    Outside a notebook (no IPython kernel) it draws nothing."""

    def __init__(self, title: str | None = None) -> None:
        self.title, self._handle = title, None

    def __call__(self, epoch: int, history: Mapping[str, Sequence[float]]) -> None:
        from IPython import get_ipython  # a dependency of vaesep, for the notebooks
        from IPython.display import display

        if get_ipython() is None:
            return
        figure = plot_history(history, self.title)
        if self._handle is None:
            self._handle = display(figure, display_id=True)
        else:
            self._handle.update(figure)


def plot_kl_schedule(weights: Sequence[float], title: str | None = None) -> Figure:
    """The KL weight β of each training epoch (a warm-up ramp, then flat)."""
    figure, axis = _axis(5.0, 2.6)
    axis.step(np.arange(1, len(weights) + 1), weights, where="mid", marker="o", markersize=3)
    axis.set(xlabel="epoch", ylabel="KL weight β (unitless)", title=title or "β warm-up")
    axis.set_ylim(0, max(max(weights, default=1.0), 1e-6) * 1.1)
    axis.grid(alpha=0.3)
    return figure


def plot_metric_boxes(scores: Mapping[str, Sequence[float]], metric: str = "SDR", *,
                      title: str | None = None,
                      reference_lines: Mapping[str, float] | None = None) -> Figure:
    """Per-item scores, one box per method, every item a dot; reference lines drawn across."""
    names = list(scores)
    figure, axis = _axis(1.2 * len(names) + 2.5, 3.6)
    values = [np.asarray(scores[name], dtype=float) for name in names]
    axis.boxplot([v[np.isfinite(v)] for v in values], showfliers=False)
    axis.set_xticks(range(1, len(names) + 1), names)
    jitter = np.random.default_rng(0)
    for position, v in enumerate(values, start=1):
        axis.plot(position + jitter.uniform(-0.15, 0.15, v.size), v, ".", alpha=0.35, color="0.3")
    for label, value in (reference_lines or {}).items():
        axis.axhline(value, linestyle=":", color="0.4")
        axis.annotate(label, (0.5, value), xytext=(2, 2), textcoords="offset points", fontsize=8)
    axis.set(ylabel=f"{metric} (dB)", title=title or "")
    axis.grid(axis="y", alpha=0.3)
    return figure


def plot_objective(objectives: Mapping[str, Sequence[float]],
                   sdr: Mapping[int, float] | None = None, title: str | None = None) -> Figure:
    """The negative log-posterior per frame at each inference iteration (label → values), and on
    a second axis ``sdr``: iteration → SDR (dB) of the estimate there."""
    figure, axis = _axis(7.5, 3.2)
    for label, values in objectives.items():
        axis.plot(np.arange(len(values)), values, label=label)
    axis.set(xlabel="inference iteration", ylabel="L, negative log-posterior per frame")
    if sdr:
        twin = axis.twinx()
        twin.plot(list(sdr), list(sdr.values()), "o--", color="tab:red", label="SDR")
        twin.set_ylabel("SDR (dB)", color="tab:red")
    axis.legend(loc="upper right")
    return with_title(figure, title)


def plot_iteration_curves(curves: Mapping[str, list[dict[str, Any]]],
                          title: str | None = None) -> Figure:
    """SDR and real-time factor against iterations (``compare.inference.iteration_curve``)."""
    figure = Figure(figsize=(10.0, 3.2), layout="constrained")
    sdr_axis, cost_axis = figure.subplots(1, 2)
    for label, rows in curves.items():
        counts = [row["iterations"] for row in rows]
        sdr_axis.plot(counts, [row["sdr_mean"] for row in rows], "o-", label=label)
        cost_axis.plot(counts, [row["rtf"] for row in rows], "o-", label=label)
    for axis, name in ((sdr_axis, "SDR (dB)"), (cost_axis, "real-time factor (s per s of audio)")):
        axis.set_xscale("symlog", linthresh=10)  # 0 stays on the axis, 10 to 200 spread out
        axis.set(xlabel="inference iterations", ylabel=name)
        axis.legend()
    return with_title(figure, title)
