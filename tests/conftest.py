"""Shared test setup: a throw-away data cache and built data sets.

Fast mode, and failing rather than skipping under ``CI=true``, come from the
repository's top-level ``conftest.py``. ``VAESEP_CACHE`` is set at import time,
before any test module imports :mod:`vaesep`, so every build in the test session
lands in a temporary cache instead of ``~/.cache/vaesep``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable

if "VAESEP_CACHE" not in os.environ:
    _SESSION_CACHE = tempfile.mkdtemp(prefix="vaesep-test-cache-")
    os.environ["VAESEP_CACHE"] = _SESSION_CACHE
    atexit.register(shutil.rmtree, _SESSION_CACHE, ignore_errors=True)

import pytest  # noqa: E402  (after the environment is set)

from vaesep import data  # noqa: E402


def require_system_data(name: str) -> None:
    """Skip the calling test when the Debian packages behind data set ``name`` are absent.

    The reason names the apt command; under ``CI=true`` the skip fails the test
    (see the top-level ``conftest.py``).
    """
    from vaesep.data.builder import get_builder, resolve_root

    builder = get_builder(name)
    try:
        builder.check_system_data(resolve_root(builder, None))
    except data.MissingSystemDataError as exc:
        pytest.skip(f"system data for {name!r} not installed: {exc}")


@pytest.fixture(scope="session")
def skip_without_system_data() -> Callable[[str], None]:
    """``skip_without_system_data("speech")`` skips the test if that set's packages are absent."""
    return require_system_data


@pytest.fixture(scope="session")
def synthetic_dataset() -> data.BuiltDataset:
    """The fast ``synthetic`` set (pure numpy, builds in well under a second)."""
    return data.build("synthetic", fast=True, progress=False)


@pytest.fixture(scope="session")
def speech_dataset() -> data.BuiltDataset:
    """The fast ``speech`` set; skips when the fillets-ng data packages are absent."""
    require_system_data("speech")
    return data.build("speech", fast=True, progress=False)
