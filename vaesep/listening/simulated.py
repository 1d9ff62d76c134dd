"""A *simulated* listener: machine-made ratings from a stated model.

These ratings are not data. They exist so that notebook 05 and the test suite
can run the whole analysis headless, and so that students can see what the
analysis does with a listener whose behaviour is known. Every file written
here says ``"simulated": true`` in its header, and the analysis report
prints a warning when it finds one. Notebook 05, section "A simulated
listener (not real data)".

The model, per rating (all numbers are parameters of
:class:`SimulatedListenerModel`):

* hidden reference: ``N(98, 2.5²)`` (below 90 in fewer than 1 in 1000 trials);
* low anchor: ``N(20, 8²)`` -- deliberately *not* derived from SI-SDR,
  because a low-passed reference keeps a high SI-SDR yet sounds plainly
  muffled, and real listeners rate it low;
* every other condition: ``100 · sigmoid((SI-SDR − 5 dB) / 4 dB) + bias + N(0, 8²)``
  with a per-listener ``bias ~ N(0, 5²)`` standing for scale-use habits;
* a *careless* listener ignores the audio: every condition gets ``U(20, 100)``,
  so the hidden reference falls below 90 in most trials and post-screening
  removes them;

then clipped to [0, 100] and rounded to an integer, as the sliders are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaesep.listening.design import (
    ANCHOR_PREFIX,
    HIDDEN_REFERENCE,
    ListeningDesign,
    TrialPlan,
    stable_int,
)
from vaesep.listening.session import open_session
from vaesep.listening.stimuli import StimulusSet


@dataclass(frozen=True)
class SimulatedListenerModel:
    """Parameters of the simulated listener (see the module docstring).

    Notebook 05, section "A simulated listener (not real data)".
    """

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
        """The model as one sentence, stored in every simulated results file."""
        return (
            f"SIMULATED listener: hidden reference ~ N({self.reference_mean:g}, "
            f"{self.reference_sd:g}^2); anchors ~ N({self.anchor_mean:g}, {self.anchor_sd:g}^2); "
            f"others = 100*sigmoid(({self.metric} - {self.midpoint_db:g} dB)/{self.slope_db:g} dB)"
            f" + bias + N(0, {self.noise_sd:g}^2), bias ~ N(0, {self.listener_bias_sd:g}^2) per "
            f"listener; careless listeners rate everything U({self.careless_low:g}, "
            f"{self.careless_high:g}); clipped to [0, 100], rounded"
        )

    def rate_trial(
        self,
        plan: TrialPlan,
        metrics: dict[tuple[str, str], dict[str, float]],
        bias: float,
        careless: bool,
        rng: np.random.Generator,
    ) -> dict[str, float]:
        """Ratings of one trial, letter → rating.

        Args:
            plan: the trial as the listener sees it.
            metrics: ``(item, condition) → {metric name: value}`` (from the stimuli).
            bias: this listener's offset in rating points.
            careless: ignore the audio (see the module docstring).
            rng: the listener's random generator.
        """
        ratings = {}
        for letter, condition in plan.letters:
            if careless:
                value = rng.uniform(self.careless_low, self.careless_high)
            elif condition == HIDDEN_REFERENCE:
                value = rng.normal(self.reference_mean, self.reference_sd)
            elif condition.startswith(ANCHOR_PREFIX):
                value = rng.normal(self.anchor_mean, self.anchor_sd)
            else:
                score = _metric_of(metrics, plan.item, condition, self.metric)
                quality = 100.0 / (1.0 + np.exp(-(score - self.midpoint_db) / self.slope_db))
                value = quality + bias + rng.normal(0.0, self.noise_sd)
            ratings[letter] = float(np.round(np.clip(value, 0.0, 100.0)))
        return ratings


def _metric_of(
    metrics: dict[tuple[str, str], dict[str, float]], item: str, condition: str, name: str
) -> float:
    try:
        return float(metrics[(item, condition)][name])
    except KeyError:
        raise KeyError(
            f"no {name!r} score for item {item!r}, condition {condition!r}: the simulated "
            f"listener needs stimuli rendered with metrics={{{name!r}: ...}}"
        ) from None


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
    """Write one complete *simulated* results file per simulated listener.

    Notebook 05, section "A simulated listener (not real data)". The files
    go through the same :func:`~vaesep.listening.session.open_session` and
    ``submit_trial`` as a real session, so the analysis cannot tell them
    apart except by the ``simulated`` flag that every header carries.

    Args:
        stimuli: rendered with a metric named ``model.metric``.
        design: the design the simulated listeners follow.
        results_dir: where to write; keep it apart from real results. A
            listener who already has a finished file of this design there is
            not simulated again, so re-running is idempotent.
        n_listeners: how many listeners in all, ``sim-01``, ``sim-02``, ...
        n_careless: how many of them are careless (the last ones).
        seed: makes the ratings reproducible.
        model: the rating model (defaults as in the module docstring).

    Returns:
        the paths of the written results files.
    """
    if not 0 <= n_careless <= n_listeners:
        raise ValueError(f"need 0 <= n_careless <= n_listeners, got {n_careless}, {n_listeners}")
    model = model or SimulatedListenerModel()
    metrics = stimuli.metrics()
    paths = []
    for number in range(1, n_listeners + 1):
        listener_id = f"sim-{number:02d}"
        careless = number > n_listeners - n_careless
        rng = np.random.default_rng([seed, stable_int(listener_id)])
        bias = rng.normal(0.0, model.listener_bias_sd)
        with open_session(
            results_dir,
            listener_id,
            design,
            stimuli_folder=stimuli.folder,
            simulated_model=model.describe() + (" [careless]" if careless else ""),
        ) as session:
            session.mark_familiarised()
            # a listener finished in an earlier run is reopened complete: nothing to add
            while (plan := session.next_trial) is not None:
                ratings = model.rate_trial(plan, metrics, bias, careless, rng)
                session.submit_trial(
                    plan.trial_id,
                    ratings,
                    plays={letter: 1 for letter in ratings},
                    reference_plays=1,
                )
            paths.append(session.path)
    return paths
