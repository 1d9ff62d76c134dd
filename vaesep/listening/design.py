"""Trial design of a MUSHRA-style test: conditions, letters and balanced orders.

ITU-R BS.1534 (MUSHRA) presents, per trial, a labelled reference and a set of
conditions hidden behind letters: the hidden reference, at least one low
anchor and the systems under test. The listener must not be able to tell which
letter is which, so the letter given to each condition is drawn afresh for
every trial and every listener. Notebook 05, section "Blinding and balanced
orders", explains why.

Randomisation here is *balanced* as well as random: within each block of
``n_conditions`` consecutive trials of one session, every condition sits behind
every letter exactly once (the rows of a randomly relabelled Latin square).
Position effects ("A is always rated first and anchored the scale") therefore
average out within a listener, not only across a large class.
Everything is deterministic: the same design seed, listener id and session
ordinal always give the same plan, on any machine.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vaesep.audio import MIXTURE  # noqa: F401  (re-exported: the condition name of the unprocessed mixture)

HIDDEN_REFERENCE = "hidden_reference"
"""Condition name of the hidden reference (the clean target, unlabelled)."""

ANCHOR_PREFIX = "anchor_"
"""Condition names of low-pass anchors start with this, e.g. ``anchor_3.5kHz``."""

SCALE_LABELS: tuple[str, ...] = ("Bad", "Poor", "Fair", "Good", "Excellent")
"""The five adjectives of the continuous quality scale, bottom to top."""

SCALE_BOUNDARIES: tuple[int, ...] = (0, 20, 40, 60, 80, 100)
"""Rating values that separate the five bands of :data:`SCALE_LABELS`."""

LETTERS: str = string.ascii_uppercase
"""Letters that hide the conditions (at most 26 conditions per trial)."""

_LISTENER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def validate_listener_id(listener_id: str) -> str:
    """Check that a listener id is safe to use in a file name and return it.

    Notebook 05, section "Running a real session".

    Raises:
        ValueError: the id is empty, longer than 40 characters or holds
            anything but letters, digits, ``-`` and ``_``.
    """
    # fullmatch, not match: "$" would also accept a trailing newline ("anna\n")
    if not isinstance(listener_id, str) or not _LISTENER_ID.fullmatch(listener_id):
        raise ValueError(
            f"listener id {listener_id!r} is not usable: give 1-40 characters, letters, digits, "
            "'-' or '_' only, starting with a letter or digit (e.g. 'anna' or 'student-07')"
        )
    return listener_id


def stable_int(text: str) -> int:
    """A 64-bit integer derived from ``text`` that is the same in every process.

    Python's built-in ``hash`` of a string changes from run to run, which
    would break resuming a session after a kernel restart; SHA-256 does not.
    Notebook 05, section "Blinding and balanced orders".
    """
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


@dataclass(frozen=True)
class TrialPlan:
    """One trial as a listener sees it.

    Notebook 05, section "Blinding and balanced orders".

    Attributes:
        trial_id: stable identifier within the session, ``"T01"``, ``"T02"``, ...
        index: 0-based position of the trial in the session.
        item: the item (excerpt) played in this trial.
        letters: ``(letter, condition)`` pairs in the order shown on screen;
            the condition names are never shown to the listener.
    """

    trial_id: str
    index: int
    item: str
    letters: tuple[tuple[str, str], ...]

    @property
    def letter_to_condition(self) -> dict[str, str]:
        """Mapping from the letter on screen to the hidden condition."""
        return dict(self.letters)

    def to_json(self) -> dict:
        """Plain-JSON form, stored in the session header of a results file."""
        return {
            "trial_id": self.trial_id,
            "index": self.index,
            "item": self.item,
            "letters": [list(pair) for pair in self.letters],
        }

    @classmethod
    def from_json(cls, record: dict) -> TrialPlan:
        """Inverse of :meth:`to_json`."""
        return cls(
            trial_id=str(record["trial_id"]),
            index=int(record["index"]),
            item=str(record["item"]),
            letters=tuple((str(letter), str(cond)) for letter, cond in record["letters"]),
        )


@dataclass(frozen=True)
class ListeningDesign:
    """What a listening test plays: which items, which conditions, which seed.

    Notebook 05, section "Blinding and balanced orders". Every listener
    hears every chosen item once per session, in their own random order.

    Attributes:
        stimulus_set_id: identifier of the rendered stimuli (see
            :class:`vaesep.listening.stimuli.StimulusSet`); results files
            record it so that ratings are never matched to other audio.
        items: item ids chosen by the teacher, one trial each.
        conditions: condition names hidden behind letters in every trial.
        seed: base seed of all random orders.
    """

    stimulus_set_id: str
    items: tuple[str, ...]
    conditions: tuple[str, ...]
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.items:
            raise ValueError("a listening design needs at least one item")
        if len(set(self.items)) != len(self.items):
            raise ValueError(f"items must be distinct, got {self.items}")
        if len(set(self.conditions)) != len(self.conditions):
            raise ValueError(f"conditions must be distinct, got {self.conditions}")
        if len(self.conditions) < 2:
            raise ValueError(
                "a MUSHRA trial needs at least two hidden conditions (the hidden reference "
                f"and an anchor), got {self.conditions}"
            )
        if len(self.conditions) > len(LETTERS):
            raise ValueError(
                f"{len(self.conditions)} conditions do not fit behind {len(LETTERS)} letters; "
                "BS.1534 recommends at most 12 per trial anyway"
            )
        if HIDDEN_REFERENCE not in self.conditions:
            raise ValueError(
                f"the conditions must include {HIDDEN_REFERENCE!r}: post-screening of listeners "
                "relies on it"
            )

    @property
    def n_trials(self) -> int:
        """Trials per session (one per item)."""
        return len(self.items)

    @property
    def design_id(self) -> str:
        """Short fingerprint of the design; resuming a session checks it."""
        payload = json.dumps(
            [self.stimulus_set_id, list(self.items), list(self.conditions), self.seed]
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]

    def to_json(self) -> dict:
        """Plain-JSON form, stored in the session header of a results file."""
        return {
            "stimulus_set_id": self.stimulus_set_id,
            "items": list(self.items),
            "conditions": list(self.conditions),
            "seed": self.seed,
            "design_id": self.design_id,
        }

    def plan_session(self, listener_id: str, session_ordinal: int = 0) -> tuple[TrialPlan, ...]:
        """The trials of one session of one listener, in presentation order.

        Args:
            listener_id: who listens (see :func:`validate_listener_id`).
            session_ordinal: 0 for a listener's first session, 1 for a
                repeat, ...; a repeat gets fresh orders.

        Returns:
            ``n_trials`` plans; item order is a seeded permutation and the
            letter order of each trial is a row of a balanced Latin square.
        """
        validate_listener_id(listener_id)
        rng = np.random.default_rng([self.seed, stable_int(listener_id), session_ordinal])
        item_order = rng.permutation(len(self.items))
        condition_orders = balanced_orders(len(self.conditions), len(self.items), rng)
        plans = []
        for index, (item_index, order) in enumerate(zip(item_order, condition_orders, strict=True)):
            letters = tuple(
                (LETTERS[position], self.conditions[condition])
                for position, condition in enumerate(order)
            )
            plans.append(
                TrialPlan(
                    trial_id=f"T{index + 1:02d}",
                    index=index,
                    item=self.items[int(item_index)],
                    letters=letters,
                )
            )
        return tuple(plans)


def balanced_orders(n_conditions: int, n_trials: int, rng: np.random.Generator) -> np.ndarray:
    """Condition orders in which every condition visits every position equally.

    Notebook 05, section "Blinding and balanced orders". The trials are cut
    into blocks of ``n_conditions``; each block uses the rows of a cyclic
    Latin square whose rows, columns and symbols are shuffled by ``rng``. In a
    complete block each condition appears at each position exactly once; a
    final partial block never repeats a position for a condition.

    Args:
        n_conditions: conditions per trial (``k``).
        n_trials: how many orders to draw.
        rng: the source of randomness (seeded by the caller).

    Returns:
        ``int`` array, shape ``(n_trials, n_conditions)``; row ``t`` lists the
        condition indices shown at positions A, B, C, ... of trial ``t``.
    """
    if n_conditions < 1 or n_trials < 0:
        raise ValueError(
            f"need n_conditions >= 1 and n_trials >= 0, got {n_conditions} and {n_trials}"
        )
    cyclic = (np.arange(n_conditions)[:, None] + np.arange(n_conditions)[None, :]) % n_conditions
    blocks = []
    for _ in range(-(-n_trials // n_conditions)):
        square = cyclic[rng.permutation(n_conditions)][:, rng.permutation(n_conditions)]
        blocks.append(rng.permutation(n_conditions)[square])
    if not blocks:
        return np.zeros((0, n_conditions), dtype=int)
    return np.concatenate(blocks)[:n_trials]


def position_counts(plans: Sequence[TrialPlan], conditions: Sequence[str]) -> np.ndarray:
    """How often each condition was shown behind each letter.

    Notebook 05, section "Blinding and balanced orders".

    Returns:
        ``int`` array, shape ``(n_conditions, n_conditions)``: rows follow
        ``conditions``, columns the letter positions A, B, ...
    """
    index = {name: i for i, name in enumerate(conditions)}
    counts = np.zeros((len(conditions), len(conditions)), dtype=int)
    for plan in plans:
        for position, (_, condition) in enumerate(plan.letters):
            counts[index[condition], position] += 1
    return counts
