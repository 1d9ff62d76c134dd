"""The comparison's report: every number from the run, with its commit and date.

:func:`run_comparison` is the one call behind ``vaesep compare`` and
notebook 04: it executes what is unfinished, aggregates over seeds and
writes ``results/04_comparison.{md,json}`` (plus per-seed detail tables).
Notebook 04, section "Running the comparison".
"""

from __future__ import annotations

import datetime
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.compare.conditions import get_condition
from vaesep.compare.methods import PROPOSED, get_method
from vaesep.compare.runner import (
    CompareConfig,
    execute,
    load_results,
    results_root,
    training_records,
)
from vaesep.compare.tables import (
    MEAN_STATS,
    MEDIAN_STATS,
    WEIGHTED_STATS,
    Gap,
    SeedStat,
    aggregate,
    best_baseline_gap,
    condition_table,
    evidence_sentences,
    gap_sentence,
    headline_table,
)
from vaesep.metrics import EvaluationResult, compare_markdown
from vaesep.files import save_table
from vaesep.runtime import code_version

TIMING_LOG = "timing.jsonl"
"""Per results folder: one line per invocation that did work (what ran and how long it took)."""


@dataclass
class ComparisonReport:
    """Everything the comparison produced, ready for tables, plots and prose.

    Attributes:
        config: what was compared.
        results: ``{condition: {method: {seed: EvaluationResult}}}``.
        stats: the same, aggregated over seeds: ``{condition: {method: {stat: SeedStat}}}``.
        training: ``{domain: {method: [per-seed record]}}`` with seconds and parameter counts.
        timing: the invocations that did work (``wall_seconds``, task counts, jobs).
        commit: the code version(s) the evaluations ran at; date: when the last
            invocation that computed something finished (UTC).
    """

    config: CompareConfig
    results: dict[str, dict[str, dict[int | None, EvaluationResult]]]
    stats: dict[str, dict[str, dict[str, SeedStat]]]
    training: dict[str, dict[str, list[dict[str, Any]]]]
    timing: list[dict[str, Any]] = field(default_factory=list)
    commit: str = ""
    date: str = ""

    def gaps(self, statistic: str = "sdr_mean") -> dict[str, Gap]:
        """Per condition, the VAE against the best baseline (conditions lacking either are left out)."""
        found = {
            name: best_baseline_gap(self.stats[name], name, statistic=statistic)
            for name in self.stats
        }
        return {name: gap for name, gap in found.items() if gap is not None}

    def compute_seconds(self) -> float:
        """CPU-thread seconds of all training runs and evaluations behind the tables."""
        # shipped models were trained elsewhere: their time is not part of this run
        train = (
            0.0
            if self.config.pretrained
            else sum(
                entry["train_seconds"]
                for per_method in self.training.values()
                for runs in per_method.values()
                for entry in runs
                if entry["seed"] is not None
            )
        )
        evaluate = sum(
            float(r.metadata.get("eval_seconds", 0.0))
            for per_method in self.results.values()
            for per_seed in per_method.values()
            for r in per_seed.values()
        )
        return train + evaluate

    def wall_seconds(self) -> float:
        """Wall-clock seconds of the invocations that trained or evaluated something."""
        return float(sum(entry["wall_seconds"] for entry in self.timing))

    def conclusion(self) -> str:
        """The honest paragraph: does the VAE beat the best baseline by ~2 dB here, and why (computed).

        Notebook 04, section "Does the VAE beat the baselines by 2 dB?".
        """
        gaps = self.gaps()
        if not gaps:
            return (
                f"No condition has both {PROPOSED!r} and a baseline, so there is no gap to report."
            )
        values = np.array([gap.gap for gap in gaps.values()])
        groups: dict[str, list[str]] = {}
        for name, gap in gaps.items():
            groups.setdefault(gap.verdict(), []).append(name)
        seeds = min(gap.n_seeds for gap in gaps.values())
        lines = [
            f"The paper claims ~2 dB SDR over the best of its baselines. With every learned method "
            f"given the same budget ({self.config.budget.describe()}) and {seeds} training seed(s), "
            f"the VAE's gap to the best baseline ranges from {values.min():+.2f} to "
            f"{values.max():+.2f} dB over {len(gaps)} condition(s) (mean {values.mean():+.2f} dB). "
            + " ".join(
                f"{verdict[0].upper()}{verdict[1:]}: {', '.join(names)}."
                for verdict, names in groups.items()
            ),
            "",
            *(f"* {gap_sentence(gap)}" for gap in gaps.values()),
        ]
        evidence = evidence_sentences(self.stats)
        if evidence:
            lines += [
                "",
                "What the one-ingredient contrasts say (mean SDR differences): "
                + "; ".join(evidence)
                + ".",
            ]
        return "\n".join(lines)

    def methods_markdown(self) -> str:
        """Sizes, parameter counts, budgets and measured training time per learned method."""
        domains = list(self.training)
        header = [
            "method",
            "group",
            "parameters",
            "budget",
            *(f"train s/run ({d})" for d in domains),
            "description",
        ]
        rows = []
        for name in self.config.methods:
            method = get_method(name)
            runs = {d: self.training[d].get(name, []) for d in domains}
            counts = {e["parameters"] for entries in runs.values() for e in entries}
            times = [_time_cell([e["train_seconds"] for e in runs[d]]) for d in domains]
            rows.append(
                [
                    name,
                    method.group,
                    ", ".join(f"{c:,}" for c in sorted(counts)) or "—",
                    _budget_cell(next((e for entries in runs.values() for e in entries), None)),
                    *times,
                    method.description,
                ]
            )
        caption = (
            f"budget of every network: {self.config.budget.describe()}; times are wall seconds per run "
            f"on CPU ({'one thread per run, ' if self.config.jobs > 1 else ''}mean ± std over seeds)"
        )
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines + ["", f"_{caption}_"])

    def provenance(self) -> str:
        """One line naming the commit, date, seeds, data and compute time."""
        minutes = self.wall_seconds() / 60
        return (
            f"produced {self.date} at commit {self.commit}; training seeds {list(self.config.seeds)}; data seed "
            f"{self.config.data_seed}, {'fast' if self.config.fast else 'full'} data"
            f"{'' if self.config.max_items is None else f', first {self.config.max_items} items per split'}; "
            f"BSS-eval backend {self.config.backend}; "
            f"{'shipped models' if self.config.pretrained else 'models trained by the run'}; "
            f"wall time {minutes:.1f} min with {self._jobs_text()} job(s), "
            f"{self.compute_seconds() / 60:.1f} min of task time{self._cpu_note()}"
        )

    def _jobs_text(self) -> str:
        """Parallel jobs of the invocations that did the work (not of the one reading the results)."""
        jobs = sorted({int(entry.get("jobs", self.config.jobs)) for entry in self.timing})
        return "/".join(str(j) for j in jobs) or str(self.config.jobs)

    def cpu_seconds(self) -> float | None:
        """CPU seconds of every training run and evaluation, or None if some were not recorded.

        On a shared machine this, not the wall time, says what the run costs:
        on ``n`` idle cores it takes about ``cpu_seconds / n`` of wall time.
        """
        train = [
            entry.get("train_cpu_seconds")
            for per_method in self.training.values()
            for runs in per_method.values()
            for entry in runs
            if entry["seed"] is not None and not self.config.pretrained
        ]
        evaluate = [
            r.metadata.get("eval_cpu_seconds")
            for per_method in self.results.values()
            for per_seed in per_method.values()
            for r in per_seed.values()
        ]
        values = train + evaluate
        return None if any(v is None for v in values) else float(sum(values))

    def _cpu_note(self) -> str:
        cpu = self.cpu_seconds()
        return "" if cpu is None else f", {cpu / 60:.1f} min of CPU time"

    def headline_markdown(self) -> str:
        """The table README carries: methods × conditions, mean SDR ± seed std, and the gap row."""
        return headline_table(
            self.stats,
            caption=f"mean SDR in dB, mean ± std over training seeds; {self.provenance()}",
        )

    def condition_markdown(self, name: str) -> str:
        """One condition's two tables: means (with GNSDR/GSIR/GSAR) and medians, ± seed std."""
        condition = get_condition(name)
        per_method = self.stats[name]
        scope = "all sources" if condition.source is None else f"source {condition.source!r}"
        caption = f"dB, mean ± std over seeds of each seed's {{}} over items; {scope}; split {condition.split}"
        means = condition_table(
            per_method,
            MEAN_STATS + WEIGHTED_STATS,
            title=f"{condition.title}: means",
            caption=caption.format("mean (GNSDR/GSIR/GSAR: length-weighted)"),
        )
        medians = condition_table(
            per_method,
            MEDIAN_STATS,
            title=f"{condition.title}: medians",
            caption=caption.format("median"),
        )
        return f"{means}\n\n{medians}"

    def markdown(self) -> str:
        """The full report: headline, conclusion, methods, and a means and a medians table per condition."""
        parts = [
            "## Baselines vs the VAE (notebook 04)",
            "",
            self.headline_markdown(),
            "",
            "**Does the VAE beat the best baseline by ~2 dB here?**",
            "",
            self.conclusion(),
            "",
            "### Methods",
            "",
            self.methods_markdown(),
        ]
        for name in self.stats:
            parts += ["", self.condition_markdown(name)]
        return "\n".join(parts)

    def details_markdown(self) -> str:
        """Per condition, the first seed's per-item means and medians (vaesep.metrics.compare_markdown)."""
        parts = []
        for name, per_method in self.results.items():
            condition = get_condition(name)
            # the mixture's SAR is infinite up to rounding: its row lives in the main tables only
            first = {
                method: next(iter(per_seed.values()))
                for method, per_seed in per_method.items()
                if method != "mixture"
            }
            if first:
                parts += [
                    compare_markdown(
                        first, title=f"{condition.title}: first seed only", source=condition.source
                    ),
                    "",
                ]
        return "\n".join(parts)

    def item_scores(self, condition: str, metric: str = "sdr") -> dict[str, np.ndarray]:
        """Per method, the per-item scores of its first seed on one condition (for box plots).

        Notebook 04, section "Every item, every method".
        """
        source = get_condition(condition).source
        scores = {}
        for method, per_seed in self.results[condition].items():
            scores[method] = next(iter(per_seed.values())).item_values(metric, source)
        return scores

    def to_json_dict(self) -> dict[str, Any]:
        """The tables' numbers, per-seed values included, with provenance (strict JSON)."""
        return _strict(
            {
                "commit": self.commit,
                "date": self.date,
                "config": self.config.to_dict(),
                "provenance": self.provenance(),
                "wall_seconds": self.wall_seconds(),
                "compute_seconds": self.compute_seconds(),
                "cpu_seconds": self.cpu_seconds(),
                "timing": self.timing,
                "training": self.training,
                "conditions": {
                    name: {
                        "title": get_condition(name).title,
                        "source": get_condition(name).source,
                        "methods": {
                            m: {s: vars(v) for s, v in st.items()} for m, st in per_method.items()
                        },
                    }
                    for name, per_method in self.stats.items()
                },
                "gaps": {name: gap.to_dict() for name, gap in self.gaps().items()},
                "conclusion": self.conclusion(),
            }
        )

    def default_name(self) -> str:
        """``04_comparison``, plus ``_pretrained`` / ``_fast`` / ``_custom`` for those runs.

        Fast, shipped-model and custom runs (see :func:`is_custom`) get their own
        files, so they can never overwrite the tables of the full comparison that
        README quotes.
        """
        return (
            "04_comparison"
            + ("_pretrained" if self.config.pretrained else "")
            + ("_fast" if self.config.fast else "")
            + ("_custom" if is_custom(self.config) else "")
        )

    def save(self, name: str | None = None) -> Path:
        """Write ``<results>/<name>.md/.json`` and ``<name>_details.md``; returns the Markdown path."""
        name = name or self.default_name()
        save_table(self.details_markdown(), f"{name}_details")
        return save_table(self.markdown(), name, data=self.to_json_dict())


def is_custom(config: CompareConfig) -> bool:
    """True for a full-mode run that is not the whole comparison README quotes.

    That is: other methods, conditions or seeds than the defaults (a subset
    included), another budget, backend or data seed, or ``max_items``. Its tables
    go to ``04_comparison_custom.*`` instead of ``04_comparison.*``.
    """

    def scope(c: CompareConfig) -> tuple:
        sets = set(c.methods), set(c.conditions), set(c.seeds)
        return (*sets, c.budget, c.max_items, c.backend, c.data_seed)

    return not (config.fast or config.pretrained) and scope(config) != scope(CompareConfig())


def _budget_cell(entry: dict[str, Any] | None) -> str:
    """What one training run of a method consumed, read from its checkpoint's settings."""
    settings = (entry or {}).get("train_config") or {}
    if "steps_per_epoch" in settings:
        return (
            f"{settings['epochs']} × {settings['steps_per_epoch']} steps × "
            f"{settings['batch_segments']} × {settings['segment_seconds']:g} s"
        )
    if "iterations" in settings:
        return f"{settings['iterations']} updates on {settings['seconds_per_source']:g} s/source"
    return "—"


def _time_cell(seconds: list[float]) -> str:
    if not seconds:
        return "—"
    stat = SeedStat.of(seconds)
    digits = 0 if stat.mean >= 10 else 1
    if not math.isfinite(stat.std):
        return f"{stat.mean:.{digits}f}"
    return f"{stat.mean:.{digits}f} ± {stat.std:.{digits}f}"


def _strict(value: Any) -> Any:
    """JSON-safe copy: NaN → null, tuples → lists, non-string keys → strings."""
    if isinstance(value, dict):
        return {str(key): _strict(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return _strict(value.item())
    return value


def _timing_log(config: CompareConfig) -> Path:
    return results_root(config) / TIMING_LOG


def build_report(config: CompareConfig) -> ComparisonReport:
    """Read every finished result of ``config`` from disk into a :class:`ComparisonReport`."""
    results = load_results(config)
    log = _timing_log(config)
    timing = (
        [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        if log.is_file()
        else []
    )
    # provenance of the numbers, not of this aggregation: the commits the evaluations ran at,
    # and the end of the last invocation that computed something
    commits = sorted(
        {
            str(result.metadata.get("commit"))
            for per_method in results.values()
            for per_seed in per_method.values()
            for result in per_seed.values()
        }
    )
    finished = timing[-1]["finished"] if timing else None
    return ComparisonReport(
        config=config,
        results=results,
        stats=aggregate(results),
        training=training_records(config),
        timing=timing,
        commit=", ".join(commits) or code_version(),
        date=_utc_text(finished),
    )


def _utc_text(iso: str | None) -> str:
    """``"2026-11-24 13:47 UTC"`` for an ISO 8601 time (now, if None)."""
    moment = (
        datetime.datetime.fromisoformat(iso)
        if iso is not None
        else datetime.datetime.now(datetime.timezone.utc)
    )
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def run_comparison(
    config: CompareConfig, *, progress: bool = True, save: bool = True
) -> ComparisonReport:
    """Train or load every method, evaluate it on every condition, and write the tables.

    Resumable: finished training runs and evaluations found on disk are not
    repeated, so calling it again only aggregates. Notebook 04, section
    "Running the comparison".

    Returns:
        the :class:`ComparisonReport`; with ``save`` it is also written to
        ``results/04_comparison.md`` and ``.json`` (see :mod:`vaesep.files`).
    """
    start = time.perf_counter()
    work = execute(config, progress=progress)
    if work.train or work.evaluate:
        log = _timing_log(config)
        log.parent.mkdir(parents=True, exist_ok=True)
        entry = {
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - start, 1),
            "trained": len(work.train),
            "evaluated": len(work.evaluate),
            "jobs": config.jobs,
        }
        with log.open("a", encoding="utf-8") as stream:
            stream.write(json.dumps(entry) + "\n")
    report = build_report(config)
    if save:
        report.save()
    return report
