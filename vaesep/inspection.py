"""Looking inside a model: its parameters, its checkpoint file, what it computes (notebook 02).

Notebook 02 uses :func:`parameter_table` in "The network", :func:`describe_checkpoint` in
"What a checkpoint holds" and :func:`network_outputs` in "Separating test mixtures", to show
the decoder outputs ŷ_i, masks m_i and separated magnitudes ŝ_i between mixture and sources.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from vaesep.audio import SAMPLE_RATE, as_mono_float, check_sample_rate, resample
from vaesep.checkpoint import load_checkpoint
from vaesep.files import count_parameters, markdown_table
from vaesep.models import MaskingNetwork
from vaesep.spectral import normalise_level, stft


def _role(name: str, network: nn.Module) -> str:
    """What a VAE sub-module ``encoders.i`` / ``decoders.i`` is for."""
    match = re.fullmatch(r"(encoders|decoders)\.(\d+)", name)
    sources = getattr(network, "source_names", None)
    if not match or not sources:
        return ""
    kind, index = match.group(1), int(match.group(2))
    if kind == "encoders" and len(network.encoders) == 1:
        return "encoder q(z\\|x), shared by all sources"
    source = sources[index] if index < len(sources) else "?"
    return f"encoder q(z\\|x) of source {source}" if kind == "encoders" else f"decoder of source {source}"


def parameter_table(network: nn.Module) -> str:
    """A Markdown table of trainable parameters, their shapes and shares, grouped by the first two
    parts of their names: the VAE's encoders and decoders get a row each."""
    shapes: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for name, parameter in network.named_parameters():
        if parameter.requires_grad:
            key = ".".join(name.split(".")[:2])
            shapes.setdefault(key, []).append("×".join(map(str, parameter.shape)))
            counts[key] = counts.get(key, 0) + parameter.numel()
    total = count_parameters(network)
    rows = [[f"`{key}`", _role(key, network), ", ".join(shapes[key]), f"{count:,}", f"{100 * count / total:.1f} %"]
            for key, count in counts.items()]
    rows.append(["**total**", "", "", f"**{total:,}**", "100 %"])
    return markdown_table(["module", "role", "parameter shapes (out×in, bias)", "parameters", "share"], rows, "lllrr")


def _summarise(value: Any) -> str:
    """One line about a checkpoint entry: a tensor's shape, a dict's keys, a short repr."""
    if isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)} {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, Mapping):
        if value and all(isinstance(v, torch.Tensor) for v in value.values()):
            return f"{len(value)} tensors, {sum(v.numel() for v in value.values()):,} numbers"
        keys = [str(k) for k in value]
        return f"dict of {len(keys)}: {', '.join(keys[:6])}" + (", …" if len(keys) > 6 else "")
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def describe_checkpoint(record_or_path: Mapping[str, Any] | str | os.PathLike) -> str:
    """A Markdown table of a checkpoint's (path or loaded dict) top-level entries, summarised;
    ``resume`` (present while training is unfinished) is expanded one level: it makes resuming possible."""
    record = record_or_path if isinstance(record_or_path, Mapping) else load_checkpoint(record_or_path)
    rows = []
    for key, value in record.items():
        rows.append([f"`{key}`", _summarise(value).replace("|", r"\|")])
        if key == "resume" and isinstance(value, Mapping):
            rows += [[f"`resume.{k}`", _summarise(v).replace("|", r"\|")] for k, v in value.items()]
    return markdown_table(["entry", "contents"], rows, "ll")


@torch.no_grad()
def network_outputs(model, mixture: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, np.ndarray]:
    """What a separator's (or bare) masking network computes, in eval mode, for one mixture
    ``(n_samples,)`` at ``sr``, brought to the training level as the separator does; magnitudes
    are scaled back to the input's level. NumPy, time-major: ``"mixture"`` ``(n_frames, n_bins)``;
    ``"estimates"`` (ŷ_i), ``"masks"``, ``"separated"`` (m_i ⊙ |X|), ``(n_sources, n_frames, n_bins)``;
    for a VAE also ``"mu"`` and ``"logvar"``, ``(n_encoders, n_frames, latent)``."""
    network = getattr(model, "network", model)
    if not isinstance(network, MaskingNetwork):
        raise TypeError(f"expected a separator from vaesep.load_model(...) or a MaskingNetwork, "
                        f"got {type(model).__name__}")
    wave = resample(as_mono_float(mixture, name="mixture"), check_sample_rate(sr), SAMPLE_RATE)
    scaled, gain = normalise_level(wave)
    device = next(network.parameters()).device
    spectrum = stft(torch.from_numpy(scaled).to(device)).abs()  # (n_frames, n_bins)
    was_training = network.training
    network.eval()
    try:
        outputs = network(spectrum[None])
    finally:
        network.train(was_training)
    result = {key: value[0].cpu().numpy() for key, value in outputs.items() if key in ("masks", "mu", "logvar")}
    unscaled = {"mixture": spectrum, "estimates": outputs["estimates"][0], "separated": outputs["separated"][0]}
    return result | {key: value.cpu().numpy() / float(gain[0]) for key, value in unscaled.items()}
