"""Source priors: one VAE per source, trained on that source's clean recordings only (notebook 06).

A prior ``p(s) = ∫ p(s | z) p(z) dz`` is the authors' per-source VAE (``train_on="clean"``,
one-frame encoder, Itakura–Saito likelihood) on its own, selected on its validation loss.
:class:`~vaesep.models.generative.GenerativeNetwork` separates with them; for denoising only
speech gets a prior, the noise is NMF fitted per mixture.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

import vaesep
from vaesep.checkpoint import Checkpoint
from vaesep.data import BuiltDataset
from vaesep.files import runs_dir
from vaesep.models.generative import GenerativeConfig, GenerativeNetwork
from vaesep.models.vae import VAENetwork
from vaesep.train import TrainConfig, TrainResult, train

# fast mode (CI): seconds per prior, enough to run every step, not to separate well
FAST_BUDGET = TrainConfig(epochs=5, steps_per_epoch=40, batch_segments=16, learning_rate=2e-3)
# until the validation loss stops improving; the epoch cap is a safety net (the study's)
FULL_BUDGET = TrainConfig(epochs=100, steps_per_epoch=100, patience=8)


class OneSource:
    """One source of a built data set as a data set of its own (what a prior trains on)."""

    def __init__(self, dataset: BuiltDataset, source: str) -> None:
        if source not in dataset.source_names:
            raise ValueError(f"{dataset.name!r} has no source {source!r}; its sources are {dataset.source_names}")
        self.dataset, self.source, self.source_names = dataset, source, (source,)
        self.name, self.manifest_hash = dataset.name, dataset.manifest_hash
        self.params: dict[str, Any] = {**dataset.params, "source": source}

    def streams(self, split: str) -> dict[str, np.ndarray]:
        return {self.source: self.dataset.streams(split)[self.source]}

    def sources(self, split: str) -> np.ndarray:
        index = self.dataset.source_names.index(self.source)
        return np.asarray(self.dataset.sources(split))[:, index : index + 1]


def train_prior(
    dataset: BuiltDataset,
    source: str,
    config: GenerativeConfig | None = None,
    train_config: TrainConfig | None = None,
    **train_options: Any,
) -> TrainResult:
    """Train the prior of ``source`` (sizes from ``config``) on its clean audio, selecting on the loss;
    ``train_options`` go to :func:`vaesep.train.train`."""
    config = config or GenerativeConfig(source_names=dataset.source_names)
    train_config = dataclasses.replace(train_config or TrainConfig(), select_on="loss")
    network = VAENetwork(config.prior_config(source))
    return train(network, OneSource(dataset, source), train_config, **train_options)  # type: ignore[arg-type]


def train_generative(
    dataset: BuiltDataset,
    config: GenerativeConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    checkpoint_path: str | Path | None = None,
    resume: bool = True,
    progress: bool | None = None,
    device: str | None = None,
) -> tuple[GenerativeNetwork, dict[str, TrainResult]]:
    """Train a prior for every source but ``config.nmf_sources``; assemble and save the separator.
    Each prior's checkpoint sits beside it (``<stem>.prior-<source>.pt``), so a run resumes."""
    values = dataclasses.asdict(config) if config is not None else {}
    config = GenerativeConfig(**{**values, "source_names": dataset.source_names})
    path = None if checkpoint_path is None else Path(checkpoint_path)
    results = {
        source: train_prior(
            dataset, source, config, train_config, progress=progress, device=device, resume=resume,
            checkpoint_path=None if path is None else path.with_name(f"{path.stem}.prior-{source}.pt"),
        )
        for source in config.prior_sources
    }
    network = GenerativeNetwork.from_priors({source: r.network for source, r in results.items()}, config)
    if path is not None:
        histories = {source: r.history for source, r in results.items()}
        train_record = {**dataclasses.asdict(train_config or TrainConfig()), "select_on": "loss"}
        Checkpoint.of(network, dataset, train_config=train_record, history=histories, stopped="priors trained").save(path)
    return network, results


def load_or_train(
    dataset: BuiltDataset,
    name: str,
    *,
    fast: bool,
    model: str | Path | None = None,
    nmf_sources: tuple[str, ...] = (),
    device: str | None = None,
) -> tuple[GenerativeNetwork, str]:
    """The generative separator for ``dataset`` (notebook 06), and a phrase saying where it came from.

    ``model`` if given; outside fast mode the shipped ``name``, then ``runs_dir()/<name>.pt``;
    else priors trained here into that file, on :data:`FAST_BUDGET` or :data:`FULL_BUDGET` (hours).
    """
    path = runs_dir() / f"{name}.pt"
    if model is None and not fast:
        model = name if name in vaesep.list_pretrained() else path if path.is_file() else None
    if model is not None:
        network = vaesep.load_model(model, device="cpu").network
        if network.kind != "generative" or network.source_names != dataset.source_names:
            raise ValueError(
                f"{model} is a {network.kind!r} model of {network.source_names}; a generative model of "
                f"{dataset.source_names} is needed (vaesep train --model generative --data {dataset.name})"
            )
        return network, f"loaded from {model}"
    config = GenerativeConfig(source_names=dataset.source_names, nmf_sources=nmf_sources)
    budget = FAST_BUDGET if fast else FULL_BUDGET
    network, _ = train_generative(dataset, config, budget, checkpoint_path=path, device=device)
    return network, f"trained here ({'fast mode: a few seconds per prior' if fast else 'to convergence'}), saved to {path}"
