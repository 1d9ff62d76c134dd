"""Train (or load) every method and evaluate it on every condition, resumably.

The runner turns a :class:`CompareConfig` into two lists of small tasks,
training runs and evaluations, each of which writes one file: a checkpoint
per (domain, method, seed), an :class:`~vaesep.metrics.EvaluationResult`
JSON per (condition, method, seed). A task whose file exists is skipped, so
an interrupted comparison continues where it stopped, and half-finished
training runs resume from their last epoch (:func:`vaesep.train.train`).
With ``jobs=2`` two tasks run side by side, one CPU thread each. Notebook
04, section "Running the comparison".
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from vaesep.api import list_pretrained, load_model
from vaesep.checkpoint import load_checkpoint
from vaesep.compare.conditions import FULL_CONDITIONS, Condition, get_condition, training_dataset
from vaesep.compare.methods import METHODS, Budget, Method, build_method_network, get_method
from vaesep.compare.shipping import pretrained_name
from vaesep.evaluate import evaluate_separator
from vaesep.metrics import EvaluationResult
from vaesep.models import NMFConfig, fit_nmf, save_nmf
from vaesep.files import runs_dir
from vaesep.train import train

MIN_SEEDS: int = 3
"""Training seeds required outside fast mode, so a gap can be judged against seed noise."""


@dataclass(frozen=True)
class CompareConfig:
    """What to compare, on what, with which budget.

    Attributes:
        methods: method names (see :data:`vaesep.compare.METHODS`), in table order.
        conditions: condition names (see :data:`vaesep.compare.CONDITIONS`).
        seeds: training seeds of the learned methods (at least 3 unless ``fast``
            or ``pretrained``).
        budget: the shared training budget.
        fast: small fast-mode data sets (CI); also allows fewer seeds.
        pretrained: load the shipped seed-0 models instead of training.
        max_items: evaluate only the first items of each split.
        out_dir: where checkpoints and per-run results go; default
            ``runs/compare`` (``runs/fast/compare`` in fast mode).
        jobs: tasks run in parallel (processes with one torch thread each).
        backend: BSS-eval backend, ``"fast"`` or ``"mir_eval"``.
        data_seed: seed of the data sets (splits and test items stay fixed).
    """

    methods: tuple[str, ...] = tuple(method.name for method in METHODS)
    conditions: tuple[str, ...] = FULL_CONDITIONS
    seeds: tuple[int, ...] = (0, 1, 2)
    budget: Budget = field(default_factory=Budget)
    fast: bool = False
    pretrained: bool = False
    max_items: int | None = None
    out_dir: str | None = None
    jobs: int = 1
    backend: str = "fast"
    data_seed: int = 0

    def __post_init__(self) -> None:
        for name in self.methods:
            get_method(name)
        for name in self.conditions:
            get_condition(name)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and non-empty, got {self.seeds}")
        if self.pretrained and tuple(self.seeds) != (0,):
            raise ValueError(
                "the shipped models are the seed-0 runs: use seeds=(0,) with pretrained=True"
            )
        if len(self.seeds) < MIN_SEEDS and not (self.fast or self.pretrained):
            raise ValueError(
                f"give at least {MIN_SEEDS} training seeds (got {list(self.seeds)}): a gap between methods "
                "means nothing without the seed spread; fewer seeds are allowed only in fast mode"
            )
        if self.jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {self.jobs}")

    def root(self) -> Path:
        """The output folder (created on demand)."""
        return Path(self.out_dir) if self.out_dir is not None else runs_dir() / "compare"

    def models_key(self) -> str:
        """Names the folder of the trained models: budget, data mode and data seed."""
        text = json.dumps(
            {"budget": self.budget.to_dict(), "fast": self.fast, "data_seed": self.data_seed},
            sort_keys=True,
        )
        mode = "fast" if self.fast else "full"
        return f"{mode}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    def results_key(self) -> str:
        """Names the folder of the results: the models plus how they were evaluated."""
        text = json.dumps(
            {
                "models": self.models_key(),
                "pretrained": self.pretrained,
                "max_items": self.max_items,
                "backend": self.backend,
            },
            sort_keys=True,
        )
        return f"{'pretrained' if self.pretrained else 'trained'}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    def to_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["budget"] = self.budget.to_dict()
        return values


@dataclass(frozen=True)
class TrainTask:
    """Train or fit one learned method with one seed on one domain; writes ``path``."""

    method: str
    domain: str
    seed: int
    budget: Budget
    fast: bool
    data_seed: int
    path: str


@dataclass(frozen=True)
class EvalTask:
    """Evaluate one model on one condition; writes an EvaluationResult JSON to ``path``.

    ``model`` is a checkpoint path, a shipped name or an oracle name; ``seed``
    is ``None`` for methods that have no training seed (oracles, shipped references).
    """

    method: str
    condition: str
    seed: int | None
    model: str
    fast: bool
    data_seed: int
    max_items: int | None
    backend: str
    path: str


@dataclass
class Plan:
    """The tasks of a comparison and what was left out (with the reason)."""

    train: list[TrainTask] = field(default_factory=list)
    evaluate: list[EvalTask] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def checkpoint_path(config: CompareConfig, domain: str, method: str, seed: int) -> Path:
    """Where the comparison keeps one trained model."""
    return config.root() / "models" / config.models_key() / domain / f"{method}-seed{seed}.pt"


def results_root(config: CompareConfig) -> Path:
    """The folder of one configuration's evaluations (one sub-folder per condition)."""
    return config.root() / "results" / config.results_key()


def result_path(config: CompareConfig, condition: str, method: str, seed: int | None) -> Path:
    """Where the comparison keeps one evaluation (``seed`` None: no training seed)."""
    stem = method if seed is None else f"{method}-seed{seed}"
    return results_root(config) / condition / f"{stem}.json"


def training_finished(path: Path) -> bool:
    """True when ``path`` holds a model whose training ended (``stopped`` is not ``"running"``).

    A finished run may still carry resume state, so that more epochs can be added later.
    """
    return path.is_file() and load_checkpoint(path).get("stopped", "running") != "running"


def model_source(
    config: CompareConfig, method: Method, condition: Condition, seed: int
) -> str | None:
    """What evaluating ``method`` on ``condition`` loads.

    Returns:
        an oracle name, a shipped model name or a checkpoint path; None when
        the method has no model for the condition's training domain.
    """
    if method.kind == "oracle":
        return method.name
    if method.kind == "pretrained":
        # a shipped reference model only applies to the domain it was trained on
        if condition.models != method.options.get("domain", "speech"):
            return None
        shipped = method.options["model"]
    elif config.pretrained:
        shipped = pretrained_name(method.name, condition.models)
    else:
        return str(checkpoint_path(config, condition.models, method.name, seed))
    return shipped if shipped in list_pretrained() else None


def plan(config: CompareConfig) -> Plan:
    """Every task still to do for ``config``; finished ones (files on disk) are left out.

    Notebook 04, section "Running the comparison".
    """
    tasks = Plan()
    methods = [get_method(name) for name in config.methods]
    conditions = [get_condition(name) for name in config.conditions]
    if not config.pretrained:
        for domain in dict.fromkeys(condition.models for condition in conditions):
            for method in (m for m in methods if m.learned):
                for seed in config.seeds:
                    path = checkpoint_path(config, domain, method.name, seed)
                    if not training_finished(path):
                        tasks.train.append(
                            TrainTask(
                                method.name,
                                domain,
                                seed,
                                config.budget,
                                config.fast,
                                config.data_seed,
                                str(path),
                            )
                        )
    for condition in conditions:
        for method in methods:
            if method.kind == "pretrained" and method.options.get("domain") != condition.models:
                continue  # a reference model of another domain: left out by design, not missing
            seeds: Sequence[int | None] = config.seeds if method.learned else (None,)
            for seed in seeds:
                model = model_source(config, method, condition, 0 if seed is None else seed)
                if model is None:
                    tasks.skipped.append(
                        f"{method.name} on {condition.name}: no model for {condition.models!r}"
                    )
                    continue
                path = result_path(config, condition.name, method.name, seed)
                if not path.is_file():
                    tasks.evaluate.append(
                        EvalTask(
                            method.name,
                            condition.name,
                            seed,
                            model,
                            config.fast,
                            config.data_seed,
                            config.max_items,
                            config.backend,
                            str(path),
                        )
                    )
    return tasks


def timing_path(checkpoint: str | Path) -> Path:
    """The file next to a checkpoint that records how long its training took."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}.timing.json")


def run_train_task(task: TrainTask, *, progress: bool = False) -> float:
    """Train or fit one model into ``task.path``; returns the wall seconds it took.

    Wall and CPU seconds also go to :func:`timing_path`: on a shared machine
    the wall time depends on the neighbours, the CPU time much less.
    """
    method = get_method(task.method)
    dataset = training_dataset(task.domain, fast=task.fast, seed=task.data_seed)
    start, cpu_start = time.perf_counter(), time.process_time()
    if method.kind == "nmf":
        fit = fit_nmf(
            dataset,
            NMFConfig(**dict(method.options)),
            seed=task.seed,
            seconds_per_source=task.budget.nmf_seconds_per_source,
            iterations=task.budget.nmf_iterations,
        )
        save_nmf(fit, task.path, dataset)
    else:
        network = build_method_network(method, dataset.source_names)
        train(
            network,
            dataset,
            task.budget.train_config(task.seed),
            checkpoint_path=task.path,
            progress=progress,
            device="cpu",
        )
    seconds = time.perf_counter() - start
    timing = {
        "wall_seconds": round(seconds, 3),
        "cpu_seconds": round(time.process_time() - cpu_start, 3),
    }
    timing_path(task.path).write_text(json.dumps(timing) + "\n", encoding="utf-8")
    return seconds


def run_eval_task(task: EvalTask, *, progress: bool = False) -> float:
    """Separate and score one condition with one model into ``task.path``; returns seconds."""
    condition = get_condition(task.condition)
    dataset = condition.dataset(fast=task.fast, seed=task.data_seed)
    model = load_model(task.model, device="cpu", source_names=dataset.source_names)
    model.name = task.method
    start, cpu_start = time.perf_counter(), time.process_time()
    result = evaluate_separator(
        model,
        dataset,
        condition.split,
        max_items=task.max_items,
        backend=task.backend,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    result.metadata.update(
        {
            "condition": task.condition,
            "train_seed": task.seed,
            "model": task.model,
            "eval_seconds": round(seconds, 3),
            "eval_cpu_seconds": round(time.process_time() - cpu_start, 3),
        }
    )
    Path(task.path).parent.mkdir(parents=True, exist_ok=True)
    result.to_json(task.path)
    return seconds


def _limit_threads(threads: int) -> None:
    """Worker initialiser: parallel tasks must not fight over the same cores."""
    torch.set_num_threads(threads)


def _run_all(
    tasks: Sequence[Any], runner: Callable[..., float], jobs: int, progress: bool, what: str
) -> None:
    from tqdm.auto import tqdm

    if not tasks:
        return
    if jobs == 1:
        for task in tqdm(tasks, desc=what, disable=not progress):
            runner(task, progress=False)
        return
    # spawn, not fork: forking a process whose torch thread pool is running can deadlock
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        jobs, mp_context=context, initializer=_limit_threads, initargs=(1,)
    ) as pool:
        for _ in tqdm(pool.map(runner, tasks), total=len(tasks), desc=what, disable=not progress):
            pass


def execute(config: CompareConfig, *, progress: bool = True) -> Plan:
    """Run every unfinished task of ``config``: all training first, then all evaluations.

    Returns:
        the :class:`Plan` that was carried out (its ``skipped`` notes included).
    """
    work = plan(config)
    for note in work.skipped:
        warnings.warn(f"not compared: {note}", RuntimeWarning, stacklevel=2)
    _run_all(work.train, run_train_task, config.jobs, progress, "training")
    _run_all(work.evaluate, run_eval_task, config.jobs, progress, "evaluating")
    return work


def load_results(config: CompareConfig) -> dict[str, dict[str, dict[int | None, EvaluationResult]]]:
    """Every finished evaluation of ``config``: ``{condition: {method: {seed: result}}}``.

    Methods appear in the order of ``config.methods``; missing files are left out.
    """
    results: dict[str, dict[str, dict[int | None, EvaluationResult]]] = {}
    for condition in config.conditions:
        per_method: dict[str, dict[int | None, EvaluationResult]] = {}
        for name in config.methods:
            seeds: Sequence[int | None] = config.seeds if get_method(name).learned else (None,)
            found = {seed: result_path(config, condition, name, seed) for seed in seeds}
            loaded = {
                seed: EvaluationResult.from_json(path)
                for seed, path in found.items()
                if path.is_file()
            }
            if loaded:
                per_method[name] = loaded
        results[condition] = per_method
    return results


def training_records(config: CompareConfig) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per domain and learned method, one entry per seed: seconds, parameters, best epoch.

    Read from the checkpoints (the shipped ones in pretrained mode), so the
    numbers describe the models that were evaluated.
    """
    from vaesep.compare.methods import parameter_count
    from vaesep.models import build_network

    records: dict[str, dict[str, list[dict[str, Any]]]] = {}
    domains = dict.fromkeys(get_condition(name).models for name in config.conditions)
    for domain in domains:
        per_method: dict[str, list[dict[str, Any]]] = {}
        for method in (get_method(name) for name in config.methods):
            paths = _model_files(config, method, domain)
            entries = []
            for seed, path in paths.items():
                record = load_checkpoint(path)
                network = build_network(record["kind"], record["config"])
                entries.append(
                    {
                        "seed": seed,
                        "parameters": parameter_count(network),
                        "train_seconds": float(sum(record.get("history", {}).get("seconds", []))),
                        "train_cpu_seconds": _cpu_seconds(path),
                        "best_epoch": record.get("best_epoch"),
                        "train_config": record.get("train_config"),
                    }
                )
            if entries:
                per_method[method.name] = entries
        records[domain] = per_method
    return records


def _cpu_seconds(checkpoint: Path) -> float | None:
    """CPU seconds of a checkpoint's training run, when :func:`run_train_task` recorded them."""
    path = timing_path(checkpoint)
    return json.loads(path.read_text(encoding="utf-8"))["cpu_seconds"] if path.is_file() else None


def _model_files(config: CompareConfig, method: Method, domain: str) -> dict[int | None, Path]:
    """The checkpoint files behind a method's rows on one domain (empty for oracles)."""
    from vaesep.api import PRETRAINED_DIR

    if method.kind == "oracle":
        return {}
    if method.kind == "pretrained":
        path = PRETRAINED_DIR / f"{method.options['model']}.pt"
        return (
            {None: path}
            if domain == method.options.get("domain", "speech") and path.is_file()
            else {}
        )
    if config.pretrained:
        path = PRETRAINED_DIR / f"{pretrained_name(method.name, domain)}.pt"
        return {0: path} if path.is_file() else {}
    paths = {seed: checkpoint_path(config, domain, method.name, seed) for seed in config.seeds}
    return {seed: path for seed, path in paths.items() if path.is_file()}
