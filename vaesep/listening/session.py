"""One results file per listener and session: every rating on disk at once, resumable.

Notebook 05, section "Nothing lost: how results are stored". A session is one JSON
Lines file, ``<listener>__<session>.jsonl``: a header line (listener, package version,
the design and the whole trial plan, so the file alone says what was heard), then one
line per submitted trial, written by one ``write`` and ``fsync``'d before the screen
moves on. A crash mid-write leaves at most a torn last line, which the reader skips
and reports. Files are created with ``O_EXCL`` and held under ``flock`` while open, so
two kernels never write one file; resume-or-start is decided under a per-listener lock,
so two kernels opening one new listener at once start one session, not two.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import vaesep
from vaesep.listening.design import ListeningDesign, TrialPlan, validate_listener_id

try:  # POSIX advisory locks; elsewhere only O_EXCL creation protects the files
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

RESULTS_SUFFIX = ".jsonl"
FILE_FORMAT = 1  # of the header and trial lines; stored in every header
HEADER_KEYS = {"listener_id", "session_id", "created", "design", "plan"}
TRIAL_KEYS = {"listener_id", "session_id", "trial_id", "item", "ratings"}
RATING_KEYS = {"letter", "condition", "rating", "plays"}
_OPEN_SESSIONS: dict[Path, ListeningSession] = {}  # a re-run notebook cell reuses its lock


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class SessionLockedError(RuntimeError):
    """The results file is open in another kernel or process."""


class ResultsFile(NamedTuple):
    """A results file as read: its header, its trial records, and the torn lines skipped."""

    path: Path
    header: dict
    trials: tuple[dict, ...]  # the stored records, the first submission of each trial
    familiarised: bool
    torn_lines: tuple[int, ...]  # 1-based numbers of lines that are not whole JSON records

    @property
    def plan(self) -> tuple[TrialPlan, ...]:
        return tuple(
            TrialPlan(p["trial_id"], p["index"], p["item"], tuple(map(tuple, p["letters"])))
            for p in self.header["plan"]
        )

    @property
    def is_complete(self) -> bool:
        done = {trial["trial_id"] for trial in self.trials}
        return all(plan["trial_id"] in done for plan in self.header["plan"])


def read_results_file(path: str | os.PathLike) -> ResultsFile:
    """Parse one results file, skipping (and listing) torn lines; ``ValueError`` if the
    first line is no session header or a whole line was edited by hand."""
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
        if number == 1:
            header = record if kind == "session" else None
            if header is None:
                break
        elif kind == "familiarisation":
            familiarised = True
        elif kind == "trial":
            if not TRIAL_KEYS <= record.keys() or any(
                not RATING_KEYS <= entry.keys() for entry in record["ratings"]
            ):
                raise ValueError(f"line {number} of {path} is not a whole trial: edited by hand?")
            trials.setdefault(record["trial_id"], record)  # a repeated line must not count twice
    if header is None:
        raise ValueError(
            f"{path} does not start with a vaesep listening-session header; it is not a results "
            "file of vaesep.listening (move it out of the results folder)"
        )
    if not HEADER_KEYS <= header.keys():
        raise ValueError(f"the header of {path} lacks {sorted(HEADER_KEYS - header.keys())}")
    return ResultsFile(path, header, tuple(trials.values()), familiarised, tuple(torn))


class ListeningSession:
    """One listener's open session: the plan, the trials saved, the locked results file.
    Get one from :func:`open_session`; close it, or use it in a ``with`` block."""

    def __init__(self, contents: ResultsFile, fd: int, resumed: bool) -> None:
        self.path, self.header, self.plan = contents.path, contents.header, contents.plan
        self.listener_id, self.session_id = self.header["listener_id"], self.header["session_id"]
        self.familiarised, self.resumed, self._fd = contents.familiarised, resumed, fd
        self.n_trials = len(self.plan)
        self._done = {trial["trial_id"]: trial for trial in contents.trials}

    @property
    def completed(self) -> tuple[dict, ...]:
        """The saved trial records, in plan order."""
        return tuple(self._done[p.trial_id] for p in self.plan if p.trial_id in self._done)

    @property
    def next_trial(self) -> TrialPlan | None:
        """The first planned trial not yet saved; None when the session is finished."""
        return next((plan for plan in self.plan if plan.trial_id not in self._done), None)

    @property
    def is_complete(self) -> bool:
        return self.next_trial is None

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def describe(self) -> str:
        done = len(self._done)
        state = "finished" if self.is_complete else f"next is trial {done + 1} of {self.n_trials}"
        resumed = " (resumed)" if self.resumed else ""
        return (
            f"listener {self.listener_id}, session {self.session_id}{resumed}: {done} of "
            f"{self.n_trials} trials saved, {state}; results file {self.path}"
        )

    def _append(self, record: dict) -> None:
        if self._fd is None:
            raise RuntimeError(f"session {self.session_id} is closed; open it again (open_session)")
        _write_line(self._fd, record)

    def mark_familiarised(self) -> None:
        """Record that the listener finished the familiarisation page."""
        if not self.familiarised:
            self._append({"type": "familiarisation", "completed": utc_now()})
            self.familiarised = True

    def submit_trial(
        self,
        trial_id: str,
        ratings: Mapping[str, float],
        *,
        plays: Mapping[str, int] | None = None,
        reference_plays: int = 0,
        started: str | None = None,
    ) -> dict:
        """Store the ratings (letter -> 0..100) of :attr:`next_trial`; on disk when it returns.
        ``plays`` counts the plays per letter; ``started`` is when the trial was shown."""
        plan = self.next_trial
        if plan is None:
            raise ValueError(f"session {self.session_id} is finished; all trials are saved")
        if trial_id != plan.trial_id:
            state = "already saved" if trial_id in self._done else "not the current trial"
            raise ValueError(
                f"expected trial {plan.trial_id}, got {trial_id} ({state}); trials are stored "
                "in order, once each"
            )
        letters = [letter for letter, _ in plan.letters]
        if set(ratings) != set(letters):
            raise ValueError(f"trial {trial_id} needs one rating for each of the letters {letters}")
        entries = []
        for letter, condition in plan.letters:
            value = float(ratings[letter])
            if not (math.isfinite(value) and 0.0 <= value <= 100.0):
                raise ValueError(f"rating of {letter} must lie in [0, 100], got {ratings[letter]}")
            played = int((plays or {}).get(letter, 0))
            entries.append(
                {"letter": letter, "condition": condition, "rating": value, "plays": played}
            )
        record = {
            "type": "trial",
            "listener_id": self.listener_id,
            "session_id": self.session_id,
            "trial_id": plan.trial_id,
            "trial_index": plan.index,
            "item": plan.item,
            "ratings": entries,
            "reference_plays": int(reference_plays),
            "started": started or utc_now(),
            "submitted": utc_now(),
            "vaesep_version": vaesep.__version__,
            "simulated": bool(self.header.get("simulated", False)),
        }
        self._append(record)
        self._done[plan.trial_id] = record
        return record

    def close(self) -> None:
        """Release the file and its lock (the end of the process does too)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        _OPEN_SESSIONS.pop(self.path.resolve(), None)

    def __enter__(self) -> ListeningSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_line(fd: int, record: dict) -> None:
    """Append one JSON line with one ``write`` (whole, under ``O_APPEND``), then ``fsync``."""
    view = memoryview((json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode())
    while view:  # more than one round only if the disk fills up part-way
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _open_locked(path: Path, flags: int) -> int:
    fd = os.open(path, flags, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise SessionLockedError(
            f"{path} is open in another kernel or process; finish or shut down that notebook, "
            "or use another listener id"
        ) from exc
    return fd


@contextmanager
def _listener_lock(results_dir: Path, listener_id: str) -> Iterator[None]:
    """Hold ``.<listener>.lock`` while choosing between resuming and creating a session:
    without it two processes could both find no session and both create session 0."""
    fd = os.open(results_dir / f".{listener_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: the other side holds it for milliseconds
        yield
    finally:
        os.close(fd)  # the lock goes with the descriptor, even on a crash


def open_session(
    results_dir: str | os.PathLike,
    listener_id: str,
    design: ListeningDesign,
    *,
    stimuli_folder: str | os.PathLike | None = None,
    new_session: bool = False,
    simulated_model: str | None = None,
) -> ListeningSession:
    """Resume this listener's session of ``design`` (the newest unfinished, else the newest
    finished, which reports ``is_complete``), or start one; ``new_session=True`` starts a
    repeat with fresh orders. ``simulated_model`` marks machine-made ratings in the header.
    Raises :class:`SessionLockedError` when the file is open in another process."""
    validate_listener_id(listener_id)
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    with _listener_lock(results_dir, listener_id):
        same_design = []
        for path in sorted(results_dir.glob(f"{listener_id}__*{RESULTS_SUFFIX}")):
            try:
                contents = read_results_file(path)
            except (OSError, ValueError) as exc:
                warnings.warn(f"skipping unreadable results file {path}: {exc}", stacklevel=2)
                continue
            header = contents.header  # the glob also finds "anna_"'s files for "anna"
            ours = header["listener_id"] == listener_id
            if ours and header["design"]["design_id"] == design.design_id:
                same_design.append(contents)
        same_design.sort(key=lambda contents: str(contents.header["created"]))
        unfinished = [f for f in same_design if not f.is_complete]
        resumed = bool(same_design) and not new_session
        if resumed:
            path = (unfinished or same_design)[-1].path
            if path.resolve() in _OPEN_SESSIONS:  # the cell run again in the same kernel
                _OPEN_SESSIONS[path.resolve()].close()
        else:
            session_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
            path = results_dir / f"{listener_id}__{session_id}{RESULTS_SUFFIX}"
            header = {
                "type": "session",
                "format": FILE_FORMAT,
                "listener_id": listener_id,
                "session_id": session_id,
                "session_ordinal": len(same_design),
                "created": utc_now(),
                "vaesep_version": vaesep.__version__,
                "simulated": simulated_model is not None,
                "simulation_model": simulated_model,
                "stimuli_folder": None if stimuli_folder is None else str(stimuli_folder),
                "design": {**dataclasses.asdict(design), "design_id": design.design_id},
                "plan": [p._asdict() for p in design.plan_session(listener_id, len(same_design))],
            }
            # O_EXCL: fail rather than ever touch a file that someone else created
            fd = _open_locked(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND)
            _write_line(fd, header)
            os.close(fd)  # reopened below like any session, still under the listener lock
            _fsync_folder(results_dir)
        fd = _open_locked(path, os.O_WRONLY | os.O_APPEND)
        if path.read_bytes()[-1:] not in (b"", b"\n"):
            # a crash cut the last line short: end it, so the next record starts a line of
            # its own and the fragment stays visible (and skipped) as a torn line
            os.write(fd, b"\n")
            os.fsync(fd)
        session = ListeningSession(read_results_file(path), fd, resumed)  # read under the lock
    _OPEN_SESSIONS[path.resolve()] = session
    return session


def _fsync_folder(folder: Path) -> None:
    """Make a new file's name durable too, not only its bytes."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    except OSError:  # pragma: no cover - Windows cannot open folders; some file systems refuse
        pass
