"""Distributions of per-item scores per method (notebooks 02 and 04)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure


def plot_metric_boxes(
    scores: Mapping[str, Sequence[float]],
    metric: str = "SDR",
    *,
    unit: str = "dB",
    title: str | None = None,
    reference_lines: Mapping[str, float] | None = None,
) -> Figure:
    """Box plot of per-item scores, one box per method, individual items as dots.

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
