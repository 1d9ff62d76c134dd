"""What the data holds: minutes per split, pitch and level distributions (notebook 01).

Notebook 01, sections "Building the data set" and "Who is speaking: pitch and level".
Every function returns its Figure.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from vaesep.plots.spectra import COLOURS


def plot_split_durations(dataset, title: str | None = None) -> Figure:
    """Minutes of audio per split and source (horizontal bars), languages in the labels.

    Args:
        dataset: a :class:`vaesep.data.BuiltDataset`.
    """
    languages = dataset.manifest.get("notes", {}).get("languages", {})
    splits, names = list(dataset.splits), list(dataset.source_names)
    figure = Figure(figsize=(7.5, 0.55 * len(splits) * len(names) + 1.2), layout="constrained")
    axis = figure.subplots()
    height, positions = 0.8 / len(names), np.arange(len(splits))
    for index, name in enumerate(names):
        minutes = [dataset.duration_seconds(split)[name] / 60.0 for split in splits]
        bars = axis.barh(positions + (index - (len(names) - 1) / 2) * height, minutes, height=height,
                         color=COLOURS[index % len(COLOURS)], label=f"source {name}")
        axis.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
    axis.set_yticks(positions, [f"{s} ({languages[s]})" if s in languages else s for s in splits])
    axis.invert_yaxis()
    axis.set_xlabel("duration of the split's stream (minutes)")
    axis.margins(x=0.12)
    axis.legend(loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title or f"{dataset.name}: audio per split")
    return figure


def _histograms(values: Mapping[str, np.ndarray], edges: np.ndarray, ylabel: str,
                title: str | None, dashed_alternate: bool = False) -> tuple[Figure, object]:
    """One step histogram per label, as shares in %, on one axis; returns the figure and axis."""
    figure = Figure(figsize=(8.0, 3.4), layout="constrained")
    axis = figure.subplots()
    for index, (label, array) in enumerate(values.items()):
        array = np.asarray(array, dtype=float)
        array = array[np.isfinite(array)]
        if array.size:
            axis.hist(array, bins=edges, weights=np.full(array.size, 100.0 / array.size), histtype="step",
                      linewidth=1.6, color=COLOURS[index % len(COLOURS)], label=label,
                      linestyle="--" if dashed_alternate and index % 2 else "-")
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    if title:
        axis.set_title(title)
    return figure, axis


def plot_f0_histograms(f0: Mapping[str, np.ndarray], *, title: str | None = None, fmin: float = 50.0,
                       fmax: float = 500.0, n_bins: int = 60) -> Figure:
    """Distributions of voiced-frame F0 on a log-frequency axis, one per label, median marked.

    Args:
        f0: label (e.g. ``"v, Dutch"``) → F0 values in Hz (NaN, unvoiced, is left out).
        fmin, fmax: the axis range in Hz.
    """
    finite = {label: np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))] for label, v in f0.items()}
    medians = {label: float(np.median(v)) if v.size else np.nan for label, v in finite.items()}
    labelled = {f"{label}: median {medians[label]:.0f} Hz": v for label, v in finite.items()}
    figure, axis = _histograms(labelled, np.geomspace(fmin, fmax, n_bins + 1), "share of voiced frames (%)",
                               title, dashed_alternate=True)
    for index, median in enumerate(medians.values()):
        if np.isfinite(median):
            axis.axvline(median, color=COLOURS[index % len(COLOURS)], linewidth=0.8, alpha=0.7)
    axis.set_xscale("log")
    ticks = [tick for tick in (50, 70, 100, 150, 200, 300, 400, 500) if fmin <= tick <= fmax]
    axis.set_xticks(ticks, [str(tick) for tick in ticks])
    axis.minorticks_off()
    axis.set_xlim(fmin, fmax)
    axis.set_xlabel("fundamental frequency F0 (Hz, log scale)")
    axis.legend(fontsize=8)
    return figure


def plot_db_histograms(values: Mapping[str, np.ndarray], *, xlabel: str, title: str | None = None,
                       bins: int | np.ndarray = 60, reference_lines: Mapping[str, float] | None = None) -> Figure:
    """Histograms of dB values (levels, local SNRs), one per label, as shares in %.

    Args:
        values: label → values in dB; xlabel: what they are, with the unit.
        bins: edges, or a number of bins spanning the 0.5th to 99.5th percentiles of all values.
        reference_lines: label → x position drawn as a dotted vertical line.
    """
    finite = [v[np.isfinite(v)] for v in (np.asarray(v, dtype=float) for v in values.values())]
    finite = [v for v in finite if v.size]
    if isinstance(bins, int) and finite:
        low = min(float(np.percentile(v, 0.5)) for v in finite)
        high = max(float(np.percentile(v, 99.5)) for v in finite)
        bins = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    figure, axis = _histograms(values, bins, "share of frames (%)", title)
    figure.set_size_inches(8.0, 3.2)
    for label, position in (reference_lines or {}).items():
        axis.axvline(position, linestyle=":", color="0.3")
        axis.annotate(label, (position, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -12),
                      textcoords="offset points", fontsize=8)
    axis.set_xlabel(xlabel)
    axis.legend(fontsize=8)
    return figure
