"""Small file and table helpers shared by the whole package, one of each.

Every file vaesep writes goes through :func:`atomic_write`, so an interrupted write never
leaves a truncated file where a good one was; JSON is strict (a NaN metric is a bug to
report, not a value to write).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS_ENV = "VAESEP_RESULTS_DIR"
RUNS_ENV = "VAESEP_RUNS_DIR"


def atomic_write(path: str | Path, write: Callable[[Path], Any] | str | bytes) -> Path:
    """Write ``path`` (folders created) through a temporary file beside it, then rename it into
    place. ``write``: text, bytes, or a function that writes a given path (``fig.savefig``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        if isinstance(write, str):
            temporary.write_text(write, encoding="utf-8")
        elif isinstance(write, bytes):
            temporary.write_bytes(write)
        else:
            write(temporary)
        with open(temporary, "rb+") as handle:  # on disk before the rename makes it visible
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def to_json(value: Any, *, indent: int | None = 1, sort_keys: bool = False) -> str:
    """Strict JSON text: raises ``ValueError`` on NaN or infinity instead of writing ``NaN``."""
    return json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(path: str | Path, value: Any, *, sort_keys: bool = False) -> Path:
    """Write ``value`` as strict JSON, atomically."""
    return atomic_write(path, to_json(value, sort_keys=sort_keys))


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by :func:`write_json` (non-finite constants are refused)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{path}: {constant} is not valid JSON")

    return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=refuse)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A Markdown table; ``align``: ``l`` or ``r`` per column (default: first left, numbers right)."""
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header):
        raise ValueError(f"align has {len(align)} letters for {len(header)} columns")
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = [header, rule, *[[str(cell) for cell in row] for row in rows]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def fill_block(path: str | Path, start: str, end: str, body: str | None) -> Path:
    """Replace the text between the marker lines ``start`` and ``end`` of a file (README blocks);
    ``body=None`` only checks that the block is there. ``ValueError`` if it is not."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    first, last = text.find(start), text.find(end)
    if first < 0 or last < first:
        raise ValueError(f"{path} has no {start} … {end} block to fill")
    if body is None:
        return path
    return atomic_write(path, f"{text[:first]}{start}\n{body.strip()}\n{text[last:]}")


def count_parameters(module: Any) -> int:
    """Trainable parameters of a ``torch.nn.Module`` (0 for a model without any, e.g. an oracle)."""
    parameters = module.parameters() if hasattr(module, "parameters") else []
    return sum(p.numel() for p in parameters if p.requires_grad)


def project_dir() -> Path:
    """The vaesep checkout that holds the working directory (a notebook runs in ``notebooks/``, a
    command at the top; Colab's clone too), else the working directory: every notebook and command
    finds one ``results/`` and one ``runs/`` there."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "vaesep" / "__init__.py").is_file() and (folder / "notebooks").is_dir():
            return folder
    return here


def results_dir() -> Path:
    """``$VAESEP_RESULTS_DIR`` if set, else ``results/`` of :func:`project_dir` (created on demand)."""
    path = Path(os.environ.get(RESULTS_ENV) or project_dir() / "results").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    """``$VAESEP_RUNS_DIR`` or ``runs/`` of :func:`project_dir`: where notebooks keep checkpoints (fast
    mode: ``fast/`` inside, so a CI-sized model never stands in for a full one)."""
    from vaesep.runtime import fast_mode

    path = Path(os.environ.get(RUNS_ENV) or project_dir() / "runs").expanduser()
    if fast_mode():
        path = path / "fast"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_figure(figure: Any, name: str, *, dpi: int = 120) -> Path:
    """Save a matplotlib figure as ``<results>/<name>.png``."""
    return atomic_write(results_dir() / f"{name}.png", lambda tmp: figure.savefig(tmp, dpi=dpi, format="png"))


def save_table(markdown: str, name: str, data: Any | None = None) -> Path:
    """Save a Markdown table as ``<results>/<name>.md`` and, if given, its data as ``<name>.json``."""
    if data is not None:
        write_json(results_dir() / f"{name}.json", data)
    return atomic_write(results_dir() / f"{name}.md", markdown.rstrip() + "\n")
