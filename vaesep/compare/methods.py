"""The methods of the comparison, declared once, and the training budget they share.

Every row of the paper's comparison is a :class:`Method`: a name for the
tables, how to build or load it, and which group it belongs to (floor,
ceiling, baseline, proposed, reference). Notebook 04, section "The
contestants", prints :func:`methods_markdown` and explains the choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from vaesep.models import MaskingNetwork, network_classes
from vaesep.models.dnn import HUANG_GAMMA
from vaesep.train import TrainConfig


@dataclass(frozen=True)
class Method:
    """One row of the comparison.

    Attributes:
        name: row label and checkpoint stem, e.g. ``"drnn-discrim"``.
        kind: ``"oracle"`` (name is the oracle), ``"pretrained"`` (a shipped
            file, ``options["model"]``), or a network kind (``"vae"``,
            ``"dnn"``, ``"drnn"``, ``"nmf"``) that is trained or fitted.
        group: ``"floor"``, ``"ceiling"``, ``"baseline"``, ``"proposed"`` or ``"reference"``.
        description: one line for the methods table.
        options: config fields of the network (``source_names`` comes from the data).
    """

    name: str
    kind: str
    group: str
    description: str
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def learned(self) -> bool:
        """True for methods the comparison trains or fits itself (one model per seed)."""
        return self.kind not in ("oracle", "pretrained")


METHODS: tuple[Method, ...] = (
    Method("mixture", "oracle", "floor", "the unprocessed mixture as every estimate"),
    Method("ibm", "oracle", "ceiling", "ideal binary mask from the true sources"),
    Method(
        "irm",
        "oracle",
        "ceiling",
        "ideal ratio mask: each source's share of the magnitude (ceiling of every joint-mask model)",
    ),
    Method("wiener", "oracle", "ceiling", "Wiener-like mask: each source's share of the power"),
    Method(
        "nmf",
        "nmf",
        "baseline",
        "supervised NMF, KL divergence, 32 atoms per source, Wiener-style mask",
        {"n_components": 32, "divergence": "kl", "iterations": 50},
    ),
    Method(
        "dnn", "dnn", "baseline", "Huang et al. DNN, 3 × 256 ReLU, joint mask, MSE", {"gamma": 0.0}
    ),
    Method(
        "dnn-discrim",
        "dnn",
        "baseline",
        f"as dnn, discriminative objective γ = {HUANG_GAMMA}",
        {"gamma": HUANG_GAMMA},
    ),
    Method(
        "drnn",
        "drnn",
        "baseline",
        "Huang et al. DRNN, recurrence at hidden layer 2 of 3, MSE",
        {"gamma": 0.0, "recurrent_layer": 2},
    ),
    Method(
        "drnn-discrim",
        "drnn",
        "baseline",
        f"as drnn, discriminative objective γ = {HUANG_GAMMA}",
        {"gamma": HUANG_GAMMA, "recurrent_layer": 2},
    ),
    Method(
        "ae",
        "vae",
        "baseline",
        "autoencoder: the VAE without sampling and KL, same size",
        {"deterministic": True},
    ),
    Method(
        "vae", "vae", "proposed", "VAE, one encoder/decoder pair per source (authors' layout)", {}
    ),
    Method(
        "vae-shared",
        "vae",
        "proposed",
        "VAE, one encoder and latent, a decoder per source",
        {"variant": "shared"},
    ),
    Method(
        "vae-shipped",
        "pretrained",
        "reference",
        "the shipped vae-speech (trained longer: not budget-matched)",
        {"model": "vae-speech", "domain": "speech"},
    ),
)
"""Every method, in table order: floor, ceilings, baselines, the VAE, the reference."""

PROPOSED: str = "vae"
"""The method whose gap to the best baseline is the paper's claim."""


def get_method(name: str) -> Method:
    """The :class:`Method` called ``name`` (a ValueError lists the known ones)."""
    for method in METHODS:
        if method.name == name:
            return method
    raise ValueError(f"unknown method {name!r}; known: {[m.name for m in METHODS]}")


def build_method_network(method: Method, source_names: Sequence[str]) -> MaskingNetwork:
    """A freshly initialised network for a learned method and a data set's sources.

    Notebook 04, section "The contestants".
    """
    if not method.learned:
        raise ValueError(f"{method.name} is not trained by the comparison (kind {method.kind!r})")
    network_class = network_classes()[method.kind]
    config = network_class.config_class(source_names=tuple(source_names), **dict(method.options))
    return network_class(config)


def parameter_count(network: MaskingNetwork) -> int:
    """Learned numbers of a network (weights, or NMF dictionary entries); normalisation statistics excluded."""
    return sum(parameter.numel() for parameter in network.parameters())


@dataclass(frozen=True)
class Budget:
    """The training budget every learned method gets: same steps, same batch, same audio.

    Attributes:
        epochs, steps_per_epoch, batch_segments, segment_seconds: as in
            :class:`vaesep.train.TrainConfig`; their product is the audio
            each network sees.
        learning_rate: Adam step size for every network.
        nmf_seconds_per_source: audio per source for learning the NMF dictionaries.
        nmf_iterations: multiplicative updates when learning them.
    """

    # 200 steps of 32 one-second mixtures: what fits 3 seeds × 8 methods × 3 domains in an hour
    # on 2 cores. 8 short epochs rather than 2 long ones, so the VAE's 5-epoch KL warm-up ends
    # and the last epochs train the true ELBO.
    epochs: int = 8
    steps_per_epoch: int = 25
    batch_segments: int = 32
    segment_seconds: float = 1.0
    learning_rate: float = 1e-3
    nmf_seconds_per_source: float = 60.0
    nmf_iterations: int = 100

    @classmethod
    def tiny(cls) -> Budget:
        """The fast-mode budget: seconds of compute, enough to exercise every code path."""
        return cls(
            epochs=2,
            steps_per_epoch=4,
            batch_segments=8,
            segment_seconds=0.5,
            nmf_seconds_per_source=10.0,
            nmf_iterations=20,
        )

    def train_config(self, seed: int) -> TrainConfig:
        """The :class:`~vaesep.train.TrainConfig` of one training run."""
        return TrainConfig(
            epochs=self.epochs,
            steps_per_epoch=self.steps_per_epoch,
            batch_segments=self.batch_segments,
            segment_seconds=self.segment_seconds,
            learning_rate=self.learning_rate,
            seed=seed,
        )

    def audio_minutes(self) -> float:
        """Minutes of mixture audio each network sees during training."""
        return self.epochs * self.steps_per_epoch * self.batch_segments * self.segment_seconds / 60

    def describe(self) -> str:
        """One line for table captions."""
        return (
            f"{self.epochs} epochs × {self.steps_per_epoch} steps × {self.batch_segments} segments of "
            f"{self.segment_seconds:g} s ({self.audio_minutes():.0f} min of mixtures), Adam "
            f"{self.learning_rate:g}; NMF: {self.nmf_seconds_per_source:g} s per source, "
            f"{self.nmf_iterations} updates"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def methods_markdown(
    names: Sequence[str] | None = None, source_names: Sequence[str] = ("v", "m")
) -> str:
    """A Markdown table of methods: group, parameter count (two sources, 513 bins) and description.

    Notebook 04, section "The contestants".
    """
    rows = []
    for method in (get_method(name) for name in (names or [m.name for m in METHODS])):
        count = (
            f"{parameter_count(build_method_network(method, source_names)):,}"
            if method.learned
            else "—"
        )
        rows.append(f"| {method.name} | {method.group} | {count} | {method.description} |")
    header = "| method | group | parameters | description |\n|---|---|---:|---|"
    return "\n".join([header, *rows])
