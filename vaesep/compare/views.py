"""One test item through every method: the spectrogram and audio row of notebook 04.

Notebook 04, section "Every item, every method", plots and plays what
:func:`separate_item` returns.
"""

from __future__ import annotations

import numpy as np

from vaesep.api import list_pretrained, load_model
from vaesep.compare.conditions import get_condition
from vaesep.compare.methods import pretrained_name
from vaesep.compare.study import Run, Study, winner
from vaesep.data.builder import get_builder


def target_source(condition: str) -> str:
    """The source a condition's listening row shows: its scored source, else the data set's first."""
    spec = get_condition(condition)
    return spec.source if spec.source is not None else get_builder(spec.data).source_names[0]


def separate_item(study: Study, condition: str, item: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """The target source (:func:`target_source`) of one test item as every method of ``study`` separates it.

    ``{"mixture", "truth", <method>…}``, each ``(n_samples,)`` at 16 kHz; learned methods use their
    selected configuration's model of ``seed`` (or the shipped one); methods without a model are left out.
    """
    spec = get_condition(condition)
    dataset = spec.dataset(fast=study.fast)
    references = np.array(dataset.sources(spec.split)[item])
    mixture = references.sum(axis=0)
    target = dataset.source_names.index(target_source(condition))
    signals = {"mixture": mixture, "truth": references[target]}
    for method in study.methods:
        if method.kind == "oracle":
            model = method.name
        elif not method.learned or study.shipped:
            model = pretrained_name(method, spec.models)
            if model not in list_pretrained():
                continue  # nothing shipped for this domain
        else:
            config = winner(study, method.name)
            model = None if config is None else study.checkpoint(Run(method.name, tuple(sorted(config.items())), seed,
                                                                     spec.models))
            if model is None or not model.is_file():
                continue  # not trained yet
        model = load_model(model, device="cpu", source_names=dataset.source_names)
        estimates = model.separate(mixture, dataset.sample_rate,
                                   references=references if model.needs_references else None)
        signals[method.name] = estimates[target]
    return signals
