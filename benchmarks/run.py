"""How fast vaesep trains, separates, scores and builds its data: one table of figures against targets.

Usage::

    python benchmarks/run.py --short                  # CI: synthetic data, about a minute
    python benchmarks/run.py --full                   # by hand: speech data, `vaesep reproduce --fast` too
    python benchmarks/run.py --full --with-reproduce  # also the full `vaesep reproduce` (long)
    python benchmarks/run.py --full --update-readme   # and refresh the table in benchmarks/README.md

Every figure is the median of ``--repeats`` runs after one warm-up, with wall and CPU
seconds (CPU time hardly moves with the machine's load; wall time does). Nothing is
asserted on time: the targets are reported as met or not. The report is printed and
written to ``results/bench/latest.json`` and ``.md`` (``--json`` elsewhere).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # bench_training.py next to this file

SR = 16_000
TABLE_START, TABLE_END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
# target name: (description, "<=" or ">=", goal, goal as written)
TARGETS: dict[str, tuple[str, str, float, str]] = {
    "training_fps": ("VAE training, reference configuration, frames/s", ">=", 45_000.0, "≥ 45,000"),
    "separation_rtf": ("VAE separation, real-time factor (STFT and iSTFT included)", "<=", 0.005, "≤ 0.005"),
    "bss_eval_minute": ("BSS-eval of one minute of two-source audio, s (fast backend)", "<=", 1.0, "≤ 1 s"),
    "bss_eval_agreement": ("fast BSS-eval vs mir_eval, largest difference, dB", "<=", 0.01, "≤ 0.01 dB"),
    "data_cold": ("data set build into an empty cache, s", "<=", 60.0, "≤ 60 s"),
    "data_cached": ("data set, second (cached) call, s", "<=", 2.0, "≤ 2 s"),
    "notebooks_fast": ("all notebooks in fast mode (`vaesep reproduce --fast`), s", "<=", 300.0, "≤ 300 s"),
    "reproduce_full": ("full `vaesep reproduce`, s", "<=", 1800.0, "≤ 1800 s"),
    "peak_memory": ("peak resident memory of this run and its children, MB", "<=", 4096.0, "≤ 4096 MB"),
}


def timed(function, repeats: int) -> dict[str, float]:
    """Median wall and CPU seconds of ``function()`` over ``repeats`` runs after one warm-up."""
    function()
    walls, cpus = [], []
    for _ in range(max(1, repeats)):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}


def two_voices(seconds: float) -> np.ndarray:
    """``(2, seconds · 16000)``: the synthetic data set's two test voices, joined (and repeated) to length."""
    from vaesep import data

    items = np.asarray(data.build("synthetic", fast=True, progress=False).sources("test"))  # (items, 2, samples)
    joined = items.transpose(1, 0, 2).reshape(2, -1)
    n_samples = int(seconds * SR)
    return np.tile(joined, (1, -(-n_samples // joined.shape[1])))[:, :n_samples].astype(np.float32)


def bench_separation(seconds: float, repeats: int) -> dict[str, Any]:
    """Real-time factor of the shipped VAE's ``separate`` on one long mixture (1 thread)."""
    import vaesep

    mixture = two_voices(seconds).sum(axis=0)
    model = vaesep.load_model("vae-speech")
    timing = timed(lambda: model.separate(mixture, SR), repeats)
    return {**timing, "audio_s": seconds, "rtf": timing["wall_s"] / seconds, "value": timing["wall_s"] / seconds}


def bench_metrics(seconds: float, repeats: int) -> dict[str, Any]:
    """One item of two sources scored by both BSS-eval backends; time per minute and the largest gap."""
    from vaesep.metrics import bss_eval

    references = two_voices(seconds).astype(np.float64)
    noise = np.random.default_rng(1).standard_normal(references.shape) * 0.01
    estimates = 0.9 * references + 0.1 * references[::-1] + noise  # SDR ~ 15-20 dB, like a good separator
    out: dict[str, Any] = {}
    for backend in ("fast", "mir_eval"):
        timing = timed(lambda b=backend: bss_eval(references, estimates, backend=b), repeats)
        out[backend] = {**timing, "s_per_minute": timing["wall_s"] * 60.0 / seconds}
    fast, slow = (bss_eval(references, estimates, backend=b) for b in ("fast", "mir_eval"))
    out["max_abs_diff_db"] = max(float(np.max(np.abs(np.asarray(fast[k]) - np.asarray(slow[k])))) for k in ("sdr", "sir", "sar"))
    return out


def bench_data(name: str, fast: bool) -> dict[str, Any]:
    """A cold build into an empty cache, then the cached call (which checks every file's hash)."""
    from vaesep import data

    with tempfile.TemporaryDirectory(prefix="vaesep-bench-data-") as cache:
        wall = time.perf_counter()
        data.build(name, fast=fast, progress=False, cache_dir=Path(cache))
        cold = time.perf_counter() - wall
        cached = timed(lambda: data.build(name, fast=fast, progress=False, cache_dir=Path(cache)), 3)
    return {"data": name, "cold_s": cold, "cached_s": cached["wall_s"]}


def bench_reproduce(fast: bool, timeout: float) -> dict[str, Any]:
    """``vaesep reproduce [--fast]`` in a fresh process, results into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="vaesep-bench-reproduce-") as out:
        command = [sys.executable, "-m", "vaesep.cli", "reproduce", "--out", out] + (["--fast"] if fast else [])
        environment = {k: v for k, v in os.environ.items() if k != "VAESEP_FAST"}
        wall = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)
        return {"wall_s": time.perf_counter() - wall, "ok": done.returncode == 0,
                "tail": "" if done.returncode == 0 else (done.stdout + done.stderr)[-1500:]}


def peak_memory_mb() -> float:
    """Largest resident set of this process or any one of its reaped children (Linux: kB)."""
    usage = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return max(usage) / (1024 * 1024 if sys.platform == "darwin" else 1024)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure every family the mode asks for; returns the report (figures and targets)."""
    import bench_training
    import torch

    torch.set_num_threads(args.threads)
    full, results, started = args.mode == "full", {}, time.perf_counter()
    data_name = "speech" if full else "synthetic"
    steps = args.train_steps or (25 if full else 2)
    results["train"] = bench_training.measure(
        {"method": "vae", "data": data_name, "epochs": 4 if full else 2, "steps": steps, "step_repeats": steps})
    results["separate"] = bench_separation(args.seconds or (60.0 if full else 20.0), args.repeats)
    results["metrics"] = bench_metrics(args.seconds or (60.0 if full else 12.0), args.repeats)
    results["data"] = bench_data(data_name, fast=not full)
    if full or args.with_reproduce:
        results["notebooks_fast"] = bench_reproduce(True, 3600)
    if args.with_reproduce:
        results["reproduce_full"] = bench_reproduce(False, 4 * 3600)
    from vaesep.runtime import code_version

    figures = {
        "training_fps": results["train"]["frames_per_second"],
        "separation_rtf": results["separate"]["rtf"],
        "bss_eval_minute": results["metrics"]["fast"]["s_per_minute"],
        "bss_eval_agreement": results["metrics"]["max_abs_diff_db"],
        "data_cold": results["data"]["cold_s"],
        "data_cached": results["data"]["cached_s"],
        "notebooks_fast": results.get("notebooks_fast", {}).get("wall_s"),
        "reproduce_full": results.get("reproduce_full", {}).get("wall_s"),
        "peak_memory": peak_memory_mb(),
    }
    targets = []
    for name, (description, op, goal, written) in TARGETS.items():
        value = figures[name]
        met = None if value is None else (value <= goal if op == "<=" else value >= goal)
        targets.append({"target": name, "description": description, "goal": written, "value": value, "met": met})
    return {
        "mode": args.mode, "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": code_version(), "threads": args.threads, "cpu_count": os.cpu_count(),
        "load": os.getloadavg(), "duration_s": time.perf_counter() - started, "results": results, "targets": targets,
    }


def table(report: dict[str, Any]) -> str:
    """The report as Markdown: what was measured where, then one row per target."""
    from vaesep.files import markdown_table

    def shown(value: float | None) -> str:
        return "not run" if value is None else f"{value:,.4g}"

    verdict = {True: "met", False: "**not met**", None: "—"}
    rows = [(t["description"], t["goal"], shown(t["value"]), verdict[t["met"]]) for t in report["targets"]]
    load = ", ".join(f"{value:.1f}" for value in report["load"])
    caption = (f"`benchmarks/run.py --{report['mode']}` on {report['date']}, commit {report['commit']}, "
               f"{report['threads']} torch thread(s) of {report['cpu_count']} cores; load average {load}.")
    return caption + "\n\n" + markdown_table(["what", "goal", "measured", ""], rows, align="lrrl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--short", dest="mode", action="store_const", const="short", help="CI: synthetic data")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="speech data, notebooks too")
    parser.add_argument("--with-reproduce", action="store_true", help="also time the full `vaesep reproduce`")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--seconds", type=float, help="audio per separation/metrics figure")
    parser.add_argument("--train-steps", type=int, help="training steps per epoch")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "bench" / "latest.json")
    parser.add_argument("--update-readme", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args(argv)
    args.mode = args.mode or "short"
    from vaesep.files import atomic_write, fill_block, write_json

    report = run(args)
    markdown = table(report)
    write_json(args.json, report)
    atomic_write(args.json.with_suffix(".md"), markdown + "\n")
    print(markdown)
    if args.update_readme:
        fill_block(HERE / "README.md", TABLE_START, TABLE_END, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
