"""Scoring a whole test set, aggregating the scores over items, and writing them out.

Notebook 02, section "Measuring separation", explains the metrics; the aggregates
here are what every table of the notebooks reports: the mean and the median over
items of each metric, and the length-weighted GNSDR/GSIR/GSAR of Huang et al. (2014).
"""

from __future__ import annotations

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
        _check_names([metric], ITEM_METRICS, "metric")
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
        metrics, weighted = TABLE_METRICS, tuple(WEIGHTED_METRICS)
        rows = [[name, str(stats["n"]), *_cells(stats, metrics, weighted)]
                for name, stats in [*summary["per_source"].items(), ("all", summary["overall"])]]
        reasons = ", ".join(f"{n} {why}" for why, n in summary["skipped_reasons"].items())
        caption = (f"dB; {summary['n_items']} items, {summary['n_skipped_silent']} skipped"
                   f"{f' ({reasons})' if reasons else ''}; BSS-eval backend {self.backend}")
        caption += "".join(f"; {key}: {value}" for key, value in self.metadata.items())
        return _titled(title, markdown_table(["source", "n", *_labels(metrics, weighted)], rows), caption)

    def to_json_dict(self) -> dict[str, Any]:
        """Sources, backend, metadata, summary and rows; a non-finite value (skipped item) becomes ``null``."""
        return _plain({"source_names": list(self.source_names), "backend": self.backend, "metadata": self.metadata,
                       "summary": self.summary(), "per_item": self.per_item})

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
    _check_names(metrics, ITEM_METRICS, "metrics")
    _check_names(weighted, tuple(WEIGHTED_METRICS), "weighted")
    rows, skipped = [], 0
    for method, result in results.items():
        summary = result.summary()
        skipped += summary["n_skipped_silent"]
        rows.append([method, str(summary["n_evaluated"]), *_cells(summary["overall"], metrics, weighted)])
    caption = f"dB; mean and median over items, all sources; {skipped} silent item(s) skipped in total"
    first, *rest = [result.metadata for result in results.values()]  # what every result agrees on, said once
    shared = {key: value for key, value in first.items() if all(m.get(key) == value for m in rest)}
    caption += "".join(f"; {key}: {value}" for key, value in shared.items())
    return _titled(title, markdown_table(["method", "items", *_labels(metrics, weighted)], rows), caption)


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


def _check_names(names: Sequence[str], known: tuple[str, ...], what: str) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {list(known)}")


def _labels(metrics: Sequence[str], weighted: Sequence[str]) -> list[str]:
    return [f"{LABELS[m]} {kind}" for m in metrics for kind in ("mean", "median")] + [LABELS[w] for w in weighted]


def _cells(stats: Mapping[str, Any], metrics: Sequence[str], weighted: Sequence[str]) -> list[str]:
    values = [stats[f"{m}_{kind}"] for m in metrics for kind in ("mean", "median")] + [stats[w] for w in weighted]
    return ["—" if math.isnan(value) else f"{value:.2f}" for value in values]


def _titled(title: str | None, table: str, caption: str) -> str:
    return (f"### {title}\n\n" if title else "") + f"{table}\n\n_{caption}_"


def _plain(value: Any) -> Any:
    """Python numbers, lists and string-keyed dicts; a non-finite float becomes None."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value
