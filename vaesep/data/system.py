"""Finding the Debian/Ubuntu packages the real data sets are read from.

The real data never comes from the network: it is installed once with
``apt-get`` (``bash scripts/install-system-data.sh`` does all of it) and read
from ``/usr/share``. When something is missing we stop with an error that
names the exact command to run, because "file not found" deep inside a
decoder tells a student nothing. Notebook 01, section "Getting the data".
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

INSTALL_SCRIPT = "scripts/install-system-data.sh"


class MissingSystemDataError(RuntimeError):
    """A data set needs files or programs from system packages that are not installed."""


def install_command(packages: Iterable[str]) -> str:
    """The shell command that installs ``packages`` on Debian, Ubuntu or Colab."""
    return "sudo apt-get install -y " + " ".join(packages)


def missing_data_error(dataset: str, packages: Iterable[str], what: str) -> MissingSystemDataError:
    """Build the error raised when ``dataset`` cannot find its system data.

    Args:
        dataset: the data set's registered name, e.g. ``"speech"``.
        packages: the Debian packages that provide what is missing.
        what: what was looked for and where, e.g. ``"no OGG files under /usr/share/..."``.
    """
    packages = list(packages)
    return MissingSystemDataError(
        f"The {dataset!r} data set needs the Debian package(s) {' '.join(packages)} ({what}). "
        f"Install them with: {install_command(packages)}   (or: bash {INSTALL_SCRIPT}). "
        "Without them, data.build('synthetic') works on any machine."
    )


def require_directory_with(
    dataset: str, directory: Path, pattern: str, packages: Iterable[str], description: str
) -> list[Path]:
    """Return the files matching ``pattern`` under ``directory``, or raise.

    Args:
        dataset: registered name, for the message.
        directory: where the package installs its files.
        pattern: a ``Path.glob`` pattern relative to ``directory``.
        packages: the packages that provide those files.
        description: what the files are, e.g. ``"Dutch voice recordings"``.

    Returns:
        the matching files, sorted.

    Raises:
        MissingSystemDataError: if none match.
    """
    found = sorted(directory.glob(pattern)) if directory.is_dir() else []
    if not found:
        raise missing_data_error(
            dataset, packages, f"no {description} found as {directory / pattern}"
        )
    return found


def require_executable(dataset: str, program: str, packages: Iterable[str]) -> str:
    """Return the full path of ``program`` on ``$PATH``, or raise MissingSystemDataError."""
    location = shutil.which(program)
    if location is None:
        raise missing_data_error(dataset, packages, f"the program {program!r} is not on PATH")
    return location
