"""A *simulated* listener: machine-made ratings from a stated model, not data.

Notebook 05, section "A simulated listener (not real data)": it lets the notebook and the
tests run the whole analysis headless. Its files go through the same session code as a real
listener's, with ``"simulated": true`` in every header, which the report and its figures
announce. The model is :meth:`SimulatedListenerModel.describe`.
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
    """The parameters of the simulated listener, as :meth:`describe` uses them."""

    metric: str = "SI-SDR"
    midpoint_db: float = 5.0
    slope_db: float = 4.0
    noise_sd: float = 8.0
    listener_bias_sd: float = 5.0
    reference_mean: float = 98.0
    reference_sd: float = 2.5
    anchor_mean: float = 20.0  # not from SI-SDR: a low-passed voice keeps a high SI-SDR
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
    model, metrics, paths = model or SimulatedListenerModel(), stimuli.metrics(), []
    for number in range(1, n_listeners + 1):
        listener_id = f"sim-{number:02d}"
        careless = number > n_listeners - n_careless
        rng = np.random.default_rng([seed, stable_int(listener_id)])
        bias = rng.normal(0.0, model.listener_bias_sd)
        described = model.describe() + (" [careless]" if careless else "")
        with open_session(results_dir, listener_id, design, stimuli_folder=stimuli.folder,
                          simulated_model=described) as session:
            session.mark_familiarised()
            while (plan := session.next_trial) is not None:
                ratings = {}
                for letter, condition in plan.letters:
                    if careless:
                        value = rng.uniform(model.careless_low, model.careless_high)
                    elif condition == HIDDEN_REFERENCE:
                        value = rng.normal(model.reference_mean, model.reference_sd)
                    elif condition.startswith(ANCHOR_PREFIX):
                        value = rng.normal(model.anchor_mean, model.anchor_sd)
                    else:
                        scores = metrics.get((plan.item, condition), {})
                        if model.metric not in scores:
                            raise KeyError(
                                f"no {model.metric!r} score for {plan.item!r}, {condition!r}: "
                                f"render the stimuli with metrics={{{model.metric!r}: ...}}"
                            )
                        z = (scores[model.metric] - model.midpoint_db) / model.slope_db
                        value = 100.0 / (1.0 + np.exp(-z)) + bias + rng.normal(0.0, model.noise_sd)
                    ratings[letter] = float(np.round(np.clip(value, 0.0, 100.0)))
                session.submit_trial(plan.trial_id, ratings, plays=dict.fromkeys(ratings, 1),
                                     reference_plays=1)
            paths.append(session.path)
    return paths
