"""The comparison loop and its report: grids, selection by validation SDR, resumption, tables, the CLI."""

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

import vaesep
from vaesep.api import export_model
from vaesep.cli import build_parser, main
from vaesep.cli.compare import COMPARE_END, COMPARE_START, matched_only, study_from_args, table_name
from vaesep.compare import one_run
from vaesep.compare import study as study_module
from vaesep.compare.inference import INFERENCE_END, INFERENCE_START
from vaesep.compare.inference import readme_block as inference_block
from vaesep.compare.methods import CONVERGED_METHODS, MATCHED_METHODS, get_method
from vaesep.compare.report import (
    README_END,
    README_START,
    SeedStat,
    best_gap,
    ceilings,
    condition_markdown,
    contrast_sentences,
    item_sdr,
    load_runs,
    results_markdown,
    summary_data,
    verdict_sentences,
    write_summary,
)
from vaesep.compare.study import (
    MATCHED,
    MATCHED_FAST,
    Run,
    Study,
    config_id,
    converged_study,
    matched_study,
    pending,
    tuning_runs,
    winner,
)

REPOSITORY = Path(__file__).resolve().parents[1]


def _fake_result(study, run, valid_sdr, test=None, **fields):
    path = run.path(study.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"method": run.method, "domain": run.domain, "seed": run.seed, "config": run.settings,
                                "valid_sdr": valid_sdr, "test": test or {}, "kind": "vae", "stopped": "early_stopping",
                                "steps_total": 100, "steps_to_best": 50, **fields}))


def test_every_method_searches_at_most_six_configurations():
    for method in (m for m in CONVERGED_METHODS if m.learned):
        grid = method.grid()
        assert 1 <= len(grid) <= 6, method.name
        assert len({config_id(config) for config in grid}) == len(grid)
        if method.kind != "nmf":
            assert {config["learning_rate"] for config in grid} == set(study_module.LEARNING_RATES)
    # the matched view: one configuration per learned method, Adam 1e-3
    study = matched_study("unused")
    assert all(len(tuning_runs(study, m.name)) == 1 for m in MATCHED_METHODS if m.learned and m.kind != "nmf")
    assert {run.settings["learning_rate"] for run in tuning_runs(study) if run.method != "nmf"} == {1e-3}


def test_a_knob_taken_from_another_method_waits_for_its_selection(tmp_path):
    study = Study(tmp_path, tuple(get_method(name) for name in ("vae", "vae-large")))
    assert [run.method for run in tuning_runs(study)] == ["vae"] * 6
    for index, run in enumerate(tuning_runs(study)):
        _fake_result(study, run, valid_sdr=float(index == 4))  # the 5th: likelihood "is", lr 1e-3
    large = [run for run in tuning_runs(study) if run.method == "vae-large"]
    assert len(large) == 3 and {run.settings["likelihood"] for run in large} == {"is"}


def test_selection_by_validation_sdr_and_the_later_runs_it_unlocks(tmp_path):
    study = Study(tmp_path, (get_method("mixture"), get_method("vae")), ("dutch", "chorales", "noise"))
    runs = tuning_runs(study)
    assert winner(study, "vae") is None  # not before the whole grid is done
    assert [(r.method, r.domain) for r in pending(study)][:3] == [
        ("mixture", "speech"), ("mixture", "chorales"), ("mixture", "noise")]
    for index, run in enumerate(runs):
        _fake_result(study, run, valid_sdr=5.0 + (index == 4))
    assert winner(study, "vae") == runs[4].settings
    later = [run for run in pending(study) if run.method == "vae"]
    # every seed on speech (seed 0 was tuned) and on noise, whose runs take minutes; one on chorales
    assert [(run.domain, run.seed) for run in later] == [
        ("speech", 1), ("speech", 2), ("chorales", 0), ("noise", 0), ("noise", 1), ("noise", 2)]
    assert all(run.settings == runs[4].settings for run in later)


def test_the_generative_method_runs_only_on_the_domains_it_names(tmp_path):
    study = Study(tmp_path, (get_method("generative"),), ("dutch", "chorales", "noise"))
    for run in tuning_runs(study):
        _fake_result(study, run, valid_sdr=5.0)
    # issue #13 scopes separation by inference to speech and noise: no chorales run is scheduled
    assert sorted({run.domain for run in pending(study)}) == ["noise", "speech"]


def test_a_diverged_configuration_is_recorded_and_never_selected(tmp_path, monkeypatch):
    from vaesep.train import TrainingDiverged

    study = Study(tmp_path, (get_method("ae"),))
    runs = tuning_runs(study)
    for run in runs[:2]:
        _fake_result(study, run, valid_sdr=5.0 + runs.index(run))

    def diverge(run, study):
        raise TrainingDiverged("the loss became nan")

    monkeypatch.setattr(one_run, "train_and_score", diverge)
    one_run.execute_run(runs[2], study)
    recorded = json.loads(runs[2].path(tmp_path).read_text())
    assert recorded["stopped"] == "diverged" and recorded["valid_sdr"] is None
    assert winner(study, "ae") == runs[1].settings


def test_an_interrupted_study_does_not_retrain_finished_runs(tmp_path, monkeypatch):
    study = Study(tmp_path, (*CONVERGED_METHODS[:4], get_method("vae")), ("dutch",), seeds=(0,), jobs=1)
    done = tuning_runs(study)[:2]
    for run in done:
        _fake_result(study, run, 4.0)
    executed = []

    def fake_execute(run, study):
        executed.append(run)
        _fake_result(study, run, 3.0)
        return run.path(study.out)

    monkeypatch.setattr(study_module, "execute_run", fake_execute)
    study_module.execute(study, log=lambda message: None)
    assert not set(done) & set(executed)
    assert len(executed) == len(tuning_runs(study)) - 2 + 4  # the rest of the grid and the four oracles
    assert pending(study) == []


def test_seed_statistics_and_the_verdict_of_the_best_vae_against_the_best_baseline():
    stat = SeedStat.of([2.0, 5.0, 8.0])
    assert math.isclose(stat.mean, 5.0) and math.isclose(stat.std, 3.0) and stat.cell() == "5.00 ± 3.00"
    assert SeedStat.of([1.5]).cell() == "1.50" and SeedStat.of([1.5]).to_dict()["std"] is None
    study = matched_study("unused")
    stats = {"dnn": SeedStat.of([5.0, 5.2, 5.4]), "drnn": SeedStat.of([6.0, 6.2, 6.4]),
             "vae": SeedStat.of([7.0, 7.1, 7.2]), "vae-shared": SeedStat.of([8.1, 8.2, 8.3]),
             "vae-shipped": SeedStat.of([12.0]), "irm": SeedStat.of([14.0])}
    gap = best_gap(stats, "dutch", study)  # the shipped reference and the oracle take no part
    assert (gap.proposed, gap.baseline) == ("vae-shared", "drnn") and math.isclose(gap.gap, 2.0)
    assert gap.verdict().startswith("consistent")
    stats["vae-shared"] = stats["vae"] = SeedStat.of([6.0, 6.3, 6.5])
    assert best_gap(stats, "dutch", study).verdict().startswith("no difference")


def test_the_ceiling_is_the_best_oracle_of_each_condition_not_the_irm():
    study = matched_study("unused")
    stats = {"dutch": {"mixture": SeedStat.of([0.1]), "irm": SeedStat.of([14.0]), "wiener": SeedStat.of([15.0]),
                       "ibm": SeedStat.of([14.5]), "vae": SeedStat.of([7.0])},
             "chorales": {"irm": SeedStat.of([14.7]), "wiener": SeedStat.of([14.2]), "vae": SeedStat.of([9.0])},
             "noise": {"vae": SeedStat.of([2.0])}}  # no oracle: no ceiling
    assert ceilings(stats, study) == {"dutch": "wiener", "chorales": "irm"}


def test_the_contrasts_measure_the_distance_to_the_best_oracle():
    study = converged_study(REPOSITORY / "results" / "converged")
    runs = load_runs(study.out)
    (sentence,) = [s for s in contrast_sentences(runs, study) if "up to the ceiling" in s]
    oracles = [r for r in runs if r["method"] in ("irm", "wiener", "ibm")]
    best = max((r["test"]["dutch"]["sdr_mean"], r["method"]) for r in oracles if "dutch" in r["test"])[1]
    assert "the best oracle of each condition" in sentence and f"{best} in " in sentence


def test_the_committed_result_files_are_read_as_they_are():
    """Files of the study in progress: NaN for the mixture's SAR, no configuration for the oracles."""
    study = converged_study(REPOSITORY / "results" / "converged")
    runs = load_runs(study.out)
    table = results_markdown(runs, study)
    assert "| mixture | — | — | 0.09 |" in table and "best VAE − best baseline" in table
    assert math.isnan(SeedStat.of([r["test"]["dutch"]["sar_mean"] for r in runs if r["method"] == "mixture" and r["domain"] == "speech"]).mean)
    assert "| mixture | — |" in condition_markdown(runs, study, "dutch")


@pytest.fixture(scope="module")
def matched_run(synthetic_dataset, tmp_path_factory):
    """The matched-budget view in fast mode on the synthetic set, run once."""
    methods = ("mixture", "irm", "nmf", "dnn", "vae")
    study = matched_study(tmp_path_factory.mktemp("compare"), fast=True, methods=methods, max_items=3)
    study_module.execute(study, log=lambda message: None)
    return study, load_runs(study.out)


def test_the_matched_view_writes_one_result_file_per_run(matched_run):
    study, runs = matched_run
    assert study.schedule == MATCHED_FAST and study.out.name == "2x4x8-0.5s-items3"
    assert sorted((r["method"], config_id(r["config"])) for r in runs) == [
        ("dnn", "lr0.001"), ("irm", "default"), ("mixture", "default"), ("nmf", "default"), ("vae", "lr0.001")]
    dnn = next(r for r in runs if r["method"] == "dnn")
    assert dnn["stopped"] == "epochs" and dnn["steps_total"] == 8 and dnn["parameters"] > 0
    assert [step for step, _ in dnn["curve"]] == [4, 8] and len(dnn["item_sdr"]["synthetic"]) == 6
    stats = summary_data(runs, study)["stats"]["synthetic"]
    assert stats["irm"]["mean"] > stats["mixture"]["mean"] + 9.0
    assert "| vae | lr0.001 | 1 |" in results_markdown(runs, study)
    assert verdict_sentences(runs, study)[0].startswith("synthetic harmonic voices")
    assert set(item_sdr(runs, study, "synthetic")) == {"mixture", "irm", "nmf", "dnn", "vae"}
    before = {path: path.stat().st_mtime_ns for path in study.out.glob("*/*/*.json")}
    study_module.execute(study, log=lambda message: None)  # nothing left: nothing rewritten
    assert pending(study) == [] and before == {p: p.stat().st_mtime_ns for p in study.out.glob("*/*/*.json")}


def test_half_precision_export_separates_like_the_original(matched_run, synthetic_dataset, tmp_path):
    study, _ = matched_run
    source = study.checkpoint(Run("dnn", (("learning_rate", 1e-3),), 0, "synthetic"))
    shipped = export_model(source, tmp_path / "dnn-synthetic.pt", name="dnn-synthetic", half=True)
    assert shipped.stat().st_size < 0.6 * source.stat().st_size
    mixture = synthetic_dataset.mixtures("test")[0]
    full = vaesep.load_model(source, device="cpu").separate(mixture, 16000)
    half = vaesep.load_model(shipped, device="cpu").separate(mixture, 16000)
    assert np.sum((full - half) ** 2) / np.sum(full**2) < 1e-4


def test_the_shipped_models_are_scored_without_training(speech_dataset, tmp_path):
    study = matched_study(tmp_path, fast=True, shipped=True, methods=("mixture", "dnn", "vae-shipped", "vae"),
                          conditions=("dutch",), max_items=2)
    study_module.execute(study, log=lambda message: None)
    runs = {r["method"]: r for r in load_runs(study.out)}
    assert set(runs) == {"mixture", "dnn", "vae-shipped", "vae"} and runs["vae"]["model"] == "vae-matched-speech"
    assert runs["dnn"]["kind"] == "shipped" and runs["dnn"]["valid_sdr"] is None and not study.checkpoint(
        Run("dnn", (), 0, "speech")).exists()
    assert "| dnn | shipped | 1 |" in results_markdown(list(runs.values()), study)


def test_command_line_options(tmp_path):
    args = build_parser().parse_args(["compare", "--fast", "--methods", "mixture,dnn", "--out", str(tmp_path)])
    study = study_from_args(args)
    assert [m.name for m in study.methods] == ["mixture", "dnn"] and study.seeds == (0,)
    assert study.conditions == ("synthetic",) and study.schedule == MATCHED_FAST
    assert table_name(study) == "04_comparison_fast"
    pretrained = study_from_args(build_parser().parse_args(["compare", "--pretrained", "--out", str(tmp_path)]))
    assert pretrained.conditions == ("dutch", "czech") and table_name(pretrained).startswith("04_comparison_pretrained")
    with pytest.raises(ValueError, match="at least 3 training seeds"):
        matched_study(tmp_path, seeds=(0,))
    with pytest.raises(ValueError, match="unknown method"):
        matched_study(tmp_path, methods=("nope",), fast=True)


def test_only_the_default_full_run_is_named_like_the_committed_tables(tmp_path):
    assert table_name(matched_study(tmp_path)) == "04_comparison"
    for change in ({"methods": ("vae", "irm")}, {"conditions": ("dutch",)}, {"max_items": 5},
                   {"seeds": (3, 4, 5)}):
        assert table_name(matched_study(tmp_path, **change)) == "04_comparison_custom", change


def test_a_partial_full_mode_run_keeps_the_committed_tables(tmp_path, monkeypatch, capsys):
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
    assert "| irm | — | — |" in (results / "04_comparison_custom.md").read_text()
    assert "04_comparison_custom.md" in capsys.readouterr().out


def test_readme_is_not_rewritten_from_a_partial_run(tmp_path, monkeypatch, capsys):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the comparison ran although --readme was refused")

    monkeypatch.setattr("vaesep.cli.compare.execute", must_not_run)
    monkeypatch.setenv("VAESEP_FAST", "0")  # a full-mode run of two methods, then a fast one
    readme = tmp_path / "README.md"
    readme.write_text(f"{COMPARE_START}\nquoted\n{COMPARE_END}\n")
    for extra in (["--methods", "vae,irm"], ["--fast"]):
        assert main(["compare", *extra, "--readme", str(readme)]) == 2
        assert "--readme" in capsys.readouterr().err
    assert "quoted" in readme.read_text()


def test_the_study_report_and_readme_block_are_rewritten_from_the_files(tmp_path, monkeypatch):
    out = tmp_path / "converged"
    shutil.copytree(REPOSITORY / "results" / "converged" / "speech" / "mixture", out / "speech" / "mixture")
    study = converged_study(out)
    for index, run in enumerate(tuning_runs(study, "dnn")):
        _fake_result(study, run, 5.0 + index, {"dutch": {"sdr_mean": 7.0 + index}}, kind="dnn")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold\n{README_END}\n{INFERENCE_START}\nold\n{INFERENCE_END}\noutro\n")
    monkeypatch.setenv("VAESEP_FAST", "0")
    assert main(["study", "--report-only", "--out", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old" not in text and "| dnn | lr0.003-gamma=0.05 | 1 | 12.00 |" in text and text.endswith("outro\n")
    assert "generative runs are not all finished yet" in text
    summary = (out / "summary.md").read_text()
    assert "| dnn | lr0.003-gamma=0.05 | 10.00 | 50 | early_stopping | 0.0 min | ✓ |" in summary
    assert json.loads((out / "summary.json").read_text())["winners"]["dnn"] == {"gamma": 0.05, "learning_rate": 0.003}


@pytest.mark.slow
def test_the_fast_study_runs_end_to_end(tmp_path, capsys):
    assert main(["study", "--fast", "--out", str(tmp_path)]) == 0
    study = converged_study(tmp_path, fast=True)
    runs = load_runs(tmp_path)
    learned = [run for run in runs if run.get("kind") not in ("oracle",)]
    # the tuning grid (vae: 2 likelihoods, dnn: 2 γ, nmf: 3 sizes) plus seed 1 of each winner
    assert len(learned) == 2 + 2 + 3 + 3
    for run in learned:
        assert run["test"]["dutch"]["n"] > 0 and run["valid_sdr"] == run["valid_sdr"]  # not NaN
        if run["kind"] != "nmf":
            assert [step for step, _ in run["curve"]] == list(range(5, run["steps_total"] + 1, 5))
    assert "best VAE − best baseline" in results_markdown(runs, study)
    assert (tmp_path / "learning_curves.png").stat().st_size > 10_000
    assert str(write_summary(study)) in capsys.readouterr().out
    # the seed-0 model of each selection ships, with its training record
    assert main(["study", "--fast", "--out", str(tmp_path), "--report-only", "--ship"]) == 0
    from vaesep.checkpoint import load_checkpoint

    shipped = sorted(path.name for path in (tmp_path / "shipped").glob("*.pt"))
    assert shipped == ["dnn-discrim-speech.pt", "dnn-speech.pt", "nmf-speech.pt", "vae-speech.pt"]
    record = load_checkpoint(tmp_path / "shipped" / "vae-speech.pt")
    assert record["stopped"] in ("early_stopping", "epochs") and record["train_config"]["patience"] == 1
    assert vaesep.load_model(tmp_path / "shipped" / "dnn-speech.pt").separate(np.ones(4000) * 0.1, 16000).shape == (2, 4000)


def test_convergence_summary_counts_a_generative_run_by_its_longest_prior() -> None:
    """A generative run's steps_total sums its priors; the cap applies to each prior."""
    from vaesep.compare.report import convergence_summary

    common = {"domain": "speech", "config": {}, "seed": 0, "stopped": "early_stopping"}
    runs = [
        {**common, "method": "vae", "kind": "vae", "steps_total": 12_000},
        {**common, "method": "generative", "kind": "generative", "steps_total": 35_200,
         "prior_curves": {"v": [[100, 3.0], [21_900, 2.0]], "m": [[100, 3.0], [13_300, 2.5]]}},
    ]
    assert convergence_summary(runs)["max_steps_used"] == 21_900
    assert convergence_summary(runs[:1])["max_steps_used"] == 12_000


def test_the_full_matched_view_is_committed_and_its_checkpoints_are_not(tmp_path, monkeypatch):
    """Result files of the default full 200-step run go to results/matched (committed, read by
    notebook 04), its checkpoints to runs/compare; an explicit folder keeps both together."""
    monkeypatch.chdir(REPOSITORY)
    monkeypatch.delenv("VAESEP_RUNS_DIR", raising=False)
    monkeypatch.delenv("VAESEP_FAST", raising=False)
    full = matched_study()
    assert full.out == REPOSITORY / "results" / "matched" / MATCHED.label()
    assert full.checkpoints == REPOSITORY / "runs" / "compare" / MATCHED.label() / "checkpoints"
    mine = matched_study(tmp_path)
    assert mine.out == tmp_path / MATCHED.label() and mine.checkpoints is None
    assert mine.checkpoint(Run.of("dnn", {"learning_rate": 1e-3}, 0, "speech")).is_relative_to(mine.out)
    assert matched_study(fast=True).out.parent.name == "compare"


def test_the_committed_matched_view_is_read_as_notebook_04_reads_it():
    runs = load_runs(matched_study(REPOSITORY / "results" / "matched").out)
    assert {"mixture", "irm", "dnn", "vae"} <= {run["method"] for run in runs}


def test_readme_answers_the_inference_questions_from_the_selected_generative_runs(tmp_path):
    """Issue 13's three answers: the selected configuration's runs only, every number from a file."""
    study = converged_study(tmp_path)
    for index, run in enumerate(tuning_runs(study, "generative")):
        _fake_result(study, run, 5.0 + index, {"czech": {"sdr_mean": 3.0 + index}}, kind="generative")
        result = json.loads(run.path(tmp_path).read_text())
        result.update(test_amortised={"czech": {"sdr_mean": 2.5}}, iterations=50,
                      valid_sdr_by_iterations={"0": 4.0, "10": 4.5, "50": 5.0 + index, "200": 4.9})
        run.path(tmp_path).write_text(json.dumps(result))
    noise = Run("generative", tuple(sorted(result["config"].items())), 0, "noise")  # the winner on another domain
    _fake_result(study, noise, None, {"noise": {"sdr_mean": 1.5}}, kind="generative", test_amortised={"noise": {"sdr_mean": 1.0}},
                 iterations=50, valid_sdr_by_iterations={"0": 0.0, "50": 9.0})
    cost = tmp_path / "cost.json"
    rows = [{"iterations": n, "rtf": 0.01 * (n + 1), "cpu_seconds": 2.0 * (n + 1), "audio_seconds": 100.0,
             "threads": 2} for n in (0, 10, 50, 200)]
    cost.write_text(json.dumps({"rows": rows, "data": "speech", "split": "test", "load": 1.5, "commit": "abc"}))
    block = inference_block(tmp_path, cost)
    assert "czech 5.00 against 2.50 dB (+2.50, 1 seed(s))" in block  # lr 3e-3 has the best validation SDR
    assert "noise 1.50 against 1.00 dB (+0.50, 1 seed(s))" in block
    assert "(speech): 4.00 dB at 0, 4.50 dB at 10, 7.00 dB at 50" in block and "[50] iterations" in block
    assert "real-time factor 0.010, 0.110, 0.510, 2.010" in block and "0.020, 0.220, 1.020, 4.020" in block
    assert "Not measured yet" in inference_block(tmp_path, tmp_path / "missing.json")


def test_the_200_step_view_ships_only_what_the_study_does_not():
    assert [m.name for m in matched_only(matched_study("unused"))] == ["vae", "vae-shared"]  # vae-matched, vae-shared
