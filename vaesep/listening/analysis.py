"""The analysis of a class's listening test: post-screening, means with intervals, correlations.

Notebook 05, sections "Analysis", "Post-screening" and "Do the numbers agree with the ears?".
ITU-R BS.1534-3's post-screening excludes a listener who rates the hidden reference below 90
in more than 15 % of their trials; then per condition the mean and its 95 % Student-t interval
over all kept ratings (one listener's ratings are not independent, so the interval describes
the spread, as BS.1534 reports it), and how well SDR and SI-SDR predict the mean ratings.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from scipy import stats

from vaesep.files import markdown_table
from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE, SCALE_LABELS
from vaesep.listening.session import ListeningSession, read_results_file
from vaesep.listening.stimuli import StimulusSet

REFERENCE_THRESHOLD = 90.0  # BS.1534-3: a hidden-reference rating below this is a miss ...
MAX_MISS_FRACTION = 0.15  # ... and more misses than this fraction of trials excludes a listener
RATING_AXIS_LABEL = "Rating (MUSHRA scale, 0-100)"

MetricTable = Mapping[tuple[str, str], Mapping[str, float]]  # (item, condition) -> {metric: score}


class Rating(NamedTuple):
    """One slider of one trial: the long format every statistic reads."""

    listener_id: str
    item: str
    condition: str
    rating: float


class ScreeningOutcome(NamedTuple):
    """The post-screening verdict on one listener."""

    listener_id: str
    n_trials: int  # trials with a hidden-reference rating
    n_misses: int  # of those, rated below the threshold
    excluded: bool


def post_screen(ratings: Iterable[Rating]) -> tuple[ScreeningOutcome, ...]:
    """One verdict per listener, by id: excluded when they rate the hidden reference below
    ``REFERENCE_THRESHOLD`` in *more than* ``MAX_MISS_FRACTION`` of their trials."""
    trials: dict[str, int] = defaultdict(int)
    misses: dict[str, int] = defaultdict(int)
    for rating in ratings:
        is_reference = rating.condition == HIDDEN_REFERENCE
        trials[rating.listener_id] += is_reference
        misses[rating.listener_id] += is_reference and rating.rating < REFERENCE_THRESHOLD
    # the tolerance keeps "exactly 15 %" from being excluded by rounding error
    return tuple(
        ScreeningOutcome(name, n, misses[name], misses[name] > (MAX_MISS_FRACTION + 1e-12) * n)
        for name, n in sorted(trials.items())
    )


class ConditionSummary(NamedTuple):
    """The ratings of one condition: how many, their mean, its 95 % confidence interval."""

    condition: str
    n: int
    mean: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def summarise_conditions(
    ratings: Iterable[Rating], conditions: Sequence[str]
) -> tuple[ConditionSummary, ...]:
    """``mean ± t_{0.975, n-1} · s / √n`` per condition with ratings, in the order of
    ``conditions``; the bounds are NaN for a single rating."""
    by_condition = defaultdict(list)
    for rating in ratings:
        by_condition[rating.condition].append(rating.rating)
    summaries = []
    for condition in [c for c in conditions if c in by_condition]:
        values = np.asarray(by_condition[condition], dtype=np.float64)
        mean, half = float(values.mean()), math.nan
        if values.size > 1:
            t = stats.t.ppf(0.975, values.size - 1)
            half = float(t * values.std(ddof=1) / np.sqrt(values.size))
        summaries.append(ConditionSummary(condition, values.size, mean, mean - half, mean + half))
    return tuple(summaries)


class MetricCorrelation(NamedTuple):
    """How well one metric predicts mean ratings; ``points`` are (item, condition, score, mean)."""

    metric: str
    points: tuple[tuple[str, str, float, float], ...]
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float


def correlate_with_metrics(
    ratings: Iterable[Rating], metrics: MetricTable, *, include_anchors: bool = False
) -> tuple[MetricCorrelation, ...]:
    """Pearson and Spearman correlation of mean ratings with each metric (sorted by name).

    One point per (item, condition) with a finite score. The hidden reference (infinite
    SDR) is left out, and the anchors unless asked for: a low-passed reference keeps a
    high SDR while it sounds muffled. NaN with fewer than three points or no spread.
    """
    by_pair = defaultdict(list)
    for r in ratings:
        anchor = r.condition.startswith(ANCHOR_PREFIX)
        if r.condition != HIDDEN_REFERENCE and (include_anchors or not anchor):
            by_pair[r.item, r.condition].append(r.rating)
    correlations = []
    for name in sorted({name for scores in metrics.values() for name in scores}):
        points = tuple(
            (item, condition, float(metrics[item, condition][name]), float(np.mean(values)))
            for (item, condition), values in sorted(by_pair.items())
            if math.isfinite(metrics.get((item, condition), {}).get(name, math.nan))
        )
        x, y = np.array([p[2] for p in points]), np.array([p[3] for p in points])
        coefficients = (math.nan,) * 4
        if len(points) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            coefficients = (*stats.pearsonr(x, y), *stats.spearmanr(x, y))
        correlations.append(MetricCorrelation(name, points, *map(float, coefficients)))
    return tuple(correlations)


@dataclass
class ListeningReport:
    """The analysis of one results folder. ``print(report)`` tells it; ``figures`` holds
    ``condition_means``, ``item_boxplots`` and, with metrics, ``metric_correlation``."""

    folder: Path
    sessions: list[ListeningSession]  # the results files read, by path
    skipped_files: dict[Path, str]  # the files left out, and why
    ratings: tuple[Rating, ...]
    screening: tuple[ScreeningOutcome, ...]
    summaries: tuple[ConditionSummary, ...]
    correlations: tuple[MetricCorrelation, ...]
    include_anchors: bool = False
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def excluded_listeners(self) -> tuple[str, ...]:
        return tuple(s.listener_id for s in self.screening if s.excluded)

    @property
    def simulated_listeners(self) -> list[str]:
        return sorted({s.header["listener_id"] for s in self.sessions if s.header.get("simulated")})

    def __str__(self) -> str:
        simulated, below = self.simulated_listeners, f"below {REFERENCE_THRESHOLD:g}"
        lines = [
            f"WARNING: SIMULATED DATA -- {len(simulated)} listener(s) are machine-generated "
            f"({', '.join(simulated)}); these numbers say nothing about how the systems sound."
        ] if simulated else []
        lines.append(
            f"Results folder {self.folder}: {len(self.sessions)} file(s), "
            f"{len(self.screening)} listener(s), {len({r.item for r in self.ratings})} item(s)."
        )
        lines += [f"  skipped file {p.name}: {why}" for p, why in self.skipped_files.items()]
        for s in self.sessions:
            if s.torn_lines:
                lines.append(f"  {s.path.name}: ignored incomplete line(s) {list(s.torn_lines)}")
            if not s.is_complete:
                lines.append(f"  {s.path.name}: session not finished (its trials are used)")
        screening = [
            (s.listener_id, "EXCLUDED" if s.excluded else "kept",
             f"{s.n_misses} of {s.n_trials} ({100 * s.n_misses / max(s.n_trials, 1):.0f} %)")
            for s in self.screening
        ]
        summaries = [
            (s.condition, s.n, f"{s.mean:.1f}", f"[{s.ci_low:.1f}, {s.ci_high:.1f}]")
            for s in self.summaries
        ]
        n_kept = len(self.screening) - len(self.excluded_listeners)
        lines += [
            "\nPost-screening (ITU-R BS.1534-3) excludes a listener who rates the hidden reference "
            f"{below} in more than {100 * MAX_MISS_FRACTION:.0f} % of their trials:\n",
            markdown_table(("listener", "verdict", f"trials with hidden reference {below}"),
                           screening, "llr"),
            f"\nMean and 95 % confidence interval (Student t) per condition, over the {n_kept} of "
            f"{len(self.screening)} listener(s) kept:\n",
            markdown_table(("condition", "n", "mean", "95 % CI"), summaries),
        ]
        if self.correlations:
            left_out = "hidden reference" + ("" if self.include_anchors else " and anchors")
            lines.append(f"\nCorrelation of mean rating with each metric ({left_out} left out):\n")
            correlations = [
                (c.metric, len(c.points), f"{c.pearson_r:.2f} (p = {c.pearson_p:.2g})",
                 f"{c.spearman_rho:.2f} (p = {c.spearman_p:.2g})") for c in self.correlations
            ]
            header = ("metric", "item-condition pairs", "Pearson r", "Spearman rho")
            lines.append(markdown_table(header, correlations))
        return "\n".join(lines)


def analyse_folder(
    folder: str | os.PathLike,
    metrics: MetricTable | StimulusSet | None = None,
    *,
    include_anchors: bool = False,
    make_figures: bool = True,
) -> ListeningReport:
    """Read, post-screen, summarise, correlate and plot the ``*.jsonl`` results files of
    ``folder`` (not its subfolders). ``metrics`` are the scores per (item, condition), or
    the :class:`StimulusSet` holding them; None skips the correlations."""
    folder = Path(folder)
    paths = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not paths:
        raise FileNotFoundError(f"no *.jsonl files in {folder}; copy the listeners' files there")
    used, skipped = [], {}
    for path in paths:
        try:
            used.append(read_results_file(path))
        except (OSError, ValueError) as exc:
            skipped[path] = str(exc)
    ratings = tuple(
        Rating(trial["listener_id"], trial["item"], entry["condition"], float(entry["rating"]))
        for session in used
        for trial in session.trials
        for entry in trial["ratings"]
    )
    if not ratings:
        raise ValueError(f"the results files in {folder} hold no submitted trial yet")
    screening = post_screen(ratings)
    excluded = {s.listener_id for s in screening if s.excluded}
    kept = tuple(r for r in ratings if r.listener_id not in excluded)
    if not kept:
        warnings.warn(
            "post-screening excluded every listener; statistics are empty. Check that the "
            "listeners were trained (familiarisation page) and that the hidden reference plays",
            stacklevel=2,
        )
    if isinstance(metrics, StimulusSet):
        metrics = metrics.metrics()
    # the conditions as the files' designs list them, the first file's first
    conditions = tuple(dict.fromkeys(c for s in used for c in s.header["design"]["conditions"]))
    summaries = summarise_conditions(kept, conditions)
    correlations = correlate_with_metrics(kept, metrics or {}, include_anchors=include_anchors)
    report = ListeningReport(
        folder, used, skipped, ratings, screening, summaries, correlations, include_anchors
    )
    if make_figures and kept:
        report.figures = _figures(report, kept, conditions)
    return report


def _figures(report: ListeningReport, kept: Sequence[Rating], conditions: Sequence[str]) -> dict:
    """The report's figures, closed (the caller shows them with ``display``), each a grid of
    panels over the scale's five bands; a SIMULATED note travels in every title."""
    import matplotlib.pyplot as plt  # only when drawing; pyplot sets up Jupyter's inline display

    def panels(title: str, n: int, n_columns: int, width: float, height: float, **grid: Any):
        n_rows = -(-n // n_columns)
        made = plt.figure(figsize=(width * n_columns, height * n_rows), layout="constrained")
        plt.close(made)  # the caller owns it; pyplot must not show it a second time
        note = "\nSIMULATED LISTENERS - not real data" if report.simulated_listeners else ""
        made.suptitle(title + note)
        axes = made.subplots(n_rows, n_columns, squeeze=False, **grid).ravel()
        for ax in axes[n:]:
            ax.set_visible(False)
        for ax in axes[:n]:
            for low in range(0, 100, 20):
                ax.axhspan(low, low + 20, color="0.92" if low % 40 else "1.0", zorder=0)
            ax.set_ylim(0, 100)
            ax.set_yticks(range(0, 101, 20))
        return made, axes[:n]

    def boxplots(ax: Any, ratings: Sequence[Rating], rotation: int) -> None:
        # boxes span the quartiles, whiskers 1.5 × the inter-quartile range, dots lie beyond
        present = [c for c in conditions if any(r.condition == c for r in ratings)]
        ax.boxplot([[r.rating for r in ratings if r.condition == c] for c in present])
        # labels set afterwards: boxplot's own keyword was renamed in matplotlib 3.9
        ax.set_xticks(range(1, len(present) + 1), labels=present, rotation=rotation, ha="right")

    title = "Ratings per condition: spread (boxes), mean and 95 % confidence interval (red)"
    means, (ax,) = panels(title, 1, 1, 1.1 * len(conditions) + 3, 4.2)
    boxplots(ax, kept, rotation=30)
    names = ax.twinx()  # the scale's band names on a right-hand axis
    names.set_ylim(0, 100)
    names.set_yticks(range(10, 100, 20), labels=list(SCALE_LABELS))
    names.tick_params(length=0)
    summaries = report.summaries
    errors = np.array([[s.mean - s.ci_low, s.ci_high - s.mean] for s in summaries]).T
    positions, averages = np.arange(1, len(summaries) + 1), [s.mean for s in summaries]
    ax.errorbar(positions, averages, np.nan_to_num(errors), fmt="o", capsize=5, color="C3")
    ax.set(xlabel="Condition", ylabel=RATING_AXIS_LABEL)

    # one panel per item: a system failing on one item shows here even when the mean hides it
    items = sorted({rating.item for rating in kept})
    per_item, axes = panels("Ratings per item and condition", len(items), min(3, len(items)),
                            4.2, 3.4, sharey=True)
    for ax, item in zip(axes, items, strict=True):
        boxplots(ax, [r for r in kept if r.item == item], rotation=45)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_title(item, fontsize=10)
        ax.set_ylabel(RATING_AXIS_LABEL, fontsize=8)
    figures = {"condition_means": means, "item_boxplots": per_item}
    if not report.correlations:
        return figures

    # mean rating against each metric: one panel per metric, one colour per condition
    correlations = report.correlations
    scatter, axes = panels("Mean rating against objective scores", len(correlations),
                           len(correlations), 5, 4.2)
    for ax, c in zip(axes, correlations, strict=True):
        for colour, condition in enumerate(sorted({p[1] for p in c.points})):
            points = [p for p in c.points if p[1] == condition]
            scores, averages = [p[2] for p in points], [p[3] for p in points]
            ax.scatter(scores, averages, color=f"C{colour % 10}", label=condition, zorder=3)
        ax.set(xlabel=f"{c.metric} of the item (dB)", ylabel="Mean rating over listeners")
        ax.set_title(
            f"{c.metric}: Pearson r = {c.pearson_r:.2f}, Spearman ρ = {c.spearman_rho:.2f}",
            fontsize=10,
        )
        ax.legend(fontsize=8, loc="lower right")
    figures["metric_correlation"] = scatter
    return figures
