"""What the stand-alone benchmark scripts share: a data set for inputs, threads, the machine."""

from __future__ import annotations

import os
import platform
import sys


def dataset_for(name: str, *, fast: bool = True):
    """A built data set (cached in the user's cache), or None if its system data is absent."""
    from vaesep import data

    try:
        return data.build(name, fast=fast, progress=False)
    except data.MissingSystemDataError:
        return None


def machine() -> dict[str, object]:
    """Where the numbers were measured."""
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": sys.version.split()[0]}
