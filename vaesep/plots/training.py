"""Loss curves, drawn once at the end or redrawn live after every epoch.

Notebook 02, section "Training", shows reconstruction and KL separately,
because a VAE's total loss hides which of the two is moving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_history(history: Mapping[str, Sequence[float]], title: str | None = None) -> Figure:
    """Train/valid curves of every loss term in a :func:`vaesep.train.train` history.

    One panel per term (``loss``, ``reconstruction``, ``kl`` …), epochs on x.
    """
    terms = [key[len("train_") :] for key in history if key.startswith("train_")]
    figure = Figure(figsize=(4.0 * max(len(terms), 1), 3.0), layout="constrained")
    axes = figure.subplots(1, max(len(terms), 1), squeeze=False)[0]
    epochs = list(history.get("epoch", range(1, len(history.get("train_loss", [])) + 1)))
    # with no terms there is still one (empty) axis, hence strict=False
    for axis, term in zip(axes, terms, strict=False):
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
    """Redraws :func:`plot_history` in place; pass as ``train(..., on_epoch_end=LiveLossPlot())``.

    Outside a notebook (no display) it draws nothing and costs nothing.
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
