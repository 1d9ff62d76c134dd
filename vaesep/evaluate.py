"""Evaluate any separator on a data split: separate in batches, then score.

The one place where models, data and metrics meet, so the CLI, the notebooks and
the comparison all produce the same numbers. Notebook 02, section "Measuring
separation", explains each metric; notebooks 01 and 02 print :func:`split_tables_markdown`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vaesep import data as datasets
from vaesep.metrics import EvaluationResult, compare_markdown, evaluate_batch
from vaesep.models import Separator
from vaesep.runtime import code_version, progress_bar

TEST_SPLITS: tuple[str, ...] = ("test", "test_cs")
"""The test splits the notebooks report, in order: speaker-dependent, then speaker-independent."""


def separate_split(
    separator: Separator, dataset: datasets.BuiltDataset, split: str, *, max_items: int | None = None,
    batch_size: int = 8, progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Separate a split ``batch_size`` items at a time: ``(references, estimates, mixtures)``,
    ``(n_items, n_sources, n_samples)`` twice and ``(n_items, n_samples)``."""
    if separator.n_sources != len(dataset.source_names):
        raise ValueError(f"{separator.name} separates {separator.n_sources} sources; {dataset.name} has "
                         f"{len(dataset.source_names)} ({dataset.source_names})")
    references = np.asarray(dataset.sources(split))[:max_items]
    mixtures = references.sum(axis=1)
    estimates = np.empty_like(references)
    for start in progress_bar(range(0, len(references), batch_size), progress,
                              desc=f"separating {dataset.name}/{split} with {separator.name}"):
        batch = slice(start, start + batch_size)
        estimates[batch] = separator.separate_batch(
            mixtures[batch], references[batch] if separator.needs_references else None)
    return references, estimates, mixtures


def evaluate_separator(
    separator: Separator, dataset: datasets.BuiltDataset, split: str = "test", *, max_items: int | None = None,
    batch_size: int = 8, backend: str = "fast", progress: bool | None = None,
) -> EvaluationResult:
    """Separate and score a split (e.g. speech ``"test"``, Dutch, or ``"test_cs"``, Czech); ``backend``:
    ``"fast"`` or ``"mir_eval"``."""
    references, estimates, mixtures = separate_split(
        separator, dataset, split, max_items=max_items, batch_size=batch_size, progress=progress)
    metadata = {"method": separator.name, "data": dataset.name, "split": split, "snr_db": dataset.params.get("snr_db"),
                "data_seed": dataset.params.get("seed"), "n_items": len(references), "commit": code_version()}
    return evaluate_batch(references, estimates, mixtures, source_names=dataset.source_names, backend=backend,
                          progress=progress, metadata=metadata)


SplitResults = dict[str, dict[str, EvaluationResult]]
"""split → method label → result, as :func:`evaluate_test_splits` returns it."""


def split_label(dataset: datasets.BuiltDataset, split: str) -> str:
    """``"test_cs (cs)"``: a split's name with the language its builder noted (``?`` if none)."""
    languages = dataset.manifest.get("notes", {}).get("languages", {})
    return f"{split} ({languages.get(split, '?')})"


def evaluate_test_splits(
    separators: Mapping[str, Separator], dataset: datasets.BuiltDataset, *, max_items: int | None = None,
    progress: bool | None = None,
) -> SplitResults:
    """Score every separator (label → separator, in row order) on every test split of the data set
    (notebook 01, "Scores on the test sets"; notebook 02, "Measuring separation")."""
    return {split: {label: evaluate_separator(separator, dataset, split, max_items=max_items, progress=progress)
                    for label, separator in separators.items()}
            for split in TEST_SPLITS if split in dataset.splits}


def split_tables_markdown(results: SplitResults, dataset: datasets.BuiltDataset, *, seed: int) -> str:
    """One comparison table per split, titled with data set, split, language, SNR and seed."""
    return "\n\n".join(
        compare_markdown(by_label, title=f"{dataset.name} / {split_label(dataset, split)}, "
                         f"SNR {dataset.snr_db:g} dB, seed {seed}")
        for split, by_label in results.items())


def split_summaries(results: SplitResults) -> dict[str, dict[str, Any]]:
    """split → label → summary statistics (strict JSON: undefined values are null), for next to the tables."""
    return {split: {label: result.to_json_dict()["summary"] for label, result in by_label.items()}
            for split, by_label in results.items()}
