"""environment.yml (conda) and pyproject.toml (pip) must list the same dependencies."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names of the PyPI packages that are called differently there
CONDA_NAMES = {"torch": "pytorch", "soundfile": "pysoundfile", "soxr": "soxr-python"}


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    assert match, requirement
    return match.group(1).lower(), match.group(2).replace(" ", "")


def _conda_dependencies() -> dict[str, str]:
    entries = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        match = re.match(r"^  - ([A-Za-z0-9_.\-]+)([<>=!,.0-9*]*)\s*$", line)
        if match:
            entries[match.group(1).lower()] = match.group(2)
    return entries


def test_every_runtime_dependency_is_in_environment_yml_with_the_same_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    conda = _conda_dependencies()
    for requirement in project["dependencies"]:
        name, version_range = _split(requirement)
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not environment.yml"
        assert conda[conda_name] == version_range, (name, conda[conda_name], version_range)


def test_environment_yml_has_nothing_pyproject_lacks():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {CONDA_NAMES.get(_split(r)[0], _split(r)[0]) for r in project["dependencies"]}
    extra = set(_conda_dependencies()) - pip_names - {"python", "pip"}
    assert not extra, f"environment.yml lists {extra}, which pyproject.toml does not"


def test_environment_installs_the_package_with_its_dev_tools():
    assert "- -e .[dev]" in (ROOT / "environment.yml").read_text()
