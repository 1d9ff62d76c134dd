"""Scoring a whole test set, aggregating the scores over items, and writing them out.

Notebook 02, section "Measuring separation", explains the metrics; the aggregates
here are what every table of the notebooks reports: the mean and the median over
items of each metric, and the length-weighted GNSDR/GSIR/GSAR of Huang et al. (2014).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.files import markdown_table, write_json
from vaesep.metrics.scores import ITEM_METRICS, Backend, evaluate_item
from vaesep.runtime import progress_bar

WEIGHTED_METRICS: dict[str, str] = {"gnsdr": "nsdr", "gsir": "sir", "gsar": "sar"}
"""Length-weighted means (Huang et al., 2014) and the per-item metric each averages."""

LABELS: dict[str, str] = {
    "sdr": "SDR", "sir": "SIR", "sar": "SAR", "si_sdr": "SI-SDR", "nsdr": "NSDR", "si_sdri": "SI-SDRi",
    "mixture_sdr": "mix SDR", "mixture_sir": "mix SIR", "mixture_si_sdr": "mix SI-SDR",
    "gnsdr": "GNSDR", "gsir": "GSIR", "gsar": "GSAR",
}
TABLE_METRICS: tuple[str, ...] = ("sdr", "sir", "sar", "nsdr", "si_sdr")


def statistic_label(statistic: str) -> str:
    """A column heading: ``"sdr_mean"`` → ``"SDR mean"``, ``"gnsdr"`` → ``"GNSDR"``."""
    if statistic in WEIGHTED_METRICS:
        return LABELS[statistic]
    metric, kind = statistic.rsplit("_", 1)
    return f"{LABELS[metric]} {kind}"


@dataclass
class EvaluationResult:
    """Per-item scores of one separator on one test set, with aggregates and I/O.

    ``per_item`` holds one dict per (item, source): ``item``, ``source``, ``n_samples`` (the
    GNSDR weight), ``skipped`` (``None`` or why, e.g. ``"silent_reference"``) and every metric
    of :data:`vaesep.metrics.ITEM_METRICS` in dB (NaN when skipped or undefined). ``metadata``
    (split, SNR, seed, commit …) is printed under tables.
    """

    per_item: list[dict[str, Any]]
    source_names: tuple[str, ...]
    backend: str = "fast"
    metadata: dict[str, Any] = field(default_factory=dict)

    def item_values(self, metric: str = "sdr", source: str | None = None) -> np.ndarray:
        """``(n_scored,)``: one metric of every scored (item, source) pair (``source``: only that one)."""
        if metric not in ITEM_METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose from {list(ITEM_METRICS)}")
        rows = [row for row in self.per_item if row["skipped"] is None and source in (None, row["source"])]
        return np.array([row[metric] for row in rows], dtype=np.float64)

    def summary(self) -> dict[str, Any]:
        """``{"n_items", "n_evaluated", "n_skipped_silent", "skipped_reasons", "per_source", "overall"}``.

        Per source and overall: ``n``, ``<metric>_mean``/``_median`` of every per-item metric, and
        ``gnsdr``/``gsir``/``gsar``, the means of NSDR, SIR and SAR weighted by item length.
        """
        items = {row["item"]: row["skipped"] for row in self.per_item}
        reasons = Counter(reason for reason in items.values() if reason is not None)
        scored = [row for row in self.per_item if row["skipped"] is None]
        return {
            "n_items": len(items),
            "n_evaluated": len(items) - sum(reasons.values()),
            "n_skipped_silent": sum(reasons.values()),
            "skipped_reasons": dict(reasons),
            "per_source": {name: _statistics([r for r in scored if r["source"] == name]) for name in self.source_names},
            "overall": _statistics(scored),
        }

    def to_markdown(self, title: str | None = None) -> str:
        """A Markdown table: a row per source and one for all sources (dB, 2 decimals)."""
        summary = self.summary()
        sources = [*summary["per_source"].items(), ("all", summary["overall"])]
        rows = [([name, stats["n"]], stats) for name, stats in sources]
        reasons = ", ".join(f"{n} {why}" for why, n in summary["skipped_reasons"].items())
        caption = (f"dB; {summary['n_items']} items, {summary['n_skipped_silent']} skipped"
                   f"{f' ({reasons})' if reasons else ''}; BSS-eval backend {self.backend}")
        weighted = tuple(WEIGHTED_METRICS)
        return _table(title, ["source", "n"], rows, TABLE_METRICS, weighted, caption, self.metadata)

    def to_json_dict(self) -> dict[str, Any]:
        """Sources, backend, metadata, summary and rows; a non-finite value (skipped item) becomes ``null``."""
        record = {"source_names": self.source_names, "backend": self.backend,
                  "metadata": self.metadata, "summary": self.summary(), "per_item": self.per_item}
        # through JSON text and back: numpy values become Python ones, NaN and infinity null
        text = json.dumps(record, default=lambda value: value.tolist())
        return json.loads(text, parse_constant=lambda constant: None)

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        return write_json(path, self.to_json_dict())


def evaluate_batch(
    references: np.ndarray,
    estimates: np.ndarray,
    mixtures: np.ndarray,
    *,
    source_names: Sequence[str] | None = None,
    backend: Backend = "fast",
    progress: bool | None = False,
    metadata: Mapping[str, Any] | None = None,
) -> EvaluationResult:
    """Score every item of a test set with :func:`vaesep.metrics.evaluate_item`: ``references``,
    ``estimates`` ``(n_items, n_sources, n_samples)``, ``mixtures`` ``(n_items, n_samples)``."""
    references, estimates, mixtures = (np.asarray(a) for a in (references, estimates, mixtures))
    if references.ndim != 3 or estimates.shape != references.shape:
        raise ValueError(f"references and estimates must have one shape (n_items, n_sources, n_samples), "
                         f"got {references.shape} and {estimates.shape}")
    n_items, n_sources, n_samples = references.shape
    if mixtures.shape != (n_items, n_samples):
        raise ValueError(f"mixtures must have shape (n_items, n_samples) = {(n_items, n_samples)}, got {mixtures.shape}")
    for name, array in (("references", references), ("estimates", estimates), ("mixtures", mixtures)):
        finite = np.isfinite(array).reshape(n_items, -1).all(axis=1)
        if not finite.all():
            raise ValueError(f"{name} contain NaN or infinite samples in item(s) {np.flatnonzero(~finite)[:10].tolist()}")
    names = tuple(f"source_{j}" for j in range(n_sources)) if source_names is None else tuple(map(str, source_names))
    if isinstance(source_names, str) or len(set(names)) != n_sources or len(names) != n_sources or "all" in names:
        raise ValueError(f"source_names must be n_sources = {n_sources} distinct names, not 'all', got {source_names!r}")
    per_item = []
    for n in progress_bar(range(n_items), progress, desc="evaluating", unit="item"):
        score = evaluate_item(references[n], estimates[n], mixtures[n], backend=backend)
        per_item += [{"item": n, "source": names[j], "n_samples": score["n_samples"], "skipped": score["skipped"],
                      **{metric: float(score[metric][j]) for metric in ITEM_METRICS}} for j in range(n_sources)]
    return EvaluationResult(per_item, names, str(backend), dict(metadata or {}))


def compare_markdown(
    results: Mapping[str, EvaluationResult],
    metrics: Sequence[str] = TABLE_METRICS,
    title: str | None = None,
    *,
    weighted: Sequence[str] = tuple(WEIGHTED_METRICS),
) -> str:
    """One Markdown table, a row per method (e.g. floor, baselines, VAE, ceiling), over all sources,
    dB to 2 decimals: ``metrics`` show a mean and a median column each, ``weighted`` one column each."""
    if not results:
        raise ValueError("results is empty: pass {method name: EvaluationResult}")
    for names, known, what in ((metrics, ITEM_METRICS, "metrics"),
                               (weighted, WEIGHTED_METRICS, "weighted")):
        if unknown := [name for name in names if name not in known]:
            raise ValueError(f"unknown {what} {unknown}; choose from {list(known)}")
    summaries = {method: result.summary() for method, result in results.items()}
    rows = [([method, s["n_evaluated"]], s["overall"]) for method, s in summaries.items()]
    skipped = sum(summary["n_skipped_silent"] for summary in summaries.values())
    first, *rest = [result.metadata for result in results.values()]  # what every result agrees on, said once
    shared = {key: value for key, value in first.items() if all(m.get(key) == value for m in rest)}
    caption = (f"dB; mean and median over items, all sources; {skipped} silent item(s) "
               "skipped in total")
    return _table(title, ["method", "items"], rows, metrics, weighted, caption, shared)


def _statistics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means, medians and length-weighted means over scored rows (NaN if none, or if a value is undefined)."""
    stats: dict[str, Any] = {"n": len(rows)}
    for metric in ITEM_METRICS:
        values = np.array([row[metric] for row in rows], dtype=float)
        stats[f"{metric}_mean"] = float(np.mean(values)) if rows else math.nan
        stats[f"{metric}_median"] = float(np.median(values)) if rows else math.nan
    weights = np.array([row["n_samples"] for row in rows], dtype=float)
    for name, metric in WEIGHTED_METRICS.items():
        values = np.array([row[metric] for row in rows], dtype=float)
        stats[name] = float(np.sum(weights * values) / np.sum(weights)) if rows else math.nan
    return stats


def _table(
    title: str | None, first: list[str], rows: list[tuple[list[Any], Mapping[str, Any]]],
    metrics: Sequence[str], weighted: Sequence[str], caption: str, metadata: Mapping[str, Any],
) -> str:
    """The one layout of every scores table: leading cells, then mean and median per metric, then
    the weighted means, dB to 2 decimals (— for NaN); the caption ends with the metadata."""
    statistics = [f"{m}_{kind}" for m in metrics for kind in ("mean", "median")] + list(weighted)
    body = [[*lead, *("—" if math.isnan(stats[s]) else f"{stats[s]:.2f}" for s in statistics)]
            for lead, stats in rows]
    caption += "".join(f"; {key}: {value}" for key, value in metadata.items())
    table = markdown_table([*first, *map(statistic_label, statistics)], body)
    return (f"### {title}\n\n" if title else "") + f"{table}\n\n_{caption}_"

