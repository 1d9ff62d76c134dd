"""The figures of a listening-test analysis (matplotlib).

Notebook 05, sections "Analysis" and "Do the numbers agree with the ears?". Every
figure shades the five bands of the rating scale (Bad ... Excellent) behind the
ratings, so the numbers read as the listeners saw them. Figures are made through
pyplot (which sets up Jupyter's inline display) and closed at once: the caller
owns them and shows them with ``display(figure)``; no window opens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaesep.listening.design import SCALE_BOUNDARIES, SCALE_LABELS

RATING_AXIS_LABEL = "Rating (MUSHRA scale, 0-100)"


def _figure(width: float, height: float, title: str, note: str) -> Figure:
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(width, height), layout="constrained")
    plt.close(figure)  # the caller owns it; pyplot must not show it a second time
    # a note (SIMULATED) sits in the title, so it travels with the picture into slides
    figure.suptitle(f"{title}\n{note}" if note else title)
    return figure


def draw_scale_bands(ax: Axes, label_side: bool = True) -> None:
    """Shade the five bands of the scale and, on the right axis, name them."""
    bands = list(zip(SCALE_BOUNDARIES[:-1], SCALE_BOUNDARIES[1:], strict=True))
    for number, (low, high) in enumerate(bands):
        ax.axhspan(low, high, color="0.92" if number % 2 else "1.0", zorder=0)
    ax.set_ylim(0, 100)
    ax.set_yticks(SCALE_BOUNDARIES)
    if label_side:
        names = ax.twinx()
        names.set_ylim(0, 100)
        names.set_yticks([(low + high) / 2 for low, high in bands], labels=list(SCALE_LABELS))
        names.tick_params(length=0)


def _boxplots(ax: Axes, ratings: Sequence[Any], conditions: Sequence[str], rotation: int) -> None:
    """Boxes span the quartiles, whiskers 1.5 × the inter-quartile range, dots lie beyond."""
    grouped = defaultdict(list)
    for rating in ratings:
        grouped[rating.condition].append(rating.rating)
    present = [c for c in conditions if c in grouped]
    ax.boxplot([grouped[c] for c in present])
    # labels set afterwards: boxplot's own keyword was renamed in matplotlib 3.9
    ax.set_xticks(np.arange(1, len(present) + 1), labels=present, rotation=rotation, ha="right")


def plot_condition_means(summaries: Sequence[Any], note: str = "") -> Figure:
    """Mean rating per condition, its confidence interval as error bars."""
    title = "Mean rating and 95 % confidence interval per condition"
    figure = _figure(1.1 * len(summaries) + 3, 4, title, note)
    ax = figure.add_subplot()
    draw_scale_bands(ax)
    positions, means = np.arange(len(summaries)), np.array([s.mean for s in summaries])
    errors = np.array([[s.mean - s.ci_low, s.ci_high - s.mean] for s in summaries]).T
    ax.errorbar(positions, means, yerr=np.nan_to_num(errors), fmt="o", capsize=5, color="C0")
    labels = [s.condition for s in summaries]
    ax.set_xticks(positions, labels=labels, rotation=30, ha="right")
    ax.set(xlabel="Condition", ylabel=RATING_AXIS_LABEL)
    return figure


def plot_condition_boxplots(
    ratings: Sequence[Any], conditions: Sequence[str], note: str = ""
) -> Figure:
    """All ratings of each condition (every kept listener and item) as box plots."""
    title = "Ratings per condition (all kept listeners and items)"
    figure = _figure(1.1 * len(conditions) + 3, 4, title, note)
    ax = figure.add_subplot()
    draw_scale_bands(ax)
    _boxplots(ax, ratings, conditions, rotation=30)
    ax.set(xlabel="Condition", ylabel=RATING_AXIS_LABEL)
    return figure


def plot_item_boxplots(
    ratings: Sequence[Any], conditions: Sequence[str], note: str = "", max_columns: int = 3
) -> Figure:
    """One panel per item: a system failing on one item shows here even when the mean hides it."""
    items = sorted({rating.item for rating in ratings})
    n_columns = max(1, min(max_columns, len(items)))
    n_rows = -(-len(items) // n_columns)
    figure = _figure(4.2 * n_columns, 3.4 * n_rows, "Ratings per item and condition", note)
    axes = figure.subplots(n_rows, n_columns, squeeze=False, sharey=True).ravel()
    for ax, item in zip(axes, items, strict=False):
        draw_scale_bands(ax, label_side=False)
        _boxplots(ax, [r for r in ratings if r.item == item], conditions, rotation=45)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(item, fontsize=10)
        ax.set_ylabel(RATING_AXIS_LABEL, fontsize=8)
    for ax in axes[len(items) :]:
        ax.set_visible(False)
    return figure


def plot_metric_correlations(correlations: Sequence[Any], note: str = "") -> Figure:
    """Mean rating against each metric: one panel per metric, one colour per condition."""
    n_panels = max(1, len(correlations))
    figure = _figure(5 * n_panels, 4.2, "Mean rating against objective scores", note)
    axes = figure.subplots(1, n_panels, squeeze=False)[0]
    for ax, correlation in zip(axes, correlations, strict=False):
        draw_scale_bands(ax, label_side=False)
        for colour, condition in enumerate(sorted({p[1] for p in correlation.points})):
            points = [p for p in correlation.points if p[1] == condition]
            scores, means = [p[2] for p in points], [p[3] for p in points]
            ax.scatter(scores, means, color=f"C{colour % 10}", label=condition, zorder=3)
        ax.set_xlabel(f"{correlation.metric} of the item (dB)")
        ax.set_ylabel("Mean rating over listeners (0-100)")
        ax.set_title(
            f"{correlation.metric}: Pearson r = {correlation.pearson_r:.2f}, "
            f"Spearman ρ = {correlation.spearman_rho:.2f}",
            fontsize=10,
        )
        ax.legend(fontsize=8, loc="lower right")
    if not correlations:
        axes[0].text(0.5, 0.5, "no objective metrics given", ha="center", va="center")
        axes[0].set_axis_off()
    return figure


def report_figures(
    summaries: Sequence[Any],
    kept: Sequence[Any],
    conditions: Sequence[str],
    correlations: Sequence[Any],
    note: str = "",
) -> dict[str, Figure]:
    """Every figure of a report, by name; the correlation figure only when there are metrics."""
    figures = {
        "condition_means": plot_condition_means(summaries, note),
        "condition_boxplots": plot_condition_boxplots(kept, conditions, note),
        "item_boxplots": plot_item_boxplots(kept, conditions, note),
    }
    if correlations:
        figures["metric_correlation"] = plot_metric_correlations(correlations, note)
    return figures
