"""Training curves (notebook 02, sections "The objective" and "Training").

Reconstruction and KL get a panel each, because a VAE's total loss hides which
of the two is moving; the KL weight's warm-up is drawn per epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_history(history: Mapping[str, Sequence[float]], title: str | None = None) -> Figure:
    """Train and valid curves of every loss term of a :func:`vaesep.train.train` history.

    One panel per term (``loss``, ``reconstruction``, ``kl`` …), epochs across.
    """
    terms = [key[len("train_") :] for key in history if key.startswith("train_")]
    figure = Figure(figsize=(4.0 * max(len(terms), 1), 3.0), layout="constrained")
    axes = figure.subplots(1, max(len(terms), 1), squeeze=False)[0]
    epochs = list(history.get("epoch", range(1, len(history.get("train_loss", [])) + 1)))
    for axis, term in zip(axes, terms, strict=False):  # no terms: one empty axis
        for split, style in (("train", "-"), ("valid", "--")):
            values = history.get(f"{split}_{term}")
            if values:
                axis.plot(epochs[: len(values)], values, style, marker=".", label=split)
        axis.set_title(term)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel("nats per frame" if term != "loss" else "loss per frame")
        axis.legend()
    if title:
        figure.suptitle(title)
    return figure


class LiveLossPlot:
    """Redraws :func:`plot_history` in place: ``train(..., on_epoch_end=LiveLossPlot())``.

    Outside a notebook (no IPython kernel) it draws nothing and costs nothing.
    """

    def __init__(self, title: str | None = None) -> None:
        self.title = title
        self._handle = None

    def __call__(self, epoch: int, history: Mapping[str, Sequence[float]]) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
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
    axis.set_xlabel("epoch")
    axis.set_ylabel("KL weight β (unitless)")
    axis.set_ylim(0, max(max(weights, default=1.0), 1e-6) * 1.1)
    axis.grid(alpha=0.3)
    axis.set_title(title or "β warm-up")
    return figure
