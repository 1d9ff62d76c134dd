"""The convergence study: grids, selection by validation SDR, resumption, the report."""

import json

import numpy as np
import pytest

from vaesep.cli import main
from vaesep.compare import study as study_module
from vaesep.compare.study import (
    STUDY_METHODS,
    StudyConfig,
    config_id,
    fast_study,
    pending,
    tuning_runs,
    winner,
)
from vaesep.compare.study_report import load_runs, results_markdown, write_summary


def test_a_knob_taken_from_another_method_waits_for_its_selection(tmp_path):
    study = StudyConfig(out=tmp_path, methods=("vae", "vae-large"))
    assert [run.method for run in tuning_runs(study)] == ["vae"] * 6
    for index, run in enumerate(tuning_runs(study)):
        _fake_result(study, run, valid_sdr=float(index == 4))  # the 5th: likelihood "is", lr 1e-3
    large = [run for run in tuning_runs(study) if run.method == "vae-large"]
    assert len(large) == 3 and {run.settings["likelihood"] for run in large} == {"is"}


def test_every_method_searches_at_most_six_configurations():
    for method in STUDY_METHODS:
        grid = method.grid()
        assert 1 <= len(grid) <= 6, method.name
        assert len({config_id(config) for config in grid}) == len(grid)
        if method.kind != "nmf":
            assert {config["learning_rate"] for config in grid} == set(study_module.LEARNING_RATES)


def _fake_result(study, run, valid_sdr):
    path = run.path(study.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"method": run.method, "domain": run.domain, "seed": run.seed,
                                "config": run.settings, "valid_sdr": valid_sdr, "test": {}, "kind": "vae",
                                "stopped": "early_stopping", "steps_total": 100, "steps_to_best": 50}))


def test_selection_by_validation_sdr_and_the_later_runs_it_unlocks(tmp_path):
    study = StudyConfig(out=tmp_path, methods=("vae",), seeds=(0, 1, 2), domains=("noise",))
    runs = tuning_runs(study)
    assert winner(study, "vae") is None  # not before the whole grid is done
    for index, run in enumerate(runs):
        _fake_result(study, run, valid_sdr=5.0 + (index == 4))
    assert winner(study, "vae") == runs[4].settings
    later = [run for run in pending(study) if run.method == "vae"]
    assert [(run.domain, run.seed) for run in later] == [("speech", 1), ("speech", 2), ("noise", 0)]
    assert all(run.settings == runs[4].settings for run in later)


def test_a_diverged_configuration_is_recorded_and_never_selected(tmp_path, monkeypatch):
    from vaesep.train import TrainingDiverged

    study = StudyConfig(out=tmp_path, methods=("ae",))
    runs = tuning_runs(study)
    for run in runs[:2]:
        _fake_result(study, run, valid_sdr=5.0 + runs.index(run))

    def diverge(run, study):
        raise TrainingDiverged("the loss became nan")

    monkeypatch.setattr(study_module, "train_and_score", diverge)
    study_module.execute_run(runs[2], study)
    recorded = json.loads(runs[2].path(tmp_path).read_text())
    assert recorded["stopped"] == "diverged" and recorded["valid_sdr"] is None
    assert winner(study, "ae") == runs[1].settings


def test_an_interrupted_study_does_not_retrain_finished_runs(tmp_path, monkeypatch):
    study = StudyConfig(out=tmp_path, methods=("vae",), seeds=(0,), domains=(), jobs=1)
    done = tuning_runs(study)[:2]
    for run in done:
        _fake_result(study, run, 4.0)
    executed = []

    def fake_execute(run, study):
        executed.append(run)
        _fake_result(study, run, 3.0)
        return run.path(study.out)

    monkeypatch.setattr(study_module, "ProcessPoolExecutor", _InlinePool)
    monkeypatch.setattr(study_module, "execute_run", fake_execute)
    study_module.execute(study, log=lambda message: None)
    assert not set(done) & set(executed)
    assert len(executed) == len(tuning_runs(study)) - 2 + len(study_module.ORACLE_METHODS)
    assert pending(study) == []


class _InlinePool:
    """A ProcessPoolExecutor stand-in that runs each task at submission (for monkeypatched tasks)."""

    def __init__(self, max_workers):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, function, *args):
        from concurrent.futures import Future

        future = Future()
        future.set_result(function(*args))
        return future


@pytest.mark.slow
def test_the_fast_study_runs_end_to_end(tmp_path, capsys):
    assert main(["study", "--fast", "--out", str(tmp_path)]) == 0
    study = fast_study(tmp_path)
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
    import vaesep
    from vaesep.checkpoint import load_checkpoint

    shipped = sorted(path.name for path in (tmp_path / "shipped").glob("*.pt"))
    assert shipped == ["dnn-discrim-speech.pt", "dnn-speech.pt", "nmf-speech.pt", "vae-speech.pt"]
    record = load_checkpoint(tmp_path / "shipped" / "vae-speech.pt")
    assert record["stopped"] in ("early_stopping", "epochs") and record["train_config"]["patience"] == 1
    assert vaesep.load_model(tmp_path / "shipped" / "dnn-speech.pt").separate(np.ones(4000) * 0.1, 16000).shape == (2, 4000)
