"""Scoring a whole test set, aggregating the scores, and writing them out."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from vaesep.metrics.scores import ITEM_METRICS, Backend, evaluate_item

WEIGHTED_METRICS: dict[str, str] = {"gnsdr": "nsdr", "gsir": "sir", "gsar": "sar"}
"""Length-weighted means (Huang et al., 2014) and the per-item metric each averages."""

_LABELS: dict[str, str] = {
    "sdr": "SDR",
    "sir": "SIR",
    "sar": "SAR",
    "si_sdr": "SI-SDR",
    "nsdr": "NSDR",
    "si_sdri": "SI-SDRi",
    "mixture_sdr": "mix SDR",
    "mixture_sir": "mix SIR",
    "mixture_si_sdr": "mix SI-SDR",
    "gnsdr": "GNSDR",
    "gsir": "GSIR",
    "gsar": "GSAR",
}
_DEFAULT_TABLE_METRICS = ("sdr", "sir", "sar", "nsdr", "si_sdr")
_FORMAT = "vaesep.metrics.EvaluationResult"
_FORMAT_VERSION = 1


@dataclass
class EvaluationResult:
    """Per-item scores of one separator on one test set, with aggregates and I/O.

    Attributes:
        per_item: one dict per (item, source): ``"item"`` (index into the
            batch), ``"source"`` (name), ``"n_samples"`` (the item's length,
            the GNSDR weight), ``"skipped"`` (``None`` or why the item was not
            scored, e.g. ``"silent_reference"``) and every metric of
            :data:`vaesep.metrics.ITEM_METRICS` in dB (NaN when skipped).
        source_names: the sources in model order.
        backend: the BSS-eval backend that produced the numbers.
        metadata: what the numbers are about (data split, SNR, seed,
            commit, ...); printed under every table built from this result.
    """

    per_item: list[dict[str, Any]]
    source_names: tuple[str, ...]
    backend: str = "fast"
    metadata: dict[str, Any] = field(default_factory=dict)

    def item_values(self, metric: str = "sdr", source: str | None = None) -> np.ndarray:
        """``(n_scored,)`` float64: one metric of every scored (item, source) pair, in dB.

        Skipped pairs (e.g. silent references) are left out; ``source`` keeps
        one source only. What the per-item box plots of notebooks 01, 02 and 04 show.
        """
        _check_names([metric], ITEM_METRICS, "metric")
        return np.array(
            [
                row[metric]
                for row in self.per_item
                if row["skipped"] is None and (source is None or row["source"] == source)
            ],
            dtype=np.float64,
        )

    def summary(self) -> dict[str, Any]:
        """Aggregates per source and over all sources; skipped items are left out.

        Returns:
            ``{"n_items", "n_evaluated", "n_skipped_silent", "skipped_reasons",
            "per_source": {name: stats}, "overall": stats}`` where ``stats``
            holds ``"n"`` (scored rows), ``"<metric>_mean"`` and
            ``"<metric>_median"`` for every per-item metric, and ``"gnsdr"``,
            ``"gsir"``, ``"gsar"``: means of NSDR, SIR and SAR weighted by
            item length, so that long items count in proportion to their
            duration (Huang et al., 2014).
        """
        items = {row["item"]: row["skipped"] for row in self.per_item}
        reasons = Counter(reason for reason in items.values() if reason is not None)
        scored = [row for row in self.per_item if row["skipped"] is None]
        return {
            "n_items": len(items),
            "n_evaluated": len(items) - sum(reasons.values()),
            "n_skipped_silent": sum(reasons.values()),
            "skipped_reasons": dict(reasons),
            "per_source": {
                name: _statistics([row for row in scored if row["source"] == name])
                for name in self.source_names
            },
            "overall": _statistics(scored),
        }

    def to_markdown(
        self,
        metrics: Sequence[str] = _DEFAULT_TABLE_METRICS,
        title: str | None = None,
        *,
        weighted: Sequence[str] = tuple(WEIGHTED_METRICS),
    ) -> str:
        """A Markdown table: one row per source and one for all sources (dB, 2 decimals).

        Args:
            metrics: per-item metrics shown as a mean and a median column each.
            title: optional heading.
            weighted: length-weighted aggregates shown as one column each.
        """
        _check_names(metrics, ITEM_METRICS, "metrics")
        _check_names(weighted, tuple(WEIGHTED_METRICS), "weighted")
        summary = self.summary()
        header = ["source", "n", *_column_labels(metrics, weighted)]
        rows = [
            [name, str(stats["n"]), *_cells(stats, metrics, weighted)]
            for name, stats in [*summary["per_source"].items(), ("all", summary["overall"])]
        ]
        caption = _caption(summary, self.backend, self.metadata)
        return _render(title, caption, header, rows)

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (strict JSON: NaN is ``null``, infinities are ``"inf"``/``"-inf"``).

        The summary is included for readers of the file; :meth:`from_json_dict`
        recomputes it from the per-item rows instead of trusting it.
        """
        return _to_strict_json(
            {
                "format": _FORMAT,
                "version": _FORMAT_VERSION,
                "source_names": list(self.source_names),
                "backend": self.backend,
                "metadata": self.metadata,
                "summary": self.summary(),
                "per_item": self.per_item,
            }
        )

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json_dict` to ``path`` atomically; returns the path.

        The file is written next to its destination and moved into place with
        ``os.replace``, so an interrupted run never leaves a truncated file
        where an earlier, complete one was.
        """
        path = Path(path)
        text = json.dumps(self.to_json_dict(), indent=1, allow_nan=False)
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text + "\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> EvaluationResult:
        """Inverse of :meth:`to_json_dict`."""
        if data.get("format") != _FORMAT:
            raise ValueError(f"not an evaluation result: 'format' is {data.get('format')!r}")
        if data.get("version") != _FORMAT_VERSION:
            raise ValueError(
                f"evaluation result version {data.get('version')!r} is not supported "
                f"(this vaesep reads version {_FORMAT_VERSION})"
            )
        per_item = [
            {
                key: _from_json_number(value) if key in ITEM_METRICS else value
                for key, value in row.items()
            }
            for row in data["per_item"]
        ]
        return cls(
            per_item=per_item,
            source_names=tuple(data["source_names"]),
            backend=data["backend"],
            metadata=dict(data["metadata"]),
        )

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> EvaluationResult:
        """Read a file written by :meth:`to_json`."""
        return cls.from_json_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def evaluate_batch(
    references: np.ndarray,
    estimates: np.ndarray,
    mixtures: np.ndarray,
    *,
    lengths: Sequence[int] | np.ndarray | None = None,
    source_names: Sequence[str] | None = None,
    backend: Backend = "fast",
    n_jobs: int = 1,
    progress: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> EvaluationResult:
    """Score every item of a test set with :func:`vaesep.metrics.evaluate_item`.

    Args:
        references: shape ``(n_items, n_sources, n_samples)``.
        estimates: shape ``(n_items, n_sources, n_samples)``.
        mixtures: shape ``(n_items, n_samples)``.
        lengths: shape ``(n_items,)``, the true length of each item when the
            batch was zero-padded to a common ``n_samples``; each item is
            cropped to it (padding would otherwise count as perfectly
            separated silence) and it is the item's GNSDR weight.
        source_names: ``n_sources`` names (default ``source_0``, ...).
        backend: BSS-eval backend, see :func:`vaesep.metrics.bss_eval`.
        n_jobs: worker processes; ``-1`` for one per CPU. Default 1: the
            fast backend needs ~0.16 s of CPU per 10 s two-source item, so
            pickling items to workers and starting them only pays off for
            large test sets on idle multi-core machines (on a loaded 2-core
            machine, 16 such items took 3.0 s with 2 workers vs 1.6 s serially).
        progress: show a tqdm progress bar.
        metadata: stored on the result and printed under its tables; name
            the data split, SNR, seed and commit there.

    Returns:
        An :class:`EvaluationResult` with one row per (item, source).
    """
    references = np.asarray(references)
    estimates = np.asarray(estimates)
    mixtures = np.asarray(mixtures)
    if references.ndim != 3:
        raise ValueError(
            f"references must have shape (n_items, n_sources, n_samples), got {references.shape}"
        )
    n_items, n_sources, n_samples = references.shape
    if estimates.shape != references.shape:
        raise ValueError(
            f"estimates must have shape (n_items, n_sources, n_samples) = {references.shape} "
            f"like the references, got {estimates.shape}"
        )
    if mixtures.shape != (n_items, n_samples):
        raise ValueError(
            f"mixtures must have shape (n_items, n_samples) = {(n_items, n_samples)}, "
            f"got {mixtures.shape}"
        )
    for name, array in (
        ("references", references),
        ("estimates", estimates),
        ("mixtures", mixtures),
    ):
        finite = np.isfinite(array).reshape(n_items, -1).all(axis=1)
        if not finite.all():
            raise ValueError(
                f"{name} contain NaN or infinite samples in item(s) "
                f"{np.flatnonzero(~finite)[:10].tolist()}"
            )
    item_lengths = _check_lengths(lengths, n_items, n_samples)
    names = _check_source_names(source_names, n_sources)
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be >= 1 or -1 (all CPUs), got {n_jobs}")

    tasks = (
        (references[n, :, :size], estimates[n, :, :size], mixtures[n, :size], backend)
        for n, size in enumerate(item_lengths)
    )
    bar = tqdm(total=n_items, desc="evaluating", unit="item", disable=not progress)
    with bar:
        if n_jobs == 1 or n_items < 2:
            scores = []
            for task in tasks:
                scores.append(_evaluate_task(task))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(n_jobs, n_items)) as pool:
                scores = []
                for score in pool.map(_evaluate_task, tasks):
                    scores.append(score)
                    bar.update()

    per_item = [
        {
            "item": n,
            "source": names[j],
            "n_samples": score["n_samples"],
            "skipped": score["skipped"],
            **{metric: float(score[metric][j]) for metric in ITEM_METRICS},
        }
        for n, score in enumerate(scores)
        for j in range(n_sources)
    ]
    return EvaluationResult(per_item, names, str(backend), dict(metadata or {}))


def compare_markdown(
    results: Mapping[str, EvaluationResult],
    metrics: Sequence[str] = _DEFAULT_TABLE_METRICS,
    title: str | None = None,
    *,
    weighted: Sequence[str] = tuple(WEIGHTED_METRICS),
    source: str | None = None,
) -> str:
    """One Markdown table comparing methods: a row per method, dB to 2 decimals.

    Args:
        results: method name -> its result, in the order the rows should appear
            (e.g. mixture floor, baselines, VAE, oracle ceiling).
        metrics: per-item metrics shown as a mean and a median column each.
        title: optional heading.
        weighted: length-weighted aggregates shown as one column each.
        source: restrict to one source; default all sources together.
    """
    if not results:
        raise ValueError("results is empty: pass {method name: EvaluationResult}")
    _check_names(metrics, ITEM_METRICS, "metrics")
    _check_names(weighted, tuple(WEIGHTED_METRICS), "weighted")
    header = ["method", "items", *_column_labels(metrics, weighted)]
    rows = []
    skipped = 0
    for method, result in results.items():
        summary = result.summary()
        if source is None:
            stats = summary["overall"]
        elif source in summary["per_source"]:
            stats = summary["per_source"][source]
        else:
            raise ValueError(f"{method!r} has no source {source!r}; it has {result.source_names}")
        skipped += summary["n_skipped_silent"]
        rows.append([method, str(summary["n_evaluated"]), *_cells(stats, metrics, weighted)])
    scope = "all sources" if source is None else f"source {source!r}"
    shared = _shared_metadata([result.metadata for result in results.values()])
    caption = f"dB; mean and median over items, {scope}; {skipped} silent item(s) skipped in total"
    if shared:
        caption += "; " + ", ".join(f"{key}: {value}" for key, value in shared.items())
    return _render(title, caption, header, rows)


def _evaluate_task(task: tuple[np.ndarray, np.ndarray, np.ndarray, Backend]) -> dict[str, Any]:
    """Module-level so that worker processes can unpickle it."""
    references, estimates, mixture, backend = task
    return evaluate_item(references, estimates, mixture, backend=backend)


def _statistics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means, medians and length-weighted means over scored rows (NaN if there are none)."""
    stats: dict[str, Any] = {"n": len(rows)}
    for metric in ITEM_METRICS:
        values = np.array([row[metric] for row in rows], dtype=float)
        # NaN marks an undefined value (e.g. the SAR of an unprocessed mixture); a
        # statistic over a column with any undefined entry is itself undefined
        stats[f"{metric}_mean"] = float(np.mean(values)) if rows else math.nan
        stats[f"{metric}_median"] = float(np.median(values)) if rows else math.nan
    weights = np.array([row["n_samples"] for row in rows], dtype=float)
    for name, metric in WEIGHTED_METRICS.items():
        values = np.array([row[metric] for row in rows], dtype=float)
        stats[name] = float(np.sum(weights * values) / np.sum(weights)) if rows else math.nan
    return stats


def _check_lengths(
    lengths: Sequence[int] | np.ndarray | None, n_items: int, n_samples: int
) -> list[int]:
    if lengths is None:
        return [n_samples] * n_items
    array = np.asarray(lengths)
    if array.shape != (n_items,):
        raise ValueError(f"lengths must have shape (n_items,) = ({n_items},), got {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"lengths must be integers, got dtype {array.dtype}")
    if array.min() < 1 or array.max() > n_samples:
        raise ValueError(f"lengths must lie in 1 .. n_samples = {n_samples}, got {array.tolist()}")
    return [int(size) for size in array]


def _check_source_names(names: Sequence[str] | None, n_sources: int) -> tuple[str, ...]:
    if names is None:
        return tuple(f"source_{j}" for j in range(n_sources))
    if isinstance(names, str) or len(names) != n_sources:
        raise ValueError(f"source_names must hold n_sources = {n_sources} names, got {names!r}")
    if len(set(names)) != n_sources or "all" in names:
        raise ValueError(f"source_names must be distinct and not 'all', got {names!r}")
    return tuple(str(name) for name in names)


def _check_names(names: Sequence[str], known: tuple[str, ...], what: str) -> None:
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {list(known)}")


def _column_labels(metrics: Sequence[str], weighted: Sequence[str]) -> list[str]:
    labels = [f"{_LABELS[m]} {kind}" for m in metrics for kind in ("mean", "median")]
    return labels + [_LABELS[name] for name in weighted]


def _cells(stats: Mapping[str, Any], metrics: Sequence[str], weighted: Sequence[str]) -> list[str]:
    values = [stats[f"{m}_{kind}"] for m in metrics for kind in ("mean", "median")]
    values += [stats[name] for name in weighted]
    return ["—" if math.isnan(value) else f"{value:.2f}" for value in values]


def _caption(summary: Mapping[str, Any], backend: str, metadata: Mapping[str, Any]) -> str:
    reasons = ", ".join(f"{n} {why}" for why, n in summary["skipped_reasons"].items())
    text = (
        f"dB; {summary['n_items']} items, {summary['n_skipped_silent']} skipped"
        f"{f' ({reasons})' if reasons else ''}; BSS-eval backend {backend}"
    )
    if metadata:
        text += "; " + ", ".join(f"{key}: {value}" for key, value in metadata.items())
    return text


def _render(title: str | None, caption: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", ""] if title else []
    lines += [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"_{caption}_",
    ]
    return "\n".join(lines)


def _shared_metadata(metadatas: list[dict[str, Any]]) -> dict[str, Any]:
    """The metadata entries every result agrees on (so the table can state them once)."""
    first, *rest = metadatas
    return {key: value for key, value in first.items() if all(m.get(key) == value for m in rest)}


def _to_strict_json(value: Any) -> Any:
    """Recursively replace what strict JSON cannot hold (NaN, inf, numpy scalars, tuples)."""
    if isinstance(value, Mapping):
        return {str(key): _to_strict_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_strict_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return _to_strict_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _from_json_number(value: Any) -> float:
    """Inverse of the float handling in :func:`_to_strict_json` (``float`` parses "inf")."""
    return math.nan if value is None else float(value)
