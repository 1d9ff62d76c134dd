"""Training throughput: spectrogram frames per second of :func:`vaesep.train.train`, per method.

The figure is the trainer's own ``history["frames_per_second"]``: frames of
mixture spectrogram consumed by gradient steps, divided by the epoch's wall
time (which includes drawing the dynamic mixtures, their STFTs, and the
validation pass at the end of the epoch). The first epoch is a warm-up; the
median over the remaining epochs is reported. :func:`_step_timing` times the
inner step alone, the old waveform pipeline against the current one, in one run.

The reference configuration is ``TrainConfig()``'s batch (32 segments of
1 s, so 32 × 63 = 2016 frames per step) with each method's default network
(``VAEConfig()`` for the VAE). NMF is not trained by gradient steps: its
figure is training frames × update iterations per second of :func:`fit_nmf`.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from common import dataset_for

FALLBACK_METHODS = {
    "vae": ("vae", {}),
    "ae": ("vae", {"deterministic": True}),
    "vae-shared": ("vae", {"variant": "shared"}),
    "dnn": ("dnn", {"gamma": 0.0}),
    "drnn": ("drnn", {"gamma": 0.0, "recurrent_layer": 2}),
    "nmf": ("nmf", {"n_components": 32, "divergence": "kl", "iterations": 50}),
}


def method_spec(name: str) -> tuple[str, dict[str, Any]]:
    """``(network kind, config options)`` of a comparison method (``vaesep.compare`` if present)."""
    try:
        from vaesep.compare.methods import MATCHED_METHODS, get_method

        method = get_method(name, MATCHED_METHODS)
        return method.kind, dict(method.options)
    except (ImportError, ValueError):
        if name not in FALLBACK_METHODS:
            raise ValueError(f"unknown method {name!r}; known: {sorted(FALLBACK_METHODS)}") from None
        return FALLBACK_METHODS[name]


def build_network(kind: str, options: dict[str, Any], source_names: tuple[str, ...]):
    from vaesep.models import network_classes

    network_class = network_classes()[kind]
    return network_class(network_class.config_class(source_names=tuple(source_names), **options))


def _step_timing(network, dataset, config, steps: int) -> dict[str, float]:
    """Frames/s of one training step, four ways, measured in the same process one after another.

    * ``waveform_fp32``: how ``train()`` drew batches before: waveform segments
      (:func:`vaesep.data.random_segments`), their STFTs, a float32 step;
    * ``plain_fp32``: a float32 step on one ready-made batch (no data work at all);
    * ``spectral_fp32`` / ``spectral_bf16``: batches cut from the precomputed stream
      spectra (:class:`vaesep.batches.StreamSpectra`), then a float32 or bfloat16 step,
      as ``train()`` does now.

    Ratios between them are comparable; the absolute figures move with the machine's load.
    """
    import torch

    from vaesep import data as datasets
    from vaesep.batches import SpectralBatch, StreamSpectra, spectrogram_batch
    from vaesep.train import train_step

    network.train()
    optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    spectra = StreamSpectra([dataset.streams("train")[name] for name in dataset.source_names])
    n_frames = int(config.segment_seconds * 16_000) // 256 + 1
    rng = np.random.default_rng([config.seed, 99])

    def waveform_batch() -> SpectralBatch:
        segments = datasets.random_segments(
            dataset, "train", config.batch_segments, config.segment_seconds, rng=rng, snr_db=dataset.snr_db
        )
        return SpectralBatch(*spectrogram_batch(segments, torch.device("cpu")))

    ready = spectra.draw(rng, config.batch_segments, n_frames)
    variants = {
        "waveform_fp32": (waveform_batch, "float32"),
        "plain_fp32": (lambda: ready, "float32"),
        "spectral_fp32": (lambda: spectra.draw(rng, config.batch_segments, n_frames), "float32"),
        "spectral_bf16": (lambda: spectra.draw(rng, config.batch_segments, n_frames), "bfloat16"),
    }
    out: dict[str, float] = {}
    for name, (draw, precision) in variants.items():
        walls = []
        for step in range(steps + 1):
            wall = time.perf_counter()
            batch = draw()
            train_step(network, optimizer, batch, epoch=0, grad_clip=config.grad_clip, precision=precision)
            if step:  # the first step is a warm-up
                walls.append(time.perf_counter() - wall)
        out[f"{name}_frames_per_second"] = batch.n_frames / statistics.median(walls)
    out["speed_up_vs_waveform"] = out["spectral_bf16_frames_per_second"] / out["waveform_fp32_frames_per_second"]
    out["speed_up_vs_plain"] = out["spectral_bf16_frames_per_second"] / out["plain_fp32_frames_per_second"]
    return out


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Params: ``method``, ``data`` (data set name), ``epochs``, ``steps``, ``step_repeats``."""
    import torch

    from vaesep.files import count_parameters
    from vaesep.train import TrainConfig, train

    name = params.get("method", "vae")
    kind, options = method_spec(name)
    dataset = dataset_for(params.get("data", "synthetic"), fast=True) or dataset_for("synthetic")
    out: dict[str, Any] = {"method": name, "kind": kind, "data": dataset.name, "options": options}
    if kind == "nmf":
        from vaesep.models import NMFConfig, fit_nmf

        seconds = float(params.get("nmf_seconds", 120.0))
        iterations = int(params.get("nmf_iterations", 100))
        runs = []
        for _ in range(max(1, int(params.get("repeats", 1)))):
            wall, cpu = time.perf_counter(), time.process_time()
            fit = fit_nmf(dataset, NMFConfig(**options), seconds_per_source=seconds, iterations=iterations)
            runs.append((time.perf_counter() - wall, time.process_time() - cpu))
        frames = dataset.n_sources * int(round(seconds * 16_000 / 256))
        wall = statistics.median(r[0] for r in runs)
        out.update(
            {
                "frames_per_second": frames * iterations / wall,
                "fit_wall_s": wall,
                "fit_cpu_s": statistics.median(r[1] for r in runs),
                "unit": "training frames × update iterations per second",
                "nmf_seconds_per_source": seconds,
                "nmf_iterations": iterations,
                "epoch_frames_per_second": [],
                "n_parameters": count_parameters(fit.network),
            }
        )
        return out

    config = TrainConfig(
        epochs=int(params.get("epochs", 3)),
        steps_per_epoch=int(params.get("steps", 10)),
        seed=0,
        patience=10_000,
        # as the convergence study trains them (vaesep.compare.study): bf16 where it was checked
        precision=params.get("precision") or ("bfloat16" if kind == "vae" else "float32"),
    )
    network = build_network(kind, options, dataset.source_names)
    wall, cpu = time.perf_counter(), time.process_time()
    result = train(network, dataset, config, progress=False, device="cpu")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_epoch = result.history["frames_per_second"]
    later = per_epoch[1:] or per_epoch
    frames = config.epochs * config.steps_per_epoch * config.batch_segments * (
        int(config.segment_seconds * 16_000) // 256 + 1
    )
    out.update(
        {
            "frames_per_second": statistics.median(later),
            "epoch_frames_per_second": [round(v, 1) for v in per_epoch],
            "frames_per_cpu_second": frames / cpu,
            "train_wall_s": wall,
            "train_cpu_s": cpu,
            "train_config": {
                "precision": config.precision,
                "epochs": config.epochs,
                "steps_per_epoch": config.steps_per_epoch,
                "batch_segments": config.batch_segments,
                "segment_seconds": config.segment_seconds,
            },
            "n_parameters": count_parameters(network),
            "unit": "spectrogram frames per second",
        }
    )
    steps = int(params.get("step_repeats", 0))
    if steps:
        out.update(_step_timing(network, dataset, config, steps))
    out["torch_threads"] = torch.get_num_threads()
    return out
