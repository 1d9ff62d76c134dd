"""The comparison runner of notebook 04: tables on the synthetic set, resumability, seeds and gaps."""

import argparse
import json
import math

import numpy as np
import pytest

import vaesep
from vaesep.compare import Budget, CompareConfig, SeedStat, best_baseline_gap, plan, run_comparison
from vaesep.compare.cli import (
    README_END,
    README_START,
    add_compare_parser,
    config_from_args,
    update_readme,
)
from vaesep.compare.runner import checkpoint_path
from vaesep.compare.shipping import export_compact
from vaesep.compare.tables import seed_statistics
from vaesep.metrics import ITEM_METRICS, EvaluationResult

METHODS = ("mixture", "irm", "nmf", "dnn", "vae")


@pytest.fixture(scope="module")
def fast_run(synthetic_dataset, tmp_path_factory):
    """One fast comparison on the synthetic set, with results written to a temporary folder."""
    root = tmp_path_factory.mktemp("compare")
    results = root / "results"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VAESEP_RESULTS_DIR", str(results))
        config = CompareConfig(
            methods=METHODS,
            conditions=("synthetic",),
            seeds=(0,),
            budget=Budget.tiny(),
            fast=True,
            out_dir=str(root / "runs"),
            max_items=3,
        )
        report = run_comparison(config, progress=False)
    return config, report, results


def test_fast_comparison_writes_the_tables(fast_run):
    config, report, results = fast_run
    markdown = (results / "04_comparison_fast.md").read_text()
    for method in METHODS:
        assert f"| {method} |" in markdown
    assert report.commit in markdown and "vae − best baseline" in markdown
    data = json.loads((results / "04_comparison_fast.json").read_text())
    sdr = data["conditions"]["synthetic"]["methods"]["irm"]["sdr_mean"]["mean"]
    assert sdr > data["conditions"]["synthetic"]["methods"]["mixture"]["sdr_mean"]["mean"]
    assert data["gaps"]["synthetic"]["proposed"] == "vae"
    assert (results / "04_comparison_fast_details.md").is_file()
    assert report.training["synthetic"]["dnn"][0]["parameters"] > 0


def test_finished_work_is_not_repeated(fast_run):
    config, report, _ = fast_run
    work = plan(config)
    assert work.train == [] and work.evaluate == []
    assert checkpoint_path(config, "synthetic", "dnn", 0).is_file()
    assert len(report.timing) == 1 and report.timing[0]["trained"] == 3


def test_three_seeds_are_required_outside_fast_mode():
    with pytest.raises(ValueError, match="at least 3 training seeds"):
        CompareConfig(seeds=(0,))
    with pytest.raises(ValueError, match="unknown method"):
        CompareConfig(methods=("nope",), fast=True, seeds=(0,))


def _result(sdrs):
    rows = [
        {
            "item": i,
            "source": s,
            "n_samples": 100,
            "skipped": None,
            **{m: float(v) for m in ITEM_METRICS},
        }
        for i, v in enumerate(sdrs)
        for s in ("a", "b")
    ]
    return EvaluationResult(rows, ("a", "b"))


def test_seed_statistics_are_mean_and_std_of_per_seed_means():
    stats = seed_statistics(
        {0: _result([1.0, 3.0]), 1: _result([4.0, 6.0]), 2: _result([7.0, 9.0])}
    )
    assert stats["sdr_mean"].values == (2.0, 5.0, 8.0)
    assert math.isclose(stats["sdr_mean"].mean, 5.0) and math.isclose(stats["sdr_mean"].std, 3.0)
    assert stats["sdr_mean"].cell() == "5.00 ± 3.00"


def test_gap_against_the_best_baseline_and_its_verdict():
    def row(*values):
        return {"sdr_mean": SeedStat.of(values)}

    stats = {
        "dnn": row(5.0, 5.2, 5.4),
        "drnn": row(6.0, 6.2, 6.4),
        "vae": row(8.1, 8.2, 8.3),
        "irm": row(14.0),
    }
    gap = best_baseline_gap(stats, "dutch")
    assert gap.baseline == "drnn" and math.isclose(gap.gap, 2.0)
    assert gap.verdict().startswith("consistent")
    stats["vae"] = row(6.0, 6.3, 6.5)
    assert best_baseline_gap(stats, "dutch").verdict().startswith("no difference")


def test_command_line_options(tmp_path):
    parser = argparse.ArgumentParser()
    add_compare_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["compare", "--fast", "--methods", "mixture,dnn", "--out", str(tmp_path)]
    )
    config = config_from_args(args)
    assert (
        config.methods == ("mixture", "dnn")
        and config.seeds == (0,)
        and config.conditions == ("synthetic",)
    )
    assert config.budget == Budget.tiny()


def test_the_vaesep_command_has_compare():
    from vaesep.cli import build_parser

    args = build_parser().parse_args(["compare", "--fast", "--methods", "mixture,irm"])
    assert config_from_args(args).methods == ("mixture", "irm")


def test_readme_block_is_rewritten(fast_run, tmp_path):
    _, report, _ = fast_run
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold\n{README_END}\noutro\n")
    text = update_readme(readme, report).read_text()
    assert "old" not in text and "vae − best baseline" in text and text.endswith("outro\n")


def test_half_precision_export_separates_like_the_original(fast_run, synthetic_dataset, tmp_path):
    config, _, _ = fast_run
    source = checkpoint_path(config, "synthetic", "dnn", 0)
    shipped = export_compact(source, tmp_path / "dnn-synthetic.pt", name="dnn-synthetic")
    assert shipped.stat().st_size < 0.6 * source.stat().st_size
    mixture = synthetic_dataset.mixtures("test")[0]
    full = vaesep.load_model(source, device="cpu").separate(mixture, 16000)
    half = vaesep.load_model(shipped, device="cpu").separate(mixture, 16000)
    error = np.sum((full - half) ** 2) / np.sum(full**2)
    assert error < 1e-4


def test_provenance_names_the_jobs_of_the_run_that_did_the_work(fast_run):
    import dataclasses

    _, report, _ = fast_run
    worked = {"finished": "2026-01-01T00:00:00+00:00", "wall_seconds": 60.0, "jobs": 2}
    reread = dataclasses.replace(report, timing=[worked])
    assert reread.config.jobs == 1
    assert "wall time 1.0 min with 2 job(s)" in reread.provenance()


def test_a_partial_full_mode_run_keeps_the_committed_tables(tmp_path, monkeypatch, capsys):
    from vaesep.cli import main

    results = tmp_path / "results"
    results.mkdir()
    committed = results / "04_comparison.md"
    committed.write_text("the full comparison README quotes\n")
    monkeypatch.setenv("VAESEP_FAST", "0")
    monkeypatch.setenv("VAESEP_RESULTS_DIR", str(results))
    argv = ["compare", "--methods", "mixture,irm", "--conditions", "synthetic", "--max-items", "2",
            "--out", str(tmp_path / "runs")]
    assert main(argv) == 0
    assert committed.read_text() == "the full comparison README quotes\n"
    assert "mixture" in (results / "04_comparison_custom.md").read_text()
    assert "04_comparison_custom.md" in capsys.readouterr().out


def test_only_the_default_full_run_is_named_like_the_committed_tables(fast_run):
    import dataclasses

    _, report, _ = fast_run
    full = dataclasses.replace(report, config=CompareConfig())
    assert full.default_name() == "04_comparison"
    for change in ({"methods": ("vae", "irm")}, {"conditions": ("dutch",)}, {"max_items": 5},
                   {"seeds": (3, 4, 5)}, {"budget": Budget(epochs=1)}):
        custom = dataclasses.replace(report, config=CompareConfig(**change))
        assert custom.default_name() == "04_comparison_custom", change


def test_readme_is_not_rewritten_from_a_partial_run(tmp_path, monkeypatch, capsys):
    from vaesep.cli import main

    def must_not_run(*args, **kwargs):
        raise AssertionError("the comparison ran although --readme was refused")

    monkeypatch.setattr("vaesep.compare.cli.run_comparison", must_not_run)
    monkeypatch.setenv("VAESEP_FAST", "0")  # a full-mode run of two methods, then a fast one
    readme = tmp_path / "README.md"
    readme.write_text(f"{README_START}\nquoted\n{README_END}\n")
    for extra in (["--methods", "vae,irm"], ["--fast"]):
        assert main(["compare", *extra, "--readme", str(readme)]) == 2
        assert "--readme" in capsys.readouterr().err
    assert "quoted" in readme.read_text()
