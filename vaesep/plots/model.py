"""Figures about the model and its training schedule (notebook 02)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure


def plot_kl_schedule(weights: Sequence[float], title: str | None = None) -> Figure:
    """The KL weight β used in each training epoch (a warm-up ramp, then flat)."""
    figure = Figure(figsize=(5.0, 2.6), layout="constrained")
    axis = figure.subplots()
    epochs = np.arange(1, len(weights) + 1)
    axis.step(epochs, weights, where="mid", marker="o", markersize=3)
    axis.set_xlabel("epoch")
    axis.set_ylabel("KL weight β (unitless)")
    axis.set_ylim(0, max(max(weights, default=1.0), 1e-6) * 1.1)
    axis.grid(alpha=0.3)
    axis.set_title(title or "β warm-up")
    return figure
