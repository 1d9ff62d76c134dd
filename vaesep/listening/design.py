"""Which versions a listener hears, behind which letters, in which order.

Notebook 05, sections "Why a hidden reference and an anchor" and "Blinding and
balanced orders". Every condition of a trial hides behind a letter, drawn afresh per
trial and listener, and balanced: within each block of ``n_conditions`` trials every
condition sits behind every letter once. Plans depend only on (design seed, listener
id, session number), which is what lets a session resume after a crash.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

HIDDEN_REFERENCE = "hidden_reference"
ANCHOR_PREFIX = "anchor_"  # low-pass anchors are named e.g. "anchor_3.5kHz"
SCALE_LABELS = ("Bad", "Poor", "Fair", "Good", "Excellent")  # the rating scale, bottom to top
SCALE_BOUNDARIES = (0, 20, 40, 60, 80, 100)  # the edges of its five bands
LETTERS = string.ascii_uppercase

# fullmatch, not match with "$": "$" would also accept a trailing newline ("anna\n")
_LISTENER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


def validate_listener_id(listener_id: str) -> str:
    """Return ``listener_id`` if it is safe in a file name, else raise ``ValueError``."""
    if not isinstance(listener_id, str) or not _LISTENER_ID.fullmatch(listener_id):
        raise ValueError(
            f"listener id {listener_id!r} is not usable: give 1-40 characters, letters, digits, "
            "'-' or '_' only, starting with a letter or digit (e.g. 'anna' or 'student-07')"
        )
    return listener_id


def stable_int(text: str) -> int:
    """A 64-bit number from ``text``, the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


class TrialPlan(NamedTuple):
    """One trial as a listener sees it; ``letters`` are ``(letter, condition)`` in screen order."""

    trial_id: str  # "T01", "T02", ...
    index: int
    item: str
    letters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ListeningDesign:
    """The items (one trial each), the hidden conditions, and the seed of every order.
    ``stimulus_set_id`` names the rendered audio, so ratings never meet other stimuli."""

    stimulus_set_id: str
    items: tuple[str, ...]
    conditions: tuple[str, ...]
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.items or len(set(self.items)) != len(self.items):
            raise ValueError(f"a design needs at least one item, each once; got {self.items}")
        if len(set(self.conditions)) != len(self.conditions) or len(self.conditions) < 2:
            raise ValueError(f"a trial hides 2 or more distinct conditions, got {self.conditions}")
        if len(self.conditions) > len(LETTERS):
            raise ValueError(f"at most {len(LETTERS)} conditions (BS.1534 advises 12 at most)")
        if HIDDEN_REFERENCE not in self.conditions:
            raise ValueError(f"conditions lack {HIDDEN_REFERENCE!r}, which post-screening uses")

    @property
    def n_trials(self) -> int:
        return len(self.items)

    @property
    def design_id(self) -> str:
        """Fingerprint of the design; only a session of the same design is resumed."""
        payload = [self.stimulus_set_id, list(self.items), list(self.conditions), self.seed]
        return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()[:16]

    def plan_session(self, listener_id: str, session_ordinal: int = 0) -> tuple[TrialPlan, ...]:
        """The trials of one listener's session (0 = first, 1 = a repeat with fresh orders)."""
        validate_listener_id(listener_id)
        rng = np.random.default_rng([self.seed, stable_int(listener_id), session_ordinal])
        item_order = rng.permutation(len(self.items))
        orders = balanced_orders(len(self.conditions), len(self.items), rng)
        return tuple(
            TrialPlan(
                f"T{index + 1:02d}",
                index,
                self.items[int(item)],
                tuple((LETTERS[pos], self.conditions[cond]) for pos, cond in enumerate(order)),
            )
            for index, (item, order) in enumerate(zip(item_order, orders, strict=True))
        )


def balanced_orders(n_conditions: int, n_trials: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_trials, n_conditions)`` condition indices shown at letters A, B, C, ...

    Each block of ``n_conditions`` trials is a cyclic Latin square with shuffled rows,
    columns and symbols: a whole block puts each condition at each position once, and
    a final partial block never repeats a position.
    """
    cyclic = (np.arange(n_conditions)[:, None] + np.arange(n_conditions)) % n_conditions
    blocks = [np.zeros((0, n_conditions), dtype=int)]
    for _ in range(-(-n_trials // n_conditions)):
        square = cyclic[rng.permutation(n_conditions)][:, rng.permutation(n_conditions)]
        blocks.append(rng.permutation(n_conditions)[square])
    return np.concatenate(blocks)[:n_trials]


def position_counts(plans: Sequence[TrialPlan], conditions: Sequence[str]) -> np.ndarray:
    """How often each condition (rows) was shown behind each letter (columns A, B, ...)."""
    row = {name: i for i, name in enumerate(conditions)}
    counts = np.zeros((len(conditions), len(conditions)), dtype=int)
    for plan in plans:
        for position, (_, condition) in enumerate(plan.letters):
            counts[row[condition], position] += 1
    return counts
