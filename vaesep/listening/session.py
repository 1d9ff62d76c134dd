"""Per-listener results files: append every trial at once, resume after a crash.

A listening session is one JSON Lines file in the results folder, named
``<listener>__<session>.jsonl``:

* line 1 is the *session header*: listener, session, package version, the
  design and the full trial plan (item order and letters), so that the file
  alone says what the listener heard;
* every submitted trial adds one line holding all its ratings, play counts
  and timestamps, written with a single ``write`` and flushed to disk with
  ``fsync`` before the interface moves on.

A line is thus either wholly on disk or, if the machine died during the
write, a torn fragment at the end that the reader reports and skips; nothing
committed before it is lost. Reopening the same listener with the same design
resumes the newest unfinished file at the first trial without a line.
New files are created with ``O_EXCL`` and held under an exclusive ``flock``
while open, so two listeners (or two kernels of one listener) on one machine
never write to the same file. Deciding whether to resume or to start a session
happens under a per-listener lock (``.<listener>.lock`` in the results folder),
so two kernels opening the same new listener at once start one session, not
two. Notebook 05, section "Nothing lost: how results are stored".
"""

from __future__ import annotations

import json
import math
import os
import secrets
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from vaesep.listening.design import ListeningDesign, TrialPlan, validate_listener_id

try:  # POSIX advisory locks; on Windows only O_EXCL creation protects files
    import fcntl
except ImportError:  # pragma: no cover - exercised on Windows only
    fcntl = None  # type: ignore[assignment]

RESULTS_SUFFIX = ".jsonl"
"""Extension of results files."""

FILE_FORMAT = 1
"""Version of the results-file layout, stored in every header."""

_HEADER_KEYS = ("listener_id", "session_id", "created", "design", "plan")

_OPEN_SESSIONS: dict[Path, ListeningSession] = {}
"""Sessions open in this process, so that re-running a notebook cell reuses the lock."""


def utc_now() -> str:
    """Current time as an ISO-8601 UTC string with milliseconds.

    Notebook 05, section "Nothing lost: how results are stored".
    """
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _package_version() -> str:
    from vaesep import __version__  # late import: vaesep/__init__ may import this package

    return __version__


@dataclass(frozen=True)
class ConditionRating:
    """One slider of one trial (Notebook 05, section "Nothing lost: how results are stored").

    Attributes:
        letter: what the listener saw (``"A"``, ``"B"``, ...).
        condition: the condition hidden behind the letter.
        rating: 0-100 on the MUSHRA scale.
        plays: how often the listener played this condition.
    """

    letter: str
    condition: str
    rating: float
    plays: int


@dataclass(frozen=True)
class TrialResult:
    """One submitted trial, exactly as stored in a results file.

    Notebook 05, section "Nothing lost: how results are stored".
    """

    listener_id: str
    session_id: str
    trial_id: str
    trial_index: int
    item: str
    ratings: tuple[ConditionRating, ...]
    reference_plays: int
    started: str
    submitted: str
    vaesep_version: str
    simulated: bool = False

    def to_json(self) -> dict:
        """The JSON record of one line of a results file."""
        return {
            "type": "trial",
            "listener_id": self.listener_id,
            "session_id": self.session_id,
            "trial_id": self.trial_id,
            "trial_index": self.trial_index,
            "item": self.item,
            "ratings": [
                {"letter": r.letter, "condition": r.condition, "rating": r.rating, "plays": r.plays}
                for r in self.ratings
            ],
            "reference_plays": self.reference_plays,
            "started": self.started,
            "submitted": self.submitted,
            "vaesep_version": self.vaesep_version,
            "simulated": self.simulated,
        }

    @classmethod
    def from_json(cls, record: dict) -> TrialResult:
        """Inverse of :meth:`to_json`."""
        return cls(
            listener_id=record["listener_id"],
            session_id=record["session_id"],
            trial_id=record["trial_id"],
            trial_index=int(record["trial_index"]),
            item=record["item"],
            ratings=tuple(
                ConditionRating(r["letter"], r["condition"], float(r["rating"]), int(r["plays"]))
                for r in record["ratings"]
            ),
            reference_plays=int(record["reference_plays"]),
            started=record["started"],
            submitted=record["submitted"],
            vaesep_version=record["vaesep_version"],
            simulated=bool(record.get("simulated", False)),
        )


@dataclass(frozen=True)
class ResultsFile:
    """The parsed content of one results file.

    Notebook 05, section "Nothing lost: how results are stored".

    Attributes:
        path: the file.
        header: the session header (line 1) as a dict.
        trials: submitted trials, in file order.
        familiarised: whether the familiarisation page was completed.
        torn_lines: 1-based numbers of lines that were not complete JSON
            records (a write cut short by a crash); they are skipped.
    """

    path: Path
    header: dict
    trials: tuple[TrialResult, ...]
    familiarised: bool
    torn_lines: tuple[int, ...]

    @property
    def plan(self) -> tuple[TrialPlan, ...]:
        """The trial plan stored in the header."""
        return tuple(TrialPlan.from_json(p) for p in self.header["plan"])

    @property
    def is_complete(self) -> bool:
        """True when every planned trial has a stored line."""
        done = {trial.trial_id for trial in self.trials}
        return all(plan.trial_id in done for plan in self.plan)


def read_results_file(path: str | os.PathLike) -> ResultsFile:
    """Parse one results file, skipping (and reporting) torn lines.

    Notebook 05, section "Nothing lost: how results are stored".

    Raises:
        ValueError: the first line is not a vaesep session header.
    """
    path = Path(path)
    raw_lines = path.read_bytes().split(b"\n")
    header: dict | None = None
    trials: list[TrialResult] = []
    familiarised = False
    torn: list[int] = []
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
            kind = record["type"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            torn.append(number)
            continue
        if number == 1:
            if kind != "session":
                break
            header = record
        elif kind == "trial":
            trials.append(TrialResult.from_json(record))
        elif kind == "familiarisation":
            familiarised = True
    if header is None:
        raise ValueError(
            f"{path} does not start with a vaesep listening-session header; it is not a results "
            "file of vaesep.listening (move it out of the results folder)"
        )
    missing = [key for key in _HEADER_KEYS if key not in header]
    if missing:
        raise ValueError(
            f"the session header of {path} lacks {missing}; the file was edited by hand"
        )
    # a repeated line (impossible through ListeningSession, possible after hand edits)
    # must not count twice: keep the first submission of each trial
    unique: dict[str, TrialResult] = {}
    for trial in trials:
        unique.setdefault(trial.trial_id, trial)
    return ResultsFile(path, header, tuple(unique.values()), familiarised, tuple(torn))


class SessionLockedError(RuntimeError):
    """The results file is held by another kernel or process.

    Notebook 05, section "Nothing lost: how results are stored".
    """


class ListeningSession:
    """One listener's session: the plan, what is done, and the open results file.

    Create it with :func:`open_session`. Notebook 05, section "Nothing lost:
    how results are stored".
    """

    def __init__(self, path: Path, fd: int, contents: ResultsFile, resumed: bool) -> None:
        self.path = path
        self._fd: int | None = fd
        self.header = contents.header
        self.plan: tuple[TrialPlan, ...] = contents.plan
        self._done: dict[str, TrialResult] = {t.trial_id: t for t in contents.trials}
        self.familiarised = contents.familiarised
        self.resumed = resumed
        self.torn_lines = contents.torn_lines

    @property
    def listener_id(self) -> str:
        return str(self.header["listener_id"])

    @property
    def session_id(self) -> str:
        return str(self.header["session_id"])

    @property
    def simulated(self) -> bool:
        return bool(self.header.get("simulated", False))

    @property
    def n_trials(self) -> int:
        return len(self.plan)

    @property
    def completed(self) -> tuple[TrialResult, ...]:
        """Submitted trials, in plan order."""
        return tuple(self._done[p.trial_id] for p in self.plan if p.trial_id in self._done)

    @property
    def next_trial(self) -> TrialPlan | None:
        """The first planned trial without a stored result, or None when finished."""
        for plan in self.plan:
            if plan.trial_id not in self._done:
                return plan
        return None

    @property
    def is_complete(self) -> bool:
        return self.next_trial is None

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def describe(self) -> str:
        """One line for the listener: who, where, how far."""
        done = len(self._done)
        state = "finished" if self.is_complete else f"next is trial {done + 1} of {self.n_trials}"
        again = " (resumed)" if self.resumed else ""
        return (
            f"listener {self.listener_id}, session {self.session_id}{again}: {done} of "
            f"{self.n_trials} trials saved, {state}; results file {self.path}"
        )

    def _append(self, record: dict) -> None:
        if self._fd is None:
            raise RuntimeError(
                f"session {self.session_id} is closed; reopen it with vaesep.listening.open_session"
            )
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        # one write call per record: with O_APPEND it lands whole at the end of the
        # file; the loop only matters if the disk fills up part-way
        view = memoryview(line)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

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
    ) -> TrialResult:
        """Validate and store the ratings of the current trial, durably.

        Notebook 05, section "Nothing lost: how results are stored".

        Args:
            trial_id: must be :attr:`next_trial`'s id (trials go in order).
            ratings: letter → rating in [0, 100], for every letter of the trial.
            plays: letter → how often that condition was played (default 0).
            reference_plays: how often the labelled reference was played.
            started: ISO time the trial was shown (default: now).

        Returns:
            the stored :class:`TrialResult`; it is on disk when this returns.
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
        letters = plan.letter_to_condition
        if set(ratings) != set(letters):
            raise ValueError(
                f"trial {trial_id} needs one rating for each of the letters {sorted(letters)}, "
                f"got {sorted(ratings)}"
            )
        plays = dict(plays or {})
        entries = []
        for letter, condition in plan.letters:
            value = float(ratings[letter])
            if not (math.isfinite(value) and 0.0 <= value <= 100.0):
                raise ValueError(f"rating of {letter} must lie in [0, 100], got {ratings[letter]}")
            entries.append(ConditionRating(letter, condition, value, int(plays.get(letter, 0))))
        result = TrialResult(
            listener_id=self.listener_id,
            session_id=self.session_id,
            trial_id=plan.trial_id,
            trial_index=plan.index,
            item=plan.item,
            ratings=tuple(entries),
            reference_plays=int(reference_plays),
            started=started or utc_now(),
            submitted=utc_now(),
            vaesep_version=_package_version(),
            simulated=self.simulated,
        )
        self._append(result.to_json())
        self._done[plan.trial_id] = result
        return result

    def close(self) -> None:
        """Release the file and its lock (also done when the process ends)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None
        _OPEN_SESSIONS.pop(self.path.resolve(), None)

    def __enter__(self) -> ListeningSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ListeningSession({self.describe()})"


def _lock(fd: int, path: Path) -> None:
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
    """Hold ``.<listener>.lock`` while looking for this listener's files and creating one.

    Without it, two processes could both see no session and both create session 0.
    The lock file stays (it is empty); the lock goes with the descriptor, even on a crash.
    """
    fd = os.open(results_dir / f".{listener_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocking: the other side holds it for milliseconds
        yield
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    # makes the new directory entry itself durable, not only the file's bytes
    try:
        folder_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open folders
        return
    try:
        os.fsync(folder_fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(folder_fd)


def listener_files(results_dir: str | os.PathLike, listener_id: str) -> list[ResultsFile]:
    """All readable results files of one listener in a folder, oldest first.

    Notebook 05, section "Nothing lost: how results are stored".
    """
    found = []
    for path in sorted(Path(results_dir).glob(f"{listener_id}__*{RESULTS_SUFFIX}")):
        try:
            contents = read_results_file(path)
        except (OSError, ValueError) as exc:
            warnings.warn(f"skipping unreadable results file {path}: {exc}", stacklevel=2)
            continue
        if contents.header.get("listener_id") == listener_id:
            found.append(contents)
    return sorted(found, key=lambda f: str(f.header.get("created", "")))


def _reopen(path: Path) -> ListeningSession:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    _lock(fd, path)
    contents = read_results_file(path)  # read again under the lock: the truth is on disk now
    if path.read_bytes()[-1:] not in (b"", b"\n"):
        # a crash cut the last line short: end it, so the next record starts on a
        # line of its own and the fragment stays visible (and skipped) as a torn line
        os.write(fd, b"\n")
        os.fsync(fd)
    return ListeningSession(path, fd, contents, resumed=True)


def open_session(
    results_dir: str | os.PathLike,
    listener_id: str,
    design: ListeningDesign,
    *,
    stimuli_folder: str | os.PathLike | None = None,
    new_session: bool = False,
    simulated_model: str | None = None,
) -> ListeningSession:
    """Resume this listener's session of ``design``, or start a new one.

    Notebook 05, section "Running a real session".

    Args:
        results_dir: the folder of results files (created if missing).
        listener_id: who listens; part of the file name.
        design: items, conditions and seed; only a session of the same design
            (same :attr:`ListeningDesign.design_id`) is resumed: the newest
            unfinished one, else the newest finished one (which then reports
            :attr:`ListeningSession.is_complete`, so re-running a notebook cell
            after the last trial never starts the test over by accident).
        stimuli_folder: recorded in the header, for the teacher.
        new_session: start a new session (a repeat, with fresh orders) even
            if one of this design exists.
        simulated_model: set for machine-generated ratings; the header then
            says ``"simulated": true`` and stores this description.

    Returns:
        an open :class:`ListeningSession` (close it, or use ``with``).

    Raises:
        SessionLockedError: the session file is open in another process.
    """
    validate_listener_id(listener_id)
    results_dir = Path(results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    with _listener_lock(results_dir, listener_id):
        existing = listener_files(results_dir, listener_id)
        same_design = [f for f in existing if f.header["design"]["design_id"] == design.design_id]
        unfinished = [f for f in same_design if not f.is_complete]
        if (unfinished or same_design) and not new_session:
            path = (unfinished or same_design)[-1].path
            already_open = _OPEN_SESSIONS.get(path.resolve())
            if already_open is not None:  # re-running the cell in the same kernel
                already_open.close()
            session = _reopen(path)
            _OPEN_SESSIONS[path.resolve()] = session
            return session

        ordinal = len(same_design)
        created = utc_now()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        session_id = f"{stamp}-{secrets.token_hex(3)}"
        header = {
            "type": "session",
            "format": FILE_FORMAT,
            "listener_id": listener_id,
            "session_id": session_id,
            "session_ordinal": ordinal,
            "created": created,
            "vaesep_version": _package_version(),
            "simulated": simulated_model is not None,
            "simulation_model": simulated_model,
            "stimuli_folder": str(stimuli_folder) if stimuli_folder is not None else None,
            "design": design.to_json(),
            "plan": [plan.to_json() for plan in design.plan_session(listener_id, ordinal)],
        }
        path = results_dir / f"{listener_id}__{session_id}{RESULTS_SUFFIX}"
        # O_EXCL: fail rather than ever touch a file that someone else created
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        _lock(fd, path)
        os.write(fd, (json.dumps(header, separators=(",", ":")) + "\n").encode("utf-8"))
        os.fsync(fd)
        _fsync_folder(results_dir)
        session = ListeningSession(path, fd, read_results_file(path), resumed=False)
        _OPEN_SESSIONS[path.resolve()] = session
        return session
