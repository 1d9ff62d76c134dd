"""What inference buys and costs: SDR and real-time factor against the number of iterations.

Separation by inference (:mod:`vaesep.models.generative`) has a knob no
other method has: how many iterations to refine the encoders' guess. This
measures, on one split, the SDR after 0, 10, 50 and 200 iterations and the
compute time per second of audio (the real-time factor). Notebook 06,
section "What inference costs", and ``benchmarks/bench_inference.py`` call it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from vaesep.data import BuiltDataset
from vaesep.evaluate import separate_split
from vaesep.metrics import evaluate_batch
from vaesep.models import GenerativeNetwork, NeuralSeparator

ITERATIONS: tuple[int, ...] = (0, 10, 50, 200)
"""The iteration counts of the measurement (issue 13)."""


def iteration_curve(
    network: GenerativeNetwork,
    dataset: BuiltDataset,
    split: str = "test",
    iterations: Sequence[int] = ITERATIONS,
    *,
    max_items: int | None = None,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Separate ``split`` with each number of inference iterations; score and time it.

    The time covers separation only (STFT, inference, Wiener filter, inverse
    STFT, in batches of 8 items as :func:`vaesep.evaluate.separate_split` does),
    on ``torch.get_num_threads()`` threads; scoring is not timed.

    Returns:
        one row per iteration count: ``iterations``, ``sdr_mean`` (all sources),
        ``sdr_<source>`` (mean per source), ``seconds`` (wall), ``cpu_seconds``,
        ``audio_seconds`` and ``rtf`` (wall seconds per second of audio).
    """
    rows = []
    for count in iterations:
        separator = NeuralSeparator(network.with_iterations(count), name=f"generative ({count} it.)")
        wall, cpu = time.perf_counter(), time.process_time()
        references, estimates, mixtures = separate_split(
            separator, dataset, split, max_items=max_items, progress=progress
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        summary = evaluate_batch(references, estimates, mixtures, source_names=dataset.source_names,
                                 progress=False).summary()
        audio_seconds = mixtures.size / dataset.sample_rate
        rows.append({
            "iterations": int(count),
            "sdr_mean": float(summary["overall"]["sdr_mean"]),
            **{f"sdr_{name}": float(stats["sdr_mean"]) for name, stats in summary["per_source"].items()},
            "seconds": wall,
            "cpu_seconds": cpu,
            "audio_seconds": audio_seconds,
            "rtf": wall / audio_seconds,
            "threads": torch.get_num_threads(),
        })
    return rows


def iteration_markdown(rows: list[dict[str, Any]], title: str = "") -> str:
    """The rows of :func:`iteration_curve` as a Markdown table."""
    sources = [key.removeprefix("sdr_") for key in rows[0] if key.startswith("sdr_") and key != "sdr_mean"]
    header = "| iterations | SDR (dB) | " + " | ".join(f"SDR {s}" for s in sources) + " | real-time factor |"
    lines = ([f"**{title}**", ""] if title else []) + [header, "|---:|---:|" + "---:|" * len(sources) + "---:|"]
    for row in rows:
        cells = " | ".join(f"{row[f'sdr_{s}']:.2f}" for s in sources)
        lines.append(f"| {row['iterations']} | {row['sdr_mean']:.2f} | {cells} | {row['rtf']:.3f} |")
    return "\n".join(lines)
