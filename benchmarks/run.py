"""vaesep benchmark suite: training, separation, evaluation, data builds, reproduce.

Usage::

    python benchmarks/run.py --short            # CI: about a minute, synthetic data, figures only
    python benchmarks/run.py --full             # by hand: real speech data, every method, both thread settings,
                                                #   and `vaesep reproduce --fast` (tens of minutes)
    python benchmarks/run.py --full --with-reproduce   # also the full `vaesep reproduce` (hours)
    python benchmarks/run.py --full --only train/vae --threads 1

Every benchmark runs in its own Python process, so its peak resident memory
is its own; repeated runs inside it give medians. A Markdown table (each
target, the measured figure, met or not) is printed and written next to the
JSON (``--json``, default ``results/bench/latest.json``), which also records
the machine, the library versions, the commit and the load average. Nothing
is asserted on time: on a shared machine the figures move with the load.
See ``benchmarks/README.md`` for what each number means.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import common  # noqa: E402

DEFAULT_JSON = common.ROOT / "results" / "bench" / "latest.json"
README = HERE / "README.md"
TABLE_START = "<!-- bench-table:start -->"
TABLE_END = "<!-- bench-table:end -->"
TRAIN_METHODS = ("vae", "ae", "vae-shared", "dnn", "dnn-discrim", "drnn", "drnn-discrim", "nmf")

TARGETS = {
    "vae_separation_rtf": "VAE separation, real-time factor (one minute of audio, STFT and iSTFT included)",
    "vae_training_fps": "VAE training, reference configuration",
    "bss_eval_minute": "BSS-eval of one minute of two-source 16 kHz audio (fast backend)",
    "bss_eval_agreement": "fast BSS-eval vs mir_eval, largest difference",
    "data_build_cold": "default speech data set from the Debian packages, cold build",
    "data_build_cached": "default speech data set, second (cached) call",
    "notebooks_fast": "all notebooks in fast mode (`vaesep reproduce --fast`)",
    "reproduce_full": "full `vaesep reproduce`",
    "peak_memory": "peak resident memory, every benchmark",
}
GOALS = {
    "vae_separation_rtf": ("<=", 0.005, "RTF ≤ 0.005 (≤ 0.3 s per minute)"),
    "vae_training_fps": (">=", 45_000.0, "≥ 45,000 frames/s (1.8× a plain float32 loop)"),
    "bss_eval_minute": ("<=", 1.0, "≤ 1 s"),
    "bss_eval_agreement": ("<=", 0.01, "≤ 0.01 dB"),
    "data_build_cold": ("<=", 60.0, "≤ 60 s"),
    "data_build_cached": ("<=", 2.0, "≤ 2 s"),
    "notebooks_fast": ("<=", 300.0, "≤ 5 min"),
    "reproduce_full": ("<=", 1800.0, "≤ 30 min"),
    "peak_memory": ("<=", 4096.0, "≤ 4 GB"),
}


# ---------------------------------------------------------------------------------------------
# the cases of each mode


def _label(threads: str) -> str:
    """Case-name suffix of a thread setting: ``1t``, ``2t``, ``2t-passive``."""
    return f"{threads.rstrip('p')}t" + ("-passive" if threads.endswith("p") else "")


def plan(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The benchmarks to run: ``{"name", "module", "params", "threads", "timeout"}`` each."""
    full = args.mode == "full"
    threads = args.threads.split(",") if args.threads else (["1", "2", "2p"] if full else ["1"])
    data = args.data or ("speech" if full else "synthetic")
    repeats = args.repeats
    cases: list[dict[str, Any]] = []

    def add(name, module, params, threads=None, timeout=1800):
        # a thread setting is "N" (torch.set_num_threads(N)) or "Np": the same with
        # OMP_WAIT_POLICY=PASSIVE, so idle OpenMP workers sleep instead of spinning
        passive = isinstance(threads, str) and threads.endswith("p")
        count = int(str(threads).rstrip("p")) if threads else None
        cases.append(
            {"name": name, "module": module, "params": params, "threads": count, "passive": passive, "timeout": timeout}
        )

    # data set build: cold, then a second call on what it left
    if full:
        params = {"data": "speech" if data == "speech" else data, "fast": False}
        add(f"data/{params['data']}/cold", "bench_data", {**params, "mode": "cold", "repeats": repeats or 3}, timeout=3600)
        add(f"data/{params['data']}/cached", "bench_data", {**params, "mode": "cached", "repeats": repeats or 3})
    else:
        add("data/synthetic", "bench_data", {"data": "synthetic", "fast": True, "mode": "both", "repeats": 1})

    # training throughput
    if full:
        for method in TRAIN_METHODS:
            if method == "nmf":
                add(
                    f"train/nmf/{_label(threads[0])}",
                    "bench_training",
                    {"method": "nmf", "data": data, "repeats": repeats or 1},
                    threads[0],
                )
                continue
            reference = method == "vae"
            params = {
                "method": method,
                "data": data,
                "epochs": 4 if reference else 3,
                "steps": 25 if reference else 15,
                "step_repeats": 10 if reference else 5,  # before/after timing for every method
            }
            # every thread setting for the reference VAE; the first one for the other methods
            for count in threads if reference else threads[:1]:
                add(f"train/{method}/{_label(count)}", "bench_training", params, count)
    else:
        for count in threads:
            add(
                f"train/vae/{_label(count)}",
                "bench_training",
                {"method": "vae", "data": data, "epochs": 2, "steps": 2, "step_repeats": 3},
                count,
            )

    # separation real-time factor ("vae" is the shipped vae-speech, or an untrained stand-in)
    if full:
        import bench_separation

        names = ["vae"] + [
            m for m in bench_separation.method_names() if m not in ("vae-speech", bench_separation.STAND_IN)
        ]
        for method in names:
            for count in threads if method == "vae" else threads[:1]:
                add(
                    f"separate/{method}/{_label(count)}",
                    "bench_separation",
                    {"method": method, "data": data, "seconds": 60.0, "repeats": repeats or 5},
                    count,
                )
    else:
        for method, counts in (("vae", threads), ("irm", threads[:1])):
            for count in counts:
                add(
                    f"separate/{method}/{_label(count)}",
                    "bench_separation",
                    {"method": method, "data": data, "seconds": 20.0, "repeats": repeats or 2},
                    count,
                )

    # evaluation: BSS-eval backends
    add(
        "metrics/bss_eval",
        "bench_metrics",
        {"seconds": 60.0, "repeats": repeats or 3, "data": data}
        if full
        else {"seconds": 12.0, "repeats": repeats or 1},
    )

    # notebooks
    if (full and not args.no_reproduce) or args.with_reproduce:
        add("reproduce/fast", "bench_reproduce", {"fast": True, "timeout": 3600}, timeout=4000)
    if args.with_reproduce:
        add("reproduce/full", "bench_reproduce", {"fast": False, "timeout": 14400}, timeout=15000)

    if args.seconds:
        for case in cases:
            if case["module"] in ("bench_separation", "bench_metrics"):
                case["params"]["seconds"] = args.seconds
    if args.train_steps:
        for case in cases:
            if case["module"] == "bench_training":
                case["params"]["steps"] = case["params"]["step_repeats"] = args.train_steps
    if args.only:
        patterns = args.only.split(",")
        cases = [c for c in cases if any(p in c["name"] for p in patterns)]
    return cases


# ---------------------------------------------------------------------------------------------
# running one case


def child_main(module: str, params_json: str, result_path: str, threads: int | None) -> int:
    """Entry point of a benchmark subprocess: measure, add memory and load, write JSON."""
    common.set_threads(threads)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    result = importlib.import_module(module).measure(json.loads(params_json))
    from vaesep.runtime import code_version

    result.update(
        {
            "commit": code_version(),
            "peak_rss_mb": common.peak_memory_mb(),
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "case_seconds": time.perf_counter() - start,
            **common.thread_info(),
        }
    )
    Path(result_path).write_text(json.dumps(result, default=_json_default))
    return 0


def _commit(results: dict[str, dict[str, Any]]) -> str:
    """The commit the children reported (they import vaesep anyway; the parent need not)."""
    for result in results.values():
        if result.get("commit"):
            return result["commit"]
    from vaesep.runtime import code_version

    return code_version()


def _json_default(value: Any) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    return str(value)


def run_case(case: dict[str, Any], *, in_process: bool, shared: dict[str, Any]) -> dict[str, Any]:
    params = {**case["params"], **shared.get(case["module"], {})}
    start = time.perf_counter()
    if in_process:
        common.set_threads(case["threads"])
        try:
            result = importlib.import_module(case["module"]).measure(params)
            result["peak_rss_mb"] = common.peak_memory_mb()
            result["load_before"] = result["load_after"] = os.getloadavg()[0]
            result["in_process"] = True
            from vaesep.runtime import code_version

            result["commit"] = code_version()
            result = json.loads(json.dumps(result, default=_json_default))
        except Exception as exc:  # noqa: BLE001  (a failed benchmark is reported, not fatal)
            result = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        with tempfile.TemporaryDirectory(prefix="vaesep-bench-") as tmp:
            result_path = Path(tmp) / "result.json"
            env = dict(os.environ)
            if case["threads"]:  # a thread setting of the case; otherwise the caller's environment
                for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                    env[key] = str(case["threads"])
                if case.get("passive"):
                    env["OMP_WAIT_POLICY"] = "PASSIVE"
                else:
                    env.pop("OMP_WAIT_POLICY", None)
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                case["module"],
                "--params",
                json.dumps(params),
                "--result",
                str(result_path),
            ]
            if case["threads"]:
                command += ["--child-threads", str(case["threads"])]
            try:
                completed = subprocess.run(
                    command, env=env, capture_output=True, text=True, timeout=case["timeout"], cwd=common.ROOT
                )
                if completed.returncode == 0 and result_path.is_file():
                    result = json.loads(result_path.read_text())
                else:
                    result = {"error": (completed.stderr or completed.stdout)[-1500:]}
            except subprocess.TimeoutExpired:
                result = {"error": f"timed out after {case['timeout']} s"}
    result["case"] = case["name"]
    result["threads"] = case["threads"]
    result["thread_setting"] = f"{case['threads']}{' passive' if case.get('passive') else ''}" if case["threads"] else None
    result["wall_total_s"] = time.perf_counter() - start
    return result


# ---------------------------------------------------------------------------------------------
# targets and tables


def _peak(result: dict[str, Any]) -> float:
    peak = result.get("peak_rss_mb") or {}
    return max(peak.get("self", 0.0), peak.get("children", 0.0))


def _met(target: str, value: float | None) -> bool | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    op, goal, _ = GOALS[target]
    return value <= goal if op == "<=" else value >= goal


def evaluate_targets(results: dict[str, dict[str, Any]], mode: str) -> list[dict[str, Any]]:
    """One row per target: the measured figure, whether it is met, the load while measured."""
    rows = []

    def row(target, value, text, load, note=""):
        rows.append(
            {
                "target": target,
                "description": TARGETS[target],
                "goal": GOALS[target][2],
                "value": value,
                "measured": text,
                "met": _met(target, value) if value is not None else None,
                "load": None if load is None else round(load, 2),
                "note": note,
            }
        )

    ok = {name: r for name, r in results.items() if "error" not in r}

    separations = [r for n, r in ok.items() if n.startswith("separate/vae") and "shared" not in n]
    if separations:
        best = min(separations, key=lambda r: r["single"]["rtf"])
        others = ", ".join(
            f"{r['thread_setting']} thr: single {r['single']['rtf']:.4f}, batch {r['batch']['rtf']:.4f}"
            for r in sorted(separations, key=lambda r: r["thread_setting"] or "")
        )
        row(
            "vae_separation_rtf",
            best["single"]["rtf"],
            f"{best['single']['rtf']:.4f} ({best['single']['wall_s'] * 60 / best['audio_seconds']:.2f} s/min, "
            f"{best['thread_setting']} thr; CPU {best['single']['rtf_cpu']:.4f}) — {others}",
            best["single"]["load"],
            f"method {best['method']}",
        )
    else:
        row("vae_separation_rtf", None, "not measured", None)

    trainings = [r for n, r in ok.items() if n.startswith("train/vae/")]
    if trainings:
        best = max(trainings, key=lambda r: r["frames_per_second"])
        others = ", ".join(
            f"{r['thread_setting']} thr: {r['frames_per_second']:,.0f}"
            for r in sorted(trainings, key=lambda r: r["thread_setting"] or "")
        )
        row(
            "vae_training_fps",
            best["frames_per_second"],
            f"{best['frames_per_second']:,.0f} frames/s ({best['thread_setting']} thr); inner step: "
            f"waveform fp32 {_fmt(best.get('waveform_fp32_frames_per_second'), ',.0f')} → spectral bf16 "
            f"{_fmt(best.get('spectral_bf16_frames_per_second'), ',.0f')} "
            f"(×{_fmt(best.get('speed_up_vs_waveform'), '.2f')}; ×{_fmt(best.get('speed_up_vs_plain'), '.2f')} "
            f"the plain fp32 loop's {_fmt(best.get('plain_fp32_frames_per_second'), ',.0f')}) — {others}",
            best["load_after"],
            f"data {best['data']}",
        )
    else:
        row("vae_training_fps", None, "not measured", None)

    metrics = ok.get("metrics/bss_eval")
    if metrics and "fast" in metrics["one_item"]:
        fast = metrics["one_item"]["fast"]
        items = metrics["items"].get("fast", {})
        row(
            "bss_eval_minute",
            fast["s_per_minute"],
            f"{fast['s_per_minute']:.2f} s (CPU {fast['cpu_s_per_minute']:.2f} s); as 4-s items with the "
            f"mixture scored too: {items.get('s_per_minute', float('nan')):.2f} s; mir_eval: "
            f"{metrics['one_item'].get('mir_eval', {}).get('s_per_minute', float('nan')):.2f} s / "
            f"{metrics['items'].get('mir_eval', {}).get('s_per_minute', float('nan')):.2f} s",
            fast["load"],
            f"{metrics['seconds']:g} s of audio" + ("" if metrics["seconds"] == 60 else " (scaled to a minute)"),
        )
        differences = [
            metrics[key]["max_abs_diff_db"]
            for key in ("one_item", "items", "speech_items")
            if key in metrics and "max_abs_diff_db" in metrics[key]
        ]
        if differences:
            row(
                "bss_eval_agreement",
                max(differences),
                f"{max(differences):.1e} dB (SDR/SIR/SAR/NSDR; "
                + ", ".join(
                    f"{k}: {metrics[k]['max_abs_diff_db']:.1e}"
                    for k in ("one_item", "items", "speech_items")
                    if k in metrics
                )
                + ")",
                fast["load"],
            )
        else:
            row("bss_eval_agreement", None, "not measured", None)
    else:
        row("bss_eval_minute", None, "not measured", None)
        row("bss_eval_agreement", None, "not measured", None)

    builds = {}
    for name, r in ok.items():
        if name.startswith("data/"):
            for part in ([r["cold"], r["cached"]] if r["mode"] == "both" else [r]):
                builds[part["mode"]] = {**part, "peak_rss_mb": r.get("peak_rss_mb")}
    for target, mode_name in (("data_build_cold", "cold"), ("data_build_cached", "cached")):
        r = builds.get(mode_name)
        if r is None:
            row(target, None, "not measured", None)
            continue
        is_reference = r["data"] == "speech" and not r["fast"]
        text = f"{r['wall_s']:.2f} s ({r['data']}{', fast variant' if r['fast'] else ''}; runs {r['wall_runs']})"
        if "process_wall_s" in r:
            text += f"; whole new process incl. imports {r['process_wall_s']:.2f} s"
        if "children_cpu_s" in r:
            text += f"; CPU {r['cpu_s']:.1f} s here + {r['children_cpu_s']:.1f} s in decoding workers"
        elif "children_cpu_s_total" in r:  # reports of the first version: a total over the runs
            text += (
                f"; CPU {r['cpu_s']:.1f} s here + {r['children_cpu_s_total'] / len(r['wall_runs']):.1f} s "
                "in decoding workers"
            )
        row(
            target,
            r["wall_s"] if is_reference else None,
            text,
            r.get("load"),
            "" if is_reference else "short mode builds the synthetic set: no verdict",
        )

    for target, name in (("notebooks_fast", "reproduce/fast"), ("reproduce_full", "reproduce/full")):
        r = results.get(name)
        if r is None:
            row(target, None, "not run" + (" (use --with-reproduce)" if target == "reproduce_full" else ""), None)
        elif "error" in r or not r.get("ok"):
            notebooks = r.get("notebook_seconds", {})
            row(
                target,
                None,
                f"failed after {r.get('wall_s', float('nan')):.0f} s; notebooks present: {r.get('notebooks')}; "
                f"ran: {notebooks}",
                r.get("load"),
                (r.get("error") or r.get("output_tail", ""))[-200:].replace("\n", " "),
            )
        else:
            row(
                target,
                r["wall_s"],
                f"{r['wall_s']:.0f} s ({', '.join(f'{k[:2]}: {v:.0f} s' for k, v in r['notebook_seconds'].items())})",
                r["load"],
                f"notebooks: {r['notebooks']}",
            )

    peaks = {name: _peak(r) for name, r in ok.items() if r.get("peak_rss_mb")}
    if peaks:
        worst = max(peaks, key=peaks.get)
        row("peak_memory", peaks[worst], f"{peaks[worst]:.0f} MB (largest: {worst})", None)
    else:
        row("peak_memory", None, "not measured", None)
    return rows


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "—"}[met]


def _fmt(value: Any, spec: str = ".4f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def markdown(report: dict[str, Any]) -> str:
    """The printed report: targets first, then one table per family."""
    results = report["results"]
    load = report["load"]
    lines = [
        f"## vaesep benchmark ({report['mode']} mode)",
        "",
        f"Commit {report['commit']}; {report['machine']['cpu']}, {report['machine']['cpu_count']} CPUs; "
        f"torch {report['versions']['torch']}, numpy {report['versions']['numpy']}; "
        f"load average {load['start'][0]:.1f} at start, {load['end'][0]:.1f} at end; {report['date']}.",
        "",
        "| target | goal | measured | met | load |",
        "|---|---|---|---|---:|",
    ]
    for t in report["targets"]:
        note = f" ({t['note']})" if t["note"] else ""
        lines.append(
            f"| {t['description']} | {t['goal']} | {t['measured']}{note} | {_verdict(t['met'])} | {_fmt(t['load'], '.1f')} |"
        )

    train = [r for n, r in results.items() if n.startswith("train/")]
    if train:
        lines += [
            "",
            "Training throughput (spectrogram frames per second; trainer's figure, median of epochs after the first)",
            "",
            "| method | threads | frames/s | step: waveform fp32 | plain fp32 | spectral fp32 | spectral bf16 | peak MB | load |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in train:
            if "error" in r:
                lines.append(f"| {r['case']} | {r['threads']} | error | | | | | | |")
                continue
            lines.append(
                f"| {r['method']} | {r['thread_setting']} | {r['frames_per_second']:,.0f} | "
                + " | ".join(
                    _fmt(r.get(f"{variant}_frames_per_second"), ",.0f")
                    for variant in ("waveform_fp32", "plain_fp32", "spectral_fp32", "spectral_bf16")
                )
                + " | "
                f"{_peak(r):.0f} | {r['load_after']:.1f} |"
            )
    separate = [r for n, r in results.items() if n.startswith("separate/")]
    if separate:
        lines += [
            "",
            "Separation real-time factor (compute s per s of audio; lower is better)",
            "",
            "| method | threads | batch | single (API) | file (44.1 kHz WAV) | single, CPU | s per minute | peak MB | load |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in separate:
            if "error" in r:
                lines.append(f"| {r['case']} | {r['threads']} | error | | | | | | |")
                continue
            lines.append(
                f"| {r['method']} | {r['thread_setting']} | {r['batch']['rtf']:.4f} | {r['single']['rtf']:.4f} | "
                f"{_fmt(r.get('file', {}).get('rtf'))} | {r['single']['rtf_cpu']:.4f} | "
                f"{r['single']['wall_s'] * 60 / r['audio_seconds']:.2f} | {_peak(r):.0f} | {r['single']['load']:.1f} |"
            )
    metrics = results.get("metrics/bss_eval")
    if metrics and "error" not in metrics:
        lines += [
            "",
            f"Evaluation time per minute of two-source audio ({metrics['seconds']:g} s measured, scaled)",
            "",
            "| backend | one item: s/min | CPU s/min | 4-s items with mixture: s/min | CPU s/min |",
            "|---|---:|---:|---:|---:|",
        ]
        for backend in metrics["backends"]:
            one, items = metrics["one_item"][backend], metrics["items"][backend]
            lines.append(
                f"| {backend} | {one['s_per_minute']:.2f} | {one['cpu_s_per_minute']:.2f} | "
                f"{items['s_per_minute']:.2f} | {items['cpu_s_per_minute']:.2f} |"
            )
        lines.append("")
        lines.append(
            "Largest |fast − mir_eval|: "
            + ", ".join(
                f"{k} {metrics[k]['max_abs_diff_db']:.1e} dB"
                for k in ("one_item", "items", "speech_items")
                if k in metrics and "max_abs_diff_db" in metrics[k]
            )
            + f"; peak {_peak(metrics):.0f} MB."
        )
    data = [r for n, r in results.items() if n.startswith("data/")]
    if data:
        lines += ["", "Data set build", "", "| case | median s | runs | size MB | peak MB |", "|---|---:|---|---:|---:|"]
        for r in data:
            if "error" in r:
                lines.append(f"| {r['case']} | error | | | |")
                continue
            for part in [r["cold"], r["cached"]] if r["mode"] == "both" else [r]:
                extra = f"; new process {part['process_wall_s']:.2f} s" if "process_wall_s" in part else ""
                lines.append(
                    f"| {part['data']} {part['mode']}{' (fast variant)' if part['fast'] else ''} | "
                    f"{part['wall_s']:.2f} | {part['wall_runs']}{extra} | {part['size_mb']} | {_peak(r):.0f} |"
                )
    reproduce = [r for n, r in results.items() if n.startswith("reproduce/")]
    if reproduce:
        lines += ["", "Notebooks", "", "| case | wall s | per notebook | ok | peak MB |", "|---|---:|---|---|---:|"]
        for r in reproduce:
            lines.append(
                f"| {r['case']} | {_fmt(r.get('wall_s'), '.0f')} | {r.get('notebook_seconds', {})} | "
                f"{r.get('ok', False)} | {_peak(r):.0f} |"
            )
    errors = [r for r in results.values() if "error" in r]
    if errors:
        lines += ["", "Errors:", ""] + [f"- {r['case']}: {r['error'][-300:]}" for r in errors]
    return "\n".join(lines) + "\n"


def merge_reports(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """One report from several runs (e.g. ``--full`` and a later ``--with-reproduce --only reproduce/full``).

    The first report's header is kept; each later report's cases replace or add
    to the earlier ones, and ``parts`` records which run measured which cases,
    so the README table can name every commit and date behind it.
    """
    merged = {**reports[0], "results": dict(reports[0]["results"])}
    merged["parts"] = []
    for report in reports:
        merged["results"].update(report["results"])
        merged["parts"].append(
            {
                "argv": report.get("argv", []),
                "date": report["date"],
                "commit": report["commit"],
                "cases": sorted(report["results"]),
            }
        )
    return merged


def _measuring_options(argv: list[str]) -> list[str]:
    """``argv`` without the options that change where output goes, not what is measured."""
    kept, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--json", "--wait-load", "--wait-max"):
            skip = True
        elif not word.startswith(("--update-readme", "--quiet", "--json=", "--wait-")):
            kept.append(word)
    return kept


def _provenance(report: dict[str, Any]) -> str:
    """Which command, date and commit measured the table's figures."""
    parts = report.get("parts") or [
        {"argv": [f"--{report['mode']}"], "date": report["date"], "commit": report["commit"]}
    ]
    runs = [
        f"`python benchmarks/run.py {' '.join(_measuring_options(part['argv']))}` on {part['date'][:10]}, "
        f"commit {part['commit']}"
        for part in parts
    ]
    return "Measured by " + "; then ".join(runs)


def readme_table(report: dict[str, Any]) -> str:
    """The short table for README files: one row per target."""
    lines = [
        f"{_provenance(report)}; {report['machine']['cpu_count']} CPU cores ({report['machine']['cpu']}), "
        "on a machine shared with other jobs: *load* is the 1-minute load average while each figure was "
        "measured (this benchmark itself adds about 1).",
        "",
        "| what | goal | measured | | load |",
        "|---|---|---|---|---:|",
    ]
    for t in report["targets"]:
        lines.append(
            f"| {t['description']} | {t['goal']} | {t['measured'].split(' — ')[0]} | {_verdict(t['met'])} | "
            f"{_fmt(t['load'], '.1f')} |"
        )
    return "\n".join(lines) + "\n"


def update_readme(path: Path, table: str) -> None:
    text = path.read_text()
    if TABLE_START not in text or TABLE_END not in text:
        raise SystemExit(f"{path} has no {TABLE_START} … {TABLE_END} markers to put the table between")
    head, rest = text.split(TABLE_START, 1)
    _, tail = rest.split(TABLE_END, 1)
    path.write_text(f"{head}{TABLE_START}\n{table}{TABLE_END}{tail}")


# ---------------------------------------------------------------------------------------------


def wait_for_load(threshold: float, max_seconds: float) -> float:
    """Poll the 1-minute load average until it is below ``threshold`` or ``max_seconds`` pass."""
    start = time.time()
    while os.getloadavg()[0] >= threshold and time.time() - start < max_seconds:
        print(f"load average {os.getloadavg()[0]:.2f} ≥ {threshold}; waiting…", flush=True)
        time.sleep(30)
    return time.time() - start


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--short", dest="mode", action="store_const", const="short", help="CI mode (default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full", help="everything but the full reproduce")
    parser.set_defaults(mode="short")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"report path (default {DEFAULT_JSON})")
    parser.add_argument("--only", help="comma-separated substrings of case names to run (e.g. train/vae,metrics)")
    parser.add_argument("--threads", help="torch thread settings to compare, e.g. 1,2 (default 1,2)")
    parser.add_argument("--data", help="data set for training/separation inputs (default: speech full, synthetic short)")
    parser.add_argument("--repeats", type=int, help="override the repeats of every case")
    parser.add_argument("--seconds", type=float, help="override the audio length of the separation and metrics cases")
    parser.add_argument("--train-steps", type=int, help="override the steps per epoch (and timed steps) of the training cases")
    parser.add_argument("--with-reproduce", action="store_true", help="also the full `vaesep reproduce` (hours)")
    parser.add_argument("--no-reproduce", action="store_true", help="skip `vaesep reproduce --fast` in full mode")
    parser.add_argument("--wait-load", type=float, help="first wait until the load average is below this")
    parser.add_argument("--wait-max", type=float, default=1200.0, help="…but at most this many seconds (default 1200)")
    parser.add_argument("--update-readme", nargs="?", const=README, type=Path, help="put the target table into this README (between the bench-table markers)")
    parser.add_argument("--in-process", action="store_true", help="run every case in this process (tests; peak memory is then cumulative)")
    parser.add_argument("--quiet", action="store_true", help="print only the final table")
    parser.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="run nothing: redo the tables (and --update-readme) from saved reports; "
        "a later report's cases replace or add to an earlier one's",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args.child, args.params, args.result, args.child_threads)

    if args.from_json:
        report = merge_reports([json.loads(path.read_text()) for path in args.from_json])
        report["targets"] = evaluate_targets(report["results"], report["mode"])
        print(markdown(report))
        if args.update_readme:
            update_readme(args.update_readme, readme_table(report))
            print(f"updated the table in {args.update_readme}")
        return 0

    waited = wait_for_load(args.wait_load, args.wait_max) if args.wait_load else 0.0
    cases = plan(args)
    started = time.time()
    load_start = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="vaesep-bench-cache-") as cache_root:
        shared = {"bench_data": {"cache_root": cache_root}}
        for index, case in enumerate(cases, start=1):
            if not args.quiet:
                print(f"[{index}/{len(cases)}] {case['name']} …", end=" ", flush=True)
            result = run_case(case, in_process=args.in_process, shared=shared)
            results[case["name"]] = result
            if not args.quiet:
                status = "error" if "error" in result else "done"
                print(f"{status} in {result['wall_total_s']:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    report = {
        "schema": 1,
        "mode": args.mode,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "duration_s": time.time() - started,
        "waited_for_load_s": waited,
        "commit": _commit(results),
        "machine": common.machine(),
        "versions": common.versions(),
        "load": {"start": list(load_start), "end": list(os.getloadavg())},
        "results": results,
    }
    report["targets"] = evaluate_targets(results, args.mode)
    table = markdown(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    args.json.with_suffix(".md").write_text(table)
    print()
    print(table)
    print(f"wrote {args.json} and {args.json.with_suffix('.md')} ({report['duration_s']:.0f} s in all)")
    if args.update_readme:
        update_readme(args.update_readme, readme_table(report))
        print(f"updated the table in {args.update_readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
