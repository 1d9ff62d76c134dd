"""Deterministic, seed-independent assignment of files to splits.

A file's split is decided by a hash of its relative path, not by the seed or
by its position in a sorted list: adding or removing other files never moves
it, and the held-out test set is the same on every machine and for every
seed. Notebook 01, section "Splits that never leak".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

DEFAULT_FRACTIONS: Mapping[str, float] = {"train": 0.8, "valid": 0.1, "test": 0.1}
"""Share of files per split (80/10/10), in the order the hash interval is cut."""


def stable_fraction(key: str) -> float:
    """Map a string to a number in [0, 1) that is the same on every run and machine.

    Python's built-in ``hash`` is salted per process, so we use SHA-1 of the
    UTF-8 bytes (not for security, only for a well-spread, fixed value).
    """
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(key: str, fractions: Mapping[str, float] = DEFAULT_FRACTIONS) -> str:
    """The split a file with relative path ``key`` belongs to.

    Args:
        key: a stable identifier, e.g. ``"city/nl/vit-m-hlava.ogg"``.
        fractions: split name → share; the shares must sum to 1.

    Returns:
        one of the keys of ``fractions``.
    """
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"split fractions must sum to 1, got {dict(fractions)} (sum {total})")
    position = stable_fraction(key)
    upper = 0.0
    for split, share in fractions.items():
        upper += share
        if position < upper:
            return split
    return next(reversed(list(fractions)))  # only reachable through rounding of the sum


def hash_order(keys: Iterable[str]) -> list[str]:
    """``keys`` sorted by :func:`stable_fraction`: a fixed pseudo-random order.

    Used to pick a deterministic subset ("the first k files in hash order")
    when a split is capped, without favouring any level or speaker.
    """
    return sorted(keys, key=lambda key: (stable_fraction(key), key))
