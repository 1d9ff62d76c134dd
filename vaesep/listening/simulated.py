"""A *simulated* listener: machine-made ratings from a stated model, not data.

Notebook 05, section "A simulated listener (not real data)": it lets the notebook and
the tests run the whole analysis headless. Its files go through the same session code
as a real listener's, with ``"simulated": true`` in every header, which the report
and its figures announce. Per rating: hidden reference ``N(98, 2.5²)``; low anchor
``N(20, 8²)`` (not from SI-SDR: a low-passed voice keeps a high SI-SDR yet sounds
muffled); any other condition ``100 · sigmoid((SI-SDR − 5 dB) / 4 dB) + bias + N(0, 8²)``
with a per-listener ``bias ~ N(0, 5²)``; a *careless* listener rates everything
``U(20, 100)``; then clipped to [0, 100] and rounded, as the sliders are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE, ListeningDesign, stable_int
from vaesep.listening.session import open_session
from vaesep.listening.stimuli import StimulusSet


@dataclass(frozen=True)
class SimulatedListenerModel:
    """The parameters of the simulated listener (see the module docstring)."""

    metric: str = "SI-SDR"
    midpoint_db: float = 5.0
    slope_db: float = 4.0
    noise_sd: float = 8.0
    listener_bias_sd: float = 5.0
    reference_mean: float = 98.0
    reference_sd: float = 2.5
    anchor_mean: float = 20.0
    anchor_sd: float = 8.0
    careless_low: float = 20.0
    careless_high: float = 100.0

    def describe(self) -> str:
        """The model in one sentence, stored in every simulated results file."""
        return (
            f"SIMULATED listener: hidden reference ~ N({self.reference_mean:g}, "
            f"{self.reference_sd:g}^2); anchors ~ N({self.anchor_mean:g}, {self.anchor_sd:g}^2); "
            f"others = 100*sigmoid(({self.metric} - {self.midpoint_db:g} dB)/{self.slope_db:g} dB)"
            f" + bias + N(0, {self.noise_sd:g}^2), bias ~ N(0, {self.listener_bias_sd:g}^2) per "
            f"listener; careless listeners rate everything U({self.careless_low:g}, "
            f"{self.careless_high:g}); clipped to [0, 100], rounded"
        )

    def rate(self, item: str, condition: str, metrics: dict, bias: float, rng) -> float:
        """One careful rating; ``metrics`` maps (item, condition) to {metric: score}."""
        if condition == HIDDEN_REFERENCE:
            return rng.normal(self.reference_mean, self.reference_sd)
        if condition.startswith(ANCHOR_PREFIX):
            return rng.normal(self.anchor_mean, self.anchor_sd)
        score = metrics.get((item, condition), {}).get(self.metric)
        if score is None:
            raise KeyError(
                f"no {self.metric!r} score for item {item!r}, condition {condition!r}: the "
                f"simulated listener needs stimuli rendered with metrics={{{self.metric!r}: ...}}"
            )
        quality = 100.0 / (1.0 + np.exp(-(score - self.midpoint_db) / self.slope_db))
        return quality + bias + rng.normal(0.0, self.noise_sd)


def simulate_listeners(
    stimuli: StimulusSet,
    design: ListeningDesign,
    results_dir: str | os.PathLike,
    *,
    n_listeners: int = 8,
    n_careless: int = 1,
    seed: int = 0,
    model: SimulatedListenerModel | None = None,
) -> list[Path]:
    """Write one complete results file per listener ``sim-01``, ``sim-02``, ...; the last
    ``n_careless`` are careless. Keep ``results_dir`` apart from real results. A listener
    who already finished is not simulated again, so re-running adds nothing."""
    if not 0 <= n_careless <= n_listeners:
        raise ValueError(f"need 0 <= n_careless <= n_listeners, got {n_careless}, {n_listeners}")
    model = model or SimulatedListenerModel()
    metrics, paths = stimuli.metrics(), []
    for number in range(1, n_listeners + 1):
        listener_id = f"sim-{number:02d}"
        careless = number > n_listeners - n_careless
        rng = np.random.default_rng([seed, stable_int(listener_id)])
        bias = rng.normal(0.0, model.listener_bias_sd)
        described = model.describe() + (" [careless]" if careless else "")
        folder = stimuli.folder
        with open_session(
            results_dir, listener_id, design, stimuli_folder=folder, simulated_model=described
        ) as session:
            session.mark_familiarised()
            while (plan := session.next_trial) is not None:
                ratings = {}
                for letter, condition in plan.letters:
                    if careless:
                        value = rng.uniform(model.careless_low, model.careless_high)
                    else:
                        value = model.rate(plan.item, condition, metrics, bias, rng)
                    ratings[letter] = float(np.round(np.clip(value, 0.0, 100.0)))
                plays = dict.fromkeys(ratings, 1)
                session.submit_trial(plan.trial_id, ratings, plays=plays, reference_plays=1)
            paths.append(session.path)
    return paths
