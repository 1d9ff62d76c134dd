"""Tests of the MUSHRA-style listening test logic (vaesep.listening) and its widget.

Everything here runs without a browser; tests/test_listening_browser.py
drives the real front-end.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile

from vaesep.audio import rms
from vaesep.listening import (
    HIDDEN_REFERENCE,
    ItemAudio,
    ListeningDesign,
    SessionLockedError,
    analyse_folder,
    load_stimuli,
    open_session,
    position_counts,
    read_results_file,
    render_stimuli,
    simulate_listeners,
)
from vaesep.listening.analysis import (
    Rating,
    correlate_with_metrics,
    post_screen,
    summarise_conditions,
)
from vaesep.listening.design import balanced_orders
from vaesep.listening.stimuli import PEAK_LIMIT, excerpt_bounds, level_align, low_pass_anchor
from vaesep.models import IdealRatioMask

SR = 16_000
CONDITIONS = (HIDDEN_REFERENCE, "anchor_3.5kHz", "mixture", "sys_a", "sys_b")


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant SDR in dB (a local helper; vaesep.metrics is tested elsewhere)."""
    reference = reference - reference.mean()
    estimate = estimate - estimate.mean()
    target = np.dot(estimate, reference) / np.dot(reference, reference) * reference
    return float(10 * np.log10(np.sum(target**2) / np.sum((estimate - target) ** 2)))


def tiny_items(n_items: int = 3, seconds: float = 0.5) -> list[ItemAudio]:
    """Two-source items: a low tone (+ noise) against a bright buzz."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    items = []
    for index in range(n_items):
        low = np.sin(2 * np.pi * (220 + 20 * index) * t) + 0.05 * rng.standard_normal(t.size)
        high = 0.4 * np.sign(np.sin(2 * np.pi * 1800 * t)) + 0.2 * rng.standard_normal(t.size)
        sources = np.stack([low, high]).astype(np.float32)
        items.append(
            ItemAudio(f"tiny-{index}", sources.sum(0), sources, ("low", "high"), "low", SR)
        )
    return items


@pytest.fixture(scope="module")
def stimuli(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("stimuli")
    return render_stimuli(
        tiny_items(), [IdealRatioMask(("low", "high"))], folder, metrics={"SI-SDR": si_sdr}
    )


def make_design(n_items: int = 10, seed: int = 0) -> ListeningDesign:
    return ListeningDesign("set", tuple(f"item-{i}" for i in range(n_items)), CONDITIONS, seed)


# ----------------------------------------------------------------- design


def test_plan_is_deterministic_per_seed_listener_and_session() -> None:
    design = make_design()
    assert design.plan_session("anna") == design.plan_session("anna")
    assert design.plan_session("anna") != design.plan_session("ben")
    assert design.plan_session("anna", 0) != design.plan_session("anna", 1)
    assert make_design(seed=1).plan_session("anna") != design.plan_session("anna")


def test_every_trial_hides_every_condition_and_every_item_is_played_once() -> None:
    design = make_design()
    plans = design.plan_session("anna")
    assert sorted(plan.item for plan in plans) == sorted(design.items)
    assert [plan.trial_id for plan in plans] == [f"T{i:02d}" for i in range(1, 11)]
    for plan in plans:
        assert [letter for letter, _ in plan.letters] == list("ABCDE")
        assert sorted(condition for _, condition in plan.letters) == sorted(CONDITIONS)


def test_positions_are_exactly_balanced_within_complete_blocks() -> None:
    design = make_design(n_items=10)  # two complete blocks of 5 conditions
    counts = position_counts(design.plan_session("carla"), CONDITIONS)
    assert (counts == 2).all()


def test_partial_block_never_repeats_a_position() -> None:
    orders = balanced_orders(5, 3, np.random.default_rng(7))
    assert orders.shape == (3, 5)
    for position in range(5):
        assert len(set(orders[:, position])) == 3


def test_positions_are_balanced_across_a_class() -> None:
    design = make_design(n_items=3)  # incomplete blocks: balance comes from many listeners
    plans = [plan for n in range(200) for plan in design.plan_session(f"s{n}")]
    counts = position_counts(plans, CONDITIONS)
    expected = len(plans) / len(CONDITIONS)
    assert np.abs(counts - expected).max() < 0.25 * expected


def test_design_id_and_plans_do_not_change_between_versions() -> None:
    # a session is resumed only under the same design id, and a class shares one plan per
    # listener: a release that changed either would split running classes in two
    design = make_design()
    assert design.design_id == "bd7110c4ffb76a77"
    first = design.plan_session("anna")[0]
    assert first.item == "item-9"
    assert first.letters == (
        ("A", "sys_a"), ("B", "sys_b"), ("C", HIDDEN_REFERENCE), ("D", "anchor_3.5kHz"), ("E", "mixture")
    )


@pytest.mark.parametrize(
    "bad", ["", "a b", "../etc", "x" * 41, "-lead", "é", "anna\n", "anna\r\n", "an\tna", "a/b", "a\\b"]
)
def test_unsafe_listener_ids_are_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="listener id"):
        open_session(tmp_path, bad, make_design(1))
    assert not list(tmp_path.iterdir())  # nothing written


def test_design_requires_a_hidden_reference() -> None:
    with pytest.raises(ValueError, match="hidden_reference"):
        ListeningDesign("set", ("a",), ("anchor_3.5kHz", "sys"))


# ----------------------------------------------------------------- stimuli


def test_low_pass_anchor_removes_energy_above_the_cutoff() -> None:
    t = np.arange(SR) / SR
    passed = low_pass_anchor(np.sin(2 * np.pi * 1000 * t), SR)
    stopped = low_pass_anchor(np.sin(2 * np.pi * 5000 * t), SR)
    assert abs(rms(passed[2000:-2000]) - np.sqrt(0.5)) < 0.01
    assert 20 * np.log10(rms(stopped[2000:-2000]) / np.sqrt(0.5)) < -60


def test_level_alignment_gives_equal_rms_and_no_clipping() -> None:
    quiet = 0.01 * np.ones(1000)
    spiky = np.zeros(1000)
    spiky[::100] = 1.0  # a crest factor high enough to clip at the target RMS
    aligned = level_align({"quiet": quiet, "spiky": spiky})
    assert rms(aligned["quiet"]) == pytest.approx(rms(aligned["spiky"]), rel=1e-5)
    assert max(np.abs(w).max() for w in aligned.values()) <= PEAK_LIMIT + 1e-6


def test_rendered_stimuli_are_level_aligned_and_blind(stimuli) -> None:
    assert stimuli.conditions == (HIDDEN_REFERENCE, "anchor_3.5kHz", "mixture", "irm")
    for item in stimuli.items:
        levels = [rms(stimuli.load(item.item_id, c)) for c in stimuli.conditions]
        assert max(levels) / min(levels) == pytest.approx(1.0, abs=1e-3)
        for condition, name in item.files.items():
            assert condition not in name and "anchor" not in name and "irm" not in name
    reloaded = load_stimuli(stimuli.folder)
    assert reloaded == stimuli


def test_oracle_estimate_is_close_to_the_reference(stimuli) -> None:
    scores = stimuli.metrics()
    for item in stimuli.item_ids:
        assert scores[(item, "irm")]["SI-SDR"] > 10.0
        assert scores[(item, "mixture")]["SI-SDR"] < 5.0
        assert (item, HIDDEN_REFERENCE) not in scores  # infinite, never stored


def test_infinite_scores_stay_out_of_the_strict_json_index(tmp_path: Path) -> None:
    # a perfect estimate scores +inf, which strict JSON refuses; the analysis skips it anyway
    metrics = {"SI-SDR": si_sdr, "perfect": lambda reference, estimate: float("inf")}
    rendered = render_stimuli(tiny_items(1), [], tmp_path, metrics=metrics)
    stored = json.loads((tmp_path / "stimuli.json").read_text())["items"][0]["metrics"]
    assert set(stored) == {"anchor_3.5kHz", "mixture"}
    assert all(set(scores) == {"SI-SDR"} for scores in stored.values())
    assert load_stimuli(tmp_path) == rendered


def test_render_refuses_repeated_items_and_colliding_conditions(tmp_path: Path) -> None:
    (item,) = tiny_items(1)
    with pytest.raises(ValueError, match="each once"):
        render_stimuli([item, item], [], tmp_path)
    with pytest.raises(ValueError, match="distinct conditions"):
        twins = [IdealRatioMask(("low", "high")), IdealRatioMask(("low", "high"))]
        render_stimuli([item], twins, tmp_path)
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_excerpt_bounds_pick_the_loud_part() -> None:
    signal = np.zeros(10 * SR)
    signal[6 * SR : 8 * SR] = 1.0
    start, stop = excerpt_bounds(signal, SR, max_seconds=2.0)
    assert (start, stop) == (6 * SR, 8 * SR)


# ------------------------------------------------------------ persistence


def submit_all_high(session, trial) -> None:
    session.submit_trial(trial.trial_id, {letter: 80 for letter, _ in trial.letters})


def test_two_listeners_get_two_files(tmp_path: Path) -> None:
    design = make_design(3)
    with (
        open_session(tmp_path, "anna", design) as anna,
        open_session(tmp_path, "ben", design) as ben,
    ):
        submit_all_high(anna, anna.next_trial)
        submit_all_high(ben, ben.next_trial)
        assert anna.path != ben.path
    files = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert [name.split("__")[0] for name in files] == ["anna", "ben"]
    for path in tmp_path.glob("*.jsonl"):
        contents = read_results_file(path)
        assert len(contents.trials) == 1
        assert contents.trials[0]["listener_id"] == contents.header["listener_id"]


def test_stored_trial_holds_everything_the_issue_asks_for(tmp_path: Path) -> None:
    design = make_design(3)
    with open_session(tmp_path, "anna", design) as session:
        plan = session.next_trial
        ratings = {letter: 10 * i for i, (letter, _) in enumerate(plan.letters)}
        session.submit_trial(plan.trial_id, ratings, plays={"A": 3}, reference_plays=2)
        path = session.path
    line = json.loads(path.read_text().splitlines()[1])
    for key in (
        "listener_id",
        "session_id",
        "trial_id",
        "item",
        "started",
        "submitted",
        "vaesep_version",
    ):
        assert line[key]
    assert line["reference_plays"] == 2
    assert {r["letter"]: r["rating"] for r in line["ratings"]} == ratings
    assert {r["letter"]: r["condition"] for r in line["ratings"]} == dict(plan.letters)
    assert [r["plays"] for r in line["ratings"]] == [3, 0, 0, 0, 0]


def test_invalid_submissions_are_refused(tmp_path: Path) -> None:
    with open_session(tmp_path, "anna", make_design(3)) as session:
        plan = session.next_trial
        full = {letter: 50 for letter, _ in plan.letters}
        with pytest.raises(ValueError, match="expected trial T01"):
            session.submit_trial("T02", full)
        with pytest.raises(ValueError, match="one rating for each"):
            session.submit_trial("T01", {"A": 50})
        with pytest.raises(ValueError, match=r"\[0, 100\]"):
            session.submit_trial("T01", {**full, "A": 101})
        session.submit_trial("T01", full)
        with pytest.raises(ValueError, match="already saved"):
            session.submit_trial("T01", full)


def test_torn_last_line_is_reported_and_resume_continues(tmp_path: Path) -> None:
    design = make_design(4)
    with open_session(tmp_path, "anna", design) as session:
        for _ in range(2):
            submit_all_high(session, session.next_trial)
        path = session.path
    # a crash in the middle of writing trial 3: a fragment without a newline
    with open(path, "ab") as handle:
        handle.write(b'{"type":"trial","listener_id":"anna","trial_id":"T03","rat')
    contents = read_results_file(path)
    assert [t["trial_id"] for t in contents.trials] == ["T01", "T02"]
    assert contents.torn_lines == (4,)
    with open_session(tmp_path, "anna", design) as resumed:
        assert resumed.resumed and resumed.path == path
        assert resumed.next_trial.trial_id == "T03"
        submit_all_high(resumed, resumed.next_trial)
    contents = read_results_file(path)
    assert [t["trial_id"] for t in contents.trials] == ["T01", "T02", "T03"]
    assert contents.torn_lines == (4,)


CHILD = textwrap.dedent(
    """
    import sys, time
    from vaesep.listening import ListeningDesign, open_session
    design = ListeningDesign("set", tuple(f"item-{i}" for i in range(6)),
                             ("hidden_reference", "anchor_3.5kHz", "sys"), 0)
    session = open_session(sys.argv[1], "kim", design)
    for _ in range(int(sys.argv[2])):
        plan = session.next_trial
        session.submit_trial(plan.trial_id, {l: 42 for l, _ in plan.letters})
        print(plan.trial_id, flush=True)
    print("holding", flush=True)
    time.sleep(60)
    """
)


def run_child(results_dir: Path, n_trials: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(results_dir), str(n_trials)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_killed_session_loses_nothing_and_resumes_at_the_right_trial(tmp_path: Path) -> None:
    child = run_child(tmp_path, 2)
    try:
        reported = [child.stdout.readline().strip() for _ in range(3)]
        assert reported == ["T01", "T02", "holding"]
        # while the child holds the file, nobody else may write to it
        design = ListeningDesign(
            "set",
            tuple(f"item-{i}" for i in range(6)),
            (HIDDEN_REFERENCE, "anchor_3.5kHz", "sys"),
            0,
        )
        with pytest.raises(SessionLockedError):
            open_session(tmp_path, "kim", design)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    (path,) = tmp_path.glob("kim__*.jsonl")
    assert [t["trial_id"] for t in read_results_file(path).trials] == ["T01", "T02"]
    with open_session(tmp_path, "kim", design) as resumed:  # the kill released the lock
        assert resumed.path == path
        assert resumed.next_trial.trial_id == "T03"
        assert [t["trial_id"] for t in resumed.trials] == ["T01", "T02"]


def _race_to_open(results_dir: str, barrier, n_items: int) -> None:
    """One of the racing processes: open listener 'anna' as soon as all are ready."""
    barrier.wait(timeout=60)
    try:
        session = open_session(results_dir, "anna", make_design(n_items))
    except SessionLockedError:
        return  # another process has the (one) session open: the right outcome
    session.close()


def test_processes_opening_one_new_listener_at_once_start_one_session(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")  # fork: the racers start in milliseconds
    n_processes = 8
    for trial in range(4):
        folder = tmp_path / f"race-{trial}"
        barrier = context.Barrier(n_processes)
        racers = [
            context.Process(target=_race_to_open, args=(str(folder), barrier, 3))
            for _ in range(n_processes)
        ]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)
        assert [racer.exitcode for racer in racers] == [0] * n_processes
        files = sorted(folder.glob("*.jsonl"))
        ordinals = [read_results_file(path).header["session_ordinal"] for path in files]
        assert ordinals == [0], f"trial {trial}: {len(files)} session files, ordinals {ordinals}"


def test_reopening_in_the_same_process_reuses_the_session(tmp_path: Path) -> None:
    design = make_design(3)
    first = open_session(tmp_path, "anna", design)
    submit_all_high(first, first.next_trial)
    second = open_session(tmp_path, "anna", design)  # e.g. the notebook cell run again
    assert second.path == first.path
    with pytest.raises(RuntimeError, match="closed"):  # the first one let go of the file
        submit_all_high(first, second.next_trial)
    assert second.next_trial.trial_id == "T02"
    second.close()


def test_changed_design_starts_a_new_session(tmp_path: Path) -> None:
    with open_session(tmp_path, "anna", make_design(3)) as old:
        submit_all_high(old, old.next_trial)
    with open_session(tmp_path, "anna", make_design(4)) as new:
        assert not new.resumed and new.path != old.path


def test_finished_session_is_kept_unless_a_repeat_is_asked_for(tmp_path: Path) -> None:
    design = make_design(2)
    with open_session(tmp_path, "anna", design) as session:
        while session.next_trial is not None:
            submit_all_high(session, session.next_trial)
    with open_session(tmp_path, "anna", design) as again:  # the cell run once more
        assert again.path == session.path and again.is_complete
    with open_session(tmp_path, "anna", design, new_session=True) as repeat:
        assert not repeat.resumed and repeat.path != session.path
        assert repeat.header["session_ordinal"] == 1
        assert repeat.plan != session.plan  # a repeat hears fresh orders


# -------------------------------------------------------------- analysis


def ratings_with_reference(listener: str, reference_scores: list[float]) -> list[Rating]:
    rows = []
    for trial, score in enumerate(reference_scores):
        for condition, value in ((HIDDEN_REFERENCE, score), ("sys", 50.0)):
            rows.append(Rating(listener, f"i{trial}", condition, value))
    return rows


def test_post_screening_applies_the_bs1534_rule() -> None:
    ratings = (
        ratings_with_reference("one-miss-in-7", [100] * 6 + [85])  # 14 % -> kept
        + ratings_with_reference("two-in-7", [100] * 5 + [85, 89.9])  # 29 % -> excluded
        + ratings_with_reference("three-in-20", [100] * 17 + [0, 0, 0])  # exactly 15 % -> kept
        + ratings_with_reference("at-90", [90] * 5)  # 90 is not below 90 -> kept
    )
    verdicts = {v.listener_id: v for v in post_screen(ratings)}
    assert {name for name, v in verdicts.items() if v.excluded} == {"two-in-7"}
    assert verdicts["two-in-7"].n_misses == 2 and verdicts["two-in-7"].n_trials == 7


def test_mean_and_t_confidence_interval_on_known_values() -> None:
    ratings = [Rating("a", "i", "sys", value) for value in (1, 2, 3, 4, 5)]
    ratings.append(Rating("a", "i", "once", 7.0))
    summary, single = summarise_conditions(ratings, ("sys", "once"))
    half_width = 2.7764451 * np.sqrt(2.5) / np.sqrt(5)  # t(0.975, 4) * s / sqrt(n)
    assert summary.mean == 3.0 and summary.n == 5
    assert (summary.ci_low, summary.ci_high) == pytest.approx((3 - half_width, 3 + half_width), abs=1e-6)
    assert single.mean == 7.0 and np.isnan(single.ci_low)


def test_condition_summaries_follow_the_given_order() -> None:
    ratings = ratings_with_reference("a", [100, 90, 80])
    summaries = summarise_conditions(ratings, ("sys", HIDDEN_REFERENCE))
    assert [s.condition for s in summaries] == ["sys", HIDDEN_REFERENCE]
    assert summaries[1].mean == 90.0 and summaries[1].n == 3
    assert summaries[0].ci_low == summaries[0].ci_high == 50.0


def test_correlation_with_metrics_on_a_perfect_line() -> None:
    ratings = [Rating("a", f"i{k}", "sys", 10.0 * k) for k in range(5)]
    ratings.append(Rating("a", "i0", HIDDEN_REFERENCE, 100.0))
    metrics = {(f"i{k}", "sys"): {"SI-SDR": 2.0 * k - 3} for k in range(5)}
    metrics[("i0", HIDDEN_REFERENCE)] = {"SI-SDR": float("inf")}
    (correlation,) = correlate_with_metrics(ratings, metrics)
    assert len(correlation.points) == 5  # the hidden reference is left out
    assert correlation.pearson_r == pytest.approx(1.0)
    assert correlation.spearman_rho == pytest.approx(1.0)


def test_analyse_folder_with_simulated_listeners(stimuli, tmp_path: Path) -> None:
    design = stimuli.design(seed=3)
    paths = simulate_listeners(stimuli, design, tmp_path, n_listeners=5, n_careless=1, seed=1)
    assert len(paths) == 5
    again = simulate_listeners(stimuli, design, tmp_path, n_listeners=5, n_careless=1, seed=1)
    assert again == paths  # re-running does not add listeners
    report = analyse_folder(tmp_path, metrics=stimuli)
    assert report.excluded_listeners == ("sim-05",)
    text = str(report)
    assert "SIMULATED" in text and "| sim-05 | EXCLUDED |" in text
    means = {s.condition: s.mean for s in report.summaries}
    assert means[HIDDEN_REFERENCE] > 90 and means["anchor_3.5kHz"] < 40
    assert means["irm"] > means["mixture"]
    assert set(report.figures) == {"condition_means", "item_boxplots", "metric_correlation"}


def test_analysis_reports_torn_lines_and_unreadable_files(stimuli, tmp_path: Path) -> None:
    design = stimuli.design()
    (path,) = simulate_listeners(stimuli, design, tmp_path, n_listeners=1, n_careless=0)
    with open(path, "ab") as handle:
        handle.write(b'{"type": "tri')
    (tmp_path / "notes.jsonl").write_text("not json\n")
    header, *records = path.read_text().splitlines()
    trial = next(line for line in records if json.loads(line)["type"] == "trial")
    edited = tmp_path / "edited__by-hand.jsonl"  # a whole line, but a rating lost its letter
    edited.write_text(header + "\n" + trial.replace('"letter"', '"lettre"') + "\n")
    report = analyse_folder(tmp_path, make_figures=False)
    assert {s.path: s.torn_lines for s in report.sessions} == {path: (len(design.items) + 3,)}
    assert tmp_path / "notes.jsonl" in report.skipped_files
    assert "not a whole trial" in report.skipped_files[edited]
    assert "ignored incomplete line" in str(report)


def test_analyse_folder_says_what_to_do_when_empty(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="copy the listeners' files"):
        analyse_folder(tmp_path)


# ----------------------------------------------------------------- widget


def test_widget_displays_its_view_and_description_in_ipywidgets_7_and_8(
    stimuli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.core.formatters import DisplayFormatter

    from vaesep.widgets import listening as listening_widgets

    published = []
    monkeypatch.setattr(listening_widgets, "display", lambda obj, raw, **_: published.append(obj))
    view = listening_widgets.listening_test(stimuli, tmp_path, n_trials=2)
    formatted, _ = DisplayFormatter().format(view)  # what IPython does with a cell's result
    (bundle,) = published or [formatted]  # published: through _ipython_display_
    assert bundle["text/plain"] == view.describe()  # what nbconvert and terminals show
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id


def test_widget_walks_through_a_session_without_a_browser(stimuli, tmp_path: Path) -> None:
    from vaesep.widgets.listening import listening_test

    view = listening_test(stimuli, tmp_path, n_trials=2)
    assert "waiting for a listener id" in view._repr_mimebundle_()["text/plain"]
    view.start("zoe")
    assert not view.session.familiarised
    view._finish_familiarisation()
    plan = view.session.next_trial
    letters = [letter for letter, _ in plan.letters]
    player = view._player
    assert set(player.clips) == {"reference", *letters} and not player.playing
    view._play_button("B").click()
    assert (player.active, player.playing) == ("B", True)
    view._play_button("reference").click()  # a switch: the same clips, another one audible
    assert (player.active, player.playing) == ("reference", True)
    # the clips are the stimuli as rendered (no peak normalisation), all of one length
    decoded = {name: soundfile.read(io.BytesIO(wav))[0] for name, wav in player.clips.items()}
    assert len({len(signal) for signal in decoded.values()}) == 1
    condition = dict(plan.letters)["B"]
    np.testing.assert_allclose(decoded["B"], stimuli.load(plan.item, condition), atol=1 / 2**15)
    assert player.loop == [0.0, len(decoded["B"]) / stimuli.sample_rate]
    for value, letter in enumerate(letters[:-1]):
        view._sliders[letter].value = 10 + value  # as a listener's drag does
        assert view._next.disabled
    view._sliders[letters[-1]].value = 99
    assert not view._next.disabled
    view._next.click()
    saved = read_results_file(view.session.path).trials
    assert len(saved) == 1
    stored = {r["letter"]: (r["rating"], r["plays"]) for r in saved[0]["ratings"]}
    expected = {letter: (10.0 + i, 0) for i, letter in enumerate(letters[:-1])}
    expected[letters[-1]] = (99.0, 0)
    expected["B"] = (expected["B"][0], 1)
    assert stored == expected
    assert "Trial 2 of 2" in view._status.value
    trial_2 = view.session.next_trial
    assert set(player.clips) == {"reference", *dict(trial_2.letters)}
    assert (player.active, player.playing) == ("", False)  # a new trial waits for a play

    # a restarted kernel: a new view of the same listener resumes at trial 2
    resumed = listening_test(stimuli, tmp_path, "zoe", n_trials=2)
    assert resumed.session.resumed and resumed.session.next_trial.trial_id == "T02"
    assert "Trial 2 of 2" in resumed._status.value
    resumed.session.close()


def test_player_refuses_clips_that_cannot_play_in_sync() -> None:
    from vaesep.widgets.player import SyncPlayer

    player = SyncPlayer()
    with pytest.raises(ValueError, match="same length to play in sync"):
        player.load({"reference": np.zeros(800), "A": np.zeros(801)}, SR)
    with pytest.raises(KeyError, match="no clip 'A'"):
        player.switch_to("A")
