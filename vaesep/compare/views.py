"""The study's trained models: one test item through every method, and the shipped checkpoints.

Notebook 04, section "Every item, every method", plots and plays what :func:`separate_item`
returns. :func:`ship_models` writes the seed-0 speech model of each selected configuration as
``vaesep/pretrained/<stem>-speech.pt`` with its training record (section "Shipped models");
weights are stored as float16 (half the size; the audio differs by far less than any metric resolves).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vaesep.api import PRETRAINED_DIR, export_model, list_pretrained, load_model
from vaesep.compare.conditions import get_condition
from vaesep.compare.methods import pretrained_name
from vaesep.compare.study import Run, Study, load_result, tuning_runs, winner


def separate_item(study: Study, condition: str, item: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """``{"mixture", "truth", <method>…}``: the target source (the scored one, else the first) of
    one test item as every method with a model (of ``seed``, or shipped) separates it, at 16 kHz."""
    spec = get_condition(condition)
    dataset = spec.dataset(fast=study.fast)
    references = np.array(dataset.sources(spec.split)[item])
    mixture = references.sum(axis=0)
    target = dataset.source_names.index(spec.source or dataset.source_names[0])
    signals = {"mixture": mixture, "truth": references[target]}
    for method in study.methods:
        if method.kind == "oracle":
            model = method.name
        elif not method.learned or study.shipped:
            model = pretrained_name(method, spec.models)
            if method.ship_variants and (config := winner(study, method.name)):  # the selected variant
                model = f"{method.ship_variants[config[method.knob]]}-{spec.models}"
            if model not in list_pretrained():
                continue  # nothing shipped for this domain
        else:
            config = winner(study, method.name)
            model = None if config is None else study.checkpoint(Run.of(method.name, config, seed, spec.models))
            if model is None or not model.is_file():
                continue  # not trained yet
        model = load_model(model, device="cpu", source_names=dataset.source_names)
        estimates = model.separate(mixture, dataset.sample_rate,
                                   references=references if model.needs_references else None)
        signals[method.name] = estimates[target]
    return signals


def shipped_configs(study: Study, name: str) -> dict[str, dict]:
    """Stem → configuration that ships for one learned method: the selected one, or with
    ``ship_variants`` the best learning rate of each knob value (DNN γ = 0 as ``dnn``, 0.05 as ``dnn-discrim``)."""
    method = study.method(name)
    if not method.ship_variants:
        config = winner(study, name)
        return {} if config is None else {method.ship_as or name: config}
    results = [result for run in tuning_runs(study, name) if (result := load_result(run.path(study.out)))]
    chosen = {}
    for value, stem in method.ship_variants.items():
        candidates = [r for r in results if r["config"][method.knob] == value and r["valid_sdr"] is not None]
        if candidates:
            chosen[stem] = max(candidates, key=lambda r: r["valid_sdr"])["config"]
    return chosen


def ship_models(study: Study, directory: str | Path = PRETRAINED_DIR, domain: str = "speech") -> list[Path]:
    """Export the seed-0 model of every learned method's shipped configurations as ``<stem>-<domain>.pt``."""
    shipped = []
    for method in (m for m in study.methods if m.learned):
        for stem, config in shipped_configs(study, method.name).items():
            checkpoint = study.checkpoint(Run.of(method.name, config, 0, domain))
            if checkpoint.is_file():
                out = Path(directory) / f"{stem}-{domain}.pt"
                shipped.append(export_model(checkpoint, out, name=f"{stem}-{domain}", half=True))
    return shipped
