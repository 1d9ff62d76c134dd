"""The benchmark suite's short (CI) mode runs and reports every figure; no time is asserted."""

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
    code = bench.main(["--short", "--repeats", "1", "--seconds", "4", "--train-steps", "1", "--json", str(path)])
    assert code == 0
    return json.loads(path.read_text()), path


def test_short_mode_reports_every_target(bench, short_report):
    report, path = short_report
    assert report["mode"] == "short" and report["commit"] and len(report["load"]) == 3
    rows = {row["target"]: row for row in report["targets"]}
    assert list(rows) == list(bench.TARGETS)
    measured = set(bench.TARGETS) - {"notebooks_fast", "reproduce_full"}  # the full mode's only
    for name in measured:
        assert rows[name]["value"] > 0, name
        assert rows[name]["met"] in (True, False), name
    for name in ("notebooks_fast", "reproduce_full"):
        assert rows[name]["value"] is None and rows[name]["met"] is None
    # the two backends agree whatever the load: this one is a correctness figure, not a speed
    assert rows["bss_eval_agreement"]["met"] is True

    train = report["results"]["train"]
    for variant in ("waveform_fp32", "plain_fp32", "spectral_fp32", "spectral_bf16"):
        assert train[f"{variant}_frames_per_second"] > 0, variant
    table = path.with_suffix(".md").read_text()
    assert "| what | goal | measured |  |" in table and "not run" in table


def test_readme_table_goes_between_the_markers(bench, short_report, tmp_path, monkeypatch):
    report, _ = short_report
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{bench.TABLE_START}\nOLD-TABLE\n{bench.TABLE_END}\n\nend\n")
    from vaesep.files import fill_block

    fill_block(readme, bench.TABLE_START, bench.TABLE_END, bench.table(report))
    text = readme.read_text()
    assert "OLD-TABLE" not in text and "| what | goal | measured |" in text and text.endswith("end\n")
    assert f"commit {report['commit']}" in text
