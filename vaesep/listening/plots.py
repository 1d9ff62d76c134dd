"""The figures of a listening-test report (matplotlib).

Notebook 05, sections "Analysis" and "Do the numbers agree with the ears?". Every
panel shades the five bands of the scale (Bad ... Excellent) behind the ratings, so
the numbers read as the listeners saw them. Figures are closed at once: the caller
shows them with ``display(figure)``, and no window opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaesep.listening.design import SCALE_BOUNDARIES, SCALE_LABELS

RATING_AXIS_LABEL = "Rating (MUSHRA scale, 0-100)"


def _figure(width: float, height: float, title: str, note: str) -> Figure:
    import matplotlib.pyplot as plt  # pyplot sets up Jupyter's inline display

    figure = plt.figure(figsize=(width, height), layout="constrained")
    plt.close(figure)  # the caller owns it; pyplot must not show it a second time
    # a note (SIMULATED) sits in the title, so it travels with the picture into slides
    figure.suptitle(f"{title}\n{note}" if note else title)
    return figure


def _scale_bands(ax: Axes, name_bands: bool = False) -> None:
    bands = list(zip(SCALE_BOUNDARIES[:-1], SCALE_BOUNDARIES[1:], strict=True))
    for number, (low, high) in enumerate(bands):
        ax.axhspan(low, high, color="0.92" if number % 2 else "1.0", zorder=0)
    ax.set_ylim(0, 100)
    ax.set_yticks(SCALE_BOUNDARIES)
    if name_bands:  # on a right-hand axis
        names = ax.twinx()
        names.set_ylim(0, 100)
        names.set_yticks([(low + high) / 2 for low, high in bands], labels=list(SCALE_LABELS))
        names.tick_params(length=0)


def _boxplots(ax: Axes, ratings: Sequence[Any], conditions: Sequence[str], rotation: int) -> None:
    """Boxes span the quartiles, whiskers 1.5 × the inter-quartile range, dots lie beyond."""
    present = [c for c in conditions if any(r.condition == c for r in ratings)]
    ax.boxplot([[r.rating for r in ratings if r.condition == c] for c in present])
    # labels set afterwards: boxplot's own keyword was renamed in matplotlib 3.9
    ax.set_xticks(np.arange(1, len(present) + 1), labels=present, rotation=rotation, ha="right")


def report_figures(
    summaries: Sequence[Any],
    kept: Sequence[Any],
    conditions: Sequence[str],
    correlations: Sequence[Any],
    note: str = "",
) -> dict[str, Figure]:
    """Every figure of a report, by name; the correlation figure only when there are metrics."""
    title = "Ratings per condition: spread (boxes), mean and 95 % confidence interval (red)"
    means = _figure(1.1 * len(conditions) + 3, 4.2, title, note)
    ax = means.add_subplot()
    _scale_bands(ax, name_bands=True)
    _boxplots(ax, kept, conditions, rotation=30)
    centres = np.array([s.mean for s in summaries])
    errors = np.array([[s.mean - s.ci_low, s.ci_high - s.mean] for s in summaries]).T
    positions = np.arange(1, len(summaries) + 1)
    ax.errorbar(positions, centres, yerr=np.nan_to_num(errors), fmt="o", capsize=5, color="C3")
    ax.set(xlabel="Condition", ylabel=RATING_AXIS_LABEL)

    # one panel per item: a system failing on one item shows here even when the mean hides it
    items = sorted({rating.item for rating in kept})
    n_columns = min(3, len(items))
    n_rows = -(-len(items) // n_columns)
    per_item = _figure(4.2 * n_columns, 3.4 * n_rows, "Ratings per item and condition", note)
    axes = per_item.subplots(n_rows, n_columns, squeeze=False, sharey=True).ravel()
    for ax, item in zip(axes, items, strict=False):
        _scale_bands(ax)
        _boxplots(ax, [r for r in kept if r.item == item], conditions, rotation=45)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(item, fontsize=10)
        ax.set_ylabel(RATING_AXIS_LABEL, fontsize=8)
    for ax in axes[len(items) :]:
        ax.set_visible(False)
    figures = {"condition_means": means, "item_boxplots": per_item}
    if correlations:
        figures["metric_correlation"] = _correlation_figure(correlations, note)
    return figures


def _correlation_figure(correlations: Sequence[Any], note: str) -> Figure:
    """Mean rating against each metric: one panel per metric, one colour per condition."""
    figure = _figure(5 * len(correlations), 4.2, "Mean rating against objective scores", note)
    axes = figure.subplots(1, len(correlations), squeeze=False)[0]
    for ax, correlation in zip(axes, correlations, strict=True):
        _scale_bands(ax)
        for colour, condition in enumerate(sorted({p[1] for p in correlation.points})):
            points = [p for p in correlation.points if p[1] == condition]
            scores, means = [p[2] for p in points], [p[3] for p in points]
            ax.scatter(scores, means, color=f"C{colour % 10}", label=condition, zorder=3)
        ax.set(xlabel=f"{correlation.metric} of the item (dB)", ylabel="Mean rating over listeners")
        ax.set_title(
            f"{correlation.metric}: Pearson r = {correlation.pearson_r:.2f}, "
            f"Spearman ρ = {correlation.spearman_rho:.2f}",
            fontsize=10,
        )
        ax.legend(fontsize=8, loc="lower right")
    return figure
