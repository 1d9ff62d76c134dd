"""The stable public entry points: :func:`load_model` and :func:`list_pretrained`.

Other tools call these; their signatures do not change. A model is named by
a shipped pretrained name (``vaesep.list_pretrained()``), an oracle name
(``"mixture"``, ``"ibm"``, ``"irm"``, ``"wiener"``), or a checkpoint path.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vaesep.checkpoint import CheckpointError, checked_weights, load_checkpoint, save_checkpoint
from vaesep.models import (
    IdealBinaryMask,
    IdealRatioMask,
    MixtureSeparator,
    NeuralSeparator,
    Separator,
    WienerMask,
    build_network,
    network_classes,
)
from vaesep.runtime import pick_device

PRETRAINED_DIR = Path(__file__).parent / "pretrained"

ORACLES: dict[str, type[Separator]] = {
    "mixture": MixtureSeparator,
    "ibm": IdealBinaryMask,
    "irm": IdealRatioMask,
    "wiener": WienerMask,
}

# checkpoint kinds that are not masking networks (e.g. NMF) register a loader here
_SEPARATOR_LOADERS: dict[str, Callable[[dict[str, Any], str], Separator]] = {}


def register_loader(kind: str, loader: Callable[[dict[str, Any], str], Separator]) -> None:
    """Teach :func:`load_model` to rebuild a non-network separator from its checkpoint record."""
    _SEPARATOR_LOADERS[kind] = loader


def list_pretrained() -> list[str]:
    """Names of the pretrained models shipped with the package (for :func:`load_model`)."""
    return sorted(path.stem for path in PRETRAINED_DIR.glob("*.pt"))


def _name(name_or_path: str | os.PathLike) -> str:
    if not isinstance(name_or_path, (str, os.PathLike)):
        raise TypeError(
            f"a model is named by a string or a path, got {name_or_path!r}; e.g. "
            f"{list_pretrained()[:1]} from vaesep.list_pretrained(), 'irm', or 'runs/vae.pt'"
        )
    return os.fspath(name_or_path)


def _resolve(text: str) -> Path:
    if text in list_pretrained():
        return PRETRAINED_DIR / f"{text}.pt"
    path = Path(text).expanduser()
    if path.is_file():
        return path
    known = list_pretrained() + sorted(ORACLES)
    close = difflib.get_close_matches(text.lower().removesuffix(".pt"), known, n=1)
    raise ValueError(
        f"unknown model {text!r}: not a pretrained name {list_pretrained()}, not an oracle "
        f"{sorted(ORACLES)}, and no such checkpoint file"
        + (f". Did you mean {close[0]!r}?" if close else "")
    )


def load_model(
    name_or_path: str | os.PathLike,
    *,
    device: str | None = None,
    source_names: tuple[str, ...] | None = None,
) -> Separator:
    """Load a separator by pretrained name, oracle name or checkpoint path.

    Args:
        name_or_path: e.g. ``"vae-speech"``, ``"irm"``, or ``"runs/vae.pt"``.
        device: ``"cpu"`` or ``"cuda"``; default: CUDA when available.
        source_names: oracles only (they have no checkpoint to name sources),
            a tuple of distinct names; default ``("s1", "s2")``. Ignored for
            checkpoints, whose sources are named by their training data.

    Returns:
        a :class:`~vaesep.models.base.Separator`; ``model.separate(mixture, sr)``
        returns ``(n_sources, len(mixture))`` float32.
    """
    text = _name(name_or_path)
    if text in ORACLES:
        names = ("s1", "s2") if source_names is None else source_names
        # a bare string would be split into one-letter sources
        if (
            isinstance(names, str)
            or not all(isinstance(n, str) and n for n in names)
            or len(set(names)) != len(names)
            or not names
        ):
            raise ValueError(
                f"source_names must be a tuple of distinct names such as ('speech', 'music'), "
                f"got {source_names!r}"
            )
        return ORACLES[text](tuple(names))
    path = _resolve(text)
    record = load_checkpoint(path)
    name = str(record.get("name") or path.stem)
    kind = record["kind"]
    weights = checked_weights(record, path)
    if kind in _SEPARATOR_LOADERS:
        return _SEPARATOR_LOADERS[kind](record, name)
    if kind not in network_classes():
        raise CheckpointError(
            f"{path} holds a {kind!r} model, which this vaesep cannot load "
            f"(known: {sorted(network_classes()) + sorted(_SEPARATOR_LOADERS)})"
        )
    if not isinstance(record["config"], dict):
        raise CheckpointError(f"{path}: its config is {type(record['config']).__name__}, not a dict")
    try:
        network = build_network(kind, record["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: its stored config does not build a {kind!r} network ({exc})"
        ) from exc
    try:
        network.load_state_dict(weights)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the stored config ({exc})") from exc
    info = {key: record.get(key) for key in ("dataset", "train_config", "history", "best_epoch", "vaesep_version")}
    return NeuralSeparator(network, name=name, info=info, device=pick_device(device))


def export_model(
    checkpoint_path: str | os.PathLike, out_path: str | os.PathLike, *, name: str | None = None
) -> Path:
    """Write a slim copy of a training checkpoint: best weights and metadata, no resume state.

    This is how the shipped pretrained files are made from ``vaesep train`` output.
    """
    record = load_checkpoint(checkpoint_path)
    checked_weights(record, checkpoint_path)  # a model that cannot separate is not exported
    record.pop("resume", None)
    for key in ("format", "format_version", "vaesep_version"):
        record.pop(key, None)
    record["name"] = name or Path(out_path).stem
    return save_checkpoint(out_path, record)
