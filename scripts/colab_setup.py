"""Set up vaesep on Google Colab; anywhere else, do nothing.

Every notebook's first code cell clones this repository into /content/vaesep and runs
this file with ``%run``, in the notebook's own kernel. On Colab it then

1. installs the Debian packages with the audio data (``scripts/install-system-data.sh``,
   without the browser that only the test suite needs);
2. pip-installs vaesep with its ``music`` extra and nothing else (no torch pin, no test
   tools): Colab's torch, Jupyter and widget packages are held at their versions, so pip
   stops with an error rather than replace one; other installed packages stay as they are
   unless a requirement rules them out (pip's default); what is missing comes at the tested
   versions of ``requirements/constraints.txt``;
3. changes into the clone's ``notebooks/`` folder, so the notebooks' relative paths
   (``../results``, ``runs/``) mean what they mean in a local checkout.

It uses only the standard library: vaesep is not importable before step 2.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path

REPOSITORY = "OWNER/vaesep"  # GitHub owner/name: change it here and in the notebooks' first cells
CLONE = Path("/content/vaesep")  # where the notebooks' first cell clones it on Colab
# Colab's own stack, never to be replaced: torch and its family, IPython, the kernel, the
# widgets and the Jupyter server side
HELD = re.compile(r"torch.*|ipy.*|jupyter.*|notebook|nbclassic|widgetsnbextension|traitlets|tornado|pyzmq|comm")


def notebook_cell(repository: str = REPOSITORY) -> str:
    """The first code cell of every notebook: clone on Colab, then run this file."""
    return f"""\
# On Google Colab only (elsewhere this cell does nothing): fetch vaesep and install it with
# its offline audio data (a few minutes). What it does: scripts/colab_setup.py.
import sys

if "google.colab" in sys.modules:
    import runpy
    import subprocess

    subprocess.run("test -d {CLONE} || git clone --depth 1 https://github.com/{repository} {CLONE}", shell=True, check=True)
    runpy.run_path("{CLONE}/scripts/colab_setup.py", run_name="__main__")"""


def colab_badge(notebook: str, repository: str = REPOSITORY) -> str:
    """Markdown for the "Open in Colab" badge of ``notebooks/<notebook>``."""
    url = f"https://colab.research.google.com/github/{repository}/blob/main/notebooks/{notebook}"
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"


def on_colab(modules: Mapping[str, object] = sys.modules) -> bool:
    """True inside a Colab kernel, which always has imported ``google.colab``."""
    return "google.colab" in modules


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict[str, str]:
    """``{canonical name: version}`` of every distribution this Python can import."""
    found: dict[str, str] = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name:
            found.setdefault(_canonical(name), distribution.version)
    return found


def pip_constraints(installed: Mapping[str, str], tested: Iterable[str]) -> list[str]:
    """Constraint lines: the installed stack (``HELD``) stays, what is added comes as tested.

    ``tested`` holds the lines of ``requirements/constraints.txt``. A tested pin never
    applies to an installed package: pip would replace the installed version to meet it.
    """
    held = [f"{name}=={version}" for name, version in sorted(installed.items()) if HELD.fullmatch(name)]
    added = [
        line.strip()
        for line in tested
        if line.strip() and not line.startswith("#")
        and _canonical(line.split("==")[0]) not in installed
    ]
    return held + added


def install_commands(repo: Path, constraints: Path, *, with_apt: bool = True) -> list[list[str]]:
    """The commands that install the apt data and vaesep from the clone ``repo``."""
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "-c", str(constraints)]
    apt = [["bash", str(repo / "scripts" / "install-system-data.sh")]] if with_apt else []
    return [*apt, [*pip, f"{repo}[music]"]]


def install(repo: Path, *, with_apt: bool = True, run: Callable[..., object] = subprocess.run) -> None:
    """Install vaesep from ``repo`` into this Python the way the Colab set-up does."""
    tested = (repo / "requirements" / "constraints.txt").read_text().splitlines()
    with tempfile.TemporaryDirectory() as scratch:
        constraints = Path(scratch) / "constraints.txt"
        constraints.write_text("\n".join(pip_constraints(installed_versions(), tested)) + "\n")
        for command in install_commands(repo, constraints, with_apt=with_apt):
            run(command, check=True)


def setup(repo: Path = CLONE, *, modules: Mapping[str, object] = sys.modules,
          run: Callable[..., object] = subprocess.run) -> bool:
    """On Colab: install everything and move into ``repo/notebooks``. Returns whether it did."""
    if not on_colab(modules):
        return False
    install(repo, run=run)
    importlib.invalidate_caches()  # so this kernel finds the packages pip just added
    os.chdir(repo / "notebooks")
    print(f"vaesep is installed; working directory {Path.cwd()}")
    return True


if __name__ == "__main__":
    setup()
