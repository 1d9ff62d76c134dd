"""One results file per listener and session: every rating on disk at once, resumable.

Notebook 05, section "Nothing lost: how results are stored". A session is one
JSON Lines file, ``<listener>__<session>.jsonl``, in the results folder:

* line 1, the header: listener, session, package version, the design and the
  whole trial plan, so the file alone says what the listener heard;
* one line per submitted trial (every rating, letter, condition, play count and
  timestamp), written by one ``write`` and ``fsync``'d before the interface moves on.

A crash mid-write leaves at most a torn last line, which the reader reports and
skips. Reopening a listener resumes their newest unfinished session of the same
design at its first unsaved trial. Files are created with ``O_EXCL`` and held
under an exclusive ``flock`` while open, so two kernels never write one file;
resume-or-start is decided under a per-listener lock (``.<listener>.lock``), so
two kernels opening one new listener at once start one session, not two.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import vaesep
from vaesep.listening.design import ListeningDesign, TrialPlan, validate_listener_id
from vaesep.listening.results import RESULTS_SUFFIX, ResultsFile, read_results_file

try:  # POSIX advisory locks; elsewhere only O_EXCL creation protects the files
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

FILE_FORMAT = 1  # of the header and trial lines below; stored in every header
_OPEN_SESSIONS: dict[Path, ListeningSession] = {}  # so re-running a notebook cell reuses its lock


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class SessionLockedError(RuntimeError):
    """The results file is open in another kernel or process."""


class ListeningSession:
    """One listener's open session: the plan, the trials saved, the locked results file.

    Get one from :func:`open_session`; close it, or use it in a ``with`` block.
    """

    def __init__(self, path: Path, fd: int, contents: ResultsFile, resumed: bool) -> None:
        self.path, self._fd, self.resumed = path, fd, resumed
        self.header = contents.header
        self.listener_id: str = self.header["listener_id"]
        self.session_id: str = self.header["session_id"]
        self.plan = contents.plan
        self.n_trials = len(self.plan)
        self.familiarised = contents.familiarised
        self.torn_lines = contents.torn_lines
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
        return (
            f"listener {self.listener_id}, session {self.session_id}"
            f"{' (resumed)' if self.resumed else ''}: {done} of {self.n_trials} trials saved, "
            f"{state}; results file {self.path}"
        )

    def __repr__(self) -> str:
        return f"ListeningSession({self.describe()})"

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
        """Check and store the current trial's ratings (letter -> 0..100), on disk when it returns.

        ``trial_id`` must be :attr:`next_trial`'s: trials are stored in order, once each.
        ``plays`` counts how often each letter was played, ``reference_plays`` the
        labelled reference; ``started`` is when the trial was shown (ISO time).
        """
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
            raise ValueError(
                f"trial {trial_id} needs one rating for each of the letters {letters}, "
                f"got {sorted(ratings)}"
            )
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
    line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
    view = memoryview(line.encode("utf-8"))
    while view:  # more than one round only if the disk fills up part-way
        view = view[os.write(fd, view) :]
    os.fsync(fd)


def _lock_file(fd: int, path: Path) -> None:
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise SessionLockedError(
            f"{path} is open in another kernel or process; finish or shut down that notebook, "
            "or use another listener id"
        ) from exc


@contextmanager
def _listener_lock(results_dir: Path, listener_id: str) -> Iterator[None]:
    """Hold ``.<listener>.lock`` while choosing between resuming and creating a session.

    Without it two processes could both find no session and both create session 0.
    The (empty) lock file stays; the lock goes with the descriptor, even on a crash.
    """
    fd = os.open(results_dir / f".{listener_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: the other side holds it for milliseconds
        yield
    finally:
        os.close(fd)


def _listener_files(results_dir: Path, listener_id: str) -> list[ResultsFile]:
    """This listener's readable results files, oldest first."""
    found = []
    for path in sorted(results_dir.glob(f"{listener_id}__*{RESULTS_SUFFIX}")):
        try:
            contents = read_results_file(path)
        except (OSError, ValueError) as exc:
            warnings.warn(f"skipping unreadable results file {path}: {exc}", stacklevel=3)
            continue
        if contents.header["listener_id"] == listener_id:
            found.append(contents)
    return sorted(found, key=lambda contents: str(contents.header["created"]))


def _reopen(path: Path) -> ListeningSession:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    _lock_file(fd, path)
    contents = read_results_file(path)  # read again under the lock: the truth is on disk now
    if path.read_bytes()[-1:] not in (b"", b"\n"):
        # a crash cut the last line short: end it, so the next record starts a line of its
        # own and the fragment stays visible (and skipped) as a torn line
        os.write(fd, b"\n")
        os.fsync(fd)
    return ListeningSession(path, fd, contents, resumed=True)


def _create(
    results_dir: Path, listener_id: str, design: ListeningDesign, ordinal: int, extra: dict
) -> ListeningSession:
    session_id = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    header = {
        "type": "session",
        "format": FILE_FORMAT,
        "listener_id": listener_id,
        "session_id": session_id,
        "session_ordinal": ordinal,
        "created": utc_now(),
        "vaesep_version": vaesep.__version__,
        **extra,
        "design": design.to_json(),
        "plan": [plan.to_json() for plan in design.plan_session(listener_id, ordinal)],
    }
    path = results_dir / f"{listener_id}__{session_id}{RESULTS_SUFFIX}"
    # O_EXCL: fail rather than ever touch a file that someone else created
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
    _lock_file(fd, path)
    _write_line(fd, header)
    try:  # make the new file's name durable too, not only its bytes
        folder_fd = os.open(results_dir, os.O_RDONLY)
        try:
            os.fsync(folder_fd)
        finally:
            os.close(folder_fd)
    except OSError:  # pragma: no cover - Windows cannot open folders; some file systems refuse
        pass
    return ListeningSession(path, fd, read_results_file(path), resumed=False)


def open_session(
    results_dir: str | os.PathLike,
    listener_id: str,
    design: ListeningDesign,
    *,
    stimuli_folder: str | os.PathLike | None = None,
    new_session: bool = False,
    simulated_model: str | None = None,
) -> ListeningSession:
    """Resume this listener's session of ``design``, or start one.

    Only a session of the same design (same ``design_id``) is resumed: the
    newest unfinished one, else the newest finished one, which then reports
    ``is_complete`` (so re-running a cell after the last trial never starts the
    test over). ``new_session=True`` starts a repeat with fresh orders instead.
    ``simulated_model`` marks machine-made ratings: the header says
    ``"simulated": true`` and stores the model. ``stimuli_folder`` is noted for the teacher.

    Raises:
        SessionLockedError: the session's file is open in another process.
    """
    validate_listener_id(listener_id)
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    with _listener_lock(results_dir, listener_id):
        existing = _listener_files(results_dir, listener_id)
        same_design = [f for f in existing if f.header["design"]["design_id"] == design.design_id]
        unfinished = [f for f in same_design if not f.is_complete]
        if same_design and not new_session:
            path = (unfinished or same_design)[-1].path
            if path.resolve() in _OPEN_SESSIONS:  # the cell run again in the same kernel
                _OPEN_SESSIONS[path.resolve()].close()
            session = _reopen(path)
        else:
            extra = {
                "simulated": simulated_model is not None,
                "simulation_model": simulated_model,
                "stimuli_folder": None if stimuli_folder is None else str(stimuli_folder),
            }
            session = _create(results_dir, listener_id, design, len(same_design), extra)
    _OPEN_SESSIONS[session.path.resolve()] = session
    return session
