"""``vaesep reproduce``: run the numbered notebooks headless, in order, and gather results.

Each notebook runs with nbclient in its own kernel (in ``notebooks/``); its executed copy goes to
``<out>/executed/``, the figures and tables it saves through :mod:`vaesep.files` to ``<out>/``, and
``summary.md``/``summary.json`` list the runtimes and every table. ``--fast``: ``VAESEP_FAST=1``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from unittest import mock

from vaesep.files import (
    RESULTS_ENV,
    RUNS_ENV,
    atomic_write,
    fill_block,
    markdown_table,
    read_json,
    write_json,
)
from vaesep.runtime import FAST_ENV, code_version


def readme_markers(fast: bool) -> tuple[str, str]:
    """The markers of README's runtime block for one mode (``vaesep reproduce --readme``)."""
    mode = "fast" if fast else "full"
    return f"<!-- vaesep-runtimes-{mode}:start -->", f"<!-- vaesep-runtimes-{mode}:end -->"


@dataclass
class NotebookRun:
    """Outcome of one executed notebook."""

    notebook: str
    seconds: float
    ok: bool
    executed_path: str
    error: str = ""


def find_notebooks(directory: Path, start_at: str | None = None) -> list[Path]:
    """The numbered notebooks ``NN_*.ipynb`` of ``directory`` in order, from the first whose name
    starts with ``start_at``; a ``start_at`` that names none is an error (a typo must not run nothing)."""
    notebooks = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no numbered notebooks (NN_name.ipynb) in {directory}; run "
                                "`vaesep reproduce` from the repository root or pass --notebooks "
                                "PATH")
    names = [path.name for path in notebooks]
    for index, name in enumerate(names):
        if name.startswith(start_at or ""):
            return notebooks[index:]
    raise ValueError(f"--start-at {start_at!r} names no notebook; give the start of one of {names} (e.g. "
                     f"{names[-1][:2]!r})")


def execute_notebook(path: Path, executed_path: Path, *, timeout: int) -> NotebookRun:
    """Execute one notebook in a fresh kernel; the executed copy is saved even on failure."""
    import tempfile

    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    error = ""
    # the kernel talks over local sockets (IPC) in a private folder, not over TCP ports:
    # nothing is exposed, and the kernel has no "running over TCP without encryption" to warn about
    with tempfile.TemporaryDirectory(prefix="vaesep-kernel-") as sockets:
        kernel = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "kernel"))
        client = NotebookClient(notebook, km=kernel, timeout=timeout,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as exc:
            # the first lines name the failing cell and the exception; the rest is the traceback
            error = "\n".join(str(exc).strip().splitlines()[-3:])
        finally:
            if kernel.has_kernel:
                kernel.shutdown_kernel()
    seconds = time.perf_counter() - start
    atomic_write(executed_path, lambda tmp: nbformat.write(notebook, tmp))
    return NotebookRun(path.name, seconds, not error, str(executed_path), error)


def write_summary(out_dir: Path, runs: Sequence[NotebookRun], *, fast: bool) -> Path:
    """``summary.md`` / ``summary.json``: runtimes, then every saved table and figure."""
    total = sum(run.seconds for run in runs)
    parts = [
        "# vaesep reproduce — summary",
        f"Mode: {'fast (CI)' if fast else 'full'}; code: {code_version()}; "
        f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; total {total:.0f} s.",
        markdown_table(["notebook", "status", "seconds"],
                       [(r.notebook, "ok" if r.ok else "FAILED", f"{r.seconds:.0f}") for r in runs], align="llr"),
    ]
    parts += [f"## {t.stem}\n\n{t.read_text().strip()}" for t in sorted(out_dir.glob("*.md")) if t.name != "summary.md"]
    if figures := sorted(out_dir.glob("*.png")):
        parts.append("## Figures\n\n" + "\n".join(f"![{f.stem}]({f.name})" for f in figures))
    record = {"fast": fast, "code": code_version(), "total_seconds": total, "runs": [asdict(run) for run in runs]}
    write_json(out_dir / "summary.json", record)
    return atomic_write(out_dir / "summary.md", "\n\n".join(parts) + "\n")


def earlier_runs(out_dir: Path, before: str, *, fast: bool) -> list[NotebookRun]:
    """The runs of notebooks before ``before`` in an earlier summary of the same mode, which a
    resumed reproduce (``start_at``) keeps instead of dropping what they measured."""
    try:
        record = read_json(out_dir / "summary.json")
        if bool(record["fast"]) != fast:
            return []
        return [NotebookRun(**run) for run in record["runs"] if run["notebook"] < before]
    except (OSError, ValueError, KeyError, TypeError):
        return []  # no earlier summary, or one we cannot read: the new one stands alone


def reproduce(*, fast: bool = False, notebooks_dir: str | Path | None = None, out_dir: str | Path = "results",
              start_at: str | None = None, timeout: int = 3600, readme: str | Path | None = None) -> list[NotebookRun]:
    """Execute the numbered notebooks in order (from ``start_at``), stopping at the first failure,
    and write the summary; ``timeout``: seconds per cell. ``readme``: if every notebook ran, rewrite
    this README's runtime block of the mode (:func:`readme_markers`)."""
    # the notebook folder of the working directory, else the one beside the package (a clone)
    directory = Path(notebooks_dir or "notebooks")
    if notebooks_dir is None and not directory.is_dir():
        directory = Path(__file__).resolve().parents[1] / "notebooks"
    notebooks = find_notebooks(directory, start_at)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    kept = earlier_runs(out, notebooks[0].name, fast=fast) if start_at is not None else []
    runs: list[NotebookRun] = []
    # the kernels inherit the mode and the folders; the caller's environment is restored after
    environment = {FAST_ENV: "1" if fast else "0", RESULTS_ENV: str(out), RUNS_ENV: str(out.parent / "runs")}
    with mock.patch.dict(os.environ, environment):
        for index, path in enumerate(notebooks, start=1):
            print(f"[{index}/{len(notebooks)}] {path.name} …", flush=True)
            run = execute_notebook(path, out / "executed" / path.name, timeout=timeout)
            runs.append(run)
            print(f"    {'done' if run.ok else 'FAILED'} in {run.seconds:.0f} s", flush=True)
            if not run.ok:
                print(f"    {run.error}\n    executed copy with the error: {run.executed_path}")
                break
    summary = write_summary(out, kept + runs, fast=fast)
    print(f"results: {summary}")
    if readme and runs and all(run.ok for run in runs):
        print(f"rewrote {fill_block(readme, *readme_markers(fast), runtimes_markdown(kept + runs, fast=fast))}")
    return runs


def runtimes_markdown(runs: Sequence[NotebookRun], *, fast: bool) -> str:
    """Each notebook's wall time in this run, with where and when it was measured."""
    rows = [(f"`{run.notebook.removesuffix('.ipynb')}`", f"{run.seconds:.0f}") for run in runs]
    rows.append(("**all**", f"{sum(run.seconds for run in runs):.0f}"))
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    caption = (f"_`vaesep reproduce{' --fast' if fast else ''}` at commit {code_version()}, "
               f"{time.strftime('%Y-%m-%d', time.gmtime())}, on {os.cpu_count()} CPU cores "
               f"(load average {load} at the end; wall times grow with the load)._")
    return markdown_table(["notebook", "seconds"], rows) + "\n\n" + caption
