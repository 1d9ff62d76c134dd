"""Figures of a listening-test analysis (matplotlib).

Every figure draws the five bands of the MUSHRA scale (Bad ... Excellent)
behind the ratings so the numbers read as the listeners saw them. Figures are
made through pyplot (which sets up Jupyter's inline display) and closed at
once, so making a report opens no windows and keeps no figures alive; the
notebook shows them with ``display(figure)``. Notebook 05, section "Analysis".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from vaesep.listening.design import SCALE_BOUNDARIES, SCALE_LABELS

if TYPE_CHECKING:
    from vaesep.listening.analysis import (
        ConditionSummary,
        ListeningReport,
        MetricCorrelation,
        Rating,
    )

RATING_AXIS_LABEL = "Rating (MUSHRA scale, 0-100)"

SIMULATED_NOTE = "SIMULATED LISTENERS - not real data"
"""Second title line of every figure made from simulated ratings."""


def _new_figure(width: float, height: float) -> Figure:
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(width, height), layout="constrained")
    plt.close(figure)  # the caller owns it; pyplot must not show it a second time
    return figure


def _title(figure: Figure, title: str, note: str) -> None:
    # the note sits in the title, so it travels with the picture into slides
    figure.suptitle(f"{title}\n{note}" if note else title)


def draw_scale_bands(ax: Axes, label_side: bool = True) -> None:
    """Shade the five scale bands and, optionally, name them on the right axis.

    Notebook 05, section "Analysis".
    """
    for band, (low, high) in enumerate(
        zip(SCALE_BOUNDARIES[:-1], SCALE_BOUNDARIES[1:], strict=True)
    ):
        ax.axhspan(low, high, color="0.92" if band % 2 else "1.0", zorder=0)
    ax.set_ylim(0, 100)
    ax.set_yticks(SCALE_BOUNDARIES)
    if label_side:
        names = ax.twinx()
        names.set_ylim(0, 100)
        edges = zip(SCALE_BOUNDARIES[:-1], SCALE_BOUNDARIES[1:], strict=True)
        centres = [(low + high) / 2 for low, high in edges]
        names.set_yticks(centres, labels=list(SCALE_LABELS))
        names.tick_params(length=0)


def plot_condition_means(summaries: Sequence[ConditionSummary], note: str = "") -> Figure:
    """Mean rating per condition with its confidence interval as error bars.

    Notebook 05, section "Analysis".
    """
    figure = _new_figure(1.1 * len(summaries) + 3, 4)
    ax = figure.add_subplot()
    draw_scale_bands(ax)
    positions = np.arange(len(summaries))
    means = np.array([s.mean for s in summaries])
    errors = np.array([[s.mean - s.ci_low, s.ci_high - s.mean] for s in summaries]).T
    ax.errorbar(positions, means, yerr=np.nan_to_num(errors), fmt="o", capsize=5, color="C0")
    ax.set_xticks(positions, labels=[s.condition for s in summaries], rotation=30, ha="right")
    ax.set_xlabel("Condition")
    ax.set_ylabel(RATING_AXIS_LABEL)
    _title(figure, "Mean rating and 95 % confidence interval per condition", note)
    return figure


def _by(ratings: Sequence[Rating], key: str) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for rating in ratings:
        grouped[getattr(rating, key)].append(rating.rating)
    return grouped


def plot_condition_boxplots(
    ratings: Sequence[Rating], conditions: Sequence[str], note: str = ""
) -> Figure:
    """Box plot of all ratings of each condition (listeners × items).

    Notebook 05, section "Analysis". Boxes span the quartiles, whiskers
    1.5 × the inter-quartile range, dots are single ratings beyond them.
    """
    grouped = _by(ratings, "condition")
    present = [c for c in conditions if c in grouped]
    figure = _new_figure(1.1 * len(present) + 3, 4)
    ax = figure.add_subplot()
    draw_scale_bands(ax)
    ax.boxplot([grouped[c] for c in present])
    # labels set afterwards: boxplot's own keyword was renamed in matplotlib 3.9
    ax.set_xticks(np.arange(1, len(present) + 1), labels=present, rotation=30, ha="right")
    ax.set_xlabel("Condition")
    ax.set_ylabel(RATING_AXIS_LABEL)
    _title(figure, "Ratings per condition (all kept listeners and items)", note)
    return figure


def plot_item_boxplots(
    ratings: Sequence[Rating], conditions: Sequence[str], note: str = "", max_columns: int = 3
) -> Figure:
    """One panel per item: box plots of the ratings of each condition.

    Notebook 05, section "Analysis". Items where a system fails show up here
    even when the mean over items hides them.
    """
    by_item: dict[str, list[Rating]] = defaultdict(list)
    for rating in ratings:
        by_item[rating.item].append(rating)
    items = sorted(by_item)
    n_columns = max(1, min(max_columns, len(items)))
    n_rows = -(-len(items) // n_columns)
    figure = _new_figure(4.2 * n_columns, 3.4 * n_rows)
    axes = figure.subplots(n_rows, n_columns, squeeze=False, sharey=True)
    for ax, item in zip(axes.flat, items, strict=False):
        grouped = _by(by_item[item], "condition")
        present = [c for c in conditions if c in grouped]
        draw_scale_bands(ax, label_side=False)
        ax.boxplot([grouped[c] for c in present])
        ax.set_xticks(np.arange(1, len(present) + 1), labels=present, rotation=45, ha="right")
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(item, fontsize=10)
        ax.set_ylabel(RATING_AXIS_LABEL, fontsize=8)
    for ax in list(axes.flat)[len(items) :]:
        ax.set_visible(False)
    _title(figure, "Ratings per item and condition", note)
    return figure


def plot_metric_correlations(correlations: Sequence[MetricCorrelation], note: str = "") -> Figure:
    """Scatter of mean rating against each objective metric, one panel per metric.

    Notebook 05, section "Do the numbers agree with the ears?". Each point
    is one item-condition pair; colours mark conditions.
    """
    figure = _new_figure(5 * max(1, len(correlations)), 4.2)
    axes = figure.subplots(1, max(1, len(correlations)), squeeze=False)[0]
    for ax, correlation in zip(axes, correlations, strict=False):
        draw_scale_bands(ax, label_side=False)
        conditions = sorted({p[1] for p in correlation.points})
        for colour, condition in enumerate(conditions):
            xs = [p[2] for p in correlation.points if p[1] == condition]
            ys = [p[3] for p in correlation.points if p[1] == condition]
            ax.scatter(xs, ys, color=f"C{colour % 10}", label=condition, zorder=3)
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
    _title(figure, "Mean rating against objective scores", note)
    return figure


def report_figures(report: ListeningReport) -> dict[str, Figure]:
    """All figures of a :class:`~vaesep.listening.analysis.ListeningReport`.

    Notebook 05, section "Analysis".
    """
    conditions = report.collected.conditions
    note = SIMULATED_NOTE if report.collected.simulated_listeners else ""
    figures = {
        "condition_means": plot_condition_means(report.summaries, note),
        "condition_boxplots": plot_condition_boxplots(report.kept, conditions, note),
        "item_boxplots": plot_item_boxplots(report.kept, conditions, note),
    }
    if report.correlations:
        figures["metric_correlation"] = plot_metric_correlations(report.correlations, note)
    return figures
