"""Source priors: one VAE per source, trained on that source's clean recordings only.

A prior ``p(s) = ∫ p(s | z) p(z) dz`` is the per-source VAE of the authors'
scheme (:class:`~vaesep.models.vae.VAENetwork`, ``train_on="clean"``) on its
own: one-frame encoder, the complex-Gaussian (Itakura–Saito) likelihood, so
the decoder's output squared is the variance of each STFT coefficient. It
never sees a mixture or another source, and early stopping keeps the epoch of
the best validation loss (the negative ELBO on that source's validation
audio), not a separation SDR. :class:`~vaesep.models.generative.GenerativeNetwork`
separates mixtures with the priors (notebook 06). For denoising, only the
speech gets a prior; the noise is an NMF model fitted on each mixture, so
no noise enters training at all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import vaesep
from vaesep.checkpoint import Checkpoint
from vaesep.data import BuiltDataset
from vaesep.models.generative import GenerativeConfig, GenerativeNetwork
from vaesep.models.vae import VAENetwork
from vaesep.train import TrainConfig, TrainResult, train

FAST_BUDGET = TrainConfig(epochs=5, steps_per_epoch=40, batch_segments=16, learning_rate=2e-3)
"""Fast mode (CI): seconds per prior; enough to run every step, not to separate well."""

FULL_BUDGET = TrainConfig(epochs=100, steps_per_epoch=100, patience=8)
"""Until the validation loss stops improving; the epoch cap is a safety net (the study's)."""


@dataclass(frozen=True)
class OneSource:
    """One source of a built data set, seen as a data set of its own (what a prior trains on).

    ``streams`` and ``sources`` return only that source: its training audio,
    and its evaluation items ``(n_items, 1, n_samples)``.
    """

    dataset: BuiltDataset
    source: str

    def __post_init__(self) -> None:
        if self.source not in self.dataset.source_names:
            raise ValueError(
                f"{self.dataset.name!r} has no source {self.source!r}; its sources are {self.dataset.source_names}"
            )

    @property
    def source_names(self) -> tuple[str, ...]:
        return (self.source,)

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def params(self) -> dict[str, Any]:
        return {**self.dataset.params, "source": self.source}

    @property
    def manifest_hash(self) -> str:
        return self.dataset.manifest_hash

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
    """Train the prior of ``source`` on its clean training audio.

    Args:
        dataset: a built data set; only ``source``'s streams and items are read.
        config: the prior's sizes come from here (``GenerativeConfig().prior_config``).
        train_config: optimisation settings; ``select_on`` is set to ``"loss"``.
        train_options: passed to :func:`vaesep.train.train` (``checkpoint_path``, ``progress``, ...).

    Returns:
        the :class:`~vaesep.train.TrainResult` of a one-source ``VAENetwork``.
    """
    config = config or GenerativeConfig(source_names=dataset.source_names)
    train_config = dataclasses.replace(train_config or TrainConfig(), select_on="loss")
    network = VAENetwork(config.prior_config(source))
    return train(network, OneSource(dataset, source), train_config, **train_options)  # type: ignore[arg-type]


def prior_checkpoint(path: str | Path, source: str) -> Path:
    """Where :func:`train_generative` keeps the training checkpoint of one prior, beside ``path``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prior-{source}.pt")


def train_generative(
    dataset: BuiltDataset,
    config: GenerativeConfig | None = None,
    train_config: TrainConfig | None = None,
    *,
    checkpoint_path: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    device: str | None = None,
) -> tuple[GenerativeNetwork, dict[str, TrainResult]]:
    """Train a prior for every source but ``config.nmf_sources``; assemble the separator.

    Args:
        dataset: its source names become the separator's.
        config: sources modelled by NMF, prior sizes, inference settings.
        checkpoint_path: the separator's checkpoint (for :func:`vaesep.load_model`);
            each prior's training checkpoint sits beside it
            (:func:`prior_checkpoint`), so an interrupted run resumes
            (``resume=False``: they are trained again from scratch).

    Returns:
        the network and each prior's :class:`~vaesep.train.TrainResult`.
    """
    values = dataclasses.asdict(config) if config is not None else {}
    config = GenerativeConfig(**{**values, "source_names": dataset.source_names})
    results = {
        source: train_prior(
            dataset, source, config, train_config, progress=progress, device=device, resume=resume,
            checkpoint_path=None if checkpoint_path is None else prior_checkpoint(checkpoint_path, source),
        )
        for source in config.prior_sources
    }
    network = GenerativeNetwork.from_priors({source: r.network for source, r in results.items()}, config)
    if checkpoint_path is not None:
        histories = {source: r.history for source, r in results.items()}
        save_generative(network, checkpoint_path, dataset, histories, train_config or TrainConfig())
    return network, results


def save_generative(
    network: GenerativeNetwork,
    path: str | Path,
    dataset: BuiltDataset,
    histories: dict[str, dict[str, list[float]]],
    train_config: TrainConfig,
) -> Path:
    """Write a checkpoint that :func:`vaesep.load_model` turns into a separator."""
    train_config = {**dataclasses.asdict(train_config), "select_on": "loss"}
    return Checkpoint.of(network, dataset, train_config=train_config, history=histories, stopped="priors trained").save(path)


def load_or_train(
    dataset: BuiltDataset,
    name: str,
    *,
    fast: bool,
    model: str | Path | None = None,
    nmf_sources: tuple[str, ...] = (),
    device: str | None = None,
) -> tuple[GenerativeNetwork, str]:
    """The generative separator for ``dataset``, and a phrase saying where it came from.

    In order: ``model`` (a checkpoint path or pretrained name) if given; outside
    fast mode the shipped pretrained ``name``, then ``runs_dir()/<name>.pt``
    (``vaesep train --model generative --out ...``); otherwise priors trained
    here into ``runs_dir()/<name>.pt``, with :data:`FAST_BUDGET` in fast mode
    and :data:`FULL_BUDGET` (hours on a CPU) otherwise. Notebook 06.
    """
    from vaesep.files import runs_dir

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
