"""Data-set build time: a cold build, and a second (cached) call.

``mode="cold"``: :func:`vaesep.data.build` into an empty cache directory,
``repeats`` times (a fresh directory each time; the decoded system audio is
in the OS page cache after the first run, which is noted). ``mode="cached"``:
the same call again on the cache the cold run left, which verifies every
file against the manifest (size and sha256) and opens it; timed as the call
alone (``repeats`` times) and as a whole new Python process
(``python -c "from vaesep import data; data.build(...)"``, imports included),
which is what a second ``vaesep data build`` costs a user.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import strip_result, timed


def _size_mb(directory: Path) -> float:
    return round(sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6, 1)


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """Params: ``data``, ``fast`` (the CI-sized variant), ``mode``, ``repeats``, ``cache_root``."""
    from vaesep import data

    name = params.get("data", "synthetic")
    fast = bool(params.get("fast", False))
    repeats = int(params.get("repeats", 1))
    cache_root = Path(params["cache_root"])
    mode = params.get("mode", "cold")
    out: dict[str, Any] = {"data": name, "fast": fast, "mode": mode}

    if mode == "both":  # short mode: one process, cold then cached, no extra process
        cold = measure({**params, "mode": "cold"})
        cached = measure({**params, "mode": "cached", "repeats": 3, "process_repeats": 0})
        return {"data": name, "fast": fast, "mode": mode, "cold": cold, "cached": cached}
    if mode == "cold":
        import resource

        def children_cpu() -> float:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return usage.ru_utime + usage.ru_stime

        walls, cpus, worker_cpus = [], [], []
        built = None
        for repeat in range(repeats):
            target = cache_root / f"cold{repeat}"
            shutil.rmtree(target, ignore_errors=True)
            wall, cpu, workers = time.perf_counter(), time.process_time(), children_cpu()
            built = data.build(name, fast=fast, progress=False, cache_dir=target)
            worker_cpus.append(children_cpu() - workers)
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
            if repeat + 1 < repeats:
                shutil.rmtree(target, ignore_errors=True)
        out.update(
            {
                "wall_s": statistics.median(walls),
                "cpu_s": statistics.median(cpus),
                "wall_runs": [round(w, 3) for w in walls],
                "cpu_runs": [round(c, 3) for c in cpus],
                "children_cpu_s": statistics.median(worker_cpus),
                "load": os.getloadavg()[0],
                "cache_dir": str(built.path.parent.parent),
                "size_mb": _size_mb(built.path),
                "note": "runs after the first read the system audio from the OS page cache",
            }
        )
        return out

    # cached: the directory a cold run left (build it first if there is none)
    directory = cache_root / f"cold{max(repeats, 1) - 1}"
    candidates = sorted(cache_root.glob("cold*"))
    if candidates:
        directory = candidates[-1]
    data.build(name, fast=fast, progress=False, cache_dir=directory)
    timing = strip_result(timed(lambda: data.build(name, fast=fast, progress=False, cache_dir=directory), repeats, warmup=0))
    out.update(timing)
    code = (
        "import time; t = time.perf_counter(); from vaesep import data; "
        f"data.build({name!r}, fast={fast!r}, progress=False, cache_dir={str(directory)!r}); "
        "print(time.perf_counter() - t)"
    )
    process_runs = []
    for _ in range(int(params.get("process_repeats", repeats))):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        process_runs.append(time.perf_counter() - start)
    if process_runs:
        out["process_wall_s"] = statistics.median(process_runs)
        out["process_wall_runs"] = [round(p, 3) for p in process_runs]
    out["size_mb"] = _size_mb(directory)
    return out


if __name__ == "__main__":
    print(json.dumps(measure({"data": "synthetic", "fast": True, "cache_root": "/tmp/vaesep-bench-data"}), indent=2))
