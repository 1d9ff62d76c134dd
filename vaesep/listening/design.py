"""Which versions a listener hears, behind which letters, in which order.

Notebook 05, sections "Why a hidden reference and an anchor" and "Blinding and balanced
orders". Letters are drawn afresh per trial and listener, balanced by Latin squares; a plan
depends only on (design seed, listener id, session number), which lets a session resume.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

HIDDEN_REFERENCE = "hidden_reference"
ANCHOR_PREFIX = "anchor_"  # the low-pass anchor is named "anchor_3.5kHz"
SCALE_LABELS = ("Bad", "Poor", "Fair", "Good", "Excellent")  # bands of 20 points, bottom to top


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
        distinct = set(self.conditions)
        if HIDDEN_REFERENCE not in distinct or not 2 <= len(distinct) == len(self.conditions) <= 26:
            raise ValueError(
                f"a trial hides 2 to 26 distinct conditions (letters A-Z), {HIDDEN_REFERENCE!r} "
                f"among them for post-screening; got {self.conditions}"
            )

    @property
    def design_id(self) -> str:
        """Fingerprint of the design; only a session of the same design is resumed."""
        payload = [self.stimulus_set_id, list(self.items), list(self.conditions), self.seed]
        return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()[:16]

    def plan_session(self, listener_id: str, session_ordinal: int = 0) -> tuple[TrialPlan, ...]:
        """The trials of one listener's session (0 = first, 1 = a repeat with fresh orders)."""
        rng = np.random.default_rng([self.seed, stable_int(listener_id), session_ordinal])
        item_order = rng.permutation(len(self.items))
        orders = balanced_orders(len(self.conditions), len(self.items), rng)
        return tuple(
            TrialPlan(
                f"T{index + 1:02d}",
                index,
                self.items[int(item)],
                tuple((string.ascii_uppercase[p], self.conditions[c]) for p, c in enumerate(order)),
            )
            for index, (item, order) in enumerate(zip(item_order, orders, strict=True))
        )


def balanced_orders(n_conditions: int, n_trials: int, rng: np.random.Generator) -> np.ndarray:
    """``(n_trials, n_conditions)`` condition indices shown at letters A, B, C, ...: per block of
    ``n_conditions`` trials a cyclic Latin square with shuffled rows, columns and symbols, so a
    whole block puts each condition at each letter once and a partial one never repeats a letter.
    """
    cyclic = (np.arange(n_conditions)[:, None] + np.arange(n_conditions)) % n_conditions
    blocks = [np.zeros((0, n_conditions), dtype=int)]
    for _ in range(-(-n_trials // n_conditions)):
        square = cyclic[rng.permutation(n_conditions)][:, rng.permutation(n_conditions)]
        blocks.append(rng.permutation(n_conditions)[square])
    return np.concatenate(blocks)[:n_trials]


def position_counts(plans: Sequence[TrialPlan], conditions: Sequence[str]) -> np.ndarray:
    """How often each condition (rows) was shown behind each letter (columns A, B, ...)."""
    counts = np.zeros((len(conditions), len(conditions)), dtype=int)
    for plan in plans:
        for position, (_, condition) in enumerate(plan.letters):
            counts[conditions.index(condition), position] += 1
    return counts
