"""Analysis of a class's listening test: post-screening, statistics, correlations.

The teacher collects the results files of all listeners into one folder and
calls :func:`analyse_folder`. It applies the post-screening of ITU-R
BS.1534-3: a listener who rates the hidden reference below 90 in more than
15 % of their trials is excluded, because a listener who cannot find the
reference among the conditions is not judging what the test asks. Then it
reports, per condition, the mean and its 95 % confidence interval
(Student's t over all kept ratings), box plots per condition and per item,
and the correlation between mean ratings and objective scores (SDR, SI-SDR)
of the same item and condition. Notebook 05, section "Analysis".

Ratings of one listener are not independent of each other (each person uses
the scale in their own way), so the interval is a description of the spread
of the ratings, as BS.1534 reports it, rather than an exact test.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE
from vaesep.listening.session import RESULTS_SUFFIX, ResultsFile, read_results_file
from vaesep.listening.stimuli import StimulusSet

REFERENCE_THRESHOLD = 90.0
"""BS.1534-3 post-screening: a hidden-reference rating below this counts as a miss."""

MAX_MISS_FRACTION = 0.15
"""BS.1534-3 post-screening: more misses than this fraction of trials excludes a listener."""

MetricTable = Mapping[tuple[str, str], Mapping[str, float]]
"""``(item, condition) → {metric name: value}``, e.g. ``{("test-000-v", "vae"): {"SI-SDR": 7.1}}``."""


@dataclass(frozen=True)
class Rating:
    """One rating in long format: one slider of one trial of one listener.

    Notebook 05, section "Analysis".
    """

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
    """Everything read from a folder of results files.

    Notebook 05, section "Analysis".

    Attributes:
        ratings: all ratings of all submitted trials.
        conditions: condition names in the order of the first file's design.
        files: the results files read.
        torn_lines: file → line numbers skipped as incomplete writes.
        skipped_files: file → why it could not be read, or why it was left out
            (a second file of one listener's session, see :func:`load_results`).
        incomplete_sessions: files whose session stopped before the last trial.
        simulated_listeners: listener ids whose files are marked simulated.
    """

    ratings: tuple[Rating, ...]
    conditions: tuple[str, ...]
    files: tuple[Path, ...]
    torn_lines: dict[Path, tuple[int, ...]] = field(default_factory=dict)
    skipped_files: dict[Path, str] = field(default_factory=dict)
    incomplete_sessions: tuple[Path, ...] = ()
    simulated_listeners: frozenset[str] = frozenset()

    @property
    def listeners(self) -> tuple[str, ...]:
        """Listener ids, sorted."""
        return tuple(sorted({r.listener_id for r in self.ratings}))

    @property
    def items(self) -> tuple[str, ...]:
        """Item ids that were rated, sorted."""
        return tuple(sorted({r.item for r in self.ratings}))


def _session_key(contents: ResultsFile) -> tuple:
    header = contents.header
    # a header without a session number stands alone: there is nothing to match it on
    return header["listener_id"], header["design"]["design_id"], header.get("session_ordinal", str(contents.path))


def load_results(folder: str | os.PathLike) -> CollectedResults:
    """Read every ``*.jsonl`` results file in ``folder`` (not its subfolders).

    Notebook 05, section "Analysis".

    Two files of the same listener, design and session number (made by a
    race in vaesep before session creation was locked) would count one
    listener twice: only the one with the most submitted trials is read, and
    the other is reported in ``skipped_files``.

    Raises:
        FileNotFoundError: the folder is missing or holds no results file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} does not exist")
    paths = sorted(folder.glob(f"*{RESULTS_SUFFIX}"))
    if not paths:
        raise FileNotFoundError(
            f"no *{RESULTS_SUFFIX} results files in {folder}; copy the listeners' files there"
        )
    ratings: list[Rating] = []
    conditions: list[str] = []
    torn: dict[Path, tuple[int, ...]] = {}
    skipped: dict[Path, str] = {}
    incomplete: list[Path] = []
    simulated: set[str] = set()
    read: list[Path] = []
    files: list[ResultsFile] = []
    for path in paths:
        try:
            files.append(read_results_file(path))
        except (OSError, ValueError, KeyError) as exc:
            skipped[path] = str(exc)
    chosen: dict[tuple, ResultsFile] = {}
    for contents in files:
        key = _session_key(contents)
        if key not in chosen or len(contents.trials) > len(chosen[key].trials):
            chosen[key] = contents
    for contents in files:
        path, header = contents.path, contents.header
        used = chosen[_session_key(contents)]
        if used is not contents:
            skipped[path] = (
                f"a second file of session {header.get('session_ordinal')} of listener "
                f"{header['listener_id']} (same design); {used.path.name} is used instead"
            )
            continue
        read.append(path)
        for condition in header["design"]["conditions"]:
            if condition not in conditions:
                conditions.append(condition)
        if contents.torn_lines:
            torn[path] = contents.torn_lines
        if not contents.is_complete:
            incomplete.append(path)
        if header.get("simulated"):
            simulated.add(header["listener_id"])
        for trial in contents.trials:
            ratings.extend(
                Rating(
                    listener_id=trial.listener_id,
                    session_id=trial.session_id,
                    trial_id=trial.trial_id,
                    item=trial.item,
                    condition=entry.condition,
                    letter=entry.letter,
                    rating=entry.rating,
                    plays=entry.plays,
                    simulated=trial.simulated,
                )
                for entry in trial.ratings
            )
    return CollectedResults(
        ratings=tuple(ratings),
        conditions=tuple(conditions),
        files=tuple(read),
        torn_lines=torn,
        skipped_files=skipped,
        incomplete_sessions=tuple(incomplete),
        simulated_listeners=frozenset(simulated),
    )


@dataclass(frozen=True)
class ScreeningOutcome:
    """Post-screening verdict on one listener.

    Notebook 05, section "Post-screening".

    Attributes:
        listener_id: who.
        n_trials: trials with a hidden-reference rating.
        n_misses: of those, how many rated the hidden reference below the threshold.
        excluded: whether the listener's ratings are dropped.
        threshold: the rating below which a hidden reference counts as missed.
        max_fraction: the largest fraction of misses that is tolerated.
    """

    listener_id: str
    n_trials: int
    n_misses: int
    excluded: bool
    threshold: float = REFERENCE_THRESHOLD
    max_fraction: float = MAX_MISS_FRACTION

    @property
    def miss_fraction(self) -> float:
        return self.n_misses / self.n_trials if self.n_trials else 0.0

    def explain(self) -> str:
        """One sentence saying what happened to this listener and why."""
        verdict = "EXCLUDED" if self.excluded else "kept"
        relation = ">" if self.excluded else "<="
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
    """BS.1534-3 post-screening on the hidden reference, one verdict per listener.

    Notebook 05, section "Post-screening". A listener is excluded when they
    rate the hidden reference below ``threshold`` in *more than*
    ``max_fraction`` of their trials (all their sessions together).

    Returns:
        one :class:`ScreeningOutcome` per listener, sorted by listener id.
    """
    misses: dict[str, int] = defaultdict(int)
    trials: dict[str, int] = defaultdict(int)
    listeners: set[str] = set()
    for rating in ratings:
        listeners.add(rating.listener_id)
        if rating.condition == HIDDEN_REFERENCE:
            trials[rating.listener_id] += 1
            misses[rating.listener_id] += rating.rating < threshold
    outcomes = []
    for listener in sorted(listeners):
        n_trials, n_misses = trials[listener], misses[listener]
        # a small tolerance keeps "exactly 15 %" from being excluded by rounding error
        excluded = n_trials > 0 and n_misses / n_trials > max_fraction + 1e-12
        outcomes.append(
            ScreeningOutcome(listener, n_trials, n_misses, excluded, threshold, max_fraction)
        )
    return tuple(outcomes)


def mean_confidence_interval(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean and two-sided Student-t confidence interval.

    Notebook 05, section "Analysis". With ``n`` values of standard deviation
    ``s`` the interval is ``mean ± t_{(1+confidence)/2, n-1} · s / √n``.

    Returns:
        ``(mean, low, high)``; the bounds are NaN for fewer than two values.
    """
    from scipy import stats

    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(array.mean())
    if array.size < 2:
        return mean, math.nan, math.nan
    half_width = float(
        stats.t.ppf((1 + confidence) / 2, array.size - 1) * array.std(ddof=1) / np.sqrt(array.size)
    )
    return mean, mean - half_width, mean + half_width


@dataclass(frozen=True)
class ConditionSummary:
    """Mean rating of one condition with its confidence interval.

    Notebook 05, section "Analysis".
    """

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
    ratings: Iterable[Rating],
    conditions: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> tuple[ConditionSummary, ...]:
    """Mean ± confidence interval of the ratings of each condition.

    Notebook 05, section "Analysis".

    Args:
        ratings: usually the ratings of the listeners kept by post-screening.
        conditions: output order (default: sorted names); conditions without
            ratings are left out.
        confidence: e.g. 0.95.
    """
    by_condition: dict[str, list[float]] = defaultdict(list)
    for rating in ratings:
        by_condition[rating.condition].append(rating.rating)
    order = [c for c in (conditions or sorted(by_condition)) if c in by_condition]
    summaries = []
    for condition in order:
        values = by_condition[condition]
        mean, low, high = mean_confidence_interval(values, confidence)
        std = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        summaries.append(ConditionSummary(condition, len(values), mean, std, low, high))
    return tuple(summaries)


def item_condition_means(ratings: Iterable[Rating]) -> dict[tuple[str, str], float]:
    """Mean rating per ``(item, condition)`` over listeners.

    Notebook 05, section "Do the numbers agree with the ears?".
    """
    grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
    for rating in ratings:
        grouped[(rating.item, rating.condition)].append(rating.rating)
    return {key: float(np.mean(values)) for key, values in grouped.items()}


@dataclass(frozen=True)
class MetricCorrelation:
    """How well one objective metric predicts the mean ratings.

    Notebook 05, section "Do the numbers agree with the ears?".

    Attributes:
        metric: e.g. ``"SI-SDR"``.
        points: ``(item, condition, metric value, mean rating)`` per point.
        pearson_r, pearson_p: linear correlation and its p-value.
        spearman_rho, spearman_p: rank correlation and its p-value.
    """

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
    """Pearson and Spearman correlation of mean ratings with objective scores.

    Notebook 05, section "Do the numbers agree with the ears?". One point per
    ``(item, condition)`` that has both a mean rating and a finite score.
    The hidden reference is left out (its SDR is infinite), and so are the
    anchors by default: they are not separator outputs, and a low-passed
    reference keeps a high SDR while it sounds muffled, which would measure
    the metric's blindness to bandwidth rather than its use for separation.

    Args:
        ratings: kept ratings.
        metrics: ``(item, condition) → {metric: value}``.
        exclude_conditions: conditions not to correlate.
        include_anchors: correlate the low-pass anchors too.

    Returns:
        one :class:`MetricCorrelation` per metric name found, sorted by name;
        coefficients are NaN with fewer than three points.
    """
    from scipy import stats

    means = item_condition_means(ratings)
    names = sorted({name for scores in metrics.values() for name in scores})
    correlations = []
    for name in names:
        points = tuple(
            (item, condition, float(metrics[(item, condition)][name]), mean)
            for (item, condition), mean in sorted(means.items())
            if condition not in exclude_conditions
            and (include_anchors or not condition.startswith(ANCHOR_PREFIX))
            and name in metrics.get((item, condition), {})
            and math.isfinite(float(metrics[(item, condition)][name]))
        )
        x = np.array([p[2] for p in points])
        y = np.array([p[3] for p in points])
        if len(points) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            pearson = stats.pearsonr(x, y)
            spearman = stats.spearmanr(x, y)
            values = (pearson[0], pearson[1], spearman[0], spearman[1])
        else:
            values = (math.nan,) * 4
        correlations.append(MetricCorrelation(name, points, *map(float, values)))
    return tuple(correlations)


@dataclass
class ListeningReport:
    """The whole analysis of one results folder; ``print(report)`` tells it.

    Notebook 05, section "Analysis".

    Attributes:
        folder: the results folder.
        collected: what was read.
        screening: one verdict per listener.
        kept: ratings of the listeners who passed post-screening.
        summaries: mean ± CI per condition (kept ratings).
        correlations: per metric (empty without metrics).
        figures: name → matplotlib Figure (``condition_means``,
            ``condition_boxplots``, ``item_boxplots``, ``metric_correlation``).
        confidence: of the intervals.
        threshold, max_fraction: the post-screening rule that was applied.
        include_anchors: whether the anchors entered the correlations.
    """

    folder: Path
    collected: CollectedResults
    screening: tuple[ScreeningOutcome, ...]
    kept: tuple[Rating, ...]
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
        """The report as plain text (what ``print(report)`` shows)."""
        collected = self.collected
        lines = []
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
        lines.extend(f"  {outcome.explain()}" for outcome in self.screening)
        lines.append(
            f"Kept {len(self.kept_listeners)} of {len(self.screening)} listener(s); "
            f"mean and {100 * self.confidence:.0f} % confidence interval (Student t) per condition:"
        )
        for s in self.summaries:
            lines.append(
                f"  {s.condition:<20} n={s.n:<4d} mean {s.mean:6.1f}   CI [{s.ci_low:6.1f}, {s.ci_high:6.1f}]"
            )
        left_out = "hidden reference" + ("" if self.include_anchors else " and anchors")
        for c in self.correlations:
            lines.append(
                f"Correlation of mean rating with {c.metric} over {c.n} item-condition pairs "
                f"({left_out} left out): "
                f"Pearson r = {c.pearson_r:.2f} (p = {c.pearson_p:.2g}), "
                f"Spearman rho = {c.spearman_rho:.2f} (p = {c.spearman_p:.2g})"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def _metric_table(metrics: MetricTable | StimulusSet | None) -> MetricTable:
    if metrics is None:
        return {}
    if isinstance(metrics, StimulusSet):
        return metrics.metrics()
    return metrics


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
    """One call for the teacher: read, post-screen, summarise, correlate, plot.

    Notebook 05, section "Analysis".

    Args:
        folder: folder holding the listeners' ``*.jsonl`` results files.
        metrics: objective scores per ``(item, condition)``, or the
            :class:`StimulusSet` whose index stores them; None skips correlations.
        threshold: hidden-reference rating below which a trial is a miss.
        max_fraction: tolerated fraction of misses per listener.
        confidence: of the confidence intervals.
        include_anchors: also correlate the anchors with the metrics.
        make_figures: build the matplotlib figures (off for quick tests).

    Returns:
        a :class:`ListeningReport`; ``print`` it and show ``report.figures``.
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
            "listeners were trained (familiarisation page) and the hidden reference plays",
            stacklevel=2,
        )
    summaries = summarise_conditions(kept, collected.conditions, confidence)
    correlations = correlate_with_metrics(
        kept, _metric_table(metrics), include_anchors=include_anchors
    )
    report = ListeningReport(
        folder=Path(folder),
        collected=collected,
        screening=screening,
        kept=kept,
        summaries=summaries,
        correlations=correlations,
        figures={},
        confidence=confidence,
        threshold=threshold,
        max_fraction=max_fraction,
        include_anchors=include_anchors,
    )
    if make_figures and kept:
        from vaesep.listening.plots import report_figures

        report.figures = report_figures(report)
    return report
