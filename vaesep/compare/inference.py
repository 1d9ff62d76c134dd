"""What inference buys and costs: SDR and real-time factor against the number of iterations.

Separation by inference (:mod:`vaesep.models.generative`) can refine the encoders' guess for
any number of iterations. Notebook 06 ("One mixture, three answers", "What inference costs",
"The verdict") and ``benchmarks/bench_inference.py`` call these.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaesep.compare.report import SeedStat, condition_stats, load_runs, selected_runs
from vaesep.compare.study import converged_study
from vaesep.data import BuiltDataset
from vaesep.evaluate import separate_split
from vaesep.files import markdown_table, project_dir, read_json
from vaesep.metrics import evaluate_batch
from vaesep.models import GenerativeNetwork, NeuralSeparator
from vaesep.models.generative import Inference
from vaesep.spectral import apply_masks, joint_soft_mask, normalise_level, stft

ITERATIONS: tuple[int, ...] = (0, 10, 50, 200)  # the counts measured (issue 13)


def iteration_curve(network: GenerativeNetwork, dataset: BuiltDataset, split: str = "test",
                    iterations: Sequence[int] = ITERATIONS, *, max_items: int | None = None,
                    progress: bool = False) -> list[dict[str, Any]]:
    """Per number of iterations, the scores of ``split`` and the time of the separation alone;
    ``rtf``: wall seconds per second of audio."""
    rows = []
    for count in iterations:
        separator = NeuralSeparator(network.with_iterations(count), name=f"generative ({count} it.)")
        wall, cpu = time.perf_counter(), time.process_time()
        references, estimates, mixtures = separate_split(separator, dataset, split,
                                                         max_items=max_items, progress=progress)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        summary = evaluate_batch(references, estimates, mixtures, source_names=dataset.source_names,
                                 progress=False).summary()
        audio_seconds = mixtures.size / dataset.sample_rate
        rows.append({
            "iterations": int(count), "sdr_mean": float(summary["overall"]["sdr_mean"]),
            **{f"sdr_{name}": float(stats["sdr_mean"]) for name, stats in summary["per_source"].items()},
            "seconds": wall, "cpu_seconds": cpu, "audio_seconds": audio_seconds, "rtf": wall / audio_seconds,
            "threads": torch.get_num_threads(),
        })
    return rows


def iteration_markdown(rows: list[dict[str, Any]], title: str = "") -> str:
    """The rows of :func:`iteration_curve` as a Markdown table."""
    sources = [key.removeprefix("sdr_") for key in rows[0] if key.startswith("sdr_") and key != "sdr_mean"]
    header = ["iterations", "SDR (dB)", *(f"SDR {s}" for s in sources), "real-time factor"]
    cells = [[str(row["iterations"]), f"{row['sdr_mean']:.2f}", *(f"{row[f'sdr_{s}']:.2f}" for s in sources),
              f"{row['rtf']:.3f}"] for row in rows]
    return (f"**{title}**\n\n" if title else "") + markdown_table(header, cells, "r" * len(header))


@torch.no_grad()
def infer_item(network: GenerativeNetwork, mixture: np.ndarray, iterations: int) -> tuple[np.ndarray, Inference]:
    """Separate one 16 kHz mixture as ``NeuralSeparator(network).separate`` does, keeping the
    :class:`~vaesep.models.generative.Inference`; estimates are ``(n_sources, n_samples)``."""
    scaled, gain = normalise_level(np.asarray(mixture, dtype=np.float32))  # the level the priors were trained at
    spectrum = stft(torch.from_numpy(scaled))  # (n_frames, n_bins)
    inference = network.infer(spectrum.abs()[None], iterations)
    masks = joint_soft_mask(inference.variances[0], source_axis=0)  # the Wiener filter
    return (apply_masks(masks, spectrum, len(mixture)).numpy() / gain).astype(np.float32), inference


def inference_verdict(curves: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """One sentence per label of ``curves`` (rows of :func:`iteration_curve`): refined vs guess, and cost."""
    sentences = []
    for label, rows in curves.items():
        by_count = {row["iterations"]: row for row in rows}
        start = by_count[0]
        best = max(rows, key=lambda row: row["sdr_mean"])
        gain = best["sdr_mean"] - start["sdr_mean"]
        answer = (f"inference beats the encoders' guess by {gain:.2f} dB at {best['iterations']} iterations"
                  if best["iterations"] else "no number of iterations beats the encoders' guess")
        costs = ", ".join(f"{row['rtf']:.3f} at {row['iterations']}" for row in rows)
        sentences.append(
            f"{label}: the encoders' guess scores {start['sdr_mean']:.2f} dB SDR; {answer}; after "
            f"{rows[-1]['iterations']} iterations it scores {rows[-1]['sdr_mean']:.2f} dB. "
            f"Real-time factor on {start['threads']} thread(s): {costs}."
        )
    return sentences


# where training and test differ: unseen speakers, unseen levels, unseen noise
SHIFTED_CONDITIONS: tuple[str, ...] = ("czech", "dutch-5db", "dutch+5db", "noise")


def study_comparison(root: str | Path = "results/converged") -> list[str]:
    """Per shifted condition, the generative method's mean test SDR against the best mixture-trained
    method (and, for speech, each one's drop from Dutch 0 dB), then against the best other method
    that never sees a mixture in training (NMF, the authors' clean-trained VAEs); empty without
    generative runs."""
    study = converged_study(root)
    stats = condition_stats(load_runs(root), study)
    learned = [m for m in study.methods if m.group in ("vae", "baseline")]
    on_mixtures = {m.name for m in learned if m.trained_on_mixtures}
    on_clean = {m.name for m in learned if not m.trained_on_mixtures}
    sentences = []
    for condition in (c for c in SHIFTED_CONDITIONS if "generative" in stats.get(c, {})):
        row = stats[condition]
        trained = {m: s for m, s in row.items() if m in on_mixtures}
        if not trained:
            continue
        best = max(trained, key=lambda m: trained[m].mean)
        mine, theirs = row["generative"], trained[best]
        text = (f"{condition}: generative {mine.cell()} dB over {len(mine.values)} seed(s), best "
                f"mixture-trained ({best}) {theirs.cell()} dB, difference {mine.mean - theirs.mean:+.2f} dB")
        matched = stats.get("dutch", {})
        if condition != "noise" and "generative" in matched and best in matched:
            text += (f"; drop from Dutch 0 dB: generative {matched['generative'].mean - mine.mean:.2f} dB, "
                     f"{best} {matched[best].mean - theirs.mean:.2f} dB")
        clean = {m: s for m, s in row.items() if m in on_clean}
        if clean:
            other = max(clean, key=lambda m: clean[m].mean)
            text += f"; best other method trained on clean audio only ({other}) {clean[other].cell()} dB"
        sentences.append(text + ".")
    return sentences


# README's answers to notebook 06's questions (`vaesep study --readme`), and the committed run of
# benchmarks/bench_inference.py on the selected generative model (relative to the checkout)
INFERENCE_START, INFERENCE_END = "<!-- vaesep-inference:start -->", "<!-- vaesep-inference:end -->"
COST_BENCHMARK = "benchmarks/results/inference-speech-test.json"


def readme_block(root: str | Path = "results/converged", cost: str | Path | None = None) -> str:
    """README's answers to the three questions of issue 13, from the study's selected generative
    runs (every seed and domain) and the committed cost benchmark; nothing typed by hand."""
    study = converged_study(root)
    runs = selected_runs(load_runs(root), study, "generative")
    if not runs:
        return "_The study's generative runs are not all finished yet (`vaesep study`): no answer so far._"
    cost = Path(cost) if cost is not None else project_dir() / COST_BENCHMARK
    seeds = f"{sorted({r['iterations'] for r in runs})} iterations selected on validation SDR"
    gains = []
    for condition in dict.fromkeys(c for r in runs for c in r["test"]):  # every domain's conditions, in order
        scored = [r for r in runs if condition in r["test"] and condition in r.get("test_amortised", {})]
        refined = SeedStat.of([r["test"][condition]["sdr_mean"] for r in scored])
        guess = SeedStat.of([r["test_amortised"][condition]["sdr_mean"] for r in scored])
        gains.append(f"{condition} {refined.cell()} against {guess.cell()} dB ({refined.mean - guess.mean:+.2f}, "
                     f"{len(scored)} seed(s))")
    tuned = [r for r in runs if r["domain"] == study.domains[0]]  # the validation curve of the tuning domain
    curve = ", ".join(f"{SeedStat.of([r['valid_sdr_by_iterations'][n] for r in tuned]).cell()} dB at {n}"
                      for n in sorted(tuned[0]["valid_sdr_by_iterations"], key=int)) if tuned else "—"
    answers = [
        f"1. **Does inference beat the encoders' guess?** Test SDR after inference against the encoders' "
        f"guess alone ({seeds}): {'; '.join(gains)}. Validation SDR against iterations ({study.domains[0]}): "
        f"{curve}.",
        "2. **Does it hold up better where training and test differ?** "
        + (" ".join(study_comparison(root)) or "No shifted condition has both kinds of runs yet."),
    ]
    if cost.is_file():
        bench = read_json(cost)
        rows = bench["rows"]
        answers.append(
            f"3. **What does it cost?** On {bench['data']}/{bench['split']} ({rows[0]['threads']} thread(s), load "
            f"average {bench['load']:.1f}, commit {bench['commit']}): real-time factor "
            + ", ".join(f"{row['rtf']:.3f}" for row in rows) + " and CPU seconds per second of audio "
            + ", ".join(f"{row['cpu_seconds'] / row['audio_seconds']:.3f}" for row in rows)
            + f" at {', '.join(str(row['iterations']) for row in rows)} iterations.")
    else:
        answers.append(f"3. **What does it cost?** Not measured yet: run `benchmarks/bench_inference.py` into {cost}.")
    return "\n".join(answers)
