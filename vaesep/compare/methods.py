"""The rows of the comparison: every method declared once, with the grid searched for it.

:data:`CONVERGED_METHODS` (``vaesep study``) give each learned method a small grid (three
learning rates times its own knob); :data:`MATCHED_METHODS` (``vaesep compare``, 200 steps)
one fixed configuration each. Both start with the floor and the oracles. Notebook 04,
sections "At convergence" and "The contestants".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vaesep.files import count_parameters, markdown_table

LEARNING_RATES: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
"""Adam step sizes searched for every network at convergence."""


@dataclass(frozen=True)
class Method:
    """One row of the tables.

    ``kind``: ``"oracle"``, ``"shipped"`` (the file ``options["model"]``) or the network kind
    trained. ``group`` places it in the verdict (best ``"vae"`` against best ``"baseline"``;
    ``"floor"``, ``"oracle"``, ``"reference"`` and ``"inference"`` take no part). ``knob`` is
    searched over ``knob_values`` besides the learning rate, or taken from ``knob_from``'s
    selection; a generative method's knob (inference iterations) is picked inside each run.
    ``precision``: ``"bfloat16"`` where it was checked to stay within 0.1 dB of float32.
    ``ship_as``/``ship_variants``: the shipped stem, or one stem per knob value.
    ``domains``: the only domains a study runs it on (``None``: every domain).
    """

    name: str
    kind: str
    group: str
    description: str
    options: dict[str, Any] = field(default_factory=dict)
    knob: str | None = None
    knob_values: tuple[Any, ...] = ()
    knob_from: str | None = None
    precision: str = "float32"
    ship_as: str | None = None
    ship_variants: dict[Any, str] | None = None
    domains: tuple[str, ...] | None = None

    @property
    def learned(self) -> bool:
        """True for the methods a study trains or fits itself (one model per seed)."""
        return self.kind not in ("oracle", "shipped")

    @property
    def trained_on_mixtures(self) -> bool:
        """True for the mask estimators trained on mixtures; NMF, the authors' clean-trained VAEs and
        the generative priors learn from each source's clean audio and never see a mixture."""
        return self.kind in ("vae", "dnn", "drnn") and self.options.get("train_on", "mixture") == "mixture"

    def grid(self, learning_rates: Sequence[float] = LEARNING_RATES) -> list[dict[str, Any]]:
        """Every configuration searched: a learning rate times a knob value (NMF: the knob only)."""
        knobs = [{self.knob: value} for value in self.knob_values] if self.knob else [{}]
        if self.kind == "generative":  # its knob is chosen inside each run (see above)
            return [{"learning_rate": lr} for lr in learning_rates]
        if self.kind == "nmf":  # fitted by multiplicative updates: no learning rate
            return knobs
        return [{"learning_rate": lr, **knob} for knob, lr in itertools.product(knobs, learning_rates)]


ORACLES: tuple[Method, ...] = (
    Method("mixture", "oracle", "floor", "the unprocessed mixture as every estimate"),
    Method("irm", "oracle", "oracle",
           "ideal ratio mask: each source's share of the magnitude (the reference oracle of magnitude masking)"),
    Method("wiener", "oracle", "oracle", "Wiener-like mask: each source's share of the power"),
    Method("ibm", "oracle", "oracle", "ideal binary mask from the true sources"),
)
"""The floor and the oracle masks. No oracle is a bound (a joint soft mask can output any mask in
(0, 1)); the ceiling of a table is whichever scores best there (:func:`~vaesep.compare.report.ceilings`)."""

CONVERGED_METHODS: tuple[Method, ...] = (
    *ORACLES,
    Method("vae", "vae", "vae",
           "our VAE (mixture in, masked sources out), authors' sizes, β = 1; knob: scale-free likelihood",
           {"beta": 1.0}, "likelihood", ("sigma", "is"), precision="bfloat16"),
    Method("vae-unit", "vae", "vae",
           "as vae, unit-variance Gaussian on magnitudes, as the authors' code scales it",
           {"beta": 1.0, "likelihood": "gaussian"}, precision="bfloat16"),
    Method("vae-large", "vae", "vae",
           "as vae, 3 × 256 hidden layers in encoder and decoder (the DNN's size); likelihood: vae's selection",
           {"beta": 1.0, "hidden": 256, "layers": 3}, "likelihood", ("sigma", "is"), knob_from="vae",
           precision="bfloat16"),
    Method("vae-authors", "vae", "vae",
           "the authors' scheme: each source's VAE trained on its clean frames only, mixture in at test time",
           {"beta": 1.0, "likelihood": "gaussian", "train_on": "clean", "context": 0, "kl_warmup_epochs": 1},
           precision="bfloat16"),
    Method("ae", "vae", "baseline",
           "the VAE's network without sampling and KL (autoencoder), 513·5 → 128 → 64 → 128 → 513",
           {"deterministic": True}, precision="bfloat16"),
    Method("dnn", "dnn", "baseline", "Huang et al. DNN, 3 × 256 ReLU, joint mask; knob: discriminative γ (0 = MSE)",
           {}, "gamma", (0.0, 0.05), precision="bfloat16", ship_variants={0.0: "dnn", 0.05: "dnn-discrim"}),
    # bfloat16 was not checked for the recurrent layer: the DRNN stays in float32
    Method("drnn", "drnn", "baseline", "Huang et al. DRNN, recurrence at hidden layer 2 of 3; knob: discriminative γ",
           {"recurrent_layer": 2}, "gamma", (0.0, 0.05), ship_variants={0.0: "drnn", 0.05: "drnn-discrim"}),
    Method("nmf", "nmf", "baseline", "supervised NMF, KL divergence, Wiener-style mask; knob: atoms per source",
           {"divergence": "kl"}, "n_components", (16, 32, 64)),
    Method("generative", "generative", "inference",
           "a VAE prior per source trained on its clean audio only (noise: NMF fitted on the mixture), "
           "separation by inference and Wiener filter; knob: inference iterations",
           {}, "iterations", (0, 10, 50, 200),
           # issue #13 asks for speech and noise; on the chorales its priors (the study's costliest
           # training) would not fit the CPU budget that already cut the chorales to one seed
           domains=("speech", "noise")),
)
"""The comparison at convergence, in table order: floor and oracles, the VAE family, the baselines, inference."""

MATCHED_METHODS: tuple[Method, ...] = (
    ORACLES[0], ORACLES[3], ORACLES[1], ORACLES[2],
    Method("nmf", "nmf", "baseline", "supervised NMF, KL divergence, 32 atoms per source, Wiener-style mask",
           {"n_components": 32, "divergence": "kl", "iterations": 50}),
    Method("dnn", "dnn", "baseline", "Huang et al. DNN, 3 × 256 ReLU, joint mask, MSE", {"gamma": 0.0}),
    Method("dnn-discrim", "dnn", "baseline", "as dnn, discriminative objective γ = 0.05", {"gamma": 0.05}),
    Method("drnn", "drnn", "baseline", "Huang et al. DRNN, recurrence at hidden layer 2 of 3, MSE",
           {"gamma": 0.0, "recurrent_layer": 2}),
    Method("drnn-discrim", "drnn", "baseline", "as drnn, discriminative objective γ = 0.05",
           {"gamma": 0.05, "recurrent_layer": 2}),
    Method("ae", "vae", "baseline", "autoencoder: the VAE without sampling and KL, same size", {"deterministic": True}),
    # vae-speech is the project's main model, so the budget-matched VAE ships under another stem
    Method("vae", "vae", "vae", "VAE, one encoder/decoder pair per source (authors' layout)", ship_as="vae-matched"),
    Method("vae-shared", "vae", "vae", "VAE, one encoder and latent, a decoder per source", {"variant": "shared"}),
    Method("vae-shipped", "shipped", "reference", "the shipped vae-speech: the study's converged VAE (not budget-matched)",
           {"model": "vae-speech", "domain": "speech"}),
)
"""The matched-budget view, in the order its committed tables use."""


def get_method(name: str, methods: Sequence[Method] = CONVERGED_METHODS) -> Method:
    """The :class:`Method` called ``name`` in ``methods`` (a ValueError lists the known ones)."""
    for method in methods:
        if method.name == name:
            return method
    raise ValueError(f"unknown method {name!r}; known: {[m.name for m in methods]}")


def pretrained_name(method: Method, domain: str) -> str:
    """The name :func:`vaesep.load_model` accepts for a method's shipped model on ``domain``."""
    return method.options["model"] if method.kind == "shipped" else f"{method.ship_as or method.name}-{domain}"


def build_network(method: Method, source_names: Sequence[str], **settings: Any):
    """A fresh network of a learned method: its options, then ``settings`` (one configuration)."""
    from vaesep import models

    config = {"source_names": tuple(source_names), **method.options, **settings}
    return models.build_network(method.kind, config)


def methods_markdown(methods: Sequence[Method] = MATCHED_METHODS) -> str:
    """Group, parameter count (two sources, 513 bins) and description of every method (notebook 04)."""
    rows = []
    for method in methods:
        learned = method.learned and method.kind != "generative"
        count = f"{count_parameters(build_network(method, ('v', 'm'))):,}" if learned else "—"
        rows.append([method.name, method.group, count, method.description])
    return markdown_table(["method", "group", "parameters", "description"], rows, "llrl")
