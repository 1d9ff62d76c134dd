"""One training loop for every masking network (VAE, autoencoder, DNN, RNN).

Each step draws fresh random segments of each source and mixes them
(dynamic mixing: new pairings and offsets every step, so two speakers'
40 minutes are not memorised in a few epochs), in the STFT domain
(:mod:`vaesep.batches`), and takes a gradient step on the network's own loss
(:func:`train_step`). After each epoch the BSS-eval SDR on the fixed
validation mixtures decides early stopping (losses of different methods are
not comparable, SDRs are), and a checkpoint holding both the best weights and
the state to resume from is written atomically. Notebook 02, section
"Training", runs it with live curves.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaesep import data as datasets
from vaesep.batches import SpectralBatch, StreamSpectra, ValidationSet
from vaesep.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vaesep.models.network import REFERENCE_RMS, MaskingNetwork
from vaesep.runtime import pick_device
from vaesep.spectral import DEFAULT_STFT, stft


@dataclass
class TrainConfig:
    """Optimisation settings; saved in the checkpoint next to the network config."""

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
    # "bfloat16" runs forward and loss under CPU/GPU autocast (1.5-2x faster on CPUs with
    # AVX-512 BF16 or AMX); weights, optimiser and validation stay float32
    precision: str = "float32"
    # what early stopping keeps: "sdr", the validation SDR of the separation (every separator);
    # "loss", the validation loss: a source prior (one clean-trained VAE, notebook 06) separates
    # nothing on its own and is judged by how well it models its source
    select_on: str = "sdr"

    def __post_init__(self) -> None:
        if self.precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be 'float32' or 'bfloat16', got {self.precision!r}")
        if self.select_on not in ("sdr", "loss"):
            raise ValueError(f"select_on must be 'sdr' or 'loss', got {self.select_on!r}")
        if self.epochs < 1 or self.steps_per_epoch < 1 or self.batch_segments < 1:
            raise ValueError("epochs, steps_per_epoch and batch_segments must be at least 1")
        if self.segment_seconds * DEFAULT_STFT.sample_rate < DEFAULT_STFT.n_fft:
            raise ValueError(
                f"segment_seconds={self.segment_seconds} is shorter than one STFT frame "
                f"({DEFAULT_STFT.n_fft / DEFAULT_STFT.sample_rate:.3f} s)"
            )


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    """What :func:`train` returns.

    Attributes:
        network: the network with the best validation weights loaded.
        history: per-epoch lists (``train_loss``, ``valid_loss``, … , ``seconds``).
        best_epoch: zero-based epoch of the best validation SDR.
        stopped: why training ended (``"epochs"``, ``"early_stopping"``).
        checkpoint_path: where the checkpoint was written, if anywhere.
    """

    network: MaskingNetwork
    history: dict[str, list[float]]
    best_epoch: int
    stopped: str
    checkpoint_path: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _level_normalise(sources: np.ndarray) -> np.ndarray:
    """Scale each item ``(n_items, n_sources, n_samples)`` so its mixture has REFERENCE_RMS."""
    mixture_level = np.sqrt(np.mean(np.square(sources.sum(axis=1), dtype=np.float64), axis=-1))
    gains = REFERENCE_RMS / np.maximum(mixture_level, 1e-9)
    return (sources * gains[:, None, None]).astype(np.float32)


def spectrogram_batch(
    sources: np.ndarray, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Magnitudes of mixtures and sources for a batch of source segments.

    Args:
        sources: ``(batch, n_sources, n_samples)`` waveforms; the mixture is their sum.

    Returns:
        ``(mixture_magnitude, source_magnitude)`` of shapes
        ``(batch, n_frames, n_bins)`` and ``(batch, n_sources, n_frames, n_bins)``.
    """
    source_tensor = torch.from_numpy(_level_normalise(sources)).to(device)
    source_magnitude = stft(source_tensor).abs().transpose(-1, -2)
    mixture_magnitude = stft(source_tensor.sum(dim=1)).abs().transpose(-1, -2)
    return mixture_magnitude, source_magnitude


def _checkpoint_matches(record: dict[str, Any], network: MaskingNetwork, config: TrainConfig) -> str:
    if record["kind"] != network.kind or record["config"] != network.config_dict():
        return "the network config differs"
    # fields added to TrainConfig after a checkpoint was written take their defaults
    saved = {**dataclasses.asdict(TrainConfig()), **record.get("train_config", {})}
    wanted = dataclasses.asdict(config)
    saved.pop("epochs", None)
    wanted.pop("epochs", None)  # more epochs may be asked for when resuming
    return "" if saved == wanted else "the training config differs"


def evaluate_loss(
    network: MaskingNetwork,
    mixture_magnitude: torch.Tensor,
    source_magnitude: torch.Tensor,
    *,
    epoch: int | None = None,
    batch_items: int = 16,
) -> dict[str, float]:
    """Mean loss terms over fixed items, in eval mode (z = μ for the VAE).

    The loss is the training loss (:meth:`MaskingNetwork.training_outputs`), so
    a clean-trained VAE is scored on reconstructing its clean sources.
    ``epoch=None`` means after any warm-up (full KL weight).
    """
    was_training = network.training
    network.eval()
    totals: dict[str, float] = {}
    with torch.no_grad():
        for start in range(0, mixture_magnitude.shape[0], batch_items):
            stop = start + batch_items
            outputs = network.training_outputs(SpectralBatch(mixture_magnitude[start:stop], source_magnitude[start:stop]))
            terms = network.loss(outputs, source_magnitude[start:stop], epoch=epoch)
            weight = (min(stop, mixture_magnitude.shape[0]) - start) / mixture_magnitude.shape[0]
            for key, value in terms.items():
                totals[key] = totals.get(key, 0.0) + float(value) * weight
    network.train(was_training)
    return totals


def _selection_scores(history: dict[str, list[float]], select_on: str) -> list[float]:
    """Per epoch, the number early stopping maximises: the validation SDR or minus the loss."""
    return history["valid_sdr"] if select_on == "sdr" else [-loss for loss in history["valid_loss"]]


def train_step(
    network: MaskingNetwork,
    optimizer: torch.optim.Optimizer,
    batch: SpectralBatch,
    *,
    epoch: int | None = None,
    grad_clip: float = 5.0,
    precision: str = "float32",
) -> dict[str, float]:
    """One optimisation step on one batch; returns the loss terms as floats.

    The whole of learning is here: forward, loss, backward, clip, update.
    Notebook 02, section "Training by hand", writes the same lines out.

    Raises:
        TrainingDiverged: the loss is NaN or infinite (nothing is updated then).
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
    dataset: datasets.BuiltDataset,
    config: TrainConfig | None = None,
    *,
    checkpoint_path: str | Path | None = None,
    resume: bool = True,
    device: str | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, dict[str, list[float]]], None] | None = None,
    initialise: bool = True,
) -> TrainResult:
    """Train ``network`` on ``dataset``'s train split, early-stopping on its valid split.

    Args:
        network: any :class:`MaskingNetwork`; its source names must match the data set's.
        dataset: a built data set (:func:`vaesep.data.build`).
        config: optimisation settings (defaults: :class:`TrainConfig`).
        checkpoint_path: written after every epoch; if it exists and ``resume``
            is true, training continues from it (same configs required).
        device: ``"cpu"``, ``"cuda"``…; default: CUDA when available.
        progress: show a tqdm bar per epoch.
        on_epoch_end: called as ``on_epoch_end(epoch, history)``, e.g. to redraw
            live loss curves in a notebook.
        initialise: on a fresh start, draw new weights from ``config.seed`` so the
            run is reproducible; pass False to fine-tune the network's current weights.

    Returns:
        a :class:`TrainResult` whose network holds the best validation weights.
    """
    from tqdm.auto import tqdm

    config = config or TrainConfig()
    if tuple(network.source_names) != tuple(dataset.source_names):
        raise ValueError(
            f"network sources {network.source_names} do not match the data set's "
            f"{dataset.source_names}; build the network with source_names={dataset.source_names}"
        )
    torch_device = pick_device(device)
    torch.manual_seed(config.seed)
    snr_db = dataset.params.get("snr_db", 0.0) if config.snr_db is None else config.snr_db
    # every source at its own random offset, stems of music included (new pairings)
    streams = StreamSpectra([dataset.streams("train")[name] for name in dataset.source_names])
    segment_frames = DEFAULT_STFT.n_frames(int(round(config.segment_seconds * DEFAULT_STFT.sample_rate)))

    def draw(rng: np.random.Generator, count: int) -> SpectralBatch:
        batch = streams.draw(rng, count, segment_frames, snr_db)
        return SpectralBatch(batch.mixture.to(torch_device), batch.sources.to(torch_device))

    history: dict[str, list[float]] = {}
    start_epoch, best_epoch, best_score = 0, -1, -math.inf
    best_state: dict[str, torch.Tensor] | None = None
    resume_record = None
    if checkpoint_path is not None and resume and Path(checkpoint_path).is_file():
        record = load_checkpoint(checkpoint_path)
        mismatch = _checkpoint_matches(record, network, config)
        if mismatch:
            raise CheckpointError(
                f"cannot resume from {checkpoint_path}: {mismatch}. Use another checkpoint path, "
                "or resume=False to start again (the file will be overwritten)"
            )
        resume_record = record.get("resume")
        history = {key: list(values) for key, values in record.get("history", {}).items()}
        best_state = record["state_dict"]
        best_epoch = int(record.get("best_epoch", -1))
        best_score = _selection_scores(history, config.select_on)[best_epoch] if best_epoch >= 0 else -math.inf
        # early-stopped runs are final; runs that used up their epochs go on if more are asked for
        if resume_record is None or int(resume_record["next_epoch"]) >= config.epochs:
            network.load_state_dict(best_state)
            network.to("cpu").eval()
            return TrainResult(network, history, best_epoch, record.get("stopped", "epochs"), Path(checkpoint_path))
        network.load_state_dict(resume_record["state_dict"])
        start_epoch = int(resume_record["next_epoch"])
    else:
        if initialise:
            network.initialise_weights()
        # feature statistics from a fixed draw of training mixtures
        network.fit_normalisation(streams.draw(np.random.default_rng([config.seed, 1_000_003]), 256, segment_frames, snr_db).mixture)

    network.to(torch_device).train()
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    if resume_record is not None:
        optimizer.load_state_dict(resume_record["optimizer"])
        torch.set_rng_state(resume_record["torch_rng"])

    validation = ValidationSet(np.asarray(dataset.sources("valid")))
    valid_mixture, valid_sources = validation.mixture.to(torch_device), validation.sources.to(torch_device)

    stopped = "epochs"
    bad_epochs = int(resume_record["bad_epochs"]) if resume_record is not None else 0
    for epoch in range(start_epoch, config.epochs):
        epoch_start, cpu_start = time.perf_counter(), time.process_time()
        # dynamic mixing: new draws every epoch; a fixed training set: the same draws every epoch
        rng = np.random.default_rng([config.seed, epoch if config.dynamic_mixing else 2_000_003])
        sums: dict[str, float] = {}
        n_frames = 0
        bar = tqdm(
            range(config.steps_per_epoch),
            desc=f"epoch {epoch + 1}/{config.epochs}",
            disable=not progress,
            leave=False,
        )
        for step in bar:
            batch = draw(rng, config.batch_segments)
            try:
                terms = train_step(
                    network, optimizer, batch, epoch=epoch, grad_clip=config.grad_clip, precision=config.precision
                )
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

        # validation uses the full KL weight, so losses of warm-up epochs stay comparable
        valid_terms = evaluate_loss(network, valid_mixture, valid_sources, epoch=None)
        valid_sdr = validation.score(network) if config.select_on == "sdr" else math.nan
        score = valid_sdr if config.select_on == "sdr" else -valid_terms["loss"]
        if not (math.isfinite(valid_terms["loss"]) and math.isfinite(score)):
            raise TrainingDiverged(
                f"the validation loss became {valid_terms['loss']} (SDR {valid_sdr}) after epoch {epoch + 1}. "
                f"Lower the learning rate (now {config.learning_rate}); nothing was saved from this epoch"
            )
        seconds = time.perf_counter() - epoch_start
        for key, value in sums.items():
            history.setdefault(f"train_{key}", []).append(value / config.steps_per_epoch)
        for key, value in valid_terms.items():
            history.setdefault(f"valid_{key}", []).append(value)
        if config.select_on == "sdr":
            history.setdefault("valid_sdr", []).append(valid_sdr)
        history.setdefault("seconds", []).append(seconds)
        history.setdefault("cpu_seconds", []).append(time.process_time() - cpu_start)
        history.setdefault("frames_per_second", []).append(n_frames / seconds)
        history.setdefault("epoch", []).append(epoch + 1)
        history.setdefault("step", []).append((epoch + 1) * config.steps_per_epoch)

        if score > best_score:
            best_score, best_epoch, bad_epochs = score, epoch, 0
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in network.state_dict().items()})
        else:
            bad_epochs += 1
        finished = epoch + 1 == config.epochs or bad_epochs >= config.patience
        if bad_epochs >= config.patience:
            stopped = "early_stopping"
        if checkpoint_path is not None:
            resume_state = None
            if stopped != "early_stopping":
                resume_state = {
                    "state_dict": {k: v.detach().cpu() for k, v in network.state_dict().items()},
                    "optimizer": optimizer.state_dict(),
                    "torch_rng": torch.get_rng_state(),
                    "next_epoch": epoch + 1,
                    "bad_epochs": bad_epochs,
                }
            save_checkpoint(
                checkpoint_path,
                {
                    "kind": network.kind,
                    "config": network.config_dict(),
                    "state_dict": best_state,
                    "train_config": dataclasses.asdict(config),
                    "dataset": {
                        "name": dataset.name,
                        "params": dict(dataset.params),
                        "manifest_hash": dataset.manifest_hash,
                    },
                    "history": history,
                    "best_epoch": best_epoch,
                    "best_valid_sdr": history["valid_sdr"][best_epoch] if config.select_on == "sdr" else None,
                    "stopped": stopped if finished else "running",
                    "resume": resume_state,
                },
            )
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
        if finished:
            break

    if best_state is not None:
        network.load_state_dict(best_state)
    network.to("cpu").eval()
    return TrainResult(
        network,
        history,
        best_epoch,
        stopped,
        Path(checkpoint_path) if checkpoint_path is not None else None,
    )
