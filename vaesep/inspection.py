"""Looking inside a model: parameter counts, checkpoint contents, intermediate outputs.

Notebook 02 uses these to show what the VAE is made of, what a checkpoint
file holds, and what the network computes on the way from a mixture to the
separated sources (decoder outputs ŷ_i, masks m_i, separated magnitudes ŝ_i).
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
from vaesep.models import MaskingNetwork, NeuralSeparator
from vaesep.spectral import normalise_level, stft


def parameter_counts(module: nn.Module, depth: int = 2) -> dict[str, int]:
    """Trainable parameters grouped by the first ``depth`` parts of their names.

    For the VAE, ``depth=2`` gives one entry per encoder and decoder
    (``encoders.0``, ``decoders.1`` …). Order follows ``named_parameters``.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    counts: dict[str, int] = {}
    for name, parameter in module.named_parameters():
        if parameter.requires_grad:
            key = ".".join(name.split(".")[:depth])
            counts[key] = counts.get(key, 0) + parameter.numel()
    return counts


def _role(name: str, network: nn.Module) -> str:
    match = re.fullmatch(r"(encoders|decoders)\.(\d+)", name)
    sources = getattr(network, "source_names", None)
    if not match or not sources:
        return ""
    kind, index = match.group(1), int(match.group(2))
    if kind == "encoders" and len(getattr(network, "encoders", [])) == 1:
        return "encoder q(z|x), shared by all sources"
    source = sources[index] if index < len(sources) else "?"
    return f"encoder q(z|x) of source {source}" if kind == "encoders" else f"decoder of source {source}"


def _cell(text: str) -> str:
    """Escape the pipes that would otherwise end a Markdown table cell."""
    return text.replace("|", r"\|")


def parameter_table(network: nn.Module, depth: int = 2) -> str:
    """A Markdown table of trainable parameters per sub-module, with shapes and shares.

    Args:
        network: any torch module; VAE encoders/decoders are labelled with their source.
        depth: grouping depth, as in :func:`parameter_counts`.
    """
    counts = parameter_counts(network, depth)
    total = sum(counts.values())
    shapes: dict[str, list[str]] = {}
    for name, parameter in network.named_parameters():
        if parameter.requires_grad:
            key = ".".join(name.split(".")[:depth])
            shapes.setdefault(key, []).append("×".join(str(size) for size in parameter.shape))
    lines = [
        "| module | role | parameter shapes (out×in, bias) | parameters | share |",
        "|---|---|---|---:|---:|",
    ]
    for key, count in counts.items():
        lines.append(
            f"| `{key}` | {_cell(_role(key, network))} | {', '.join(shapes[key])} | {count:,} | "
            f"{100 * count / total:.1f} % |"
        )
    lines.append(f"| **total** | | | **{total:,}** | 100 % |")
    return "\n".join(lines)


def _summarise(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor {tuple(value.shape)} {str(value.dtype).replace('torch.', '')}"
    if isinstance(value, Mapping):
        tensors = [v for v in value.values() if isinstance(v, torch.Tensor)]
        if tensors and len(tensors) == len(value):
            numbers = sum(t.numel() for t in tensors)
            return f"{len(value)} tensors, {numbers:,} numbers"
        keys = list(value)
        shown = ", ".join(str(k) for k in keys[:6]) + (", …" if len(keys) > 6 else "")
        return f"dict of {len(keys)}: {shown}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of {len(value)}"
    if value is None:
        return "None"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def describe_checkpoint(record_or_path: Mapping[str, Any] | str | os.PathLike) -> str:
    """A Markdown table of what a checkpoint holds: each top-level entry and a summary of it.

    The ``resume`` entry (present while training is unfinished) is expanded
    one level, since it is what makes resuming possible.

    Args:
        record_or_path: a checkpoint path or the dict :func:`vaesep.checkpoint.load_checkpoint` returned.
    """
    if isinstance(record_or_path, Mapping):
        record = record_or_path
    else:
        from vaesep.checkpoint import load_checkpoint

        record = load_checkpoint(record_or_path)
    lines = ["| entry | contents |", "|---|---|"]
    for key, value in record.items():
        lines.append(f"| `{key}` | {_cell(_summarise(value))} |")
        if key == "resume" and isinstance(value, Mapping):
            for sub_key, sub_value in value.items():
                lines.append(f"| `{key}.{sub_key}` | {_cell(_summarise(sub_value))} |")
    return "\n".join(lines)


def _network(model: NeuralSeparator | MaskingNetwork) -> MaskingNetwork:
    if isinstance(model, NeuralSeparator):
        return model.network
    if isinstance(model, MaskingNetwork):
        return model
    raise TypeError(
        f"expected a NeuralSeparator (vaesep.load_model(...)) or a MaskingNetwork, got {type(model).__name__}"
    )


@torch.no_grad()
def network_outputs(
    model: NeuralSeparator | MaskingNetwork, mixture: np.ndarray, sr: int = SAMPLE_RATE
) -> dict[str, np.ndarray]:
    """What a masking network computes for one mixture, as NumPy arrays.

    The mixture is scaled to the network's reference level first, exactly
    as :class:`~vaesep.models.separator.Separator` does; magnitudes are
    scaled back to the input's level.

    Args:
        model: a loaded separator or a bare network (evaluated in eval mode, z = μ).
        mixture: ``(n_samples,)`` waveform at ``sr``.

    Returns:
        ``"mixture"`` ``(n_frames, n_bins)``; ``"estimates"`` (decoder outputs ŷ_i),
        ``"masks"`` and ``"separated"`` (m_i ⊙ |X|), each ``(n_sources, n_frames, n_bins)``;
        and for a VAE ``"mu"`` and ``"logvar"``, ``(n_encoders, n_frames, latent)``.
    """
    network = _network(model)
    wave = resample(as_mono_float(mixture, name="mixture"), check_sample_rate(sr), SAMPLE_RATE)
    scaled, gain = normalise_level(wave)
    gain = float(gain[0])
    device = next(network.parameters()).device
    spectrum = stft(torch.from_numpy(scaled).to(device)).abs()  # (n_frames, n_bins)
    was_training = network.training
    network.eval()
    try:
        outputs = network(spectrum[None])
    finally:
        network.train(was_training)
    result = {"mixture": spectrum.cpu().numpy() / gain}
    for key in ("estimates", "masks", "separated"):
        value = outputs[key][0].cpu().numpy()
        result[key] = value / gain if key != "masks" else value
    for key in ("mu", "logvar"):
        if key in outputs:
            result[key] = outputs[key][0].cpu().numpy()
    return result
