"""The analysis of a class's listening test: post-screening, means with intervals, correlations.

Notebook 05, sections "Analysis", "Post-screening" and "Do the numbers agree with the
ears?". :func:`analyse_folder` reads every results file of a folder, applies ITU-R
BS.1534-3's post-screening (a listener who rates the hidden reference below 90 in more
than 15 % of their trials is excluded), then reports per condition the mean and its
95 % Student-t interval over all kept ratings, and how well SDR and SI-SDR predict the
mean rating of each item and condition. One listener's ratings are not independent, so
the interval describes the spread, as BS.1534 reports it, not an exact test.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import stats

from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE
from vaesep.listening.session import RESULTS_SUFFIX, read_results_file
from vaesep.listening.stimuli import StimulusSet

REFERENCE_THRESHOLD = 90.0  # BS.1534-3: a hidden-reference rating below this is a miss ...
MAX_MISS_FRACTION = 0.15  # ... and more misses than this fraction of trials excludes a listener

MetricTable = Mapping[tuple[str, str], Mapping[str, float]]  # (item, condition) -> {metric: score}


class Rating(NamedTuple):
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


class CollectedResults(NamedTuple):
    """Every rating read from a folder of results files, and what was left out and why."""

    ratings: tuple[Rating, ...]
    conditions: tuple[str, ...]  # as the files' designs list them, the first file's first
    files: tuple[Path, ...]
    torn_lines: dict[Path, tuple[int, ...]]
    skipped_files: dict[Path, str]
    incomplete_sessions: tuple[Path, ...]
    simulated_listeners: frozenset[str]


def load_results(folder: str | os.PathLike) -> CollectedResults:
    """Read every ``*.jsonl`` results file in ``folder`` (not its subfolders).

    Two files of one session (same listener, design and session number, as a creation
    race of older versions made them) would count a listener twice: only the one with
    the most trials is read; the other is listed in ``skipped_files``.
    """
    folder = Path(folder)
    paths = sorted(folder.glob(f"*{RESULTS_SUFFIX}")) if folder.is_dir() else []
    if not paths:
        raise FileNotFoundError(
            f"no *{RESULTS_SUFFIX} results files in {folder}; copy the listeners' files there"
        )
    skipped, sessions = {}, {}
    for path in paths:
        try:
            contents = read_results_file(path)
        except (OSError, ValueError) as exc:
            skipped[path] = str(exc)
            continue
        header = contents.header
        # a header without a session number stands alone: there is nothing to match it on
        ordinal = header.get("session_ordinal", str(path))
        key = (header["listener_id"], header["design"]["design_id"], ordinal)
        best, other = contents, sessions.get(key)
        if other is not None and len(other.trials) >= len(contents.trials):
            best, other = other, contents
        sessions[key] = best
        if other is not None:
            skipped[other.path] = (
                f"a second file of session {ordinal} of listener {key[0]} (same design); "
                f"{best.path.name} is used instead"
            )
    used = sorted(sessions.values(), key=lambda contents: contents.path)
    ratings = tuple(
        Rating(
            trial["listener_id"], trial["session_id"], trial["trial_id"], trial["item"],
            entry["condition"], entry["letter"], float(entry["rating"]), int(entry["plays"]),
            bool(trial.get("simulated", False)),
        )
        for contents in used
        for trial in contents.trials
        for entry in trial["ratings"]
    )
    conditions = [c for contents in used for c in contents.header["design"]["conditions"]]
    return CollectedResults(
        ratings,
        tuple(dict.fromkeys(conditions)),
        tuple(contents.path for contents in used),
        {contents.path: contents.torn_lines for contents in used if contents.torn_lines},
        skipped,
        tuple(contents.path for contents in used if not contents.is_complete),
        frozenset(c.header["listener_id"] for c in used if c.header.get("simulated")),
    )


class ScreeningOutcome(NamedTuple):
    """The post-screening verdict on one listener."""

    listener_id: str
    n_trials: int  # trials with a hidden-reference rating
    n_misses: int  # of those, rated below the threshold
    excluded: bool


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
    # the tolerance keeps "exactly 15 %" from being excluded by rounding error
    limit = {name: (max_fraction + 1e-12) * n for name, n in trials.items()}
    return tuple(
        ScreeningOutcome(name, trials[name], misses[name], misses[name] > limit[name])
        for name in sorted(trials)
    )


def mean_confidence_interval(
    values: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """``(mean, low, high)`` with ``mean ± t_{(1+confidence)/2, n-1} · s / √n``; the bounds
    are NaN for fewer than two values (and the mean too for none)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if values.size else math.nan
    if values.size < 2:
        return mean, math.nan, math.nan
    t = stats.t.ppf((1 + confidence) / 2, values.size - 1)
    half_width = float(t * values.std(ddof=1) / np.sqrt(values.size))
    return mean, mean - half_width, mean + half_width


class ConditionSummary(NamedTuple):
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
        std = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        mean, low, high = mean_confidence_interval(values, confidence)
        summaries.append(ConditionSummary(condition, len(values), mean, std, low, high))
    return tuple(summaries)


class MetricCorrelation(NamedTuple):
    """How well one metric predicts mean ratings; ``points`` are (item, condition, score, mean)."""

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
    collected: CollectedResults
    screening: tuple[ScreeningOutcome, ...]
    summaries: tuple[ConditionSummary, ...]
    correlations: tuple[MetricCorrelation, ...]
    figures: dict[str, object]
    confidence: float = 0.95
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
        n_items = len({r.item for r in collected.ratings})
        lines.append(
            f"Results folder {self.folder}: {len(collected.files)} file(s), "
            f"{len(self.screening)} listener(s), {n_items} item(s)."
        )
        lines += [f"  skipped file {p.name}: {why}" for p, why in collected.skipped_files.items()]
        for path, numbers in collected.torn_lines.items():
            lines.append(f"  {path.name}: ignored incomplete line(s) {list(numbers)}")
        for path in collected.incomplete_sessions:
            lines.append(f"  {path.name}: session not finished (its submitted trials are used)")
        lines.append(
            "Post-screening (ITU-R BS.1534-3): exclude listeners who rate the hidden reference "
            f"below {REFERENCE_THRESHOLD:g} in more than {100 * MAX_MISS_FRACTION:.0f} % of trials."
        )
        for s in self.screening:
            verdict, relation = ("EXCLUDED", ">") if s.excluded else ("kept", "<=")
            lines.append(
                f"  {s.listener_id}: {verdict} -- hidden reference below {REFERENCE_THRESHOLD:g} "
                f"in {s.n_misses} of {s.n_trials} trials "
                f"({100 * s.n_misses / max(s.n_trials, 1):.0f} % {relation} "
                f"{100 * MAX_MISS_FRACTION:.0f} %)"
            )
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
    confidence: float = 0.95,
    include_anchors: bool = False,
    make_figures: bool = True,
) -> ListeningReport:
    """Read, post-screen, summarise, correlate and plot one folder of results files.
    ``metrics`` are the scores per (item, condition), or the :class:`StimulusSet` holding
    them; None skips the correlations."""
    collected = load_results(folder)
    if not collected.ratings:
        raise ValueError(f"the results files in {folder} hold no submitted trial yet")
    screening = post_screen(collected.ratings)
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
        Path(folder), collected, screening, summaries, correlations, figures, confidence,
        include_anchors,
    )
