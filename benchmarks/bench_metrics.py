"""Time BSS-eval on one minute of two-source 16 kHz audio: fast backend vs mir_eval.

Usage::

    python benchmarks/bench_metrics.py [--seconds 60] [--repeats 3]

Prints seconds per minute of audio (median of the repeats) for each backend
and the largest |fast - mir_eval| over SDR, SIR and SAR in dB. The signals
are synthetic voiced-speech stand-ins, and the estimates come from soft ratio
masks on the mixture STFT, so their SDR (~15-20 dB) is what a good separator
achieves.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.signal

from vaesep.metrics import bss_eval

SR = 16_000


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


def seconds_per_run(references: np.ndarray, estimates: np.ndarray, backend: str, repeats: int):
    """Median wall time over ``repeats`` runs, and the scores of the last run."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scores = bss_eval(references, estimates, backend=backend)
        times.append(time.perf_counter() - start)
    return statistics.median(times), scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length (default 60)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per backend (default 3)")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n_samples = int(args.seconds * SR)
    references = np.stack([voiced(n_samples, 120.0, rng), voiced(n_samples, 220.0, rng)])
    estimates = ratio_mask_estimates(references)
    # warm-up: imports, FFT plans and thread pools should not count as metric time
    bss_eval(references[:, :SR], estimates[:, :SR], backend="fast")
    bss_eval(references[:, :SR], estimates[:, :SR], backend="mir_eval")

    per_minute = 60.0 / args.seconds
    fast_time, fast = seconds_per_run(references, estimates, "fast", args.repeats)
    slow_time, slow = seconds_per_run(references, estimates, "mir_eval", args.repeats)
    difference = max(float(np.max(np.abs(fast[m] - slow[m]))) for m in ("sdr", "sir", "sar"))

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
