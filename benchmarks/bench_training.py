"""Training throughput: spectrogram frames per second of :func:`vaesep.train.train`, per method.

The figure is the trainer's own ``history["frames_per_second"]`` (mixture frames consumed by
gradient steps over the epoch's wall time, drawing and validation included), the median
over the epochs after the first. The reference is ``TrainConfig()``'s batch (32 × 63 frames)
with each method's default network; NMF's figure is training frames × update iterations
per second of :func:`fit_nmf`. :func:`_step_timing` times the step alone, four ways.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from common import dataset_for


def build_network(name: str, source_names: tuple[str, ...]):
    """The default network of comparison method ``name``, its kind and options."""
    from vaesep.compare.methods import MATCHED_METHODS, get_method
    from vaesep.models import build_network

    method = get_method(name, MATCHED_METHODS)
    return build_network(method.kind, {**method.options, "source_names": source_names}), method.kind, dict(method.options)


def _step_timing(network, dataset, config, steps: int) -> dict[str, float]:
    """Frames/s of one :func:`~vaesep.train.train_step`, four ways, one after another (compare ratios):
    ``waveform_fp32`` (waveform segments and their STFTs, as ``train()`` once drew batches),
    ``plain_fp32`` (one ready batch, no data work), ``spectral_fp32``/``spectral_bf16`` (batches
    cut from :class:`~vaesep.batches.StreamSpectra`, as ``train()`` does now)."""
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
    dataset = dataset_for(params.get("data", "synthetic"), fast=True) or dataset_for("synthetic")
    network, kind, options = build_network(name, dataset.source_names)
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
            frames_per_second=frames * iterations / wall, fit_wall_s=wall, fit_cpu_s=statistics.median(r[1] for r in runs),
            unit="training frames × update iterations per second", nmf_seconds_per_source=seconds,
            nmf_iterations=iterations, epoch_frames_per_second=[], n_parameters=count_parameters(fit.network),
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
    wall, cpu = time.perf_counter(), time.process_time()
    result = train(network, dataset, config, progress=False, device="cpu")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per_epoch = result.history["frames_per_second"]
    later = per_epoch[1:] or per_epoch
    frames = config.epochs * config.steps_per_epoch * config.batch_segments * (
        int(config.segment_seconds * 16_000) // 256 + 1
    )
    keys = ("precision", "epochs", "steps_per_epoch", "batch_segments", "segment_seconds")
    out.update(
        frames_per_second=statistics.median(later), epoch_frames_per_second=[round(v, 1) for v in per_epoch],
        frames_per_cpu_second=frames / cpu, train_wall_s=wall, train_cpu_s=cpu,
        train_config={key: getattr(config, key) for key in keys},
        n_parameters=count_parameters(network), unit="spectrogram frames per second",
    )
    steps = int(params.get("step_repeats", 0))
    if steps:
        out.update(_step_timing(network, dataset, config, steps))
    out["torch_threads"] = torch.get_num_threads()
    return out
