"""Wall time of ``vaesep reproduce --fast`` (every notebook in fast mode) or the full reproduce.

Runs the real command (``python -m vaesep.cli reproduce [--fast] --out DIR``)
in a child process, with results in a temporary folder so the repository's
``results/`` is not touched, and reads the per-notebook times from its
``summary.json``. Peak memory is that of the largest process, notebook
kernels included (they are descendants of the timed process).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT


def notebooks_present(directory: Path = ROOT / "notebooks") -> list[str]:
    return sorted(p.name for p in directory.glob("[0-9][0-9]_*.ipynb"))


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Params: ``fast`` (bool), ``timeout`` (s), ``keep`` (keep the output folder)."""
    fast = bool(params.get("fast", True))
    out_dir = Path(tempfile.mkdtemp(prefix="vaesep-bench-reproduce-"))
    command = [sys.executable, "-m", "vaesep.cli", "reproduce", "--out", str(out_dir / "results")]
    if fast:
        command.insert(4, "--fast")
    env = dict(os.environ)
    env.pop("VAESEP_FAST", None)
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=float(params.get("timeout", 7200)),
        )
        returncode, tail = completed.returncode, (completed.stdout + completed.stderr)[-2000:]
    except subprocess.TimeoutExpired as exc:
        returncode, tail = None, f"timed out after {exc.timeout} s"
    wall = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary_path = out_dir / "results" / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    runs = summary.get("runs", [])
    result = {
        "fast": fast,
        "wall_s": wall,
        "returncode": returncode,
        "ok": returncode == 0,
        "notebooks": notebooks_present(),
        "notebook_seconds": {r["notebook"]: round(r["seconds"], 1) for r in runs},
        "notebook_ok": {r["notebook"]: r["ok"] for r in runs},
        "children_cpu_s": round(children.ru_utime + children.ru_stime, 1),
        "load": os.getloadavg()[0],
        "output_tail": "" if returncode == 0 else tail,
    }
    if params.get("keep"):
        result["out_dir"] = str(out_dir)
    else:
        shutil.rmtree(out_dir, ignore_errors=True)
    return result
