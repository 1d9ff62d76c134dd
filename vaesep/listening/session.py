"""One results file per listener and session: every rating on disk at once, resumable.

Notebook 05, section "Nothing lost: how results are stored". A session is one JSON Lines file,
``<listener>__<session>.jsonl``: a header line (listener, version, design, the whole plan, so
the file alone says what was heard), then one line per trial, written by one ``write`` and
``fsync``'d before the screen moves on; a torn last line is skipped and reported. Files are
created with ``O_EXCL`` and ``flock``'d while open, and resume-or-start is decided under a
per-listener lock: two kernels never write one file, nor start two sessions of one listener.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import secrets
import warnings
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

import vaesep
from vaesep.files import to_json
from vaesep.listening.design import ListeningDesign, TrialPlan

try:  # POSIX advisory locks; elsewhere only O_EXCL creation protects the files
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

HEADER_KEYS = {"listener_id", "session_id", "created", "design", "plan"}
TRIAL_KEYS = {"listener_id", "session_id", "trial_id", "item", "ratings"}
RATING_KEYS = {"letter", "condition", "rating", "plays"}
# fullmatch, not match with "$": "$" would also accept a trailing newline ("anna\n")
_LISTENER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_OPEN_SESSIONS: dict[Path, ListeningSession] = {}  # a re-run notebook cell reuses its lock


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class SessionLockedError(RuntimeError):
    """The results file is open in another kernel or process."""


def _record(raw: bytes) -> dict | None:
    """One line as a record, or None if it is not a whole one (a torn line)."""
    try:
        record = json.loads(raw)
    except ValueError:  # bad JSON or bad UTF-8
        return None
    return record if isinstance(record, dict) and "type" in record else None


class ListeningSession:
    """One results file: header, plan, saved trials, and the 1-based numbers of torn lines
    skipped. Open (from :func:`open_session`, best in a ``with`` block) it holds the file's
    lock and stores trials; read (:func:`read_results_file`) it is closed."""

    def __init__(self, path: Path, fd: int | None = None, resumed: bool = False) -> None:
        lines = path.read_bytes().split(b"\n")
        header = _record(lines[0])
        if header is None or header["type"] != "session" or not HEADER_KEYS <= header.keys():
            raise ValueError(
                f"{path} does not start with a vaesep listening-session header; it is not a "
                "results file of vaesep.listening (move it out of the results folder)"
            )
        self.path, self.header, self.resumed, self._fd = path, header, resumed, fd
        self.plan = tuple(
            TrialPlan(p["trial_id"], p["index"], p["item"], tuple(map(tuple, p["letters"])))
            for p in header["plan"]
        )
        self.familiarised, self._done, torn = False, {}, []
        for number, raw in enumerate(lines[1:], start=2):
            record = _record(raw)
            if record is None:
                torn += [number] if raw.strip() else []
            elif record["type"] == "familiarisation":
                self.familiarised = True
            elif record["type"] == "trial":
                if not TRIAL_KEYS <= record.keys() or any(
                    not RATING_KEYS <= entry.keys() for entry in record["ratings"]
                ):
                    raise ValueError(f"line {number} of {path} is not a whole trial (edited?)")
                self._done.setdefault(record["trial_id"], record)  # a repeated line counts once
        self.torn_lines = tuple(torn)

    @property
    def trials(self) -> tuple[dict, ...]:
        """The saved trial records, in plan order."""
        return tuple(self._done[p.trial_id] for p in self.plan if p.trial_id in self._done)

    @property
    def next_trial(self) -> TrialPlan | None:
        """The first planned trial not yet saved; None when the session is finished."""
        return next((plan for plan in self.plan if plan.trial_id not in self._done), None)

    @property
    def is_complete(self) -> bool:
        return self.next_trial is None

    def describe(self) -> str:
        done, total = len(self._done), len(self.plan)
        state = "finished" if self.is_complete else f"next is trial {done + 1} of {total}"
        return (
            f"listener {self.header['listener_id']}, session {self.header['session_id']}"
            f"{' (resumed)' if self.resumed else ''}: {done} of {total} trials saved, {state}; "
            f"results file {self.path}"
        )

    def _append(self, record: dict) -> dict:
        if self._fd is None:
            name = self.header["session_id"]
            raise RuntimeError(f"session {name} is closed; open it again (open_session)")
        _write_line(self._fd, record)
        return record

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
        if plan is None or trial_id != plan.trial_id:
            state = "already saved" if trial_id in self._done else "not the current trial"
            expected = f"trial {plan.trial_id}" if plan else "none: every trial is saved"
            raise ValueError(f"expected {expected}, got {trial_id} ({state}); each once, in order")
        letters = [letter for letter, _ in plan.letters]
        if set(ratings) != set(letters):
            raise ValueError(f"trial {trial_id} needs one rating for each of the letters {letters}")
        values = {letter: float(value) for letter, value in ratings.items()}
        bad = [f"{k}={v:g}" for k, v in values.items() if not (math.isfinite(v) and 0 <= v <= 100)]
        if bad:
            raise ValueError(f"ratings must lie in [0, 100], got {', '.join(bad)}")
        plays = plays or {}
        entries = [
            {"letter": k, "condition": c, "rating": values[k], "plays": int(plays.get(k, 0))}
            for k, c in plan.letters
        ]
        header = self.header
        record = self._append({
            "type": "trial", "listener_id": header["listener_id"],
            "session_id": header["session_id"], "trial_id": plan.trial_id,
            "trial_index": plan.index, "item": plan.item, "ratings": entries,
            "reference_plays": int(reference_plays), "started": started or utc_now(),
            "submitted": utc_now(), "vaesep_version": vaesep.__version__,
            "simulated": bool(header.get("simulated", False)),
        })
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


def read_results_file(path: str | os.PathLike) -> ListeningSession:
    """Read one results file (closed); ``ValueError`` if it has no session header or a
    whole line was edited by hand. Torn lines are skipped and listed in ``torn_lines``."""
    return ListeningSession(Path(path))


def _write_line(fd: int, record: dict) -> None:
    """Append one JSON line with one ``write`` (whole, under ``O_APPEND``), then ``fsync``."""
    view = memoryview(to_json(record, indent=None).encode())  # strict: NaN never reaches a file
    while view:  # more than one round only if the disk fills up part-way
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _lock(path: Path, flags: int, wait: bool = False) -> int:
    """Open ``path`` and lock it; without ``wait``, a lock held elsewhere raises at once."""
    fd = os.open(path, flags, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError as exc:
        os.close(fd)
        raise SessionLockedError(
            f"{path} is open in another kernel or process; finish or shut down that notebook, "
            "or use another listener id"
        ) from exc
    return fd


def _sessions_of(results_dir: Path, listener_id: str, design_id: str) -> list[ListeningSession]:
    """The listener's readable sessions of one design, oldest first."""
    ours = []
    for path in results_dir.glob(f"{listener_id}__*.jsonl"):
        try:
            contents = read_results_file(path)
        except (OSError, ValueError) as exc:
            warnings.warn(f"skipping unreadable results file {path}: {exc}", stacklevel=3)
            continue
        header = contents.header  # the glob also finds "anna_"'s files for "anna"
        if (header["listener_id"], header["design"]["design_id"]) == (listener_id, design_id):
            ours.append(contents)
    return sorted(ours, key=lambda contents: str(contents.header["created"]))


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
    if not isinstance(listener_id, str) or not _LISTENER_ID.fullmatch(listener_id):
        raise ValueError(
            f"listener id {listener_id!r} is not usable: give 1-40 characters, letters, digits, "
            "'-' or '_' only, starting with a letter or digit (e.g. 'anna' or 'student-07')"
        )
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    # without the listener's lock, two processes could both find no session and both start one
    listener_lock = _lock(results_dir / f".{listener_id}.lock", os.O_RDWR | os.O_CREAT, wait=True)
    try:
        ours = _sessions_of(results_dir, listener_id, design.design_id)
        resumed = bool(ours) and not new_session
        if resumed:
            path = ([s for s in ours if not s.is_complete] or ours)[-1].path
            if path.resolve() in _OPEN_SESSIONS:  # the cell run again in the same kernel
                _OPEN_SESSIONS[path.resolve()].close()
            fd = _lock(path, os.O_WRONLY | os.O_APPEND)
            if path.read_bytes()[-1:] != b"\n":
                # a crash cut the last line short: end it, so the next record starts a line of
                # its own and the fragment stays visible (and skipped) as a torn line
                os.write(fd, b"\n")
                os.fsync(fd)
        else:
            session_id = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
            path = results_dir / f"{listener_id}__{session_id}.jsonl"
            # O_EXCL: fail rather than ever touch a file that someone else created
            fd = _lock(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND)
            _write_line(fd, {
                "type": "session", "format": 1, "listener_id": listener_id,
                "session_id": session_id, "session_ordinal": len(ours), "created": utc_now(),
                "vaesep_version": vaesep.__version__, "simulated": simulated_model is not None,
                "simulation_model": simulated_model,
                "stimuli_folder": None if stimuli_folder is None else str(stimuli_folder),
                "design": {**dataclasses.asdict(design), "design_id": design.design_id},
                "plan": [p._asdict() for p in design.plan_session(listener_id, len(ours))],
            })
            with suppress(OSError):  # the new file's name durable too; Windows cannot do this
                folder = os.open(results_dir, os.O_RDONLY)
                os.fsync(folder)
                os.close(folder)
        session = ListeningSession(path, fd, resumed)  # read under the listener's lock
    finally:
        os.close(listener_lock)  # the lock goes with the descriptor, even on a crash
    _OPEN_SESSIONS[path.resolve()] = session
    return session
