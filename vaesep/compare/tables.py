"""Aggregating the comparison over seeds, and the tables and sentences it yields.

A learned method is trained with several seeds; each seed's evaluation
gives one mean (and one median) per metric over the test items. The table
cell is the mean of those per-seed values ± their standard deviation
(n − 1 in the denominator), so a difference between methods can be held
against the spread that retraining alone produces. Notebook 04, sections
"The headline table" and "Does the VAE beat the baselines by 2 dB?".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vaesep.compare.conditions import get_condition
from vaesep.compare.methods import PROPOSED, get_method
from vaesep.metrics import EvaluationResult

MEAN_STATS: tuple[str, ...] = ("sdr_mean", "sir_mean", "sar_mean", "nsdr_mean", "si_sdr_mean")
MEDIAN_STATS: tuple[str, ...] = (
    "sdr_median",
    "sir_median",
    "sar_median",
    "nsdr_median",
    "si_sdr_median",
)
WEIGHTED_STATS: tuple[str, ...] = ("gnsdr", "gsir", "gsar")
ALL_STATS: tuple[str, ...] = MEAN_STATS + MEDIAN_STATS + WEIGHTED_STATS

_LABELS: dict[str, str] = {
    "sdr": "SDR",
    "sir": "SIR",
    "sar": "SAR",
    "nsdr": "NSDR",
    "si_sdr": "SI-SDR",
    "gnsdr": "GNSDR",
    "gsir": "GSIR",
    "gsar": "GSAR",
}

PerSeed = Mapping[int | None, EvaluationResult]


@dataclass(frozen=True)
class SeedStat:
    """One aggregate over training seeds.

    Attributes:
        mean: mean of the per-seed values (dB).
        std: their sample standard deviation (NaN with a single seed).
        values: the per-seed values, in seed order.
    """

    mean: float
    std: float
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> SeedStat:
        array = np.asarray(values, dtype=float)
        std = float(np.std(array, ddof=1)) if array.size > 1 else math.nan
        return cls(float(np.mean(array)), std, tuple(float(v) for v in array))

    def cell(self) -> str:
        """``"7.12 ± 0.15"``, or ``"7.12"`` when there is no spread to show."""
        if not math.isfinite(self.mean):
            return "—"
        return (
            f"{self.mean:.2f}"
            if not math.isfinite(self.std)
            else f"{self.mean:.2f} ± {self.std:.2f}"
        )


def seed_statistics(per_seed: PerSeed, source: str | None = None) -> dict[str, SeedStat]:
    """Every statistic of :data:`ALL_STATS` aggregated over seeds.

    Args:
        per_seed: seed → evaluation of one method on one condition.
        source: restrict to one source (e.g. the speech in denoising); None: all sources.

    Returns:
        statistic name → :class:`SeedStat`.
    """
    summaries = []
    for result in per_seed.values():
        summary = result.summary()
        summaries.append(summary["overall"] if source is None else summary["per_source"][source])
    return {stat: SeedStat.of([summary[stat] for summary in summaries]) for stat in ALL_STATS}


def aggregate(
    results: Mapping[str, Mapping[str, PerSeed]],
) -> dict[str, dict[str, dict[str, SeedStat]]]:
    """``{condition: {method: {stat: SeedStat}}}`` from :func:`vaesep.compare.load_results` output."""
    return {
        condition: {
            method: seed_statistics(per_seed, get_condition(condition).source)
            for method, per_seed in per_method.items()
        }
        for condition, per_method in results.items()
    }


def _header(stats: Sequence[str]) -> list[str]:
    return [
        f"{_LABELS[stat.rsplit('_', 1)[0]]} {stat.rsplit('_', 1)[1]}"
        if stat not in WEIGHTED_STATS
        else _LABELS[stat]
        for stat in stats
    ]


def _render(title: str | None, header: list[str], rows: list[list[str]], caption: str) -> str:
    lines = [f"### {title}", ""] if title else []
    lines += [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines + ["", f"_{caption}_"])


def condition_table(
    stats: Mapping[str, Mapping[str, SeedStat]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    caption: str = "",
    n_seeds: Mapping[str, int] | None = None,
) -> str:
    """A Markdown table, a row per method and a ``mean ± std over seeds`` cell per statistic.

    The mixture's SAR is shown as "—": the mixture contains no artifacts, so
    its SAR is infinite up to rounding and means nothing (DESIGN.md).
    Notebook 04, section "The headline table".
    """
    rows = []
    for method, method_stats in stats.items():
        cells = [
            "—"
            if method == "mixture"
            and stat.startswith("sar")
            or method == "mixture"
            and stat == "gsar"
            else method_stats[stat].cell()
            for stat in columns
        ]
        # oracles, the mixture and shipped references have no training seed to count
        if not get_method(method).learned:
            seeds = "—"
        elif n_seeds is not None:
            seeds = str(n_seeds[method])
        else:
            seeds = str(len(method_stats[columns[0]].values))
        rows.append([method, seeds, *cells])
    return _render(title, ["method", "seeds", *_header(columns)], rows, caption)


@dataclass(frozen=True)
class Gap:
    """The proposed method against the best baseline on one condition, in one statistic.

    Attributes:
        condition: the condition's name.
        statistic: e.g. ``"sdr_mean"``.
        proposed, baseline: method names (``baseline`` is the best by mean).
        proposed_mean, proposed_std, baseline_mean, baseline_std: over seeds.
        gap: ``proposed_mean − baseline_mean`` in dB.
        standard_error: of the gap, ``√(s_p²/n_p + s_b²/n_b)`` (NaN with one seed).
        n_seeds: seeds behind each of the two.
    """

    condition: str
    statistic: str
    proposed: str
    baseline: str
    proposed_mean: float
    proposed_std: float
    baseline_mean: float
    baseline_std: float
    gap: float
    standard_error: float
    n_seeds: int

    def verdict(self, claim_db: float = 2.0) -> str:
        """How the gap compares with the paper's claim and with twice its standard error."""
        noise = 2 * self.standard_error
        if not math.isfinite(noise):
            return "with one seed, seed noise cannot be judged"
        if self.gap >= claim_db - noise and self.gap > noise:
            return f"consistent with the paper's ~{claim_db:g} dB"
        if self.gap > noise:
            return f"the VAE is ahead, but by less than the paper's ~{claim_db:g} dB"
        if self.gap >= -noise:
            return "no difference beyond seed noise (within 2 standard errors)"
        return "the VAE is behind the best baseline by more than seed noise"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict()}


def best_baseline_gap(
    stats: Mapping[str, Mapping[str, SeedStat]],
    condition: str,
    *,
    proposed: str = PROPOSED,
    statistic: str = "sdr_mean",
) -> Gap | None:
    """The gap of ``proposed`` over the best baseline (by mean) on one condition; None if either is missing.

    Notebook 04, section "Does the VAE beat the baselines by 2 dB?".
    """
    baselines = {
        name: s[statistic] for name, s in stats.items() if get_method(name).group == "baseline"
    }
    if proposed not in stats or not baselines:
        return None
    best = max(baselines, key=lambda name: baselines[name].mean)
    mine, theirs = stats[proposed][statistic], baselines[best]
    n_mine, n_theirs = len(mine.values), len(theirs.values)
    error = (
        math.sqrt(mine.std**2 / n_mine + theirs.std**2 / n_theirs)
        if min(n_mine, n_theirs) > 1
        else math.nan
    )
    return Gap(
        condition,
        statistic,
        proposed,
        best,
        mine.mean,
        mine.std,
        theirs.mean,
        theirs.std,
        mine.mean - theirs.mean,
        error,
        min(n_mine, n_theirs),
    )


def gap_sentence(gap: Gap) -> str:
    """One computed sentence about a :class:`Gap` (every number from the run)."""
    spread = (
        ""
        if not math.isfinite(gap.standard_error)
        else f" (± {gap.standard_error:.2f} dB, 1 s.e. over {gap.n_seeds} seeds)"
    )
    stat = (
        _LABELS[gap.statistic.rsplit("_", 1)[0]]
        if gap.statistic not in WEIGHTED_STATS
        else _LABELS[gap.statistic]
    )
    mine = SeedStat(gap.proposed_mean, gap.proposed_std, ()).cell()
    theirs = SeedStat(gap.baseline_mean, gap.baseline_std, ()).cell()
    return (
        f"{get_condition(gap.condition).title}: {gap.proposed} {mine} dB {stat}, best baseline "
        f"{gap.baseline} {theirs} dB; gap {gap.gap:+.2f} dB{spread}: {gap.verdict()}."
    )


CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("vae", "ae", "the variational part (VAE vs the same-size autoencoder)"),
    ("vae-shared", "vae", "one shared encoder and latent (vae-shared vs vae)"),
    ("drnn", "dnn", "recurrence over time (DRNN vs DNN)"),
    ("dnn-discrim", "dnn", "the discriminative term on the DNN"),
    ("drnn-discrim", "drnn", "the discriminative term on the DRNN"),
    ("vae-shipped", "vae", "longer training (the shipped vae-speech vs the budget-matched vae)"),
    ("irm", "vae", "the distance from the VAE up to the IRM ceiling"),
)
"""Pairs of rows that differ in one ingredient, and what that ingredient is."""


def evidence_sentences(
    stats: Mapping[str, Mapping[str, Mapping[str, SeedStat]]], statistic: str = "sdr_mean"
) -> list[str]:
    """Computed observations that bear on *why* the gap is what it is.

    For each pair of :data:`CONTRASTS` present in the results: the mean
    difference over the conditions that have both rows, and its range.
    Notebook 04, section "Does the VAE beat the baselines by 2 dB?".

    Args:
        stats: ``{condition: {method: {stat: SeedStat}}}``.
        statistic: which aggregate to difference (default mean SDR).
    """
    sentences = []
    for first, second, ingredient in CONTRASTS:
        differences = [
            per_method[first][statistic].mean - per_method[second][statistic].mean
            for per_method in stats.values()
            if first in per_method and second in per_method
        ]
        if not differences:
            continue
        low, high = min(differences), max(differences)
        spread = (
            ""
            if len(differences) == 1
            else f" (from {low:+.2f} to {high:+.2f} over {len(differences)} conditions)"
        )
        sentences.append(f"{ingredient}: {np.mean(differences):+.2f} dB{spread}")
    return sentences


def headline_table(
    stats: Mapping[str, Mapping[str, Mapping[str, SeedStat]]],
    *,
    caption: str = "",
) -> str:
    """Methods × conditions, mean SDR ± seed std (GNSDR added for the chorales, as MIR-1K papers report).

    Notebook 04, section "The headline table".
    """
    conditions = list(stats)
    methods = list(dict.fromkeys(name for condition in conditions for name in stats[condition]))
    header = ["method", *(f"{name} SDR" for name in conditions)]
    with_gnsdr = [name for name in conditions if name == "chorales"]
    header += [f"{name} GNSDR" for name in with_gnsdr]
    rows = []
    for method in methods:
        cells = [
            stats[c][method]["sdr_mean"].cell() if method in stats[c] else "—" for c in conditions
        ]
        cells += [
            stats[c][method]["gnsdr"].cell() if method in stats[c] else "—" for c in with_gnsdr
        ]
        rows.append([method, *cells])
    gaps = [best_baseline_gap(stats[c], c) for c in conditions]
    rows.append(
        [
            f"**{PROPOSED} − best baseline**",
            *(f"{g.gap:+.2f} ({g.baseline})" if g is not None else "—" for g in gaps),
            *("—" for _ in with_gnsdr),
        ]
    )
    return _render(None, header, rows, caption)
