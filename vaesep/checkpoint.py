"""Checkpoint files: written atomically, read without executing code.

A checkpoint is a dict of plain values and tensors saved with ``torch.save``
and read with ``torch.load(..., weights_only=True)``, so opening a file from
someone else can never run code. It carries everything needed to rebuild the
model and to judge what it was trained on:

``format``, ``format_version``, ``vaesep_version``, ``kind`` (network class),
``config`` (its dataclass as a dict), ``state_dict`` (best weights),
``weights_sha256`` (a hash of ``state_dict``, checked on every load),
``dataset`` (name, params, manifest hash), ``train_config``, ``history``,
and, while training is unfinished, ``resume`` (current weights, optimizer
and RNG state). Notebook 02, section "Checkpoints", shows one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

import vaesep

FORMAT = "vaesep-checkpoint"
FORMAT_VERSION = 1
HASH_KEY = "weights_sha256"

_WHAT_TO_PASS = (
    "pass a shipped name (vaesep.list_pretrained()) or a .pt file written by `vaesep train`"
)
# first bytes of the audio files most likely to be passed as a model by mistake
_AUDIO_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM")


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, foreign or incompatible."""


def weights_sha256(state_dict: Mapping[str, Any]) -> str:
    """sha256 of a ``state_dict``, independent of its key order and of the file's layout.

    Each entry, in sorted key order, contributes its key, dtype, shape and raw
    bytes (other values than tensors: their ``repr``). Stored with every
    checkpoint, it catches weights changed after saving (a corrupted copy or
    download), which would otherwise load silently and separate badly.
    """
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
    """Write ``payload`` (plus format fields and the weights' hash) to ``path`` atomically.

    The file is written next to its destination and renamed into place, so an
    interrupted save leaves the previous checkpoint intact. The hash is always
    computed afresh, so a record that was loaded, changed and saved again
    (an export) carries the hash of what it now holds.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "vaesep_version": vaesep.__version__}
    record.update(payload)
    record.pop(HASH_KEY, None)
    if isinstance(record.get("state_dict"), Mapping):  # None while no epoch has finished
        record[HASH_KEY] = weights_sha256(record["state_dict"])
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        torch.save(record, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises:
        CheckpointError: with a message saying what is wrong and what to do.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; {_WHAT_TO_PASS}")
    with path.open("rb") as file:
        if file.read(4).startswith(_AUDIO_MAGIC):
            raise CheckpointError(
                f"{path} is an audio file, not a vaesep checkpoint: the model comes first, then "
                f"the audio; {_WHAT_TO_PASS}"
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
        raise CheckpointError(
            f"{path} is a torch file but not a vaesep checkpoint (no format={FORMAT!r} field); "
            f"{_WHAT_TO_PASS}"
        )
    version = record.get("format_version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} uses checkpoint format {version!r}, which this vaesep "
            f"({vaesep.__version__}) does not understand (it reads {FORMAT_VERSION}); upgrade vaesep"
        )
    for key in ("kind", "config", "state_dict"):
        if key not in record:
            raise CheckpointError(f"{path} lacks the {key!r} entry; it is incomplete")
    # files written before hashes were stored have none: they load unverified
    if HASH_KEY in record and (
        not isinstance(record["state_dict"], Mapping)
        or weights_sha256(record["state_dict"]) != record[HASH_KEY]
    ):
        raise CheckpointError(
            f"{path}: its weights do not match the sha256 stored with them, so the file changed "
            "after it was written (a damaged copy or download, or an edit). Copy or download it "
            "again, or re-export it from its training checkpoint"
        )
    return record


def checked_weights(record: dict[str, Any], path: str | os.PathLike) -> Mapping[str, Any]:
    """The record's ``state_dict``, if it is one that a model can be built from.

    Raises:
        CheckpointError: no weights (training stopped before an epoch
            finished, or diverged at once) or non-finite weights (NaN or inf,
            from a diverged run or a damaged file), which would separate into
            NaN stems.
    """
    weights = record["state_dict"]
    if not isinstance(weights, Mapping):
        raise CheckpointError(
            f"{path} holds no weights (state_dict is {type(weights).__name__}): its training "
            "stopped before any epoch gave valid ones, e.g. because it diverged; train again "
            "(a lower --lr helps against divergence)"
        )
    broken = [
        key
        for key, value in weights.items()
        if isinstance(value, torch.Tensor)
        and value.is_floating_point()
        and not bool(torch.isfinite(value).all())
    ]
    if broken:
        raise CheckpointError(
            f"{path} has NaN or infinite weights in {broken[:3]}{' ...' if len(broken) > 3 else ''}: "
            "its training diverged or the file is damaged; train again with a lower --lr, or "
            "use another checkpoint"
        )
    return weights
