"""Charts of numbers: the data (notebook 01), training curves (02) and scores (01, 02, 04, 06).

Notebook 01 "Building the data set" and "Who is speaking: pitch and level" use the bars and
histograms; notebook 02 "The objective" and "Training" the loss curves and the KL warm-up;
notebooks 01, 02 and 04 the score boxes; notebook 06 the inference curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vaesep.plots.spectra import with_title


def plot_split_durations(dataset, title: str | None = None) -> Figure:
    """Minutes of audio per split and source of a :class:`vaesep.data.BuiltDataset`, as bars."""
    languages = dataset.manifest.get("notes", {}).get("languages", {})
    splits, names = list(dataset.splits), list(dataset.source_names)
    figure = Figure(figsize=(7.5, 0.55 * len(splits) * len(names) + 1.2), layout="constrained")
    axis = figure.subplots()
    height, positions = 0.8 / len(names), np.arange(len(splits))
    for index, name in enumerate(names):
        minutes = [dataset.duration_seconds(split)[name] / 60.0 for split in splits]
        bars = axis.barh(positions + (index - (len(names) - 1) / 2) * height, minutes, height=height,
                         color=f"C{index}", label=f"source {name}")
        axis.bar_label(bars, fmt="%.1f", padding=2, fontsize=8)
    axis.set_yticks(positions, [f"{s} ({languages[s]})" if s in languages else s for s in splits])
    axis.invert_yaxis()
    axis.set_xlabel("duration of the split's stream (minutes)")
    axis.margins(x=0.12)
    axis.legend(loc="lower right")
    axis.grid(axis="x", alpha=0.3)
    axis.set_title(title or f"{dataset.name}: audio per split")
    return figure


def _histograms(values: Mapping[str, np.ndarray], edges: np.ndarray, ylabel: str, xlabel: str,
                title: str | None, dashed_alternate: bool = False) -> tuple[Figure, Any]:
    """One step histogram per label, as shares in %, on one axis."""
    figure = Figure(figsize=(8.0, 3.4), layout="constrained")
    axis = figure.subplots()
    for index, (label, array) in enumerate(values.items()):
        if array.size:
            axis.hist(array, bins=edges, weights=np.full(array.size, 100.0 / array.size), histtype="step",
                      linewidth=1.6, color=f"C{index}", label=label,
                      linestyle="--" if dashed_alternate and index % 2 else "-")
    axis.set(xlabel=xlabel, ylabel=ylabel)
    axis.grid(alpha=0.3)
    axis.set_title(title or "")
    return figure, axis


def _finite(values: Mapping[str, Any]) -> dict[str, np.ndarray]:
    arrays = {label: np.asarray(v, dtype=float) for label, v in values.items()}
    return {label: array[np.isfinite(array)] for label, array in arrays.items()}


def plot_f0_histograms(f0: Mapping[str, np.ndarray], *, title: str | None = None) -> Figure:
    """Voiced-frame F0 (Hz; NaN, unvoiced, left out) per label on a log axis from 50 to 500 Hz,
    medians marked."""
    finite = _finite(f0)
    medians = [float(np.median(v)) if v.size else np.nan for v in finite.values()]
    labelled = {f"{label}: median {median:.0f} Hz": v for (label, v), median in zip(finite.items(), medians, strict=True)}
    figure, axis = _histograms(labelled, np.geomspace(50.0, 500.0, 61), "share of voiced frames (%)",
                               "fundamental frequency F0 (Hz, log scale)", title, dashed_alternate=True)
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
    """Histograms of dB values (levels, local SNRs) per label, as shares in %, in 60 bins spanning
    the 0.5th to 99.5th percentiles; ``reference_lines`` label → x, dotted."""
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
    """Train and valid curves of each loss term of a :func:`vaesep.train.train` history, a panel
    each: a VAE's total loss hides which of reconstruction and KL is moving."""
    terms = [key[len("train_") :] for key in history if key.startswith("train_")]
    figure = Figure(figsize=(4.0 * max(len(terms), 1), 3.0), layout="constrained")
    axes = figure.subplots(1, max(len(terms), 1), squeeze=False)[0]
    epochs = list(history.get("epoch", range(1, len(history.get("train_loss", [])) + 1)))
    for axis, term in zip(axes, terms, strict=False):  # no terms: one empty axis
        for split, style in (("train", "-"), ("valid", "--")):
            if values := history.get(f"{split}_{term}"):
                axis.plot(epochs[: len(values)], values, style, marker=".", label=split)
        axis.set(title=term, xlabel="epoch", ylabel="nats per frame" if term != "loss" else "loss per frame")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.legend()
    return with_title(figure, title)


class LiveLossPlot:
    """Redraws :func:`plot_history` in place: ``train(..., on_epoch_end=LiveLossPlot())``.
    Outside a notebook (no IPython kernel) it draws nothing."""

    def __init__(self, title: str | None = None) -> None:
        self.title = title
        self._handle = None

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
    figure = Figure(figsize=(5.0, 2.6), layout="constrained")
    axis = figure.subplots()
    axis.step(np.arange(1, len(weights) + 1), weights, where="mid", marker="o", markersize=3)
    axis.set(xlabel="epoch", ylabel="KL weight β (unitless)", title=title or "β warm-up")
    axis.set_ylim(0, max(max(weights, default=1.0), 1e-6) * 1.1)
    axis.grid(alpha=0.3)
    return figure


def plot_metric_boxes(scores: Mapping[str, Sequence[float]], metric: str = "SDR", *,
                      title: str | None = None, reference_lines: Mapping[str, float] | None = None) -> Figure:
    """Per-item scores (method → values), one box per method, every item a dot;
    ``reference_lines`` label → value, drawn across (e.g. the mixture's mean)."""
    names = list(scores)
    figure = Figure(figsize=(1.2 * len(names) + 2.5, 3.6), layout="constrained")
    axis = figure.subplots()
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


def plot_objective(objectives: Mapping[str, Sequence[float]], sdr: Mapping[int, float] | None = None,
                   title: str | None = None) -> Figure:
    """The negative log-posterior per frame at each inference iteration (label → values from the
    start on), and on a second axis ``sdr``: iteration → SDR (dB) of the estimate there."""
    figure = Figure(figsize=(7.5, 3.2), layout="constrained")
    axis = figure.subplots()
    for label, values in objectives.items():
        axis.plot(np.arange(len(values)), values, label=label)
    axis.set(xlabel="inference iteration", ylabel="L, negative log-posterior per frame")
    if sdr:
        twin = axis.twinx()
        twin.plot(list(sdr), list(sdr.values()), "o--", color="tab:red", label="SDR")
        twin.set_ylabel("SDR (dB)", color="tab:red")
    axis.legend(loc="upper right")
    return with_title(figure, title)


def plot_iteration_curves(curves: Mapping[str, list[dict[str, Any]]], title: str | None = None) -> Figure:
    """SDR and real-time factor against iterations, from :func:`vaesep.compare.inference.iteration_curve`."""
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
