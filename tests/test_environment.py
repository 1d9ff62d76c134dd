"""pyproject.toml (pip), environment.yml (conda) and requirements/constraints.txt agree."""

import re
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
# conda-forge names of the PyPI packages that are called differently there
CONDA_NAMES = {"torch": "pytorch", "soundfile": "pysoundfile", "soxr": "soxr-python"}
CONDA_EXTRAS = ("music",)  # extras environment.yml installs from conda-forge as well


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _conda_requirements() -> list[str]:
    project = _project()
    return project["dependencies"] + [
        r for extra in CONDA_EXTRAS for r in project["optional-dependencies"][extra]
    ]


def _conda_dependencies() -> dict[str, str]:
    entries = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)([<>=!,.0-9*]*)\s*(#.*)?$", line)
        if match:
            entries[match.group(1).lower()] = match.group(2)
    return entries


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, separator, version = line.partition("==")
            assert separator and re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), (
                f"{line!r}: constraints.txt holds exact pins only (name==version)"
            )
            assert canonicalize_name(name) not in pins, f"{name} is pinned twice"
            pins[canonicalize_name(name)] = version
    return pins


def _direct_requirements() -> list[Requirement]:
    """Every requirement of pyproject.toml, its extras' included, except vaesep itself."""
    project = _project()
    lines = project["dependencies"] + [
        r for extra in project["optional-dependencies"].values() for r in extra
    ]
    return [r for r in map(Requirement, lines) if canonicalize_name(r.name) != "vaesep"]


def test_every_conda_dependency_is_in_environment_yml_with_the_same_range():
    conda = _conda_dependencies()
    for requirement in _conda_requirements():
        name, version_range = _split(requirement)
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not environment.yml"
        assert conda[conda_name] == version_range, (name, conda[conda_name], version_range)


def test_environment_yml_has_nothing_pyproject_lacks():
    pip_names = {CONDA_NAMES.get(_split(r)[0], _split(r)[0]) for r in _conda_requirements()}
    extra = set(_conda_dependencies()) - pip_names - {"python", "pip"}
    assert not extra, f"environment.yml lists {extra}, which pyproject.toml does not"


def test_environment_installs_the_package_with_its_dev_tools():
    assert "- -e .[dev]" in (ROOT / "environment.yml").read_text()


@pytest.mark.parametrize("requirement", _direct_requirements(), ids=str)
def test_constraints_pin_every_direct_dependency_inside_its_range(requirement: Requirement):
    pins = _pins()
    name = canonicalize_name(requirement.name)
    assert name in pins, f"requirements/constraints.txt does not pin {requirement.name}"
    assert requirement.specifier.contains(pins[name], prereleases=True), (
        f"constraints.txt pins {requirement.name}=={pins[name]}, outside pyproject's {requirement}"
    )


def test_constraints_pin_the_torch_that_install_sh_installs():
    install = (ROOT / "scripts" / "install.sh").read_text()
    (torch,) = re.findall(r'"torch==([0-9.]+)"', install)
    assert _pins()["torch"] == torch
    assert "-c requirements/constraints.txt" in install and "VAESEP_UNPINNED" in install
