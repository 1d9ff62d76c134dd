"""Shared helpers of the benchmark suite: timing, memory, threads, machine description.

Every benchmark family (``bench_*.py``) exposes ``measure(params) -> dict``;
``run.py`` calls it in a fresh subprocess (so peak memory is per benchmark)
and merges what it returns with the fields added here.

Timing convention: each operation is warmed up once, then run ``repeats``
times; we report the median wall time (``perf_counter``) and, next to it,
the median CPU time of the process (``process_time``, all threads summed).
On a machine shared with other jobs the wall time depends on the load; the
CPU time of a single-threaded run hardly does, so it tells what the same
code would take on an idle machine.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SR = 16_000
ROOT = Path(__file__).resolve().parents[1]


def set_threads(threads: int | None) -> None:
    """Fix torch's intra-op threads (and BLAS/OpenMP through the environment for children)."""
    if not threads:
        return
    import torch

    torch.set_num_threads(int(threads))


def timed(function: Callable[[], Any], repeats: int, *, warmup: int = 1) -> dict[str, Any]:
    """Median wall and CPU seconds of ``function()`` over ``repeats`` runs after ``warmup`` runs.

    Returns ``{"wall_s", "cpu_s", "wall_runs", "cpu_runs", "load"}`` plus ``"result"``, the
    return value of the last run (not JSON: callers pop it).
    """
    result = None
    for _ in range(warmup):
        result = function()
    walls, cpus = [], []
    for _ in range(max(1, repeats)):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(cpus),
        "wall_runs": [round(w, 4) for w in walls],
        "cpu_runs": [round(c, 4) for c in cpus],
        "load": os.getloadavg()[0],
        "result": result,
    }


def strip_result(timing: dict[str, Any]) -> dict[str, Any]:
    """``timing`` without its ``"result"`` entry (which need not be JSON)."""
    return {key: value for key, value in timing.items() if key != "result"}


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its reaped children, in MB.

    ``self`` is ``VmHWM`` from ``/proc/self/status`` (Linux) or ``ru_maxrss``;
    ``children`` is ``ru_maxrss`` of ``RUSAGE_CHILDREN``: the largest single
    descendant (decoding workers, notebook kernels), not a sum.
    """
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024 / 1024  # kB on Linux, bytes on macOS
    self_mb = own * scale
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                self_mb = int(line.split()[1]) / 1024
    return {"self": round(self_mb, 1), "children": round(children * scale, 1)}


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else ``platform.processor()``."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_total_gb() -> float | None:
    info = Path("/proc/meminfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": memory_total_gb(),
        "python": sys.version.split()[0],
    }


def versions() -> dict[str, str]:
    """Versions of the libraries whose speed is measured."""
    from importlib import metadata

    found = {}
    for package in ("vaesep", "torch", "numpy", "scipy", "mir_eval", "librosa", "soundfile", "soxr", "nbclient"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def thread_info() -> dict[str, Any]:
    import torch

    return {
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "MKL_NUM_THREADS": os.environ.get("MKL_NUM_THREADS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }


def dataset_for(name: str, *, fast: bool = True):
    """A built data set for inputs (cached in the user's cache), or None if its system data is absent."""
    from vaesep import data

    try:
        return data.build(name, fast=fast, progress=False)
    except data.MissingSystemDataError:
        return None
