"""One test item through every method: the audio and spectrogram row of notebook 04.

Notebook 04, section "Every item, every method" plots and plays what
:func:`separate_item` returns.
"""

from __future__ import annotations

import numpy as np

from vaesep.api import load_model
from vaesep.compare.conditions import get_condition
from vaesep.compare.methods import get_method
from vaesep.compare.runner import CompareConfig, model_source
from vaesep.data.builder import get_builder


def target_source(condition: str) -> str:
    """The source a condition's listening row shows: its scored source, else the data set's first."""
    spec = get_condition(condition)
    return spec.source if spec.source is not None else get_builder(spec.data).source_names[0]


def separate_item(
    config: CompareConfig,
    condition: str,
    item: int,
    *,
    seed: int | None = None,
) -> dict[str, np.ndarray]:
    """The target source of one test item as every method of ``config`` separates it.

    Args:
        config: the comparison (its models must be trained or shipped).
        condition: a condition name, e.g. ``"czech"``.
        item: index of the test item.
        seed: training seed of the learned methods' models (default: the first).

    Returns:
        ``{"mixture": (n_samples,), "truth": (n_samples,), <method>: (n_samples,) …}``
        at 16 kHz, for every method with a model; the target is :func:`target_source`.
    """
    spec = get_condition(condition)
    dataset = spec.dataset(fast=config.fast, seed=config.data_seed)
    references = np.array(dataset.sources(spec.split)[item])
    mixture = references.sum(axis=0)
    target = dataset.source_names.index(target_source(condition))
    signals = {"mixture": mixture, "truth": references[target]}
    seed = config.seeds[0] if seed is None else seed
    for name in config.methods:
        model_name = model_source(config, get_method(name), spec, seed)
        if model_name is None:
            continue
        model = load_model(model_name, device="cpu", source_names=dataset.source_names)
        estimates = model.separate(
            mixture, dataset.sample_rate, references=references if model.needs_references else None
        )
        signals[name] = estimates[target]
    return signals
