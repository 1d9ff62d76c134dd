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
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE
from vaesep.listening.session import RESULTS_SUFFIX, read_results_file
from vaesep.listening.stimuli import StimulusSet

REFERENCE_THRESHOLD = 90.0  # BS.1534-3: a hidden-reference rating below this is a miss ...
MAX_MISS_FRACTION = 0.15  # ... and more misses than this fraction of trials excludes a listener

MetricTable = Mapping[tuple[str, str], Mapping[str, float]]  # (item, condition) -> {metric: score}


@dataclass(frozen=True)
class Rating:
    """One slider of one trial of one listener: the long format every statistic reads."""

    listener_id: str
    session_id: str
    trial_id: str
    item: str
    condition: str
    letter: str
    rating: float
    plays: int
    simulated: bool


@dataclass(frozen=True)
class CollectedResults:
    """Everything read from a folder of results files, and what was left out and why."""

    ratings: tuple[Rating, ...]
    conditions: tuple[str, ...]  # in the order of the first file's design
    files: tuple[Path, ...]
    torn_lines: dict[Path, tuple[int, ...]] = field(default_factory=dict)
    skipped_files: dict[Path, str] = field(default_factory=dict)
    incomplete_sessions: tuple[Path, ...] = ()
    simulated_listeners: frozenset[str] = frozenset()

    @property
    def listeners(self) -> tuple[str, ...]:
        return tuple(sorted({r.listener_id for r in self.ratings}))

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(sorted({r.item for r in self.ratings}))


def load_results(folder: str | os.PathLike) -> CollectedResults:
    """Read every ``*.jsonl`` results file in ``folder`` (not its subfolders).

    Two files of one listener's session (same design and session number, made by a
    race in vaesep before session creation was locked) would count a listener twice:
    only the one with the most trials is read, the other is listed in ``skipped_files``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} does not exist")
    paths = sorted(folder.glob(f"*{RESULTS_SUFFIX}"))
    if not paths:
        raise FileNotFoundError(f"no *{RESULTS_SUFFIX} results files in {folder}; copy the listeners' files there")
    skipped, readable, sessions = {}, [], {}
    for path in paths:
        try:
            contents = read_results_file(path)
        except (OSError, ValueError) as exc:
            skipped[path] = str(exc)
            continue
        header = contents.header
        # a header without a session number stands alone: there is nothing to match it on
        key = (header["listener_id"], header["design"]["design_id"], header.get("session_ordinal", str(path)))
        readable.append((key, contents))
        if key not in sessions or len(contents.trials) > len(sessions[key].trials):
            sessions[key] = contents
    used = []
    for key, contents in readable:
        if sessions[key] is contents:
            used.append(contents)
        else:
            skipped[contents.path] = (
                f"a second file of session {key[2]} of listener {key[0]} (same design); "
                f"{sessions[key].path.name} is used instead"
            )
    conditions = dict.fromkeys(c for contents in used for c in contents.header["design"]["conditions"])
    ratings = tuple(
        Rating(
            trial["listener_id"], trial["session_id"], trial["trial_id"], trial["item"], entry["condition"],
            entry["letter"], float(entry["rating"]), int(entry["plays"]), bool(trial.get("simulated", False)),
        )
        for contents in used
        for trial in contents.trials
        for entry in trial["ratings"]
    )
    return CollectedResults(
        ratings,
        tuple(conditions),
        tuple(contents.path for contents in used),
        {contents.path: contents.torn_lines for contents in used if contents.torn_lines},
        skipped,
        tuple(contents.path for contents in used if not contents.is_complete),
        frozenset(c.header["listener_id"] for c in used if c.header.get("simulated")),
    )


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
            f"{self.listener_id}: {verdict} -- hidden reference rated below {self.threshold:g} in "
            f"{self.n_misses} of {self.n_trials} trials ({100 * self.miss_fraction:.0f} % {relation} "
            f"{100 * self.max_fraction:.0f} %)"
        )


def post_screen(
    ratings: Iterable[Rating], *, threshold: float = REFERENCE_THRESHOLD, max_fraction: float = MAX_MISS_FRACTION
) -> tuple[ScreeningOutcome, ...]:
    """One verdict per listener (sorted by id): excluded when they rate the hidden reference
    below ``threshold`` in *more than* ``max_fraction`` of their trials, all sessions together."""
    trials: dict[str, int] = defaultdict(int)
    misses: dict[str, int] = defaultdict(int)
    for rating in ratings:
        trials[rating.listener_id] += rating.condition == HIDDEN_REFERENCE
        misses[rating.listener_id] += rating.condition == HIDDEN_REFERENCE and rating.rating < threshold
    outcomes = []
    for listener in sorted(trials):
        n_trials, n_misses = trials[listener], misses[listener]
        # the tolerance keeps "exactly 15 %" from being excluded by rounding error
        excluded = n_trials > 0 and n_misses / n_trials > max_fraction + 1e-12
        outcomes.append(ScreeningOutcome(listener, n_trials, n_misses, excluded, threshold, max_fraction))
    return tuple(outcomes)


def mean_confidence_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, low, high)``: ``mean ± t_{(1+confidence)/2, n-1} · s / √n``; NaN bounds below two values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return (float(values.mean()) if values.size else math.nan), math.nan, math.nan
    mean = float(values.mean())
    half_width = float(stats.t.ppf((1 + confidence) / 2, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half_width, mean + half_width


@dataclass(frozen=True)
class ConditionSummary:
    """The ratings of one condition: how many, their mean and spread, the confidence interval."""

    condition: str
    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2


def _grouped(ratings: Iterable[Rating], key: Callable[[Rating], Hashable]) -> dict[Hashable, list[float]]:
    groups = defaultdict(list)
    for rating in ratings:
        groups[key(rating)].append(rating.rating)
    return groups


def summarise_conditions(
    ratings: Iterable[Rating], conditions: Sequence[str] | None = None, confidence: float = 0.95
) -> tuple[ConditionSummary, ...]:
    """Mean ± confidence interval per condition, in the order of ``conditions`` (default sorted);
    conditions without ratings are left out."""
    by_condition = _grouped(ratings, lambda rating: rating.condition)
    summaries = []
    for condition in [c for c in (conditions or sorted(by_condition)) if c in by_condition]:
        values = by_condition[condition]
        mean, low, high = mean_confidence_interval(values, confidence)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        summaries.append(ConditionSummary(condition, len(values), mean, std, low, high))
    return tuple(summaries)


@dataclass(frozen=True)
class MetricCorrelation:
    """How well one metric predicts the mean ratings; ``points`` are (item, condition, score, mean rating)."""

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
    """Pearson and Spearman correlation of mean ratings with each metric, sorted by metric name.

    One point per (item, condition) with a mean rating and a finite score. The
    hidden reference (infinite SDR) is left out, and so are the anchors unless
    asked for: a low-passed reference keeps a high SDR while it sounds muffled,
    which would measure the metric's blindness to bandwidth, not its use for
    separation. Coefficients are NaN with fewer than three points or no spread.
    """
    means = {key: float(np.mean(values)) for key, values in sorted(_grouped(ratings, lambda rating: (rating.item, rating.condition)).items())}
    correlations = []
    for name in sorted({name for scores in metrics.values() for name in scores}):
        points = tuple(
            (item, condition, float(metrics[(item, condition)][name]), mean)
            for (item, condition), mean in means.items()
            if condition not in exclude_conditions
            and (include_anchors or not condition.startswith(ANCHOR_PREFIX))
            and math.isfinite(float(metrics.get((item, condition), {}).get(name, math.nan)))
        )
        x, y = np.array([p[2] for p in points]), np.array([p[3] for p in points])
        coefficients = (math.nan,) * 4
        if len(points) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            coefficients = (*stats.pearsonr(x, y), *stats.spearmanr(x, y))
        correlations.append(MetricCorrelation(name, points, *map(float, coefficients)))
    return tuple(correlations)


@dataclass
class ListeningReport:
    """The whole analysis of one results folder; ``print(report)`` tells it, ``report.figures``
    holds ``condition_means``, ``condition_boxplots``, ``item_boxplots`` and ``metric_correlation``."""

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

    @property
    def kept_listeners(self) -> tuple[str, ...]:
        return tuple(s.listener_id for s in self.screening if not s.excluded)

    def text(self) -> str:
        collected, lines = self.collected, []
        if collected.simulated_listeners:
            lines.append(
                f"WARNING: SIMULATED DATA -- {len(collected.simulated_listeners)} listener(s) are machine-generated "
                f"({', '.join(sorted(collected.simulated_listeners))}); these numbers say nothing about how the systems sound."
            )
        lines.append(
            f"Results folder {self.folder}: {len(collected.files)} file(s), "
            f"{len(collected.listeners)} listener(s), {len(collected.items)} item(s)."
        )
        lines += [f"  skipped unreadable file {path.name}: {why}" for path, why in collected.skipped_files.items()]
        lines += [f"  {path.name}: ignored incomplete line(s) {list(numbers)}" for path, numbers in collected.torn_lines.items()]
        lines += [f"  {path.name}: session not finished (its submitted trials are used)" for path in collected.incomplete_sessions]
        lines.append(
            "Post-screening (ITU-R BS.1534-3): exclude listeners who rate the hidden reference "
            f"below {self.threshold:g} in more than {100 * self.max_fraction:.0f} % of trials."
        )
        lines += [f"  {outcome.explain()}" for outcome in self.screening]
        lines.append(
            f"Kept {len(self.kept_listeners)} of {len(self.screening)} listener(s); "
            f"mean and {100 * self.confidence:.0f} % confidence interval (Student t) per condition:"
        )
        lines += [
            f"  {s.condition:<20} n={s.n:<4d} mean {s.mean:6.1f}   CI [{s.ci_low:6.1f}, {s.ci_high:6.1f}]"
            for s in self.summaries
        ]
        left_out = "hidden reference" + ("" if self.include_anchors else " and anchors")
        lines += [
            f"Correlation of mean rating with {c.metric} over {c.n} item-condition pairs ({left_out} left out): "
            f"Pearson r = {c.pearson_r:.2f} (p = {c.pearson_p:.2g}), Spearman rho = {c.spearman_rho:.2f} (p = {c.spearman_p:.2g})"
            for c in self.correlations
        ]
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
            "post-screening excluded every listener; statistics are empty. Check that the listeners "
            "were trained (familiarisation page) and that the hidden reference plays",
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
