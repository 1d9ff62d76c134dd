"""Run-time switches shared by the notebooks, the CLI and the tests.

Fast mode (``VAESEP_FAST=1``, set by the test suite and by
``vaesep reproduce --fast``) shrinks data and training budgets so every
notebook runs in CI; the code paths stay the same as in full mode.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

FAST_ENV = "VAESEP_FAST"


def fast_mode() -> bool:
    """True when ``VAESEP_FAST`` is set to 1/true/yes (case-insensitive)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def use_fast_mode(fast: bool | None = None) -> bool:
    """Settle a notebook's ``FAST`` parameter and return the mode in force.

    ``None`` keeps what ``VAESEP_FAST`` says (fast under pytest and ``vaesep reproduce
    --fast``). ``True`` or ``False`` (e.g. ``papermill -p FAST False``) also sets
    ``VAESEP_FAST`` for this process, so the library calls that read it, such as
    :func:`vaesep.files.runs_dir` and :func:`mode_default`, agree with the notebook.
    """
    if fast is not None:
        if not isinstance(fast, bool):
            raise TypeError(f"FAST must be True, False or None (the environment decides), not {fast!r}")
        os.environ[FAST_ENV] = "1" if fast else "0"
    return fast_mode()


def mode_default(value, *, fast, full):
    """``value`` if a parameter was given (not None), else ``fast`` or ``full`` by the mode.

    The notebooks' parameters cells hold plain values, ``None`` meaning "the default of
    the mode", so papermill can replace any of them; the next cell derives the budgets:
    ``EPOCHS = mode_default(EPOCHS, fast=2, full=10)``.
    """
    if value is not None:
        return value
    return fast if fast_mode() else full


def pick_device(preferred: str | None = None) -> torch.device:
    """``preferred`` if given, else CUDA when available, else CPU."""
    import torch

    if preferred:
        try:
            device = torch.device(preferred)
        except RuntimeError as exc:  # torch lists two dozen backends; say what applies here
            raise ValueError(
                f"unknown device {preferred!r}; use 'cpu', 'cuda' (or 'cuda:1', ...) or 'mps'"
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "device='cuda' was requested but torch sees no CUDA GPU; use device='cpu' or "
                "install a CUDA build of torch (see README, 'Choosing a torch build')"
            )
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def code_version() -> str:
    """The git commit of the working tree (``+dirty`` if modified), else the package version.

    Every results table names it, so a number can be traced to the code that made it.
    """
    import subprocess
    from pathlib import Path

    import vaesep

    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            raise OSError(commit.stderr)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root, capture_output=True, text=True, timeout=5,
        ).stdout.strip()
        return commit.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return f"vaesep {vaesep.__version__}"
