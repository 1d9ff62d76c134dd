"""Print the constraints file: the exact versions of everything `pip install -e ".[dev]"` needs.

Run it with the Python of an environment where CI has just passed, and commit the output:

    python scripts/write_constraints.py > requirements/constraints.txt

It walks vaesep's requirements (with its ``dev`` and ``music`` extras) through the installed
distributions' own requirements and pins each one at its installed version, so the file
holds what was tested and nothing else in the environment (no editable installs, no tools
added by hand). ``scripts/install.sh`` installs with it unless ``VAESEP_UNPINNED=1``.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT_EXTRAS = ("dev", "music")


def pinned_closure(project: str = "vaesep", extras: tuple[str, ...] = ROOT_EXTRAS) -> dict[str, str]:
    """``{name: installed version}`` of every distribution that ``project[extras]`` needs here."""
    pins: dict[str, str] = {}
    pending = [(project, set(extras))]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, wanted = pending.pop()
        key = (canonicalize_name(name), frozenset(wanted))
        if key in seen:
            continue
        seen.add(key)
        distribution = metadata.distribution(name)
        if key[0] != canonicalize_name(project):
            pins[key[0]] = distribution.version
        for line in distribution.requires or []:
            requirement = Requirement(line)
            applies = requirement.marker is None or any(
                requirement.marker.evaluate({"extra": extra}) for extra in (wanted or {""})
            )
            if applies:
                pending.append((requirement.name, set(requirement.extras)))
    return pins


def main() -> None:
    python = ".".join(platform.python_version_tuple()[:2])
    print(f"# Exact versions of the tested environment: Python {python} on {sys.platform}, CPU torch.")
    print("# Written by `python scripts/write_constraints.py`; used by scripts/install.sh")
    print("# (set VAESEP_UNPINNED=1 to get the newest versions within pyproject.toml's ranges).")
    for name, version in sorted(pinned_closure().items()):
        # a local label such as +cpu names a build, not a release: the pin admits any build
        print(f"{name}=={version.split('+')[0]}")


if __name__ == "__main__":
    main()
