"""Deterministic, seed-independent assignment of files to splits.

A file's split is decided by a hash of its relative path, not by the seed or
its position in a listing: adding or removing other files never moves it, and
the test set is the same on every machine and for every seed.
Notebook 01, section "Splits that never leak".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

DEFAULT_FRACTIONS: Mapping[str, float] = {"train": 0.8, "valid": 0.1, "test": 0.1}
"""Share of files per split (80/10/10), in the order the hash interval is cut."""


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed for ``key`` on every run and machine.

    Python's ``hash`` is salted per process, so we use SHA-1 of the UTF-8
    bytes (for a well-spread fixed value, not for security).
    """
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2.0**64


def assign_split(key: str, fractions: Mapping[str, float] = DEFAULT_FRACTIONS) -> str:
    """The split (a key of ``fractions``, shares summing to 1) of the file with relative path ``key``."""
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"split fractions must sum to 1, got {dict(fractions)} (sum {total})")
    position, upper = stable_fraction(key), 0.0
    for split, share in fractions.items():
        upper += share
        if position < upper:
            return split
    return next(reversed(list(fractions)))  # only reachable through rounding of the sum


def hash_order(keys: Iterable[str]) -> list[str]:
    """``keys`` in a fixed pseudo-random order: "the first k in hash order" is a capped split's
    deterministic subset that favours no level, speaker or chapter."""
    return sorted(keys, key=lambda key: (stable_fraction(key), key))
