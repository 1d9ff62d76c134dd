"""Scores: per-item distributions per method, and what inference iterations buy.

:func:`plot_metric_boxes` serves notebooks 01 ("Scores on the test sets"), 02
("Measuring separation") and 04 ("The headline table"); the inference curves
serve notebook 06 ("The objective falling", "What inference costs").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def plot_metric_boxes(scores: Mapping[str, Sequence[float]], metric: str = "SDR", *, unit: str = "dB",
                      title: str | None = None, reference_lines: Mapping[str, float] | None = None) -> Figure:
    """Box plot of per-item scores, one box per method, every item a dot.

    Args:
        scores: method name → per-item values of one metric.
        reference_lines: label → value drawn as a horizontal line (e.g. the mixture's mean).
    """
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
    axis.set_ylabel(f"{metric} ({unit})")
    axis.grid(axis="y", alpha=0.3)
    if title:
        axis.set_title(title)
    return figure


def plot_objective(objectives: Mapping[str, Sequence[float]], sdr: Mapping[int, float] | None = None,
                   title: str | None = None) -> Figure:
    """The negative log-posterior L per frame at each inference iteration, one line per label.

    Args:
        objectives: label → L at the start and after each iteration.
        sdr: iteration count → SDR (dB) of the estimate there, on a second axis.
    """
    figure = Figure(figsize=(7.5, 3.2), layout="constrained")
    axis = figure.subplots()
    for label, values in objectives.items():
        axis.plot(np.arange(len(values)), values, label=label)
    axis.set_xlabel("inference iteration")
    axis.set_ylabel("L, negative log-posterior per frame")
    if sdr:
        twin = axis.twinx()
        twin.plot(list(sdr), list(sdr.values()), "o--", color="tab:red", label="SDR")
        twin.set_ylabel("SDR (dB)", color="tab:red")
    axis.legend(loc="upper right")
    if title:
        figure.suptitle(title)
    return figure


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
        axis.set_xlabel("inference iterations")
        axis.set_ylabel(name)
        axis.legend()
    if title:
        figure.suptitle(title)
    return figure
