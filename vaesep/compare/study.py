"""The comparison at convergence: the same search for every method, then seeds and domains.

Notebook 04, section "At convergence", reads what this writes. The study is
three loops a reader can follow:

1. **Tune** (speech, seed 0): every learned method over its grid — three
   learning rates times the method's own knob, at most six configurations —
   each trained until its validation SDR stops improving (early stopping; the
   epoch cap is a safety net that a converged run never reaches).
2. **Select** each method's configuration by validation SDR. Losses of
   different methods (and of one VAE under different likelihoods) are not
   comparable; the SDR the tables report is.
3. **Repeat** the winners with more seeds on speech, and on the other domains.

Every run writes one small JSON file (``<out>/<domain>/<method>/<config>-seed<N>.json``):
its configuration, its learning curve (validation SDR every epoch), steps to
its best epoch, why it stopped, wall and CPU time, parameters, and its test
scores on every condition of its domain. A file that exists is a finished
run, so an interrupted study continues where it stopped, and its files can
be committed as they land.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaesep.compare.conditions import CONDITIONS

LEARNING_RATES: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
"""Adam step sizes searched for every network."""

EPOCH_STEPS: int = 100
"""Optimizer steps between two validations; the learning curve's resolution."""

MAX_EPOCHS: int = 300
"""Safety cap (30,000 steps); the study reports any run that reaches it as not converged.

Raised from 100 epochs after the autoencoder at lr 3e-4 was still improving at 10,000 steps;
runs that stopped at the old cap resume from their checkpoints to this one."""

PATIENCE: int = 8
"""Validations without a better SDR before a run stops (800 steps)."""


@dataclass(frozen=True)
class StudyMethod:
    """One learned method: its network, fixed options and the grid searched for it.

    Attributes:
        name: the row of the tables (and ``<name>-<domain>`` of a shipped model).
        kind: ``"vae"``, ``"dnn"``, ``"drnn"``, ``"nmf"`` or ``"generative"``.
        options: network config fields fixed for this method.
        knob: the option tuned besides the learning rate (``None``: the learning rate only).
            A generative method's knob is its inference iterations: they change
            nothing in training, so each run trains its priors once and picks the
            value by validation SDR itself (:func:`_fit_generative`).
        knob_values: the values tried for ``knob``.
        description: one line for the methods table.
    """

    name: str
    kind: str
    options: dict[str, Any]
    knob: str | None
    knob_values: tuple[Any, ...]
    description: str
    # bfloat16 autocast where it was checked to stay within 0.1 dB of float32 (README, "Speed")
    precision: str = "bfloat16"
    # take the knob's value from another method's selection instead of searching it again
    knob_from: str | None = None

    def grid(self, learning_rates: tuple[float, ...] = LEARNING_RATES) -> list[dict[str, Any]]:
        """Every configuration searched: ``learning_rate`` and the knob (NMF: the knob only)."""
        knobs = [{self.knob: value} for value in self.knob_values] if self.knob else [{}]
        if self.kind == "generative":
            return [{"learning_rate": lr} for lr in learning_rates]
        if self.kind == "nmf":
            return knobs
        return [{"learning_rate": lr, **knob} for knob, lr in itertools.product(knobs, learning_rates)]


STUDY_METHODS: tuple[StudyMethod, ...] = (
    StudyMethod(
        "vae", "vae", {"beta": 1.0}, "likelihood", ("sigma", "is"),
        "our VAE (mixture in, masked sources out), authors' sizes, β = 1; knob: scale-free likelihood",
    ),
    StudyMethod(
        "vae-unit", "vae", {"beta": 1.0, "likelihood": "gaussian"}, None, (),
        "as vae, unit-variance Gaussian on magnitudes, as the authors' code scales it",
    ),
    StudyMethod(
        "vae-large", "vae", {"beta": 1.0, "hidden": 256, "layers": 3}, "likelihood", ("sigma", "is"),
        "as vae, 3 × 256 hidden layers in encoder and decoder (the DNN's size); likelihood: vae's selection",
        knob_from="vae",
    ),
    StudyMethod(
        "vae-authors", "vae",
        {"beta": 1.0, "likelihood": "gaussian", "train_on": "clean", "context": 0, "kl_warmup_epochs": 1},
        None, (),
        "the authors' scheme: each source's VAE trained on its clean frames only, mixture in at test time",
    ),
    StudyMethod(
        "ae", "vae", {"deterministic": True}, None, (),
        "the VAE's network without sampling and KL (autoencoder), 513·5 → 128 → 64 → 128 → 513",
    ),
    StudyMethod(
        "dnn", "dnn", {}, "gamma", (0.0, 0.05),
        "Huang et al. DNN, 3 × 256 ReLU, joint mask; knob: discriminative γ (0 = MSE)",
    ),
    StudyMethod(
        "drnn", "drnn", {"recurrent_layer": 2}, "gamma", (0.0, 0.05),
        "Huang et al. DRNN, recurrence at hidden layer 2 of 3; knob: discriminative γ",
        precision="float32",  # bfloat16 not checked for the recurrent layer: kept in float32
    ),
    StudyMethod(
        "nmf", "nmf", {"divergence": "kl"}, "n_components", (16, 32, 64),
        "supervised NMF, KL divergence, Wiener-style mask; knob: atoms per source",
        precision="float32",
    ),
    StudyMethod(
        "generative", "generative", {}, "iterations", (0, 10, 50, 200),
        "a VAE prior per source trained on its clean audio only (noise: NMF fitted on the mixture), "
        "separation by inference and Wiener filter; knob: inference iterations",
        precision="float32",
    ),
)
"""The learned methods, in table order: the VAE family, the paper's baselines, separation by inference."""

NMF_SOURCES: dict[str, tuple[str, ...]] = {"noise": ("noise",)}
"""Per domain, the sources a generative method models by NMF on the mixture instead of a prior."""

ORACLE_METHODS: tuple[str, ...] = ("mixture", "irm", "wiener", "ibm")
"""Reference rows: the floor, the reference oracle of magnitude masking, the best oracle measured, the IBM."""

DOMAIN_CONDITIONS: dict[str, tuple[str, ...]] = {
    "speech": ("dutch", "czech", "dutch-5db", "dutch+5db"),
    "chorales": ("chorales",),
    "noise": ("noise",),
    "synthetic": ("synthetic",),
}
"""The test conditions scored by the models of each training domain."""


def get_study_method(name: str) -> StudyMethod:
    for method in STUDY_METHODS:
        if method.name == name:
            return method
    raise ValueError(f"unknown method {name!r}; known: {[m.name for m in STUDY_METHODS]}")


def config_id(config: dict[str, Any]) -> str:
    """A file-name-safe label of one configuration, e.g. ``lr0.001-likelihood=is``."""
    parts = [f"lr{config['learning_rate']:g}"] if "learning_rate" in config else []
    parts += [f"{key}={value}" for key, value in sorted(config.items()) if key != "learning_rate"]
    return "-".join(parts) or "default"


@dataclass(frozen=True)
class Run:
    """One training run of the study: a method, a configuration, a seed, a domain."""

    method: str
    config: tuple[tuple[str, Any], ...]
    seed: int
    domain: str = "speech"

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    def path(self, root: Path) -> Path:
        return root / self.domain / self.method / f"{config_id(self.settings)}-seed{self.seed}.json"


@dataclass
class StudyConfig:
    """Where the study writes and what it runs.

    Attributes:
        out: result files (committed); ``checkpoints``: models (not committed).
        methods: method names, default all of :data:`STUDY_METHODS`.
        seeds: speech seeds of the winners (seed 0 is the tuning run itself).
        domain_seeds: seeds on the other domains.
        domains: training domains after speech.
        fast: the small fast-mode data sets and a tiny budget (CI).
        jobs: runs in parallel, one CPU thread each.
    """

    out: Path = Path("results/converged")
    checkpoints: Path = Path("runs/converged")
    methods: tuple[str, ...] = tuple(m.name for m in STUDY_METHODS)
    seeds: tuple[int, ...] = (0, 1, 2)
    domain_seeds: tuple[int, ...] = (0,)
    domains: tuple[str, ...] = ("chorales", "noise")
    fast: bool = False
    jobs: int = 2
    max_epochs: int = MAX_EPOCHS
    epoch_steps: int = EPOCH_STEPS
    patience: int = PATIENCE
    max_items: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def method_tuning_runs(study: StudyConfig, name: str) -> list[Run]:
    """Stage 1 for one method: its grid on speech, seed 0.

    A method whose knob comes from another method's selection (``knob_from``)
    has its runs only once that selection is known.
    """
    method = get_study_method(name)
    grid = method.grid(study.extra.get("learning_rates", LEARNING_RATES))
    if method.knob_from is not None:
        chosen = winner(study, method.knob_from)
        if chosen is None:
            return []
        grid = [config for config in grid if config[method.knob] == chosen[method.knob]]
    return [Run(name, tuple(sorted(config.items())), 0, "speech") for config in grid]


def tuning_runs(study: StudyConfig) -> list[Run]:
    """Stage 1: every configuration of every method (that is ready), speech, seed 0."""
    return [run for name in study.methods for run in method_tuning_runs(study, name)]


def load_result(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def winner(study: StudyConfig, method: str) -> dict[str, Any] | None:
    """The configuration of ``method`` with the best validation SDR, once its whole grid is done."""
    results = [load_result(run.path(study.out)) for run in method_tuning_runs(study, method)]
    if not results or any(result is None for result in results):
        return None
    finished = [result for result in results if result["valid_sdr"] is not None]  # not diverged
    if not finished:
        raise RuntimeError(f"every configuration of {method} diverged: widen its grid (vaesep/compare/study.py)")
    return max(finished, key=lambda result: result["valid_sdr"])["config"]


def later_runs(study: StudyConfig, method: str, domain: str) -> list[Run]:
    """Stage 3: the winner of ``method`` with the remaining speech seeds, or on another domain."""
    config = winner(study, method)
    if config is None:
        return []
    frozen = tuple(sorted(config.items()))
    seeds = [seed for seed in study.seeds if seed != 0] if domain == "speech" else study.domain_seeds
    return [Run(method, frozen, seed, domain) for seed in seeds]


def oracle_runs(study: StudyConfig) -> list[Run]:
    """The floor and the oracles on every domain (deterministic: one 'seed')."""
    return [Run(name, (), 0, domain) for domain in ("speech", *study.domains) for name in ORACLE_METHODS]


def pending(study: StudyConfig) -> list[Run]:
    """Runs whose result file does not exist yet and whose inputs are ready.

    Order: oracles, tuning, the speech seeds of every method, then the other domains.
    """
    runs = oracle_runs(study) + tuning_runs(study)
    for domain in ("speech", *study.domains):
        runs += [run for name in study.methods for run in later_runs(study, name, domain)]
    return [run for run in runs if not run.path(study.out).is_file()]


def execute_run(run: Run, study: StudyConfig) -> Path:
    """Train (or fit) one run, score it on its domain's conditions, write its result file."""
    import torch

    from vaesep.train import TrainingDiverged

    torch.set_num_threads(1)
    try:
        result = train_and_score(run, study)
    except TrainingDiverged as error:
        # a diverged configuration is a result of the search too: recorded, never selected
        result = {"method": run.method, "domain": run.domain, "seed": run.seed, "config": run.settings,
                  "kind": get_study_method(run.method).kind, "stopped": "diverged", "valid_sdr": None,
                  "test": {}, "error": str(error), "commit": _commit()}
    path = run.path(study.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, path)
    return path


def train_and_score(run: Run, study: StudyConfig) -> dict[str, Any]:
    """Train ``run`` to convergence (or fit NMF), then score validation and test conditions."""
    from vaesep.api import ORACLES
    from vaesep.compare.conditions import training_dataset
    from vaesep.models import NeuralSeparator, fit_nmf, network_classes, save_nmf
    from vaesep.train import TrainConfig, train

    settings = run.settings
    dataset = training_dataset(run.domain, fast=study.fast)
    if run.method in ORACLES:
        return _score(ORACLES[run.method](dataset.source_names), run, study, dataset, {"kind": "oracle"})
    method = get_study_method(run.method)
    checkpoint = study.checkpoints / run.path(Path(".")).with_suffix(".pt")
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    options = {**method.options, **{k: v for k, v in settings.items() if k != "learning_rate"}}
    wall, cpu = time.perf_counter(), time.process_time()
    record: dict[str, Any] = {}
    if method.kind == "generative":
        network, record = _fit_generative(run, study, method, dataset, options, checkpoint)
    elif method.kind == "nmf":
        fit = fit_nmf(dataset, network_classes()["nmf"].config_class(**options), seed=run.seed,
                      seconds_per_source=30.0 if study.fast else 120.0, iterations=20 if study.fast else 200)
        save_nmf(fit, checkpoint, dataset)
        network = fit.network
        record.update(stopped="fitted", steps_to_best=None, curve=[],
                      train_wall_seconds=round(time.perf_counter() - wall, 2),
                      train_cpu_seconds=round(time.process_time() - cpu, 2))
    else:
        network_class = network_classes()[method.kind]
        network = network_class(network_class.config_class(source_names=dataset.source_names, **options))
        config = TrainConfig(
            epochs=study.max_epochs, steps_per_epoch=study.epoch_steps, patience=study.patience,
            learning_rate=settings["learning_rate"], seed=run.seed, precision=method.precision,
        )
        result = train(network, dataset, config, checkpoint_path=checkpoint, progress=False, device="cpu")
        network, history = result.network, result.history
        record.update(
            stopped=result.stopped,
            steps_to_best=(result.best_epoch + 1) * study.epoch_steps,
            steps_total=history["step"][-1],
            curve=[[step, round(sdr, 4)] for step, sdr in zip(history["step"], history["valid_sdr"], strict=True)],
            train_wall_seconds=round(sum(history["seconds"]), 2),
            train_cpu_seconds=round(sum(history["cpu_seconds"]), 2),
        )
    record.update(kind=method.kind, config=settings, options=options, precision=method.precision,
                  parameters=sum(p.numel() for p in network.parameters()))
    if method.kind == "generative" and network.config.iterations:
        # inference against the encoders' guess alone, on the same priors and items
        amortised = NeuralSeparator(network.with_iterations(0), name=run.method)
        record["test_amortised"] = _score(amortised, run, study, dataset, {})["test"]
    return _score(NeuralSeparator(network, name=run.method), run, study, dataset, record)


def _fit_generative(run: Run, study: StudyConfig, method: StudyMethod, dataset, options, checkpoint):
    """Train the priors (early stopping on their validation loss), then pick the iterations.

    Returns the network with the chosen iterations and the result file's training fields.
    """
    from vaesep.evaluate import evaluate_separator
    from vaesep.models import GenerativeConfig, NeuralSeparator
    from vaesep.priors import train_generative
    from vaesep.train import TrainConfig

    config = GenerativeConfig(source_names=dataset.source_names, nmf_sources=NMF_SOURCES.get(run.domain, ()), **options)
    train_config = TrainConfig(
        epochs=study.max_epochs, steps_per_epoch=study.epoch_steps, patience=study.patience,
        learning_rate=run.settings["learning_rate"], seed=run.seed, precision=method.precision,
    )
    network, results = train_generative(dataset, config, train_config, checkpoint_path=checkpoint,
                                        progress=False, device="cpu")
    by_iterations = {}
    for iterations in method.knob_values:
        separator = NeuralSeparator(network.with_iterations(iterations), name=run.method)
        valid = evaluate_separator(separator, dataset, "valid", progress=False, max_items=study.max_items)
        by_iterations[iterations] = round(float(valid.summary()["overall"]["sdr_mean"]), 4)
    chosen = max(by_iterations, key=by_iterations.__getitem__)
    histories = [result.history for result in results.values()]
    record = {
        "stopped": "early_stopping" if all(r.stopped == "early_stopping" for r in results.values()) else "epochs",
        "steps_to_best": sum((r.best_epoch + 1) * study.epoch_steps for r in results.values()),
        "steps_total": sum(history["step"][-1] for history in histories),
        "curve": [],  # the priors have validation losses, not SDRs: their curves are below
        "prior_curves": {
            source: [[step, round(loss, 2)] for step, loss in zip(r.history["step"], r.history["valid_loss"], strict=True)]
            for source, r in results.items()
        },
        "iterations": chosen,
        "valid_sdr_by_iterations": by_iterations,
        "train_wall_seconds": round(sum(sum(history["seconds"]) for history in histories), 2),
        "train_cpu_seconds": round(sum(sum(history["cpu_seconds"]) for history in histories), 2),
    }
    return network.with_iterations(chosen), record


def _score(separator, run: Run, study: StudyConfig, dataset, record: dict[str, Any]) -> dict[str, Any]:
    """Validation SDR (the selection criterion) and the test scores of every condition of the domain."""
    from vaesep.compare.conditions import get_condition
    from vaesep.evaluate import evaluate_separator

    wall, cpu = time.perf_counter(), time.process_time()
    valid = evaluate_separator(separator, dataset, "valid", progress=False, max_items=study.max_items)
    scores = {}
    for name in DOMAIN_CONDITIONS[run.domain]:
        condition = get_condition(name)
        test = evaluate_separator(
            separator, condition.dataset(fast=study.fast), condition.split, progress=False, max_items=study.max_items
        )
        summary = test.summary()
        stats = summary["per_source"][condition.source] if condition.source else summary["overall"]
        scores[name] = {key: round(float(value), 4) for key, value in stats.items() if isinstance(value, int | float)}
    return {
        "method": run.method,
        "domain": run.domain,
        "seed": run.seed,
        "valid_sdr": round(float(valid.summary()["overall"]["sdr_mean"]), 4),
        "test": scores,
        "fast": study.fast,
        "commit": _commit(),
        **record,
        # training time from the run's own history, so a run resumed after an interruption
        # counts all of its epochs; plus the scoring just done
        "wall_seconds": round(record.get("train_wall_seconds", 0.0) + time.perf_counter() - wall, 2),
        "cpu_seconds": round(record.get("train_cpu_seconds", 0.0) + time.process_time() - cpu, 2),
    }


def _commit() -> str:
    from vaesep.runtime import code_version

    return code_version()


def execute(study: StudyConfig, *, log=print) -> None:
    """Run everything still pending, ``study.jobs`` at a time, until nothing is left.

    New runs become ready as tuning grids complete (their winner is known),
    so the loop asks :func:`pending` again after every finished run.
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.time()
    running: dict[Any, Run] = {}
    with ProcessPoolExecutor(max_workers=study.jobs) as pool:
        while True:
            busy = set(running.values())
            for run in pending(study):
                if len(running) >= study.jobs:
                    break
                if run not in busy:
                    running[pool.submit(execute_run, run, study)] = run
                    busy.add(run)
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                run = running.pop(future)
                path = future.result()
                log(f"[{(time.time() - started) / 60:6.1f} min] finished {run.domain}/{run.method} "
                    f"{config_id(run.settings)} seed {run.seed} -> {path}")


SHIPPED_NAMES: dict[str, str] = {"vae": "vae"}
"""Shipped stems of the study's methods; every other method ships as its own name."""

SHIPPED_KNOB_VARIANTS: dict[str, dict[Any, str]] = {
    "dnn": {0.0: "dnn", 0.05: "dnn-discrim"},
    "drnn": {0.0: "drnn", 0.05: "drnn-discrim"},
}
"""Methods that ship their best configuration for each knob value (the names the 200-step comparison used)."""


def ship_models(study: StudyConfig, directory: Path | None = None, domain: str = "speech") -> list[Path]:
    """Export the seed-0 models of each method's selected configuration as ``<name>-<domain>.pt``.

    Each file keeps its training record: ``stopped`` (``"early_stopping"`` for a
    converged run), the training config (the cap and the patience) and the history.
    Weights are stored in float16 (:func:`vaesep.compare.shipping.export_compact`).
    """
    from vaesep.api import PRETRAINED_DIR
    from vaesep.compare.shipping import export_compact

    directory = Path(directory or PRETRAINED_DIR)
    shipped = []
    for name in study.methods:
        method = get_study_method(name)
        chosen = {SHIPPED_NAMES.get(name, name): winner(study, name)}
        if name in SHIPPED_KNOB_VARIANTS:  # the best learning rate of each knob value
            results = [(load_result(r.path(study.out)), r) for r in method_tuning_runs(study, name)]
            chosen = {
                stem: max((res for res, _ in results if res and res["config"][method.knob] == value and
                           res["valid_sdr"] is not None), key=lambda res: res["valid_sdr"])["config"]
                for value, stem in SHIPPED_KNOB_VARIANTS[name].items()
            }
        for stem, config in chosen.items():
            if config is None:
                continue
            run = Run(name, tuple(sorted(config.items())), 0, domain)
            checkpoint = study.checkpoints / run.path(Path(".")).with_suffix(".pt")
            if checkpoint.is_file():
                shipped.append(export_compact(checkpoint, directory / f"{stem}-{domain}.pt", name=f"{stem}-{domain}"))
    return shipped


def add_study_parser(subparsers) -> None:
    """Register ``vaesep study`` (the comparison at convergence) on the command's subparsers."""
    from vaesep.cli import positive_int

    parser = subparsers.add_parser(
        "study",
        help="the comparison at convergence: tune every method, then seeds and domains (resumable)",
        description="Runs what is not done yet (a result file per run under --out), then writes "
        "summary.md, summary.json and learning_curves.png there. Interrupt it at any time.",
    )
    parser.add_argument("--jobs", type=positive_int, default=2, help="runs in parallel, one thread each")
    parser.add_argument("--out", default=None, help="result folder (default results/converged; fast: runs/fast/converged)")
    parser.add_argument("--fast", action="store_true", help="CI variant: fast data, tiny budgets, one learning rate")
    parser.add_argument("--report-only", action="store_true", help="only rewrite the summary from the files there")
    parser.add_argument("--readme", default=None, help="also rewrite this README's study block (full run only)")
    parser.add_argument("--ship", action="store_true",
                        help="export the seed-0 speech model of each selected configuration into vaesep/pretrained")
    parser.set_defaults(func=_cmd_study)


def fast_study(out: Path) -> StudyConfig:
    """The CI variant: every code path of the study in about a minute."""
    return StudyConfig(out=out, checkpoints=out / "checkpoints", methods=("vae", "dnn", "nmf"), seeds=(0, 1),
                       domains=(), fast=True, max_epochs=2, epoch_steps=5, patience=1, max_items=4,
                       extra={"learning_rates": (1e-3,)})


def _cmd_study(args) -> int:
    from vaesep.compare.study_report import README_END, README_START, readme_block, write_summary
    from vaesep.files import fill_block
    from vaesep.runtime import fast_mode

    fast = args.fast or fast_mode()
    if args.readme:
        if fast:
            raise ValueError("--readme quotes the full study: drop --fast (or VAESEP_FAST)")
        fill_block(args.readme, README_START, README_END, None)  # fail now, not after hours
    if fast:
        study = fast_study(Path(args.out or "runs/fast/converged"))
    else:
        study = StudyConfig(out=Path(args.out or "results/converged"), jobs=args.jobs)
    if not args.report_only:
        execute(study)
    print(f"wrote {write_summary(study)}")
    if args.readme:
        print(f"rewrote {fill_block(args.readme, README_START, README_END, readme_block(study))}")
    if args.ship:
        for path in ship_models(study, Path(args.out) / "shipped" if fast else None):
            print(f"shipped {path}")
    return 0


__all__ = ["CONDITIONS", "STUDY_METHODS", "StudyConfig", "execute", "pending", "winner"]
