"""Train (or fit, or load) one run of the comparison loop and score it: one result file.

Notebook 04, section "At convergence", lists the fields of a result file.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaesep.compare.conditions import domain_conditions, get_condition, training_dataset
from vaesep.compare.methods import Method, build_network, pretrained_name
from vaesep.files import count_parameters, write_json

if TYPE_CHECKING:  # the loop imports this module, not the other way round
    from vaesep.compare.study import Run, Study

NMF_SOURCES: dict[str, tuple[str, ...]] = {"noise": ("noise",)}  # modelled by NMF on the mixture, not a prior


def execute_run(run: Run, study: Study) -> Path:
    """Train (or fit, or load) one run, score it on its domain's conditions, write its result file."""
    from vaesep.runtime import code_version
    from vaesep.train import TrainingDiverged

    try:
        result = train_and_score(run, study)
    except TrainingDiverged as error:
        # a diverged configuration is a result of the search too: recorded, never selected
        result = {"method": run.method, "domain": run.domain, "seed": run.seed, "config": run.settings,
                  "kind": study.method(run.method).kind, "stopped": "diverged", "valid_sdr": None,
                  "test": {}, "error": str(error), "commit": code_version()}
    return write_json(run.path(study.out), result, sort_keys=True)


def train_and_score(run: Run, study: Study) -> dict[str, Any]:
    """Train ``run`` (or fit NMF, or load a shipped model or an oracle), then score it."""
    from vaesep.api import load_model
    from vaesep.models import NeuralSeparator, NMFConfig, fit_nmf, save_nmf
    from vaesep.train import train

    method, settings = study.method(run.method), run.settings
    if not method.learned or study.shipped:  # nothing to train
        name = method.name if method.kind == "oracle" else pretrained_name(method, run.domain)
        condition = get_condition(domain_conditions(run.domain, study.conditions)[0])
        source_names = condition.dataset(fast=study.fast).source_names
        separator = load_model(name, device="cpu", source_names=source_names)
        record = {"kind": "oracle"} if method.kind == "oracle" else {"kind": "shipped", "model": name}
        return _score(separator, run, study, record)
    dataset = training_dataset(run.domain, fast=study.fast)
    checkpoint = study.checkpoint(run)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    knobs = {k: v for k, v in settings.items() if k != "learning_rate"}
    options = {**method.options, **knobs}
    record: dict[str, Any]
    if method.kind == "generative":
        network, record = _fit_generative(run, study, method, dataset, options, checkpoint)
    elif method.kind == "nmf":
        wall, cpu = time.perf_counter(), time.process_time()
        fit = fit_nmf(dataset, NMFConfig(**options), seed=run.seed, seconds_per_source=study.schedule.nmf_seconds,
                      iterations=study.schedule.nmf_iterations)
        save_nmf(fit, checkpoint, dataset)
        network = fit.network
        record = {"stopped": "fitted", "steps_to_best": None, "curve": [],
                  "train_wall_seconds": round(time.perf_counter() - wall, 2),
                  "train_cpu_seconds": round(time.process_time() - cpu, 2)}
    else:
        network = build_network(method, dataset.source_names, **knobs)
        config = study.schedule.train_config(method, settings["learning_rate"], run.seed)
        result = train(network, dataset, config, checkpoint_path=checkpoint, progress=False, device="cpu")
        network, history = result.network, result.history
        record = {
            "stopped": result.stopped,
            "steps_to_best": (result.best_epoch + 1) * config.steps_per_epoch,
            "steps_total": history["step"][-1],
            "curve": _curve(history, "valid_sdr", 4),
            **_train_seconds([history]),
        }
    record.update(kind=method.kind, config=settings, options=options, precision=method.precision,
                  parameters=count_parameters(network))
    if method.kind == "generative" and network.config.iterations:
        # inference against the encoders' guess alone, on the same priors and items
        amortised = NeuralSeparator(network.with_iterations(0), name=run.method)
        record["test_amortised"] = _score(amortised, run, study, {}, dataset)["test"]
    return _score(NeuralSeparator(network, name=run.method), run, study, record, dataset)


def _fit_generative(run: Run, study: Study, method: Method, dataset, options, checkpoint):
    """Train the priors (early stopping on their validation loss), then pick the iterations by validation SDR."""
    from vaesep.evaluate import evaluate_separator
    from vaesep.models import GenerativeConfig, NeuralSeparator
    from vaesep.priors import train_generative

    config = GenerativeConfig(source_names=dataset.source_names, nmf_sources=NMF_SOURCES.get(run.domain, ()), **options)
    train_config = study.schedule.train_config(method, run.settings["learning_rate"], run.seed)
    network, results = train_generative(dataset, config, train_config, checkpoint_path=checkpoint, progress=False,
                                        device="cpu")
    by_iterations = {}
    for iterations in method.knob_values:
        separator = NeuralSeparator(network.with_iterations(iterations), name=run.method)
        valid = evaluate_separator(separator, dataset, "valid", progress=False, max_items=study.max_items)
        by_iterations[iterations] = round(float(valid.summary()["overall"]["sdr_mean"]), 4)
    chosen = max(by_iterations, key=by_iterations.__getitem__)
    histories = [result.history for result in results.values()]
    record = {
        "stopped": "early_stopping" if all(r.stopped == "early_stopping" for r in results.values()) else "epochs",
        "steps_to_best": sum((r.best_epoch + 1) * train_config.steps_per_epoch for r in results.values()),
        "steps_total": sum(history["step"][-1] for history in histories),
        "curve": [],  # the priors have validation losses, not SDRs: their curves are below
        "prior_curves": {name: _curve(r.history, "valid_loss", 2) for name, r in results.items()},
        "iterations": chosen,
        "valid_sdr_by_iterations": by_iterations,
        **_train_seconds(histories),
    }
    return network.with_iterations(chosen), record


def _curve(history: dict[str, list], key: str, digits: int) -> list[list]:
    steps = zip(history["step"], history[key], strict=True)
    return [[step, round(value, digits)] for step, value in steps]


def _train_seconds(histories: list[dict[str, list]]) -> dict[str, float]:
    """Training time from the runs' own histories, so a run resumed after an interruption counts
    all its epochs."""
    return {"train_wall_seconds": round(sum(sum(h["seconds"]) for h in histories), 2),
            "train_cpu_seconds": round(sum(sum(h["cpu_seconds"]) for h in histories), 2)}


def _score(separator, run: Run, study: Study, record: dict[str, Any], dataset=None) -> dict[str, Any]:
    """Validation SDR (the selection criterion; none for shipped models), every test condition's
    finite statistics (the mixture's SAR is not) and per-item SDRs."""
    from vaesep.evaluate import evaluate_separator
    from vaesep.runtime import code_version

    wall, cpu = time.perf_counter(), time.process_time()
    valid = None
    if not study.shipped:
        dataset = dataset or training_dataset(run.domain, fast=study.fast)
        valid = evaluate_separator(separator, dataset, "valid", progress=False, max_items=study.max_items)
        valid = valid.summary()["overall"]["sdr_mean"]
    scores, items = {}, {}
    for name in domain_conditions(run.domain, study.conditions):
        condition = get_condition(name)
        test = evaluate_separator(separator, condition.dataset(fast=study.fast), condition.split, progress=False,
                                  max_items=study.max_items)
        summary = test.summary()
        stats = summary["per_source"][condition.source] if condition.source else summary["overall"]
        scores[name] = {key: round(float(value), 4) for key, value in stats.items()
                        if isinstance(value, int | float) and math.isfinite(value)}
        items[name] = [round(float(value), 2) for value in test.item_values("sdr", condition.source)]
    return {
        "method": run.method, "domain": run.domain, "seed": run.seed, "config": run.settings,
        "valid_sdr": None if valid is None else round(float(valid), 4), "test": scores, "item_sdr": items,
        "fast": study.fast, "commit": code_version(), **record,
        "wall_seconds": round(record.get("train_wall_seconds", 0.0) + time.perf_counter() - wall, 2),
        "cpu_seconds": round(record.get("train_cpu_seconds", 0.0) + time.process_time() - cpu, 2),
    }
