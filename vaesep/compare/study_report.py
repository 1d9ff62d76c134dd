"""Tables, learning curves and the verdict of the convergence study, from its result files.

Notebook 04, section "At convergence", and README's comparison block show
what these functions print; every number comes from the files
:mod:`vaesep.compare.study` wrote, none is typed by hand.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from vaesep.compare.conditions import get_condition
from vaesep.compare.study import (
    DOMAIN_CONDITIONS,
    ORACLE_METHODS,
    STUDY_METHODS,
    StudyConfig,
    config_id,
    get_study_method,
    pending,
    tuning_runs,
    winner,
)
from vaesep.compare.tables import Gap, SeedStat

VAE_FAMILY: tuple[str, ...] = ("vae", "vae-unit", "vae-large", "vae-authors")
"""The paper's proposal in its variants; the verdict takes the best of them per condition."""

BASELINES: tuple[str, ...] = ("nmf", "dnn", "drnn", "ae")
"""What the paper compares with: DNN and RNN with different masking functions, and autoencoders (NMF besides)."""

README_START = "<!-- vaesep-study:start -->"
README_END = "<!-- vaesep-study:end -->"
"""Markers around the README block that ``vaesep study --readme README.md`` rewrites."""

CONDITION_ORDER: tuple[str, ...] = ("dutch", "czech", "dutch-5db", "dutch+5db", "chorales", "noise")


def load_runs(root: str | Path = "results/converged") -> list[dict[str, Any]]:
    """Every finished run's result file under ``root``."""
    return [json.loads(path.read_text()) for path in sorted(Path(root).glob("*/*/*.json"))]


def _winning_runs(runs: list[dict[str, Any]], study: StudyConfig, method: str) -> list[dict[str, Any]]:
    """The runs of ``method``'s selected configuration (every seed and domain)."""
    if method in ORACLE_METHODS:
        return [run for run in runs if run["method"] == method]
    config = winner(study, method)
    return [run for run in runs if run["method"] == method and config is not None and run["config"] == config]


def condition_stats(
    runs: list[dict[str, Any]], study: StudyConfig, statistic: str = "sdr_mean"
) -> dict[str, dict[str, SeedStat]]:
    """``{condition: {method: SeedStat over seeds}}`` for the winners and the oracle rows."""
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for method in (*ORACLE_METHODS, *study.methods):
        for run in sorted(_winning_runs(runs, study, method), key=lambda r: r["seed"]):
            for condition, scores in run["test"].items():
                table[condition][method].append(scores[statistic])
    return {c: {m: SeedStat.of(v) for m, v in per.items()} for c, per in table.items()}


def best_gap(stats: dict[str, SeedStat], condition: str, statistic: str = "sdr_mean") -> Gap | None:
    """The best VAE variant against the best baseline on one condition (by mean over seeds)."""
    mine = {m: s for m, s in stats.items() if m in VAE_FAMILY}
    theirs = {m: s for m, s in stats.items() if m in BASELINES}
    if not mine or not theirs:
        return None
    proposed = max(mine, key=lambda m: mine[m].mean)
    baseline = max(theirs, key=lambda m: theirs[m].mean)
    p, b = mine[proposed], theirs[baseline]
    n = min(len(p.values), len(b.values))
    error = math.sqrt(p.std**2 / len(p.values) + b.std**2 / len(b.values)) if n > 1 else math.nan
    return Gap(condition, statistic, proposed, baseline, p.mean, p.std, b.mean, b.std, p.mean - b.mean, error, n)


def results_markdown(runs: list[dict[str, Any]], study: StudyConfig) -> str:
    """Mean ± std test SDR over seeds per method and condition, with the selected configuration."""
    stats = condition_stats(runs, study)
    conditions = [c for c in CONDITION_ORDER if c in stats]
    header = "| method | selected configuration | seeds | " + " | ".join(f"{c} SDR" for c in conditions) + " |"
    lines = [header, "|---|---|---:|" + "---:|" * len(conditions)]
    for method in (*ORACLE_METHODS, *study.methods):
        if not any(method in stats[c] for c in conditions):
            continue
        config = "—" if method in ORACLE_METHODS else config_id(winner(study, method) or {})
        seeds = max((len(stats[c][method].values) for c in conditions if method in stats[c]), default=0)
        cells = [stats[c][method].cell() if method in stats[c] else "—" for c in conditions]
        seeds_cell = "—" if method in ORACLE_METHODS else str(seeds)  # oracles are deterministic
        lines.append(f"| {method} | {config} | {seeds_cell} | " + " | ".join(cells) + " |")
    gaps = [best_gap(stats[c], c) for c in conditions]
    lines.append(
        "| **best VAE − best baseline** | | | "
        + " | ".join(f"{g.gap:+.2f} ({g.proposed} vs {g.baseline})" if g else "—" for g in gaps)
        + " |"
    )
    return "\n".join(lines)


def tuning_markdown(runs: list[dict[str, Any]], study: StudyConfig) -> str:
    """Every configuration tried on speech (seed 0): validation SDR, steps to its best, why it stopped."""
    by_path = {(r["method"], config_id(r.get("config", {})), r["domain"], r["seed"]): r for r in runs}
    lines = [
        "| method | configuration | valid SDR | steps to best | stopped | train time | selected |",
        "|---|---|---:|---:|---|---:|:---:|",
    ]
    for run in tuning_runs(study):
        result = by_path.get((run.method, config_id(run.settings), "speech", 0))
        if result is None:
            lines.append(f"| {run.method} | {config_id(run.settings)} | (running or to do) | | | | |")
            continue
        chosen = "✓" if winner(study, run.method) == result["config"] else ""
        steps = "—" if result.get("steps_to_best") is None else f"{result['steps_to_best']:,}"
        minutes = result.get("train_wall_seconds", result.get("wall_seconds", 0)) / 60
        valid = "—" if result["valid_sdr"] is None else f"{result['valid_sdr']:.2f}"
        lines.append(
            f"| {run.method} | {config_id(run.settings)} | {valid} | {steps} | "
            f"{result['stopped']} | {minutes:.1f} min | {chosen} |"
        )
    return "\n".join(lines)


def convergence_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """How many learned runs stopped early (converged) and which did not."""
    learned = [r for r in runs if r.get("kind") not in ("oracle", "nmf")]
    diverged = [r for r in learned if r["stopped"] == "diverged"]
    learned = [r for r in learned if r["stopped"] != "diverged"]
    not_converged = [
        f"{r['domain']}/{r['method']}/{config_id(r['config'])}/seed{r['seed']}" for r in learned
        if r["stopped"] != "early_stopping"
    ]
    steps = [r["steps_total"] for r in learned]
    return {
        "learned_runs": len(learned),
        "early_stopped": len(learned) - len(not_converged),
        "not_converged": not_converged,
        "diverged": [f"{r['method']}/{config_id(r['config'])}/seed{r['seed']}" for r in diverged],
        "max_steps_used": max(steps, default=0),
        "wall_hours": sum(r.get("wall_seconds", 0) for r in runs) / 3600,
        "cpu_hours": sum(r.get("cpu_seconds", 0) for r in runs) / 3600,
    }


def verdict_sentences(runs: list[dict[str, Any]], study: StudyConfig, claim_db: float = 2.0) -> list[str]:
    """One computed sentence per condition: best VAE variant vs best baseline, with the seed spread."""
    stats = condition_stats(runs, study)
    sentences = []
    for condition in (c for c in CONDITION_ORDER if c in stats):
        gap = best_gap(stats[condition], condition)
        if gap is None:
            continue
        spread = "" if not math.isfinite(gap.standard_error) else f" ± {gap.standard_error:.2f} (1 s.e.)"
        sentences.append(
            f"{get_condition(condition).title}: best VAE {gap.proposed} "
            f"{SeedStat(gap.proposed_mean, gap.proposed_std, ()).cell()} dB, best baseline {gap.baseline} "
            f"{SeedStat(gap.baseline_mean, gap.baseline_std, ()).cell()} dB; gap {gap.gap:+.2f}{spread} dB over "
            f"{gap.n_seeds} seed(s): {gap.verdict(claim_db)}."
        )
    return sentences


def learning_curves_figure(runs: list[dict[str, Any]], study: StudyConfig, domain: str = "speech"):
    """Validation SDR against optimizer steps (log axis) for each method's selected run, seed 0.

    The committed 200-step comparison is the left edge of these curves; the
    dots mark where early stopping found each run's best.
    """
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for method in study.methods:
        chosen = [r for r in _winning_runs(runs, study, method) if r["domain"] == domain and r["seed"] == 0]
        if not chosen or not chosen[0].get("curve"):
            continue
        steps, sdr = zip(*chosen[0]["curve"], strict=True)
        style = "-" if method in VAE_FAMILY else "--"
        (line,) = axis.plot(steps, sdr, style, label=method)
        best = chosen[0]["steps_to_best"]
        axis.plot([best], [sdr[steps.index(best)]], "o", color=line.get_color())
    axis.axvline(200, color="grey", linewidth=0.8)
    axis.text(205, axis.get_ylim()[0], " 200 steps: the matched-budget table", color="grey", va="bottom")
    axis.set(xscale="log", xlabel="optimizer steps (32 one-second mixtures each)", ylabel="validation SDR (dB)",
             title=f"Learning curves, {domain}, seed 0: dashed baselines, solid VAEs; dots = best")
    if axis.get_legend_handles_labels()[0]:  # no curves yet while the study's first runs train
        axis.legend(ncol=2, fontsize=8)
    figure.tight_layout()
    return figure


def readme_block(study: StudyConfig) -> str:
    """The study's table, verdict and state for README, with the commits of its runs."""
    runs = load_runs(study.out)
    summary = convergence_summary(runs)
    commits = sorted({run.get("commit", "?") for run in runs})
    remaining = len(pending(study))
    state = (
        "complete" if not remaining
        else f"**in progress**: {remaining} runs still to do (more become due as tuning grids finish)"
    )
    return "\n\n".join(
        [
            results_markdown(runs, study),
            "\n".join(f"* {sentence}" for sentence in verdict_sentences(runs, study)) or "(no verdict yet)",
            f"_Mean test SDR in dB ± std over training seeds, from `results/converged/` ({len(runs)} result "
            f"files, commits {', '.join(commits)}); the study is {state}. {summary['early_stopped']} of "
            f"{summary['learned_runs']} learned runs stopped early, the longest after "
            f"{summary['max_steps_used']:,} of {study.max_epochs * study.epoch_steps:,} allowed steps; "
            f"{summary['cpu_hours']:.1f} CPU-hours so far. Every row is the configuration selected by "
            "validation SDR (`results/converged/summary.md` lists the grid)._",
        ]
    )


def write_summary(study: StudyConfig | None = None) -> Path:
    """Write ``summary.md``, ``summary.json`` and ``learning_curves.png`` next to the result files."""
    study = study or StudyConfig()
    runs = load_runs(study.out)
    stats = condition_stats(runs, study)
    summary = convergence_summary(runs)
    text = "\n\n".join(
        [
            "# The comparison at convergence",
            results_markdown(runs, study),
            "\n".join(f"* {sentence}" for sentence in verdict_sentences(runs, study)),
            f"{summary['early_stopped']} of {summary['learned_runs']} learned runs stopped early "
            f"(validation SDR flat for {study.patience} epochs of {study.epoch_steps} steps); the longest used "
            f"{summary['max_steps_used']:,} of the {study.max_epochs * study.epoch_steps:,} allowed steps. "
            f"Compute: {summary['wall_hours']:.1f} h of run time, {summary['cpu_hours']:.1f} CPU-hours. "
            f"Diverged (recorded, never selected): {', '.join(summary['diverged']) or 'none'}.",
            "## Tuning (speech, seed 0)",
            tuning_markdown(runs, study),
        ]
    )
    (study.out / "summary.md").write_text(text + "\n", encoding="utf-8")
    payload = {
        "convergence": summary,
        "winners": {m: winner(study, m) for m in study.methods},
        "stats": {c: {m: s.__dict__ for m, s in per.items()} for c, per in stats.items()},
        "verdict": verdict_sentences(runs, study),
        "methods": {m.name: m.description for m in STUDY_METHODS},
        "conditions": DOMAIN_CONDITIONS,
    }
    (study.out / "summary.json").write_text(json.dumps(payload, indent=1, default=str) + "\n", encoding="utf-8")
    learning_curves_figure(runs, study).savefig(study.out / "learning_curves.png", dpi=110)
    return study.out / "summary.md"


__all__ = ["get_study_method", "load_runs", "results_markdown", "tuning_markdown", "verdict_sentences", "write_summary"]
