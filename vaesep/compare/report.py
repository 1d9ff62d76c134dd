"""Tables, learning curves and the verdict, read from the result files of a study.

Notebook 04 ("At convergence", "The headline table", "Does the VAE beat the baselines by 2 dB?")
and README's comparison blocks show what these print; no number is typed by hand. Tables run
from the floor (the mixture) to the ceiling (the best oracle mask of each condition, measured:
the IRM is no bound); each cell is mean ± std over training seeds, the spread a gap is held against.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.compare.conditions import domain_conditions, get_condition
from vaesep.compare.study import Study, config_id, load_result, pending, tuning_runs, winner
from vaesep.files import atomic_write, markdown_table, write_json
from vaesep.metrics.results import statistic_label

MEANS: tuple[str, ...] = ("sdr_mean", "sir_mean", "sar_mean", "nsdr_mean", "si_sdr_mean", "gnsdr", "gsir", "gsar")
MEDIANS: tuple[str, ...] = ("sdr_median", "sir_median", "sar_median", "nsdr_median", "si_sdr_median")

README_START, README_END = "<!-- vaesep-study:start -->", "<!-- vaesep-study:end -->"
"""Markers around the README block that ``vaesep study --readme README.md`` rewrites."""

Runs = list[dict[str, Any]]


def load_runs(root: str | Path) -> Runs:
    """Every finished run's result file under ``root``."""
    return [load_result(path) for path in sorted(Path(root).glob("*/*/*.json"))]


@dataclass(frozen=True)
class SeedStat:
    """One statistic over training seeds: the mean of the per-seed values and their sample std (n − 1)."""

    mean: float
    std: float
    values: tuple[float, ...] = ()

    @classmethod
    def of(cls, values: list[float]) -> SeedStat:
        array = np.asarray(values, dtype=float)
        std = float(np.std(array, ddof=1)) if array.size > 1 else math.nan
        return cls(float(np.mean(array)), std, tuple(float(v) for v in array))

    def cell(self) -> str:
        """``"7.12 ± 0.15"``, or ``"7.12"`` when one seed has no spread to show."""
        if not math.isfinite(self.mean):
            return "—"
        return f"{self.mean:.2f}" if not math.isfinite(self.std) else f"{self.mean:.2f} ± {self.std:.2f}"

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "std": _finite(self.std), "values": list(self.values)}


def _finite(value: Any) -> Any:
    """``value``, or None for a NaN (strict JSON has no NaN)."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def selected_runs(runs: Runs, study: Study, method: str) -> Runs:
    """The runs of ``method``'s selected configuration (every seed and domain), by seed."""
    config = winner(study, method)
    chosen = [r for r in runs if r["method"] == method and config is not None and r.get("config", {}) == config]
    return sorted(chosen, key=lambda r: r["seed"])


def condition_stats(runs: Runs, study: Study, statistic: str = "sdr_mean") -> dict[str, dict[str, SeedStat]]:
    """``{condition: {method: SeedStat over seeds}}`` for the selected configurations, in table order."""
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for method in study.methods:
        for run in selected_runs(runs, study, method.name):
            for condition, scores in run["test"].items():
                value = scores.get(statistic)  # older files hold NaN where newer ones leave it out
                table[condition][method.name].append(math.nan if value is None else value)
    return {c: {m: SeedStat.of(v) for m, v in per.items()} for c, per in table.items()}


@dataclass(frozen=True)
class Gap:
    """The best VAE against the best baseline on one condition (by mean over seeds)."""

    condition: str
    statistic: str
    proposed: str
    baseline: str
    proposed_mean: float
    proposed_std: float
    baseline_mean: float
    baseline_std: float
    gap: float
    standard_error: float  # √(s_p²/n_p + s_b²/n_b); NaN with one seed
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
        return {**{k: _finite(v) for k, v in vars(self).items()}, "verdict": self.verdict()}


def best_gap(stats: dict[str, SeedStat], condition: str, study: Study, statistic: str = "sdr_mean") -> Gap | None:
    """The best method of the ``vae`` group against the best ``baseline`` on one condition."""
    groups = {m.name: m.group for m in study.methods}
    mine = {m: s for m, s in stats.items() if groups.get(m) == "vae"}
    theirs = {m: s for m, s in stats.items() if groups.get(m) == "baseline"}
    if not mine or not theirs:
        return None
    proposed, baseline = max(mine, key=lambda m: mine[m].mean), max(theirs, key=lambda m: theirs[m].mean)
    p, b = mine[proposed], theirs[baseline]
    n = min(len(p.values), len(b.values))
    error = math.sqrt(p.std**2 / len(p.values) + b.std**2 / len(b.values)) if n > 1 else math.nan
    return Gap(condition, statistic, proposed, baseline, p.mean, p.std, b.mean, b.std, p.mean - b.mean, error, n)


def _gaps(stats: dict[str, dict[str, SeedStat]], study: Study) -> dict[str, Gap | None]:
    """Condition → its gap, for every condition of ``study`` that has results, in column order."""
    return {c: best_gap(stats[c], c, study) for c in study.conditions if c in stats}


def results_markdown(runs: Runs, study: Study) -> str:
    """The headline table: mean ± std test SDR per method and condition, the selected configuration,
    and the best VAE minus the best baseline. Notebook 04, section "The headline table"."""
    stats = condition_stats(runs, study)
    gaps = _gaps(stats, study)
    rows = []
    for method in study.methods:
        present = [stats[c][method.name] for c in gaps if method.name in stats[c]]
        if not present:
            continue
        config = "—" if not method.learned else "shipped" if study.shipped else config_id(winner(study, method.name) or {})
        # oracles and shipped references are deterministic: no training seed to count
        seeds = str(max(len(s.values) for s in present)) if method.learned else "—"
        rows.append([method.name, config, seeds,
                     *(stats[c][method.name].cell() if method.name in stats[c] else "—" for c in gaps)])
    rows.append(["**best VAE − best baseline**", "", "",
                 *(f"{g.gap:+.2f} ({g.proposed} vs {g.baseline})" if g else "—" for g in gaps.values())])
    return markdown_table(["method", "selected configuration", "seeds", *(f"{c} SDR" for c in gaps)], rows,
                          "llr" + "r" * len(gaps))


def condition_markdown(runs: Runs, study: Study, condition: str, statistics=MEANS) -> str:
    """Every statistic of one condition, a row per method, mean ± std over seeds (notebook 04,
    "The headline table"); the mixture's SAR shows as "—": with no artifacts it is infinite."""
    columns = {statistic: condition_stats(runs, study, statistic).get(condition, {}) for statistic in statistics}
    rows = [[m.name, str(len(columns[statistics[0]][m.name].values)) if m.learned else "—",
             *(columns[s][m.name].cell() for s in statistics)]
            for m in study.methods if m.name in columns[statistics[0]]]
    spec = get_condition(condition)
    scope = "all sources" if spec.source is None else f"source {spec.source!r}"
    table = markdown_table(["method", "seeds", *map(statistic_label, statistics)], rows)
    return f"**{spec.title}**\n\n{table}\n\n_dB, mean ± std over seeds; {scope}; {spec.data}/{spec.split}_"


def tuning_markdown(runs: Runs, study: Study) -> str:
    """Every configuration tried (first domain, seed 0): validation SDR, steps to its best, why it stopped."""
    found = {(r["method"], config_id(r.get("config", {})), r["domain"], r["seed"]): r for r in runs}
    rows = []
    for run in tuning_runs(study):
        result = found.get((run.method, config_id(run.settings), run.domain, 0))
        if result is None:
            rows.append([run.method, config_id(run.settings), "(running or to do)", "", "", "", ""])
            continue
        steps = "—" if result.get("steps_to_best") is None else f"{result['steps_to_best']:,}"
        minutes = result.get("train_wall_seconds", result.get("wall_seconds", 0)) / 60
        valid = "—" if result["valid_sdr"] is None else f"{result['valid_sdr']:.2f}"
        chosen = "✓" if winner(study, run.method) == result["config"] else ""
        rows.append([run.method, config_id(run.settings), valid, steps, result["stopped"], f"{minutes:.1f} min", chosen])
    header = ["method", "configuration", "valid SDR", "steps to best", "stopped", "train time", "selected"]
    return markdown_table(header, rows, "llrrlrl")


def _longest_network(run: dict[str, Any]) -> int:
    """Steps of the run's longest-trained network: a generative run trains one prior per source,
    each under the study's cap, and its ``steps_total`` is their sum."""
    priors = run.get("prior_curves") or {}
    return max((curve[-1][0] for curve in priors.values() if curve), default=run["steps_total"])


def convergence_summary(runs: Runs) -> dict[str, Any]:
    """How many trained runs stopped early (converged), which did not, which diverged, and the compute."""
    learned = [r for r in runs if r.get("kind") not in ("oracle", "nmf", "shipped")]
    diverged = [r for r in learned if r["stopped"] == "diverged"]
    learned = [r for r in learned if r["stopped"] != "diverged"]
    not_converged = [f"{r['domain']}/{r['method']}/{config_id(r['config'])}/seed{r['seed']}"
                     for r in learned if r["stopped"] != "early_stopping"]
    return {
        "learned_runs": len(learned),
        "early_stopped": len(learned) - len(not_converged),
        "not_converged": not_converged,
        "diverged": [f"{r['method']}/{config_id(r['config'])}/seed{r['seed']}" for r in diverged],
        "max_steps_used": max((_longest_network(r) for r in learned), default=0),
        "wall_hours": sum(r.get("wall_seconds", 0) for r in runs) / 3600,
        "cpu_hours": sum(r.get("cpu_seconds", 0) for r in runs) / 3600,
    }


def verdict_sentences(runs: Runs, study: Study, claim_db: float = 2.0) -> list[str]:
    """Per condition, the best VAE against the best baseline with the seed spread (notebook 04,
    "Does the VAE beat the baselines by 2 dB?")."""
    sentences = []
    for condition, gap in _gaps(condition_stats(runs, study), study).items():
        if gap is None:
            continue
        spread = "" if not math.isfinite(gap.standard_error) else f" ± {gap.standard_error:.2f} (1 s.e.)"
        sentences.append(
            f"{get_condition(condition).title}: best VAE {gap.proposed} "
            f"{SeedStat(gap.proposed_mean, gap.proposed_std).cell()} dB, best baseline "
            f"{gap.baseline} {SeedStat(gap.baseline_mean, gap.baseline_std).cell()} dB; gap "
            f"{gap.gap:+.2f}{spread} dB over {gap.n_seeds} seed(s): {gap.verdict(claim_db)}.")
    return sentences


CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("vae", "ae", "the variational part (VAE vs the same-size autoencoder)"),
    ("vae-shared", "vae", "one shared encoder and latent (vae-shared vs vae)"),
    ("vae-large", "vae", "size (vae-large, 3 × 256, vs vae)"),
    ("vae", "vae-authors", "training on mixtures (vae vs the authors' clean-trained scheme)"),
    ("drnn", "dnn", "recurrence over time (DRNN vs DNN)"),
    ("dnn-discrim", "dnn", "the discriminative term on the DNN"),
    ("drnn-discrim", "drnn", "the discriminative term on the DRNN"),
    ("ceiling", "vae", "the distance from the VAE up to the ceiling"),
)
"""Pairs of rows that differ in one ingredient, and what that ingredient is; ``"ceiling"`` is the
best oracle of each condition (:func:`ceilings`)."""


def ceilings(stats: dict[str, dict[str, SeedStat]], study: Study) -> dict[str, str]:
    """Condition → its ceiling: the oracle with the highest mean (the IRM is no bound, so it is measured)."""
    oracles = {m.name for m in study.methods if m.group == "oracle"}
    return {condition: max(present, key=lambda m: row[m].mean)
            for condition, row in stats.items() if (present := oracles & set(row))}


def contrast_sentences(runs: Runs, study: Study) -> list[str]:
    """Per pair of :data:`CONTRASTS` present: the mean SDR difference over conditions, and its range."""
    stats = condition_stats(runs, study)
    best = ceilings(stats, study)
    for condition, name in best.items():
        stats[condition]["ceiling"] = stats[condition][name]
    counts = Counter(best.values()).most_common()
    named = ", ".join(f"{name} in {count} of {len(best)} conditions" for name, count in counts)
    sentences = []
    for first, second, ingredient in CONTRASTS:
        differences = [row[first].mean - row[second].mean for row in stats.values() if first in row and second in row]
        if first == "ceiling":
            ingredient += f" (the best oracle of each condition: {named})"
        if differences:
            spread = "" if len(differences) == 1 else (
                f" (from {min(differences):+.2f} to {max(differences):+.2f} over {len(differences)} conditions)")
            sentences.append(f"{ingredient}: {np.mean(differences):+.2f} dB{spread}")
    return sentences


def item_sdr(runs: Runs, study: Study, condition: str) -> dict[str, np.ndarray]:
    """Per method, the per-item SDRs of its first seed on one condition (for box plots; newer files only)."""
    scores = {}
    for method in study.methods:
        first = [r for r in selected_runs(runs, study, method.name) if condition in r.get("item_sdr", {})][:1]
        if first:
            scores[method.name] = np.asarray(first[0]["item_sdr"][condition])
    return scores


def learning_curves_figure(runs: Runs, study: Study, domain: str = "speech"):
    """Validation SDR against optimizer steps (log axis) of each method's selected run, seed 0; the
    200-step comparison is the left edge of these curves, dots mark each run's best."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for method in study.methods:
        chosen = [r for r in selected_runs(runs, study, method.name) if r["domain"] == domain and r["seed"] == 0]
        if not chosen or not chosen[0].get("curve"):
            continue
        steps, sdr = zip(*chosen[0]["curve"], strict=True)
        (line,) = axis.plot(steps, sdr, "-" if method.group == "vae" else "--", label=method.name)
        best = chosen[0]["steps_to_best"]
        axis.plot([best], [sdr[steps.index(best)]], "o", color=line.get_color())
    axis.axvline(200, color="grey", linewidth=0.8)
    axis.text(205, axis.get_ylim()[0], " 200 steps: the matched-budget table", color="grey", va="bottom")
    axis.set(xscale="log", xlabel="optimizer steps (32 one-second mixtures each)", ylabel="validation SDR (dB)",
             title=f"Learning curves, {domain}, seed 0: dashed baselines, solid VAEs; dots = best")
    if axis.get_legend_handles_labels()[0]:  # no curves yet while the first runs train
        axis.legend(ncol=2, fontsize=8)
    figure.tight_layout()
    return figure


def summary_data(runs: Runs, study: Study) -> dict[str, Any]:
    """The tables' numbers as strict JSON: winners, per-seed values, gaps, verdict, compute."""
    stats = condition_stats(runs, study)
    learned = [m for m in study.methods if m.learned]
    return {
        "convergence": convergence_summary(runs),
        "winners": {m.name: winner(study, m.name) for m in learned},
        "stats": {c: {m: s.to_dict() for m, s in per.items()} for c, per in stats.items()},
        "gaps": {c: g.to_dict() for c, g in _gaps(stats, study).items() if g},
        "verdict": verdict_sentences(runs, study),
        "methods": {m.name: m.description for m in learned},
        "conditions": {domain: list(domain_conditions(domain, study.conditions)) for domain in study.domains},
        "schedule": study.schedule.describe() if not study.shipped else "shipped models",
        "commits": sorted({r.get("commit", "?") for r in runs}),
    }


def bullets(sentences: list[str]) -> str:
    return "\n".join(f"* {sentence}" for sentence in sentences)


def _commits(runs: Runs) -> str:
    return ", ".join(sorted({r.get("commit", "?") for r in runs}))


def _cap(summary: dict[str, Any]) -> str:
    return ", ".join(summary["not_converged"]) or "none"


def write_summary(study: Study) -> Path:
    """Write ``summary.md``, ``summary.json`` and ``learning_curves.png`` next to the result files."""
    runs = load_runs(study.out)
    summary, schedule = convergence_summary(runs), study.schedule
    text = "\n\n".join([
        "# The comparison at convergence",
        results_markdown(runs, study),
        bullets(verdict_sentences(runs, study)),
        f"{summary['early_stopped']} of {summary['learned_runs']} learned runs stopped early "
        f"(validation SDR, or a source prior's validation loss, flat for {schedule.patience} "
        f"epochs of {schedule.epoch_steps} steps); the longest-trained network used "
        f"{summary['max_steps_used']:,} of the {schedule.max_steps:,} allowed steps. "
        f"Compute: {summary['wall_hours']:.1f} h of run time, {summary['cpu_hours']:.1f} CPU-hours."
        " "
        f"Stopped by the cap instead: {_cap(summary)}. Diverged (recorded, never selected): "
        f"{', '.join(summary['diverged']) or 'none'}.",
        "## Tuning (speech, seed 0)",
        tuning_markdown(runs, study),
    ])
    atomic_write(study.out / "summary.md", text + "\n")
    write_json(study.out / "summary.json", summary_data(runs, study))
    figure = learning_curves_figure(runs, study)
    atomic_write(study.out / "learning_curves.png", lambda tmp: figure.savefig(tmp, dpi=110, format="png"))
    return study.out / "summary.md"


def readme_block(study: Study) -> str:
    """The study's table, verdict and state for README, with the commits of its runs."""
    runs = load_runs(study.out)
    summary = convergence_summary(runs)
    remaining = len(pending(study))
    state = ("complete" if not remaining
             else f"**in progress**: {remaining} runs still to do (more become due as tuning grids finish)")
    return "\n\n".join([
        results_markdown(runs, study),
        bullets(verdict_sentences(runs, study)) or "(no verdict yet)",
        f"_Mean test SDR in dB ± std over training seeds, from `results/converged/` ({len(runs)} result "
        f"files, commits {_commits(runs)}); the study is {state}. {summary['early_stopped']} of "
        f"{summary['learned_runs']} learned runs stopped early (the cap stopped: {_cap(summary)}), "
        f"the longest after {summary['max_steps_used']:,} of {study.schedule.max_steps:,} allowed "
        "steps; "
        f"{summary['cpu_hours']:.1f} CPU-hours {'so far' if remaining else 'in all'}. Every row is "
        "the configuration selected by validation SDR (`results/converged/summary.md` lists the grid)._",
    ])


def comparison_markdown(runs: Runs, study: Study) -> str:
    """The matched-budget view as ``vaesep compare`` saves it: headline, verdict, methods, every condition."""
    from vaesep.compare.methods import methods_markdown

    how = "shipped models, seed 0" if study.shipped else study.schedule.describe()
    parts = [
        "## Baselines vs the VAE at a matched budget (notebook 04)",
        results_markdown(runs, study),
        f"_Mean test SDR in dB ± std over training seeds; {how}; {len(runs)} result files in `{study.out}`, "
        f"commits {_commits(runs)}; {convergence_summary(runs)['cpu_hours']:.2f} CPU-hours._",
        "**Does the VAE beat the best baseline by ~2 dB here?**",
        bullets(verdict_sentences(runs, study)) or "(no condition has both a VAE and a baseline)",
        "What the one-ingredient contrasts say (mean SDR differences): "
        + ("; ".join(contrast_sentences(runs, study)) or "no pair of them was run") + ".",
        "### Methods",
        methods_markdown(study.methods),
    ]
    for condition in _gaps(condition_stats(runs, study), study):
        parts += [condition_markdown(runs, study, condition), condition_markdown(runs, study, condition, MEDIANS)]
    return "\n\n".join(parts)
