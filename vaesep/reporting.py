"""Where notebooks and commands put their figures and tables.

Notebooks call :func:`save_figure` and :func:`save_table` for the results
worth keeping; ``vaesep reproduce`` points :envvar:`VAESEP_RESULTS_DIR` at
``results/`` and gathers them into one summary. Every write is atomic.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation: audio output reuses _atomic_write without matplotlib
    from matplotlib.figure import Figure

RESULTS_ENV = "VAESEP_RESULTS_DIR"


def results_dir() -> Path:
    """``$VAESEP_RESULTS_DIR`` if set, else ``./results`` (created on demand)."""
    path = Path(os.environ.get(RESULTS_ENV) or "results").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _atomic_write(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def fill_block(path: str | Path, start: str, end: str, body: str | None) -> Path:
    """Replace the text between the marker lines ``start`` and ``end`` of a file (README blocks).

    With ``body=None`` only check that the block is there (before a long run that fills it).

    Raises:
        ValueError: the file has no such block (nothing is written then).
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        raise ValueError(f"{path} has no {start} … {end} block to fill")
    if body is None:
        return path
    new = f"{text[:first]}{start}\n{body.strip()}\n{text[last:]}"
    return _atomic_write(path, lambda tmp: tmp.write_text(new, encoding="utf-8"))


def save_figure(figure: Figure, name: str, *, dpi: int = 120) -> Path:
    """Save ``figure`` as ``<results>/<name>.png`` and return the path."""
    return _atomic_write(
        results_dir() / f"{name}.png", lambda tmp: figure.savefig(tmp, dpi=dpi, format="png")
    )


def save_table(markdown: str, name: str, data: Any | None = None) -> Path:
    """Save a Markdown table as ``<name>.md`` and, if given, its data as ``<name>.json``."""
    directory = results_dir()
    if data is not None:
        _atomic_write(
            directory / f"{name}.json",
            lambda tmp: tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n"),
        )
    return _atomic_write(directory / f"{name}.md", lambda tmp: tmp.write_text(markdown.rstrip() + "\n"))


RUNS_ENV = "VAESEP_RUNS_DIR"


def runs_dir() -> Path:
    """``$VAESEP_RUNS_DIR`` if set, else ``./runs``: where notebooks keep trained checkpoints.

    Notebook 02 writes ``runs/02_vae.pt``; later notebooks use it when present
    and fall back to the shipped pretrained model otherwise. Fast mode uses a
    ``fast/`` subfolder, so a CI-sized model never stands in for a full one.
    """
    from vaesep.runtime import fast_mode

    path = Path(os.environ.get(RUNS_ENV) or "runs").expanduser()
    if fast_mode():
        path = path / "fast"
    path.mkdir(parents=True, exist_ok=True)
    return path
