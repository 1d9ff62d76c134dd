"""Checkpoint files: written atomically, read without executing code.

A checkpoint is a dict of plain values and tensors saved with ``torch.save``
and read with ``torch.load(..., weights_only=True)``, so opening a file from
someone else can never run code. It carries everything needed to rebuild the
model and to judge what it was trained on:

``format``, ``format_version``, ``vaesep_version``, ``kind`` (network class),
``config`` (its dataclass as a dict), ``state_dict`` (best weights),
``dataset`` (name, params, manifest hash), ``train_config``, ``history``,
and, while training is unfinished, ``resume`` (current weights, optimizer
and RNG state). Notebook 02, section "Checkpoints", shows one.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

import vaesep

FORMAT = "vaesep-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, foreign or incompatible."""


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (plus format fields) to ``path`` atomically.

    The file is written next to its destination and renamed into place, so an
    interrupted save leaves the previous checkpoint intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"format": FORMAT, "format_version": FORMAT_VERSION, "vaesep_version": vaesep.__version__}
    record.update(payload)
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
        raise CheckpointError(
            f"no checkpoint at {path}. Pass a path written by `vaesep train` or a name from "
            f"vaesep.list_pretrained()"
        )
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, ValueError) as exc:
        raise CheckpointError(
            f"{path} is not a readable vaesep checkpoint ({type(exc).__name__}: {exc}). It may be "
            "truncated by an interrupted copy, or a file from another program; files that would "
            "need code execution to load are refused on purpose"
        ) from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a torch file but not a vaesep checkpoint (no format={FORMAT!r} field)"
        )
    if int(record.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path} uses checkpoint format {record['format_version']}, newer than this vaesep "
            f"({vaesep.__version__}) understands ({FORMAT_VERSION}); upgrade vaesep"
        )
    for key in ("kind", "config", "state_dict"):
        if key not in record:
            raise CheckpointError(f"{path} lacks the {key!r} entry; it is incomplete")
    return record
