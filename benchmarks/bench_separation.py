"""Separation real-time factor: compute seconds per second of audio, per method.

Three ways of separating the same audio (two-source test mixtures of the
benchmark's data set, tiled to ``seconds`` of audio):

* ``batch``: ``separator.separate_batch`` on the items (4 s each for
  ``speech``), ``batch_size`` at a time, as :func:`vaesep.evaluate.separate_split` does;
* ``single``: ``separator.separate(mixture, 16000)`` on one long mixture, the
  public API call (STFT, network, masks and inverse STFT included);
* ``file``: what ``vaesep separate`` does with a 44.1 kHz stereo 16-bit WAV:
  decode, downmix, resample to 16 kHz, separate, resample back, write one WAV
  per source. Oracles need the true sources, so they have no ``file`` figure.

Methods: every name :func:`vaesep.list_pretrained` returns, plus the oracles.
If the shipped ``vae-speech`` is not (yet) there, a VAE with the reference
configuration and untrained weights stands in (the time does not depend on
the weights) and is labelled so.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from common import SR, dataset_for, strip_result, timed

ORACLE_NAMES = ("mixture", "ibm", "irm", "wiener")
STAND_IN = "vae (untrained stand-in)"


def method_names(include: list[str] | None = None) -> list[str]:
    """Pretrained names plus oracles (filtered by ``include`` if given)."""
    import vaesep

    names = list(vaesep.list_pretrained())
    if not any(name.startswith("vae") and "shared" not in name for name in names):
        names.insert(0, STAND_IN)
    names += list(ORACLE_NAMES)
    if include:
        wanted = set(include)
        names = [n for n in names if n in wanted or (n == STAND_IN and "vae-speech" in wanted)]
    return names


def resolve(name: str) -> str:
    """``"vae"`` means the shipped ``vae-speech`` if it is there, else the untrained stand-in."""
    if name != "vae":
        return name
    import vaesep

    return "vae-speech" if "vae-speech" in vaesep.list_pretrained() else STAND_IN


def load_separator(name: str, source_names: tuple[str, ...]):
    import vaesep
    from vaesep.models import NeuralSeparator, VAEConfig, VAENetwork

    if name == STAND_IN:
        return NeuralSeparator(VAENetwork(VAEConfig(source_names=source_names)), name=STAND_IN)
    return vaesep.load_model(name, device="cpu", source_names=source_names)


def test_items(dataset, seconds: float) -> np.ndarray:
    """``(n_items, n_sources, n_samples)`` test items, tiled to at least ``seconds`` of audio."""
    split = "test" if "test" in dataset.splits else dataset.evaluation_splits[0]
    sources = np.asarray(dataset.sources(split), dtype=np.float32)
    item_seconds = sources.shape[-1] / SR
    n_items = max(1, math.ceil(seconds / item_seconds - 1e-9))
    return sources[np.arange(n_items) % len(sources)]


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Params: ``method``, ``data``, ``seconds`` (audio per measurement), ``repeats``, ``batch_size``."""
    import soundfile as sf
    import torch

    from vaesep.audio import as_mono_float, save_audio

    dataset = dataset_for(params.get("data", "synthetic"), fast=True) or dataset_for("synthetic")
    items = test_items(dataset, float(params.get("seconds", 60.0)))
    repeats = int(params.get("repeats", 5))
    batch_size = int(params.get("batch_size", 8))
    name = resolve(params["method"])
    separator = load_separator(name, dataset.source_names)
    mixtures = items.sum(axis=1)
    audio_seconds = items.shape[0] * items.shape[-1] / SR
    needs_references = separator.needs_references

    def batch() -> np.ndarray:
        outputs = []
        for start in range(0, len(items), batch_size):
            references = items[start : start + batch_size] if needs_references else None
            outputs.append(separator.separate_batch(mixtures[start : start + batch_size], references))
        return np.concatenate(outputs)

    long_mixture = mixtures.reshape(-1)
    long_references = items.transpose(1, 0, 2).reshape(items.shape[1], -1)

    def single() -> np.ndarray:
        return separator.separate(long_mixture, SR, references=long_references if needs_references else None)

    out: dict[str, Any] = {
        "method": name,
        "data": dataset.name,
        "audio_seconds": audio_seconds,
        "n_items": int(items.shape[0]),
        "batch_size": batch_size,
        "torch_threads": torch.get_num_threads(),
    }
    for label, function in (("batch", batch), ("single", single)):
        timing = strip_result(timed(function, repeats))
        out[label] = {**timing, "rtf": timing["wall_s"] / audio_seconds, "rtf_cpu": timing["cpu_s"] / audio_seconds}

    if not needs_references:
        file_rate = 44_100
        with tempfile.TemporaryDirectory(prefix="vaesep-bench-sep-") as tmp:
            from vaesep.audio import resample

            stereo = np.stack([resample(long_mixture, SR, file_rate)] * 2, axis=1)
            path = Path(tmp) / "mixture.wav"
            sf.write(str(path), np.clip(stereo, -1, 1), file_rate, subtype="PCM_16")

            def from_file() -> None:
                signal, rate = sf.read(str(path), dtype="float32", always_2d=True)
                estimates = separator.separate(as_mono_float(signal, name=str(path)), rate)
                for source, estimate in zip(separator.source_names, estimates, strict=True):
                    save_audio(Path(tmp) / f"mixture_{source}.wav", estimate, rate)

            timing = strip_result(timed(from_file, repeats))
            out["file"] = {
                **timing,
                "rtf": timing["wall_s"] / audio_seconds,
                "rtf_cpu": timing["cpu_s"] / audio_seconds,
                "format": f"{file_rate} Hz stereo PCM_16 WAV",
            }
    return out
