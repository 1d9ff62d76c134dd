"""The benchmark suite's short (CI) mode runs and reports every field; no time is asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("bench_run", BENCHMARKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def short_report(bench, tmp_path_factory, synthetic_dataset):
    path = tmp_path_factory.mktemp("bench") / "latest.json"
    # the short mode's cases, in this process, with 4 s of audio and one step per epoch: quick
    code = bench.main(["--short", "--in-process", "--quiet", "--repeats", "1", "--seconds", "4", "--train-steps", "1", "--json", str(path)])
    assert code == 0
    return json.loads(path.read_text()), path


def test_short_mode_report_has_every_field(bench, short_report):
    report, path = short_report
    for key in ("schema", "mode", "date", "duration_s", "commit", "machine", "versions", "load", "results", "targets"):
        assert key in report, key
    assert report["mode"] == "short"
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["cpu"]
    assert {"torch", "numpy", "scipy", "mir_eval", "vaesep"} <= set(report["versions"])
    assert len(report["load"]["start"]) == 3

    results = report["results"]
    assert {"data/synthetic", "train/vae/1t", "separate/vae/1t", "separate/irm/1t", "metrics/bss_eval"} <= set(results)
    for name, result in results.items():
        assert "error" not in result, (name, result.get("error"))
        assert result["peak_rss_mb"]["self"] > 0

    train = results["train/vae/1t"]
    assert train["frames_per_second"] > 0
    for variant in ("waveform_fp32", "plain_fp32", "spectral_fp32", "spectral_bf16"):
        assert train[f"{variant}_frames_per_second"] > 0, variant
    assert train["speed_up_vs_waveform"] == (
        train["spectral_bf16_frames_per_second"] / train["waveform_fp32_frames_per_second"]
    )
    vae = results["separate/vae/1t"]
    for mode in ("batch", "single", "file"):
        assert vae[mode]["rtf"] > 0 and vae[mode]["wall_s"] > 0 and "cpu_s" in vae[mode]
    assert "file" not in results["separate/irm/1t"]  # oracles need the true sources
    metrics = results["metrics/bss_eval"]
    for part in ("one_item", "items"):
        assert metrics[part]["max_abs_diff_db"] < 0.01
        for backend in ("fast", "mir_eval"):
            assert metrics[part][backend]["s_per_minute"] > 0
    data = results["data/synthetic"]
    assert data["cold"]["wall_s"] > 0 and data["cached"]["wall_s"] > 0

    rows = {row["target"]: row for row in report["targets"]}
    assert set(rows) == set(bench.TARGETS)
    for row in rows.values():
        assert {"description", "goal", "measured", "met", "load", "note"} <= set(row)
    assert rows["vae_separation_rtf"]["value"] > 0
    assert rows["bss_eval_agreement"]["met"] is True
    assert rows["notebooks_fast"]["met"] is None  # not run in short mode

    table = path.with_suffix(".md").read_text()
    assert "| target | goal | measured | met | load |" in table


def test_readme_table_goes_between_the_markers(bench, short_report, tmp_path):
    report, _ = short_report
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{bench.TABLE_START}\nOLD-TABLE\n{bench.TABLE_END}\n\nend\n")
    bench.update_readme(readme, bench.readme_table(report))
    text = readme.read_text()
    assert "OLD-TABLE" not in text and "| what | goal | measured | |" in text and text.endswith("end\n")


def test_a_later_report_fills_in_the_cases_it_measured(bench, short_report):
    report, _ = short_report
    later = {
        **report,
        "argv": ["--with-reproduce", "--only", "reproduce/full", "--json", "/tmp/x.json"],
        "date": "2030-01-02 03:04 UTC",
        "commit": "abc1234",
        "results": {
            "reproduce/full": {
                "ok": True,
                "wall_s": 2000.0,
                "notebook_seconds": {"01_data.ipynb": 2000.0},
                "notebooks": ["01_data.ipynb"],
                "load": 1.0,
            }
        },
    }
    merged = bench.merge_reports([report, later])
    assert set(merged["results"]) == set(report["results"]) | {"reproduce/full"}
    merged["targets"] = bench.evaluate_targets(merged["results"], merged["mode"])
    rows = {row["target"]: row for row in merged["targets"]}
    assert rows["reproduce_full"]["value"] == 2000.0 and rows["reproduce_full"]["met"] is False
    header = bench.readme_table(merged).splitlines()[0]
    assert "--only reproduce/full` on 2030-01-02, commit abc1234" in header
    assert "/tmp/x.json" not in header and f"commit {report['commit']}" in header


def test_full_mode_plans_every_family(bench):
    cases = bench.plan(bench.parse_args(["--full", "--with-reproduce"]))
    names = [case["name"] for case in cases]
    for expected in ("data/speech/cold", "data/speech/cached", "train/vae/1t", "train/vae/2t",
                     "train/vae/2t-passive", "train/dnn/1t", "separate/vae/1t", "separate/irm/1t",
                     "metrics/bss_eval", "reproduce/fast", "reproduce/full"):
        assert expected in names
