"""Reading results files back: one listener's file, or a class's folder of them.

Notebook 05, sections "Nothing lost: how results are stored" and "Analysis". The
format is written by :mod:`vaesep.listening.session`: a header line, then one JSON
line per submitted trial. A line cut short by a crash is skipped and reported, never
fatal; whatever was committed before it is read. :func:`load_results` turns a folder
into ratings in long format, one :class:`Rating` per slider, for the analysis.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from vaesep.listening.design import TrialPlan

RESULTS_SUFFIX = ".jsonl"
HEADER_KEYS = {"listener_id", "session_id", "created", "design", "plan"}
TRIAL_KEYS = {"listener_id", "session_id", "trial_id", "item", "ratings"}
RATING_KEYS = {"letter", "condition", "rating", "plays"}


@dataclass(frozen=True)
class ResultsFile:
    """A results file as read: its header, its trial records, and the torn lines skipped."""

    path: Path
    header: dict
    trials: tuple[dict, ...]  # the stored JSON records, first submission of each trial
    familiarised: bool
    torn_lines: tuple[int, ...]  # 1-based numbers of lines that are not whole JSON records

    @property
    def plan(self) -> tuple[TrialPlan, ...]:
        return tuple(TrialPlan.from_json(record) for record in self.header["plan"])

    @property
    def is_complete(self) -> bool:
        done = {trial["trial_id"] for trial in self.trials}
        return all(plan.trial_id in done for plan in self.plan)


def read_results_file(path: str | os.PathLike) -> ResultsFile:
    """Parse one results file, skipping (and listing) torn lines.

    Raises:
        ValueError: the first line is no session header, or a line was edited by hand.
    """
    path = Path(path)
    header, trials, familiarised, torn = None, {}, False, []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
            kind = record["type"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            torn.append(number)
            continue
        if number == 1 and kind == "session":
            header = record
        elif number == 1:
            break
        elif kind == "familiarisation":
            familiarised = True
        elif kind == "trial":
            entries = record.get("ratings", [])
            if not (TRIAL_KEYS <= record.keys() and all(RATING_KEYS <= r.keys() for r in entries)):
                raise ValueError(f"line {number} of {path} is not a whole trial: edited by hand?")
            # a repeated line (only hand edits make one) must not count twice
            trials.setdefault(record["trial_id"], record)
    if header is None:
        raise ValueError(
            f"{path} does not start with a vaesep listening-session header; it is not a results "
            "file of vaesep.listening (move it out of the results folder)"
        )
    if not HEADER_KEYS <= header.keys():
        missing = sorted(HEADER_KEYS - header.keys())
        raise ValueError(f"the header of {path} lacks {missing}: edited by hand?")
    return ResultsFile(path, header, tuple(trials.values()), familiarised, tuple(torn))


@dataclass(frozen=True)
class Rating:
    """One slider of one trial of one listener: the long format every statistic reads."""

    listener_id: str
    session_id: str
    trial_id: str
    item: str
    condition: str
    letter: str
    rating: float
    plays: int
    simulated: bool


@dataclass(frozen=True)
class CollectedResults:
    """Everything read from a folder of results files, and what was left out and why."""

    ratings: tuple[Rating, ...]
    conditions: tuple[str, ...]  # as the files' designs list them, the first file's first
    files: tuple[Path, ...]
    torn_lines: dict[Path, tuple[int, ...]] = field(default_factory=dict)
    skipped_files: dict[Path, str] = field(default_factory=dict)
    incomplete_sessions: tuple[Path, ...] = ()
    simulated_listeners: frozenset[str] = frozenset()

    @property
    def listeners(self) -> tuple[str, ...]:
        return tuple(sorted({r.listener_id for r in self.ratings}))

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(sorted({r.item for r in self.ratings}))


def load_results(folder: str | os.PathLike) -> CollectedResults:
    """Read every ``*.jsonl`` results file in ``folder`` (not its subfolders).

    Two files of one listener's session (same design and session number, made by a
    race in vaesep before session creation was locked) would count a listener twice:
    only the one with the most trials is read; the other is listed in ``skipped_files``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"results folder {folder} does not exist")
    paths = sorted(folder.glob(f"*{RESULTS_SUFFIX}"))
    if not paths:
        raise FileNotFoundError(
            f"no *{RESULTS_SUFFIX} results files in {folder}; copy the listeners' files there"
        )
    skipped, readable, sessions = {}, [], {}
    for path in paths:
        try:
            contents = read_results_file(path)
        except (OSError, ValueError) as exc:
            skipped[path] = str(exc)
            continue
        header = contents.header
        # a header without a session number stands alone: there is nothing to match it on
        ordinal = header.get("session_ordinal", str(path))
        key = (header["listener_id"], header["design"]["design_id"], ordinal)
        readable.append((key, contents))
        if key not in sessions or len(contents.trials) > len(sessions[key].trials):
            sessions[key] = contents
    used = []
    for key, contents in readable:
        if sessions[key] is contents:
            used.append(contents)
        else:
            listener, _, ordinal = key
            skipped[contents.path] = (
                f"a second file of session {ordinal} of listener {listener} (same design); "
                f"{sessions[key].path.name} is used instead"
            )
    ratings = tuple(
        Rating(
            trial["listener_id"], trial["session_id"], trial["trial_id"], trial["item"],
            entry["condition"], entry["letter"], float(entry["rating"]), int(entry["plays"]),
            bool(trial.get("simulated", False)),
        )
        for contents in used
        for trial in contents.trials
        for entry in trial["ratings"]
    )
    conditions = [c for contents in used for c in contents.header["design"]["conditions"]]
    return CollectedResults(
        ratings,
        tuple(dict.fromkeys(conditions)),
        tuple(contents.path for contents in used),
        {contents.path: contents.torn_lines for contents in used if contents.torn_lines},
        skipped,
        tuple(contents.path for contents in used if not contents.is_complete),
        frozenset(c.header["listener_id"] for c in used if c.header.get("simulated")),
    )


