"""The analysis of a class's listening test: post-screening, means with intervals, correlations.

Notebook 05, sections "Analysis", "Post-screening" and "Do the numbers agree with
the ears?". The teacher puts every listener's results file in one folder and calls
:func:`analyse_folder`. It applies ITU-R BS.1534-3's post-screening (a listener
who rates the hidden reference below 90 in more than 15 % of their trials is not
judging what the test asks, and is excluded), then reports per condition the mean
and its 95 % confidence interval (Student's t over all kept ratings), and how well
objective scores (SDR, SI-SDR) predict the mean rating of each item and condition.
One listener's ratings are not independent (each person uses the scale their own
way), so the interval describes the spread, as BS.1534 reports it, not an exact test.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE
from vaesep.listening.results import CollectedResults, Rating, load_results
from vaesep.listening.stimuli import StimulusSet

REFERENCE_THRESHOLD = 90.0  # BS.1534-3: a hidden-reference rating below this is a miss ...
MAX_MISS_FRACTION = 0.15  # ... and more misses than this fraction of trials excludes a listener

MetricTable = Mapping[tuple[str, str], Mapping[str, float]]  # (item, condition) -> {metric: score}


@dataclass(frozen=True)
class ScreeningOutcome:
    """The post-screening verdict on one listener."""

    listener_id: str
    n_trials: int  # trials with a hidden-reference rating
    n_misses: int  # of those, rated below the threshold
    excluded: bool
    threshold: float = REFERENCE_THRESHOLD
    max_fraction: float = MAX_MISS_FRACTION

    @property
    def miss_fraction(self) -> float:
        return self.n_misses / self.n_trials if self.n_trials else 0.0

    def explain(self) -> str:
        verdict, relation = ("EXCLUDED", ">") if self.excluded else ("kept", "<=")
        return (
            f"{self.listener_id}: {verdict} -- hidden reference rated below {self.threshold:g} "
            f"in {self.n_misses} of {self.n_trials} trials ({100 * self.miss_fraction:.0f} % "
            f"{relation} {100 * self.max_fraction:.0f} %)"
        )


def post_screen(
    ratings: Iterable[Rating],
    *,
    threshold: float = REFERENCE_THRESHOLD,
    max_fraction: float = MAX_MISS_FRACTION,
) -> tuple[ScreeningOutcome, ...]:
    """One verdict per listener, by id: excluded when they rate the hidden reference below
    ``threshold`` in *more than* ``max_fraction`` of their trials (all sessions together)."""
    trials: dict[str, int] = defaultdict(int)
    misses: dict[str, int] = defaultdict(int)
    for rating in ratings:
        is_reference = rating.condition == HIDDEN_REFERENCE
        trials[rating.listener_id] += is_reference
        misses[rating.listener_id] += is_reference and rating.rating < threshold
    outcomes = []
    for listener in sorted(trials):
        n_trials, n_misses = trials[listener], misses[listener]
        # the tolerance keeps "exactly 15 %" from being excluded by rounding error
        excluded = n_trials > 0 and n_misses / n_trials > max_fraction + 1e-12
        outcomes.append(
            ScreeningOutcome(listener, n_trials, n_misses, excluded, threshold, max_fraction)
        )
    return tuple(outcomes)


def mean_confidence_interval(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """``(mean, low, high)`` with ``mean ± t_{(1+confidence)/2, n-1} · s / √n``.

    The bounds are NaN for fewer than two values (and the mean too for none).
    """
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if values.size else math.nan
    if values.size < 2:
        return mean, math.nan, math.nan
    t = stats.t.ppf((1 + confidence) / 2, values.size - 1)
    half_width = float(t * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half_width, mean + half_width


@dataclass(frozen=True)
class ConditionSummary:
    """The ratings of one condition: how many, their mean and spread, the interval."""

    condition: str
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def summarise_conditions(
    ratings: Iterable[Rating], conditions: Sequence[str] | None = None, confidence: float = 0.95
) -> tuple[ConditionSummary, ...]:
    """Mean ± confidence interval per condition, in the order of ``conditions`` (default
    sorted); conditions without ratings are left out."""
    by_condition = defaultdict(list)
    for rating in ratings:
        by_condition[rating.condition].append(rating.rating)
    summaries = []
    for condition in [c for c in (conditions or sorted(by_condition)) if c in by_condition]:
        values = by_condition[condition]
        mean, low, high = mean_confidence_interval(values, confidence)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        summaries.append(ConditionSummary(condition, len(values), mean, std, low, high))
    return tuple(summaries)


@dataclass(frozen=True)
class MetricCorrelation:
    """How well one metric predicts the mean ratings, over ``points``:
    ``(item, condition, score, mean rating)`` each."""

    metric: str
    points: tuple[tuple[str, str, float, float], ...]
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float

    @property
    def n(self) -> int:
        return len(self.points)


def correlate_with_metrics(
    ratings: Iterable[Rating],
    metrics: MetricTable,
    *,
    exclude_conditions: Sequence[str] = (HIDDEN_REFERENCE,),
    include_anchors: bool = False,
) -> tuple[MetricCorrelation, ...]:
    """Pearson and Spearman correlation of mean ratings with each metric (sorted by name).

    One point per (item, condition) with a mean rating and a finite score. The
    hidden reference (infinite SDR) is left out, and so are the anchors unless
    asked for: a low-passed reference keeps a high SDR while it sounds muffled,
    which would measure the metric's blindness to bandwidth, not its use for
    separation. Coefficients are NaN with fewer than three points or no spread.
    """
    by_pair = defaultdict(list)
    for rating in ratings:
        if rating.condition not in exclude_conditions and (
            include_anchors or not rating.condition.startswith(ANCHOR_PREFIX)
        ):
            by_pair[rating.item, rating.condition].append(rating.rating)
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
    """The whole analysis of one results folder. ``print(report)`` tells it; ``figures``
    holds ``condition_means``, ``condition_boxplots``, ``item_boxplots`` and, with
    metrics, ``metric_correlation``."""

    folder: Path
    collected: CollectedResults
    screening: tuple[ScreeningOutcome, ...]
    kept: tuple[Rating, ...]  # the ratings of the listeners post-screening kept
    summaries: tuple[ConditionSummary, ...]
    correlations: tuple[MetricCorrelation, ...]
    figures: dict[str, object]
    confidence: float = 0.95
    threshold: float = REFERENCE_THRESHOLD
    max_fraction: float = MAX_MISS_FRACTION
    include_anchors: bool = False

    @property
    def excluded_listeners(self) -> tuple[str, ...]:
        return tuple(s.listener_id for s in self.screening if s.excluded)

    def text(self) -> str:
        collected, lines = self.collected, []
        if collected.simulated_listeners:
            lines.append(
                f"WARNING: SIMULATED DATA -- {len(collected.simulated_listeners)} listener(s) "
                f"are machine-generated ({', '.join(sorted(collected.simulated_listeners))}); "
                "these numbers say nothing about how the systems sound."
            )
        lines.append(
            f"Results folder {self.folder}: {len(collected.files)} file(s), "
            f"{len(collected.listeners)} listener(s), {len(collected.items)} item(s)."
        )
        for path, reason in collected.skipped_files.items():
            lines.append(f"  skipped unreadable file {path.name}: {reason}")
        for path, numbers in collected.torn_lines.items():
            lines.append(f"  {path.name}: ignored incomplete line(s) {list(numbers)}")
        for path in collected.incomplete_sessions:
            lines.append(f"  {path.name}: session not finished (its submitted trials are used)")
        lines.append(
            "Post-screening (ITU-R BS.1534-3): exclude listeners who rate the hidden reference "
            f"below {self.threshold:g} in more than {100 * self.max_fraction:.0f} % of trials."
        )
        lines += [f"  {outcome.explain()}" for outcome in self.screening]
        lines.append(
            f"Kept {len(self.screening) - len(self.excluded_listeners)} of {len(self.screening)} "
            f"listener(s); mean and {100 * self.confidence:.0f} % confidence interval "
            "(Student t) per condition:"
        )
        for s in self.summaries:
            lines.append(
                f"  {s.condition:<20} n={s.n:<4d} mean {s.mean:6.1f}   "
                f"CI [{s.ci_low:6.1f}, {s.ci_high:6.1f}]"
            )
        left_out = "hidden reference" + ("" if self.include_anchors else " and anchors")
        for c in self.correlations:
            lines.append(
                f"Correlation of mean rating with {c.metric} over {c.n} item-condition pairs "
                f"({left_out} left out): Pearson r = {c.pearson_r:.2f} (p = {c.pearson_p:.2g}), "
                f"Spearman rho = {c.spearman_rho:.2f} (p = {c.spearman_p:.2g})"
            )
        return "\n".join(lines)

    __str__ = text


def analyse_folder(
    folder: str | os.PathLike,
    metrics: MetricTable | StimulusSet | None = None,
    *,
    threshold: float = REFERENCE_THRESHOLD,
    max_fraction: float = MAX_MISS_FRACTION,
    confidence: float = 0.95,
    include_anchors: bool = False,
    make_figures: bool = True,
) -> ListeningReport:
    """Read, post-screen, summarise, correlate and plot one folder of results files.

    ``metrics`` are the objective scores per (item, condition), or the
    :class:`StimulusSet` whose index holds them; None skips the correlations.
    """
    collected = load_results(folder)
    if not collected.ratings:
        raise ValueError(f"the results files in {folder} hold no submitted trial yet")
    screening = post_screen(collected.ratings, threshold=threshold, max_fraction=max_fraction)
    excluded = {s.listener_id for s in screening if s.excluded}
    kept = tuple(r for r in collected.ratings if r.listener_id not in excluded)
    if not kept:
        warnings.warn(
            "post-screening excluded every listener; statistics are empty. Check that the "
            "listeners were trained (familiarisation page) and that the hidden reference plays",
            stacklevel=2,
        )
    if isinstance(metrics, StimulusSet):
        metrics = metrics.metrics()
    summaries = summarise_conditions(kept, collected.conditions, confidence)
    correlations = correlate_with_metrics(kept, metrics or {}, include_anchors=include_anchors)
    figures = {}
    if make_figures and kept:
        from vaesep.listening.plots import report_figures  # matplotlib only when drawing

        note = "SIMULATED LISTENERS - not real data" if collected.simulated_listeners else ""
        figures = report_figures(summaries, kept, collected.conditions, correlations, note)
    return ListeningReport(
        Path(folder), collected, screening, kept, summaries, correlations, figures,
        confidence, threshold, max_fraction, include_anchors,
    )
