"""The comparison loop: methods × configurations × seeds × domains, one result file per run.

Notebook 04 ("At convergence", "At a matched budget") reads what this writes, in two views:

* at convergence (``vaesep study``, :func:`converged_study`): tune every learned method
  on the first domain, seed 0, over its grid until validation SDR stops improving; select
  each method's configuration by validation SDR; repeat the winner with more seeds and domains;
* at a matched budget (``vaesep compare``, :func:`matched_study`): one configuration per
  method, 200 steps, no early stopping; or, ``shipped``, the shipped models scored as they are.

Each run writes ``<out>/<domain>/<method>/<config>-seed<N>.json``. A file that exists is a
finished run, so an interrupted study continues where it stopped. Section "Every item, every
method" plays :func:`separate_item`; :func:`ship_models` writes the shipped models (section
"Shipped models") as float16: half the size, a difference in the audio no metric resolves.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.api import PRETRAINED_DIR, export_model, list_pretrained, load_model
from vaesep.compare.conditions import FULL_CONDITIONS, domain_conditions, get_condition
from vaesep.compare.methods import (
    CONVERGED_METHODS,
    LEARNING_RATES,
    MATCHED_METHODS,
    Method,
    get_method,
    pretrained_name,
)
from vaesep.compare.one_run import execute_run


@dataclass(frozen=True)
class Schedule:
    """How long a learned method trains (``patience=None``: no early stopping) and how NMF is fitted."""

    max_epochs: int
    epoch_steps: int  # optimizer steps between two validations: the learning curve's resolution
    patience: int | None
    batch_segments: int = 32
    segment_seconds: float = 1.0
    nmf_seconds: float = 120.0
    nmf_iterations: int = 200

    def train_config(self, method: Method, learning_rate: float, seed: int):
        """The :class:`vaesep.train.TrainConfig` of one run."""
        from vaesep.train import TrainConfig

        return TrainConfig(self.max_epochs, self.epoch_steps, self.batch_segments,
                           self.segment_seconds, learning_rate, seed=seed,
                           patience=self.patience or self.max_epochs, precision=method.precision)

    def describe(self) -> str:
        stop = "no early stopping" if self.patience is None else (
            f"early stopping after {self.patience} flat validations")
        return (f"at most {self.max_epochs} epochs × {self.epoch_steps} steps × "
                f"{self.batch_segments} mixtures of {self.segment_seconds:g} s, {stop}; NMF: "
                f"{self.nmf_seconds:g} s per source, {self.nmf_iterations} updates")

    @property
    def max_steps(self) -> int:
        return self.max_epochs * self.epoch_steps

    def label(self) -> str:
        """A folder name per schedule, so result files of different budgets never mix."""
        return f"{self.max_epochs}x{self.epoch_steps}x{self.batch_segments}-{self.segment_seconds:g}s"


# at most 600 epochs (raised from 100 when the autoencoder at lr 3e-4 still improved, then from 300
# when a speech prior of the generative method at lr 3e-4 did; the early-stopped runs train the same
# under either cap, and the capped one resumed from its checkpoint), a validation every 100 steps,
# stopped after 8 without a better SDR (800 steps)
CONVERGED = Schedule(600, 100, 8)
CONVERGED_FAST = Schedule(2, 5, 1, nmf_seconds=30.0, nmf_iterations=20)
# 200 steps as 8 short epochs, so the VAE's 5-epoch KL warm-up ends and the last epochs train the true ELBO
# (MATCHED_METHODS train in float32, as the committed tables were made)
MATCHED = Schedule(8, 25, None, nmf_seconds=60.0, nmf_iterations=100)
MATCHED_FAST = Schedule(2, 4, None, 8, 0.5, nmf_seconds=10.0, nmf_iterations=20)


@dataclass(frozen=True)
class Study:
    """What one loop runs, and where its files go. Every method is tuned on the first of the
    conditions' domains; ``seeds``: the winners' seeds there and on the ``seeded_domains`` (whose
    runs take minutes: noise), ``domain_seeds`` elsewhere."""

    out: Path
    methods: tuple[Method, ...] = CONVERGED_METHODS
    conditions: tuple[str, ...] = FULL_CONDITIONS
    seeds: tuple[int, ...] = (0, 1, 2)
    domain_seeds: tuple[int, ...] = (0,)
    schedule: Schedule = CONVERGED
    learning_rates: tuple[float, ...] = LEARNING_RATES
    checkpoints: Path | None = None
    shipped: bool = False
    fast: bool = False
    jobs: int = 2
    max_items: int | None = None
    seeded_domains: tuple[str, ...] = ("noise",)

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(get_condition(name).models for name in self.conditions))

    def method(self, name: str) -> Method:
        return get_method(name, self.methods)

    def checkpoint(self, run: Run) -> Path:
        return (self.checkpoints or self.out / "checkpoints") / run.path(Path(".")).with_suffix(".pt")


def converged_study(out: str | Path = "results/converged", *, fast: bool = False, jobs: int = 2) -> Study:
    """The comparison at convergence; ``fast``: every code path of it in about a minute (CI)."""
    out = Path(out)
    if fast:
        methods = tuple(get_method(name) for name in ("vae", "dnn", "nmf"))
        return Study(out, methods, domain_conditions("speech"), (0, 1), (), CONVERGED_FAST, (1e-3,),
                     fast=True, jobs=jobs, max_items=4)
    return Study(out, checkpoints=Path("runs/converged"), jobs=jobs)


def matched_study(
    out: str | Path | None = None, *, fast: bool = False, shipped: bool = False,
    methods: tuple[str, ...] | None = None, conditions: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None, max_items: int | None = None, jobs: int = 1,
) -> Study:
    """One configuration per method, a fixed 200-step budget, 3 seeds on every domain, into a folder
    of ``out`` named after the schedule and items (default: the committed ``results/matched`` for
    the full run, its checkpoints in ``runs/compare``; else ``runs/compare``)."""
    from vaesep.files import project_dir, runs_dir

    if shipped and seeds not in (None, (0,)):
        raise ValueError("the shipped models are the seed-0 runs: give no seeds (or seed 0) with shipped=True")
    seeds = seeds or ((0,) if fast or shipped else (0, 1, 2))
    if len(seeds) < 3 and not (fast or shipped):
        raise ValueError(f"give at least 3 training seeds (got {list(seeds)}): a gap between methods means "
                         "nothing without the seed spread; fewer seeds are allowed only in fast mode")
    schedule = MATCHED_FAST if fast else MATCHED
    label = ("shipped" if shipped else schedule.label()) + (f"-items{max_items}" if max_items else "")
    committed = out is None and not (fast or shipped)
    default = project_dir() / "results" / "matched" if committed else runs_dir() / "compare"
    return Study(
        Path(out or default) / label,
        tuple(get_method(name, MATCHED_METHODS) for name in methods or [m.name for m in MATCHED_METHODS]),
        conditions or (("synthetic",) if fast else FULL_CONDITIONS),
        seeds, seeds, schedule, (1e-3,), checkpoints=runs_dir() / "compare" / label / "checkpoints" if committed else None,
        shipped=shipped, fast=fast, jobs=jobs, max_items=max_items,
    )


def config_id(config: dict[str, Any]) -> str:
    """A file-name-safe label of one configuration, e.g. ``lr0.001-likelihood=is``."""
    parts = [f"lr{config['learning_rate']:g}"] if "learning_rate" in config else []
    parts += [f"{key}={value}" for key, value in sorted(config.items()) if key != "learning_rate"]
    return "-".join(parts) or "default"


@dataclass(frozen=True)
class Run:
    """One run of the loop: a method, a configuration (sorted pairs), a seed, a domain."""

    method: str
    config: tuple[tuple[str, Any], ...]
    seed: int
    domain: str = "speech"

    @classmethod
    def of(cls, method: str, config: dict[str, Any], seed: int, domain: str) -> Run:
        return cls(method, tuple(sorted(config.items())), seed, domain)

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    def path(self, root: Path) -> Path:
        return root / self.domain / self.method / f"{config_id(self.settings)}-seed{self.seed}.json"


def load_result(path: Path) -> dict[str, Any] | None:
    """A result file, or None if the run has not finished (older files may hold NaN)."""
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def tuning_runs(study: Study, name: str | None = None) -> list[Run]:
    """The grid of one learned method (default: every one) on the first domain, seed 0; a
    ``knob_from`` method's runs exist once that selection is known."""
    if name is None:
        return [run for method in study.methods for run in tuning_runs(study, method.name)]
    method = study.method(name)
    if not method.learned or study.shipped:
        return []
    grid = method.grid(study.learning_rates)
    if method.knob_from is not None:
        chosen = winner(study, method.knob_from)
        if chosen is None:
            return []
        grid = [config for config in grid if config[method.knob] == chosen[method.knob]]
    return [Run.of(name, config, 0, study.domains[0]) for config in grid]


def winner(study: Study, name: str) -> dict[str, Any] | None:
    """The configuration of ``name`` with the best validation SDR once its grid is done ({} if no grid)."""
    if not study.method(name).learned or study.shipped:
        return {}
    results = [load_result(run.path(study.out)) for run in tuning_runs(study, name)]
    if not results or any(result is None for result in results):
        return None
    finished = [result for result in results if result["valid_sdr"] is not None]  # not diverged
    if not finished:
        raise RuntimeError(f"every configuration of {name} diverged: widen its grid (vaesep/compare/methods.py)")
    return max(finished, key=lambda result: result["valid_sdr"])["config"]


def pending(study: Study) -> list[Run]:
    """The runs whose inputs are ready and whose result file does not exist yet: floor and
    oracles, tuning grids, then each winner's seeds and domains."""
    runs = []
    for domain in study.domains:
        for method in (m for m in study.methods if not m.learned or study.shipped):
            if method.kind == "shipped" and method.options.get("domain") != domain:
                continue  # a reference model of another domain: left out by design
            if method.kind == "oracle" or pretrained_name(method, domain) in list_pretrained():
                runs.append(Run(method.name, (), 0, domain))
    runs += tuning_runs(study)
    for domain in study.domains:
        if domain == study.domains[0]:
            seeds = [seed for seed in study.seeds if seed != 0]  # seed 0 ran in the tuning grid
        else:
            seeds = study.seeds if domain in study.seeded_domains else study.domain_seeds
        for method in study.methods:
            config = winner(study, method.name) if method.learned and not study.shipped else None
            if config is not None and (method.domains is None or domain in method.domains):
                runs += [Run.of(method.name, config, seed, domain) for seed in seeds]
    return [run for run in runs if not run.path(study.out).is_file()]


def execute(study: Study, *, log=None) -> None:
    """Run everything pending, ``study.jobs`` at a time; a finished tuning grid makes its winner's runs due."""
    started, log = time.time(), log or functools.partial(print, flush=True)  # a log file sees each run land

    def finished(run: Run, path: Path) -> None:
        log(f"[{(time.time() - started) / 60:6.1f} min] finished {run.domain}/{run.method} "
            f"{config_id(run.settings)} seed {run.seed} -> {path}")

    if study.jobs == 1:
        while todo := pending(study):
            finished(todo[0], execute_run(todo[0], study))
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # inherited by the workers
    # spawn, not fork: forking a process whose torch thread pool is running can deadlock
    running: dict[Any, Run] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(study.jobs, mp_context=context, initializer=_one_thread) as pool:
        while True:
            for run in pending(study):
                if len(running) < study.jobs and run not in running.values():
                    running[pool.submit(execute_run, run, study)] = run
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                finished(running.pop(future), future.result())


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)  # parallel runs must not fight over the same cores


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
