"""The stable public entry points, :func:`load_model` and :func:`list_pretrained`, and the exporter.

A model is named by a shipped name (``vaesep.list_pretrained()``), an oracle name
(``"mixture"``, ``"ibm"``, ``"irm"``, ``"wiener"``) or a checkpoint path.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import torch

from vaesep import models
from vaesep.audio import MIXTURE
from vaesep.checkpoint import CheckpointError, checked_weights, load_checkpoint, save_checkpoint
from vaesep.models import NeuralSeparator, Separator, build_network, load_weights
from vaesep.runtime import pick_device

PRETRAINED_DIR = Path(__file__).parent / "pretrained"

ORACLES: dict[str, type[Separator]] = {
    MIXTURE: models.MixtureSeparator, "ibm": models.IdealBinaryMask,
    "irm": models.IdealRatioMask, "wiener": models.WienerMask,
}


def list_pretrained() -> list[str]:
    """Names of the pretrained models shipped with the package (for :func:`load_model`)."""
    return sorted(path.stem for path in PRETRAINED_DIR.glob("*.pt"))


def _resolve(name_or_path: str | os.PathLike) -> Path:
    """The checkpoint file a name or path stands for, or an error that suggests the closest name."""
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"a model is named by a string or a path, got {name_or_path!r}; e.g. "
            f"{list_pretrained()[:1]} from vaesep.list_pretrained(), 'irm', or 'runs/vae.pt'"
        )
    text = os.fspath(name_or_path)
    if text in list_pretrained():
        return PRETRAINED_DIR / f"{text}.pt"
    path = Path(text).expanduser()
    if path.is_file():
        return path
    close = difflib.get_close_matches(text.lower().removesuffix(".pt"), list_pretrained() + sorted(ORACLES), n=1)
    raise ValueError(
        f"unknown model {text!r}: not a pretrained name {list_pretrained()}, not an oracle "
        f"{sorted(ORACLES)}, and no such checkpoint file" + (f". Did you mean {close[0]!r}?" if close else "")
    )


def load_model(
    name_or_path: str | os.PathLike, *, device: str | None = None, source_names: tuple[str, ...] | None = None
) -> Separator:
    """A :class:`~vaesep.models.separator.Separator` by pretrained name (``"vae-speech"``), oracle
    name (``"irm"``) or checkpoint path; ``model.separate(mixture, sr)`` gives ``(n_sources, len(mixture))``.

    ``device``: default CUDA when available. ``source_names``: oracles only (checkpoints name
    their sources after their training data), default ``("s1", "s2")``.
    """
    if isinstance(name_or_path, str) and name_or_path in ORACLES:
        names = ("s1", "s2") if source_names is None else source_names
        # a bare string would be split into one-letter sources
        if (isinstance(names, str) or not names or not all(isinstance(n, str) and n for n in names)
                or len(set(names)) != len(names)):
            raise ValueError("source_names must be a tuple of distinct names such as "
                             f"('speech', 'music'), got {source_names!r}")
        return ORACLES[name_or_path](tuple(names))
    path = _resolve(name_or_path)
    record = load_checkpoint(path)
    weights = checked_weights(record, path)
    kind = record["kind"]  # an unknown kind is refused by build_network, naming the known ones
    try:
        network = build_network(kind, record["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: its stored config does not build a {kind!r} network ({exc})") from exc
    try:
        load_weights(network, dict(weights))
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the stored config ({exc})") from exc
    info = {key: record.get(key) for key in ("dataset", "train_config", "history", "best_epoch", "vaesep_version")}
    return NeuralSeparator(network, name=record.get("name") or path.stem, info=info, device=pick_device(device))


def export_model(
    checkpoint_path: str | os.PathLike, out_path: str | os.PathLike, *, name: str | None = None, half: bool = False
) -> Path:
    """Write a slim copy of a training checkpoint (best weights and metadata, no resume state), as the
    shipped files are made. ``half=True`` stores float16 weights: half the size, read back into
    float32, and the separated audio differs by far less than any metric resolves."""
    record = load_checkpoint(checkpoint_path)
    checked_weights(record, checkpoint_path)  # a model that cannot separate is not exported
    for key in ("resume", "format", "format_version", "vaesep_version"):
        record.pop(key, None)
    record["name"] = name or Path(out_path).stem
    if half:
        record["state_dict"] = {key: value.half() if value.is_floating_point() else value for key, value in record["state_dict"].items()}
        record["weights_dtype"] = str(torch.float16)
    return save_checkpoint(out_path, record)
