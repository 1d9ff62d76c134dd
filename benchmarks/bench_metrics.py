"""Time BSS-eval on one minute of two-source 16 kHz audio: fast backend vs mir_eval.

Usage (stand-alone; ``benchmarks/run.py`` calls :func:`measure` for its suite)::

    python benchmarks/bench_metrics.py [--seconds 60] [--repeats 3]

Two figures per backend, each in seconds per minute of two-source audio
(median of the repeats) with the largest |fast - mir_eval| in dB:

* ``one_item``: :func:`vaesep.metrics.bss_eval` on one item of ``seconds``
  (the issue's "one minute of two-source audio");
* ``items``: :func:`vaesep.metrics.evaluate_batch` on the same audio cut into
  4-s items, as :func:`vaesep.evaluate.evaluate_separator` scores a test
  split: per item the estimates *and* the mixture (for NSDR) are scored.

The signals are synthetic voiced-speech stand-ins, and the estimates come
from soft ratio masks on the mixture STFT, so their SDR (~15-20 dB) is what a
good separator achieves. With ``data="speech"`` the disagreement is also
checked on real test items of the speech set (ideal-ratio-mask estimates).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.signal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vaesep.metrics import bss_eval, evaluate_batch  # noqa: E402

SR = 16_000
ITEM_SECONDS = 4.0
COMPARED = ("sdr", "sir", "sar")
COMPARED_ITEMS = ("sdr", "sir", "sar", "nsdr", "mixture_sdr", "mixture_sir")


def voiced(n_samples: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A harmonic series with vibrato under a syllable-rate envelope, unit RMS."""
    t = np.arange(n_samples) / SR
    pitch = f0 * (1 + 0.06 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    harmonics = sum(np.sin(h * phase) / h for h in range(1, 25))
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(1, 3) * t), 0, None) ** 2
    signal = harmonics * envelope + 0.02 * rng.standard_normal(n_samples)
    return signal / np.sqrt(np.mean(signal**2))


def ratio_mask_estimates(references: np.ndarray) -> np.ndarray:
    """Shape ``(n_sources, n_samples)``: soft ratio masks applied to the mixture STFT."""
    stft = {"fs": SR, "nperseg": 1024, "noverlap": 768}
    _, _, sources = scipy.signal.stft(references, **stft)
    _, _, mixture = scipy.signal.stft(references.sum(axis=0), **stft)
    power = np.abs(sources) ** 2
    _, estimates = scipy.signal.istft(power / (power.sum(axis=0) + 1e-12) * mixture, **stft)
    return estimates[:, : references.shape[1]]


def signals(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """``(references, estimates)``, each ``(2, seconds · 16000)``, deterministic."""
    rng = np.random.default_rng(0)
    n_samples = int(seconds * SR)
    references = np.stack([voiced(n_samples, 120.0, rng), voiced(n_samples, 220.0, rng)])
    return references, ratio_mask_estimates(references)


def seconds_per_run(references: np.ndarray, estimates: np.ndarray, backend: str, repeats: int):
    """Median wall time over ``repeats`` runs, and the scores of the last run."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scores = bss_eval(references, estimates, backend=backend)
        times.append(time.perf_counter() - start)
    return statistics.median(times), scores


def _max_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray], keys) -> float:
    return max(float(np.nanmax(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in keys)


def _as_items(references: np.ndarray, estimates: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cut ``(2, n)`` signals into ``(n_items, 2, 4 s)`` items and their mixtures."""
    size = int(ITEM_SECONDS * SR)
    n_items = references.shape[1] // size
    cut = lambda x: x[:, : n_items * size].reshape(x.shape[0], n_items, size).transpose(1, 0, 2)  # noqa: E731
    item_references, item_estimates = cut(references), cut(estimates)
    return np.ascontiguousarray(item_references), np.ascontiguousarray(item_estimates), item_references.sum(axis=1)


def _item_scores(result) -> dict[str, np.ndarray]:
    return {key: np.array([row[key] for row in result.per_item]) for key in COMPARED_ITEMS}


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Params: ``seconds`` (audio length), ``repeats``, ``backends``, ``data`` (``speech`` adds a real-audio check)."""
    from common import dataset_for, strip_result, timed

    seconds = float(params.get("seconds", 60.0))
    repeats = int(params.get("repeats", 3))
    backends = list(params.get("backends", ["fast", "mir_eval"]))
    references, estimates = signals(seconds)
    # warm-up: imports, FFT plans and thread pools should not count as metric time
    for backend in backends:
        bss_eval(references[:, :SR], estimates[:, :SR], backend=backend)
    per_minute = 60.0 / seconds
    out: dict[str, Any] = {"seconds": seconds, "item_seconds": ITEM_SECONDS, "backends": backends}

    one_item: dict[str, Any] = {}
    for backend in backends:
        timing = timed(lambda b=backend: bss_eval(references, estimates, backend=b), repeats, warmup=0)
        scores = timing.pop("result")
        one_item[backend] = {
            **timing,
            "s_per_minute": timing["wall_s"] * per_minute,
            "cpu_s_per_minute": timing["cpu_s"] * per_minute,
            "sdr": np.round(scores["sdr"], 3).tolist(),
            "scores": scores,
        }
    if {"fast", "mir_eval"} <= set(backends):
        one_item["max_abs_diff_db"] = _max_difference(
            one_item["fast"]["scores"], one_item["mir_eval"]["scores"], COMPARED
        )
    for backend in backends:
        one_item[backend].pop("scores")
    out["one_item"] = one_item

    item_refs, item_ests, item_mixes = _as_items(references, estimates)
    items: dict[str, Any] = {"n_items": int(item_refs.shape[0])}
    scored = {}
    for backend in backends:
        timing = timed(
            lambda b=backend: evaluate_batch(item_refs, item_ests, item_mixes, backend=b), repeats, warmup=0
        )
        scored[backend] = _item_scores(timing.pop("result"))
        items[backend] = {
            **timing,
            "s_per_minute": timing["wall_s"] * 60.0 / (item_refs.shape[0] * ITEM_SECONDS),
            "cpu_s_per_minute": timing["cpu_s"] * 60.0 / (item_refs.shape[0] * ITEM_SECONDS),
        }
    if {"fast", "mir_eval"} <= set(backends):
        items["max_abs_diff_db"] = _max_difference(scored["fast"], scored["mir_eval"], COMPARED_ITEMS)
    out["items"] = items

    dataset = dataset_for(params["data"], fast=True) if params.get("data") == "speech" else None
    if dataset is not None and {"fast", "mir_eval"} <= set(backends):
        from vaesep.spectral import apply_masks, ideal_ratio_mask, stft

        refs = np.asarray(dataset.sources("test"), dtype=np.float32)[: int(params.get("speech_items", 6))]
        mixes = refs.sum(axis=1)
        spectra = stft(refs)
        ests = apply_masks(ideal_ratio_mask(np.abs(spectra)), stft(mixes), refs.shape[-1])
        real = {}
        timings = {}
        for backend in ("fast", "mir_eval"):
            timing = timed(lambda b=backend: evaluate_batch(refs, ests, mixes, backend=b), 1, warmup=0)
            real[backend] = _item_scores(timing.pop("result"))
            timings[backend] = strip_result(timing)
        out["speech_items"] = {
            "n_items": int(refs.shape[0]),
            "estimates": "ideal ratio mask",
            "max_abs_diff_db": _max_difference(real["fast"], real["mir_eval"], COMPARED_ITEMS),
            **timings,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per backend (default 3)")
    args = parser.parse_args()

    references, estimates = signals(args.seconds)
    # warm-up: imports, FFT plans and thread pools should not count as metric time
    bss_eval(references[:, :SR], estimates[:, :SR], backend="fast")
    bss_eval(references[:, :SR], estimates[:, :SR], backend="mir_eval")

    per_minute = 60.0 / args.seconds
    fast_time, fast = seconds_per_run(references, estimates, "fast", args.repeats)
    slow_time, slow = seconds_per_run(references, estimates, "mir_eval", args.repeats)
    difference = _max_difference(fast, slow, COMPARED)

    print(f"two sources, {args.seconds:g} s at {SR} Hz, median of {args.repeats} runs")
    print(f"SDR of the estimates: {np.round(fast['sdr'], 2).tolist()} dB\n")
    print("| backend  | s per minute of audio | speed-up | max abs diff (dB) |")
    print("|----------|----------------------:|---------:|------------------:|")
    print(
        f"| fast     | {fast_time * per_minute:21.3f} | {slow_time / fast_time:7.1f}x | {difference:17.2e} |"
    )
    print(f"| mir_eval | {slow_time * per_minute:21.3f} | {1.0:7.1f}x | {'(reference)':>17} |")


if __name__ == "__main__":
    main()
