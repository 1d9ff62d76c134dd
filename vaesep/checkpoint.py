"""Checkpoint files: one small record type, written atomically, read without executing code.

A dict of plain values and tensors, read with ``torch.load(..., weights_only=True)`` so that
opening someone else's file never runs code; every load checks the weights' sha256.
Notebook 02, "What a checkpoint holds", shows one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

import vaesep
from vaesep.files import atomic_write

FORMAT = "vaesep-checkpoint"
FORMAT_VERSION = 1
HASH_KEY = "weights_sha256"

_WHAT_TO_PASS = "pass a shipped name (vaesep.list_pretrained()) or a .pt file written by `vaesep train`"
# first bytes of the audio files most likely to be passed as a model by mistake
_AUDIO_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM")


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, foreign or incompatible."""


@dataclasses.dataclass
class Checkpoint:
    """What a checkpoint holds: enough to rebuild the model and to judge what it was trained on."""

    kind: str  # the network class, "vae", "dnn", ... (vaesep.models.network_classes())
    config: dict[str, Any]  # its config dataclass as a dict
    state_dict: dict[str, torch.Tensor] | None  # the best weights; None before an epoch gave valid ones
    dataset: dict[str, Any] | None = None  # the training data's name, params and manifest_hash
    train_config: dict[str, Any] = dataclasses.field(default_factory=dict)  # TrainConfig as a dict, or NMF's settings
    history: dict[str, Any] = dataclasses.field(default_factory=dict)  # per-epoch lists
    best_epoch: int = -1  # zero-based epoch of state_dict
    stopped: str = "running"  # or "epochs", "early_stopping", ...
    # while training may go on: current weights, optimiser and RNG state, next_epoch, bad_epochs
    resume: dict[str, Any] | None = None
    name: str | None = None  # the model's name in tables (exported files)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)  # any other entry, kept as it is

    @classmethod
    def of(cls, network: Any, dataset: Any, **entries: Any) -> Checkpoint:
        """A checkpoint of ``network`` (its current weights, copied to the CPU) trained on ``dataset``."""
        return cls(
            kind=network.kind,
            config=network.config_dict(),
            state_dict=cpu_copy(network.state_dict()),
            dataset={"name": dataset.name, "params": dict(dataset.params), "manifest_hash": dataset.manifest_hash},
            **entries,
        )

    def to_record(self) -> dict[str, Any]:
        fields = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "extra"}
        return {**self.extra, **{key: value for key, value in fields.items() if value is not None or key != "name"}}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Checkpoint:
        known = {field.name for field in dataclasses.fields(cls)} - {"extra"}
        skipped = {"format", "format_version", "vaesep_version", HASH_KEY}
        entries = {key: value for key, value in record.items() if key in known and value is not None}
        extra = {key: value for key, value in record.items() if key not in known | skipped}
        return cls(**{"state_dict": None, **entries}, extra=extra)

    def save(self, path: str | os.PathLike) -> Path:
        return save_checkpoint(path, self.to_record())


def cpu_copy(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached CPU copies of a ``state_dict``'s tensors, which later steps cannot change."""
    return {key: value.detach().cpu().clone() for key, value in state_dict.items()}


def weights_sha256(state_dict: Mapping[str, Any]) -> str:
    """sha256 of a ``state_dict``'s keys, dtypes, shapes and bytes (other values: ``repr``)."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        value = state_dict[key]
        if isinstance(value, torch.Tensor):
            flat = value.detach().cpu().contiguous().reshape(-1)
            digest.update(f"{key}\0{flat.dtype}\0{tuple(value.shape)}\0".encode())
            digest.update(flat.view(torch.uint8).numpy())
        else:
            digest.update(f"{key}\0{value!r}\0".encode())
    return digest.hexdigest()


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload``, the format fields and a hash of the weights it now holds, atomically."""
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "vaesep_version": vaesep.__version__, **payload}
    record.pop(HASH_KEY, None)
    if isinstance(record.get("state_dict"), Mapping):
        record[HASH_KEY] = weights_sha256(record["state_dict"])
    return atomic_write(path, lambda temporary: torch.save(record, temporary))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, or raise a :class:`CheckpointError` saying what to do."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; {_WHAT_TO_PASS}")
    with path.open("rb") as file:
        if file.read(4).startswith(_AUDIO_MAGIC):
            raise CheckpointError(
                f"{path} is an audio file, not a vaesep checkpoint: the model comes first, then the audio; {_WHAT_TO_PASS}"
            )
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # other files fail in many ways: IndexError, KeyError, ...
        raise CheckpointError(
            f"{path} is not a readable vaesep checkpoint ({type(exc).__name__}: {exc}). It may be "
            "truncated by an interrupted copy, or a file from another program (files that would "
            f"need code execution to load are refused on purpose); {_WHAT_TO_PASS}"
        ) from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a vaesep checkpoint (no format={FORMAT!r} field); {_WHAT_TO_PASS}")
    version = record.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} uses checkpoint format {version!r}, which this vaesep ({vaesep.__version__}) "
            f"does not understand (it reads {FORMAT_VERSION}); upgrade vaesep"
        )
    for key in ("kind", "config", "state_dict"):
        if key not in record:
            raise CheckpointError(f"{path} lacks the {key!r} entry; it is incomplete")
    # files written before hashes were stored have none: they load unverified
    if HASH_KEY in record and (
        not isinstance(record["state_dict"], Mapping) or weights_sha256(record["state_dict"]) != record[HASH_KEY]
    ):
        raise CheckpointError(
            f"{path}: its weights do not match the sha256 stored with them, so the file changed "
            "after it was written (a damaged copy or download, or an edit). Copy or download it "
            "again, or re-export it from its training checkpoint"
        )
    return record


def checked_weights(record: Mapping[str, Any], path: str | os.PathLike) -> Mapping[str, Any]:
    """The record's ``state_dict``, refused if missing or not finite (NaN stems would follow)."""
    weights = record["state_dict"]
    if not isinstance(weights, Mapping):
        raise CheckpointError(
            f"{path} holds no weights (state_dict is {type(weights).__name__}): its training "
            "stopped before any epoch gave valid ones, e.g. because it diverged; train again "
            "(a lower --lr helps against divergence)"
        )
    broken = [key for key, value in weights.items() if isinstance(value, torch.Tensor)
              and value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if broken:
        raise CheckpointError(
            f"{path} has NaN or infinite weights in {broken[:3]}{' ...' if len(broken) > 3 else ''}: "
            "its training diverged or the file is damaged; train again with a lower --lr, or use another checkpoint"
        )
    return weights
