"""Training: one step you can call, and the loop around it (notebook 02, section "Training").

:func:`train_step` is the whole of learning. :func:`train` repeats it on fresh
random mixtures (dynamic mixing, :class:`~vaesep.batches.StreamSpectra`) and
after every epoch scores the fixed validation mixtures: early stopping keeps
the epoch of the best validation SDR, since the losses of different methods
are not comparable and SDRs are. Every epoch writes a
:class:`~vaesep.checkpoint.Checkpoint` with the best weights and the state to
resume from, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaesep.batches import SpectralBatch, StreamSpectra, ValidationSet
from vaesep.checkpoint import Checkpoint, CheckpointError, cpu_copy, load_checkpoint
from vaesep.models import MaskingNetwork
from vaesep.runtime import pick_device, progress_bar
from vaesep.spectral import DEFAULT_STFT


@dataclasses.dataclass
class TrainConfig:
    """Optimisation settings; saved in the checkpoint next to the network's config."""

    epochs: int = 40
    steps_per_epoch: int = 100
    batch_segments: int = 32
    segment_seconds: float = 1.0
    learning_rate: float = 1e-3
    grad_clip: float = 5.0
    patience: int = 8
    seed: int = 0
    dynamic_mixing: bool = True
    snr_db: float | None = None
    # "bfloat16": forward and loss under CPU/GPU autocast (1.5-2× faster on CPUs with AVX-512
    # BF16 or AMX); weights, optimiser and validation stay float32
    precision: str = "float32"
    # what early stopping keeps: "sdr", the validation SDR (every separator); "loss", the
    # validation loss (a source prior, notebook 06, separates nothing on its own)
    select_on: str = "sdr"

    def __post_init__(self) -> None:
        if self.precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be 'float32' or 'bfloat16', got {self.precision!r}")
        if self.select_on not in ("sdr", "loss"):
            raise ValueError(f"select_on must be 'sdr' or 'loss', got {self.select_on!r}")
        if self.epochs < 1 or self.steps_per_epoch < 1 or self.batch_segments < 1:
            raise ValueError("epochs, steps_per_epoch and batch_segments must be at least 1")
        if self.segment_seconds * DEFAULT_STFT.sample_rate < DEFAULT_STFT.n_fft:
            frame = DEFAULT_STFT.n_fft / DEFAULT_STFT.sample_rate
            raise ValueError(f"segment_seconds={self.segment_seconds} is shorter than one STFT frame ({frame:.3f} s)")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclasses.dataclass
class TrainResult:
    """The network with its best weights (CPU, eval mode), its history, and why it stopped."""

    network: MaskingNetwork
    history: dict[str, list[float]]
    best_epoch: int
    stopped: str


def train_step(
    network: MaskingNetwork,
    optimizer: torch.optim.Optimizer,
    batch: SpectralBatch,
    *,
    epoch: int | None = None,
    grad_clip: float = 5.0,
    precision: str = "float32",
) -> dict[str, float]:
    """One step on one batch: forward and loss, backward, clip the gradient's norm, update.

    Returns the loss terms as floats; a NaN or infinite loss raises :class:`TrainingDiverged`, updating nothing.
    """
    with torch.autocast(batch.mixture.device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16"):
        terms = network.loss(network.training_outputs(batch), batch.sources, epoch=epoch)
    if not torch.isfinite(terms["loss"]):
        raise TrainingDiverged(f"the loss became {float(terms['loss'].detach())}")
    optimizer.zero_grad(set_to_none=True)
    terms["loss"].backward()
    torch.nn.utils.clip_grad_norm_(network.parameters(), grad_clip)
    optimizer.step()
    return {key: float(value.detach()) for key, value in terms.items()}


def train(
    network: MaskingNetwork,
    dataset: Any,
    config: TrainConfig | None = None,
    *,
    checkpoint_path: str | Path | None = None,
    resume: bool = True,
    device: str | None = None,
    progress: bool | None = None,
    on_epoch_end: Callable[[int, dict[str, list[float]]], None] | None = None,
) -> TrainResult:
    """Train ``network`` on a built data set's train split, early-stopping on its valid split.

    ``checkpoint_path`` is written after every epoch and, with ``resume``, continued from (same
    configs required). ``on_epoch_end(epoch, history)`` runs after every epoch (live curves).
    """
    config = config or TrainConfig()
    if not isinstance(network, MaskingNetwork):
        how = "train its priors, one per source on clean audio (vaesep.priors.train_generative" if network.kind == "generative" else "fit it (vaesep.models.fit_nmf"
        raise TypeError(f"a {network.kind!r} network is not trained by gradient steps: {how}, or vaesep train --model {network.kind})")
    if tuple(network.source_names) != tuple(dataset.source_names):
        raise ValueError(
            f"network sources {network.source_names} do not match the data set's "
            f"{dataset.source_names}; build the network with source_names={dataset.source_names}"
        )
    torch_device = pick_device(device)
    torch.manual_seed(config.seed)
    snr_db = dataset.params.get("snr_db", 0.0) if config.snr_db is None else config.snr_db
    streams = StreamSpectra([dataset.streams("train")[name] for name in dataset.source_names])
    segment_frames = DEFAULT_STFT.n_frames(int(round(config.segment_seconds * DEFAULT_STFT.sample_rate)))
    checkpoint = _resumable(checkpoint_path, network, config) if resume else None
    if checkpoint is not None and (checkpoint.resume is None or checkpoint.resume["next_epoch"] >= config.epochs):
        # early-stopped runs are final; runs that used up their epochs go on if more are asked for
        return _result(network, checkpoint)
    if checkpoint is not None:
        network.load_state_dict(checkpoint.resume["state_dict"])
    else:
        network.initialise_weights()
        # feature statistics from a fixed draw of training mixtures
        network.fit_normalisation(streams.draw(np.random.default_rng([config.seed, 1_000_003]), 256, segment_frames, snr_db).mixture)
        checkpoint = dataclasses.replace(Checkpoint.of(network, dataset), state_dict=None)  # no best weights yet
    checkpoint.train_config = dataclasses.asdict(config)
    network.to(torch_device).train()
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    state = checkpoint.resume or {"next_epoch": 0, "bad_epochs": 0}
    if checkpoint.resume is not None:
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
    validation = ValidationSet(np.asarray(dataset.sources("valid")))
    history = checkpoint.history
    selected, sign = ("valid_sdr", 1.0) if config.select_on == "sdr" else ("valid_loss", -1.0)
    best = checkpoint.best_epoch
    best_score = sign * history[selected][best] if best >= 0 else -math.inf
    bad_epochs = int(state["bad_epochs"])

    for epoch in range(int(state["next_epoch"]), config.epochs):
        started, cpu_started = time.perf_counter(), time.process_time()
        # dynamic mixing: new draws every epoch; a fixed training set: the same draws every epoch
        rng = np.random.default_rng([config.seed, epoch if config.dynamic_mixing else 2_000_003])
        draw = functools.partial(streams.draw, rng, config.batch_segments, segment_frames, snr_db)
        means, n_frames = _train_epoch(network, optimizer, config, epoch, draw, torch_device, progress)
        # validation weighs the KL fully, so the losses of warm-up epochs stay comparable
        valid = {f"valid_{k}": v for k, v in validation.loss(network).items()}
        if config.select_on == "sdr":
            valid["valid_sdr"] = validation.score(network)
        score = sign * valid[selected]
        if not (math.isfinite(valid["valid_loss"]) and math.isfinite(score)):
            raise TrainingDiverged(
                f"the validation loss became {valid['valid_loss']} (SDR {valid.get('valid_sdr', math.nan)}) "
                f"after epoch {epoch + 1}. Lower the learning rate (now {config.learning_rate}); "
                "nothing was saved from this epoch"
            )
        seconds = time.perf_counter() - started
        record = {**{f"train_{k}": v for k, v in means.items()}, **valid}
        record.update(seconds=seconds, cpu_seconds=time.process_time() - cpu_started, frames_per_second=n_frames / seconds)
        record.update(epoch=epoch + 1, step=(epoch + 1) * config.steps_per_epoch)
        for key, value in record.items():
            history.setdefault(key, []).append(value)

        if score > best_score:
            best_score, bad_epochs = score, 0
            checkpoint.best_epoch, checkpoint.state_dict = epoch, cpu_copy(network.state_dict())
        else:
            bad_epochs += 1
        early = bad_epochs >= config.patience
        finished = early or epoch + 1 == config.epochs
        checkpoint.stopped = "early_stopping" if early else "epochs" if finished else "running"
        checkpoint.resume = None if early else {
            "state_dict": cpu_copy(network.state_dict()),
            "optimizer": optimizer.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "next_epoch": epoch + 1,
            "bad_epochs": bad_epochs,
        }
        if checkpoint_path is not None:
            checkpoint.save(checkpoint_path)
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
        if finished:
            break
    return _result(network, checkpoint)


def _train_epoch(
    network: MaskingNetwork, optimizer: torch.optim.Optimizer, config: TrainConfig, epoch: int,
    draw: Callable[[], SpectralBatch], device: torch.device, progress: bool | None,
) -> tuple[dict[str, float], int]:
    """``steps_per_epoch`` calls of :func:`train_step`: the mean of each loss term, and the frames seen."""
    sums: dict[str, float] = {}
    n_frames = 0
    bar = progress_bar(range(config.steps_per_epoch), progress, desc=f"epoch {epoch + 1}/{config.epochs}")
    for step in bar:
        drawn = draw()
        batch = SpectralBatch(drawn.mixture.to(device), drawn.sources.to(device))
        try:
            terms = train_step(network, optimizer, batch, epoch=epoch, grad_clip=config.grad_clip, precision=config.precision)
        except TrainingDiverged as error:
            raise TrainingDiverged(
                f"{error} at epoch {epoch + 1}, step {step + 1}. Lower the learning rate "
                f"(now {config.learning_rate}) or the gradient clip (now {config.grad_clip}), "
                "and check the data for NaN or silent segments"
            ) from None
        for key, value in terms.items():
            sums[key] = sums.get(key, 0.0) + value
        n_frames += batch.n_frames
        bar.set_postfix(loss=f"{sums['loss'] / (step + 1):.3g}")
    bar.close()
    return {key: value / config.steps_per_epoch for key, value in sums.items()}, n_frames


def _resumable(path: str | Path | None, network: MaskingNetwork, config: TrainConfig) -> Checkpoint | None:
    """The checkpoint at ``path`` to continue from, if there is one; refused if it is another run's."""
    if path is None or not Path(path).is_file():
        return None
    checkpoint = Checkpoint.from_record(load_checkpoint(path))
    # fields added to TrainConfig after a checkpoint was written take their defaults; more epochs may be asked for
    saved = {**dataclasses.asdict(TrainConfig()), **checkpoint.train_config, "epochs": config.epochs}
    mismatch = (
        "the network config differs" if (checkpoint.kind, checkpoint.config) != (network.kind, network.config_dict())
        else "the training config differs" if saved != dataclasses.asdict(config) else ""
    )
    if mismatch:
        raise CheckpointError(
            f"cannot resume from {path}: {mismatch}. Use another checkpoint path, "
            "or resume=False to start again (the file will be overwritten)"
        )
    checkpoint.history = {key: list(values) for key, values in checkpoint.history.items()}
    return checkpoint


def _result(network: MaskingNetwork, checkpoint: Checkpoint) -> TrainResult:
    if checkpoint.state_dict is not None:
        network.load_state_dict(checkpoint.state_dict)
    network.to("cpu").eval()
    return TrainResult(network, checkpoint.history, checkpoint.best_epoch, checkpoint.stopped)
