"""Clear errors when the system packages or programs a data set reads are missing.

Real audio never comes from the network: it is installed once with
``apt-get`` (``bash scripts/install-system-data.sh``) and read from
``/usr/share``. A missing package stops the build with the exact command to
run, because "file not found" deep inside a decoder tells a student nothing.
Notebook 01, section "Where the audio comes from".
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable

INSTALL_SCRIPT = "scripts/install-system-data.sh"


class MissingSystemDataError(RuntimeError):
    """A data set needs files or programs from system packages that are not installed."""


def install_command(packages: Iterable[str]) -> str:
    """The shell command that installs ``packages`` on Debian, Ubuntu or Colab."""
    return "sudo apt-get install -y " + " ".join(packages)


def missing_data_error(dataset: str, packages: Iterable[str], what: str) -> MissingSystemDataError:
    """The error for data set ``dataset`` whose ``packages`` are absent; ``what`` says what was not found where."""
    packages = list(packages)
    return MissingSystemDataError(
        f"The {dataset!r} data set needs the Debian package(s) {' '.join(packages)} ({what}). "
        f"Install them with: {install_command(packages)}   (or: bash {INSTALL_SCRIPT}). "
        "Without them, data.build('synthetic') works on any machine."
    )


def require_executable(dataset: str, program: str, packages: Iterable[str]) -> str:
    """The full path of ``program`` on ``$PATH``, or MissingSystemDataError naming its packages."""
    location = shutil.which(program)
    if location is None:
        raise missing_data_error(dataset, packages, f"the program {program!r} is not on PATH")
    return location
