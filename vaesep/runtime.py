"""Run-time switches shared by the notebooks, the CLI and the tests.

Fast mode (``VAESEP_FAST=1``, set by the test suite and ``vaesep reproduce --fast``)
shrinks data and training budgets so every notebook runs in CI, on the same code paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

FAST_ENV = "VAESEP_FAST"


def fast_mode() -> bool:
    """True when ``VAESEP_FAST`` is 1/true/yes/on (any case)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def use_fast_mode(fast: bool | None = None) -> bool:
    """Settle a notebook's ``FAST`` parameter (None: ``VAESEP_FAST`` decides; a bool also sets it,
    so :func:`mode_default` and ``runs_dir`` agree) and return the mode in force."""
    if fast is not None:
        if not isinstance(fast, bool):
            raise TypeError(f"FAST must be True, False or None (the environment decides), not {fast!r}")
        os.environ[FAST_ENV] = "1" if fast else "0"
    return fast_mode()


def progress_bar(iterable: Iterable, progress: bool | None, **options):
    """A tqdm bar over ``iterable`` that goes when done. ``progress=None``, every default in vaesep,
    shows it on a terminal only: in a notebook a bar is frozen at 0 % in every saved copy."""
    from tqdm.auto import tqdm

    shown = sys.stderr.isatty() if progress is None else progress
    return tqdm(iterable, disable=not shown, leave=False, **options)


def mode_default(value, *, fast, full):
    """``value`` unless it is None, else ``fast`` or ``full`` by the mode: the notebooks' parameters are
    plain values papermill can replace, ``EPOCHS = mode_default(EPOCHS, fast=2, full=10)``."""
    return value if value is not None else fast if fast_mode() else full


def pick_device(preferred: str | None = None) -> torch.device:
    """``preferred`` if given, else CUDA when available, else CPU."""
    import torch

    if not preferred:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preferred)
    except RuntimeError as exc:  # torch lists two dozen backends; say what applies here
        raise ValueError(f"unknown device {preferred!r}; use 'cpu', 'cuda' (or 'cuda:1', ...) or 'mps'") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device='cuda' was requested but torch sees no CUDA GPU; use device='cpu' or "
            "install a CUDA build of torch (see README, 'Choosing a torch build')"
        )
    return device


def code_version() -> str:
    """The git commit of the working tree (``+dirty`` if modified), else the package version:
    every results table names it, so a number can be traced to the code that made it."""
    import vaesep

    def git(*args: str) -> str:
        root = Path(__file__).resolve().parents[1]
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):  # no git, or not a checkout
        return f"vaesep {vaesep.__version__}"
