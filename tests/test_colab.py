"""The Colab set-up: the notebooks' first cell and scripts/colab_setup.py, without Colab.

Colab is recognised by ``google.colab`` among the imported modules; the tests put a
stand-in there and record the commands instead of running them.
"""

from __future__ import annotations

import importlib.util
import runpy
import subprocess
import sys
import types
from importlib import metadata
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load_colab_setup() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("colab_setup", ROOT / "scripts" / "colab_setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_setup = load_colab_setup()
FAKE_COLAB = {"google.colab": types.ModuleType("google.colab")}


class Recorder:
    """Stands in for subprocess.run; keeps each command and the constraints it pointed at."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        self.constraints: list[str] = []

    def __call__(self, command, **kwargs):
        assert kwargs.get("check"), "a failed install must stop the set-up"
        self.commands.append([str(part) for part in command])
        if "-c" in command:
            self.constraints = Path(command[command.index("-c") + 1]).read_text().splitlines()
        return subprocess.CompletedProcess(command, 0)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_opens_with_the_badge_and_the_setup_cell(notebook: Path) -> None:
    cells = jupytext.read(notebook).cells
    first_markdown = next(c for c in cells if c.cell_type == "markdown")
    first_code = next(c for c in cells if c.cell_type == "code")
    assert colab_setup.colab_badge(notebook.name) in first_markdown.source
    assert first_code.source == colab_setup.notebook_cell(), (
        f"{notebook.name}: the first code cell must be scripts/colab_setup.py's notebook_cell()"
    )


def test_the_notebook_cell_clones_and_runs_the_setup_on_colab_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran, run_paths = Recorder(), []
    monkeypatch.setattr(subprocess, "run", lambda command, **kw: ran(command.split(), **kw))
    monkeypatch.setattr(runpy, "run_path", lambda path, run_name: run_paths.append((path, run_name)))
    exec(colab_setup.notebook_cell(), {})  # this kernel is not Colab's
    assert ran.commands == [] and run_paths == []

    monkeypatch.setitem(sys.modules, "google.colab", FAKE_COLAB["google.colab"])
    exec(colab_setup.notebook_cell(), {})
    (clone,) = ran.commands
    assert f"https://github.com/{colab_setup.REPOSITORY}" in clone and str(colab_setup.CLONE) in clone
    assert run_paths == [(f"{colab_setup.CLONE}/scripts/colab_setup.py", "__main__")]


def test_setup_does_nothing_off_colab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    ran = Recorder()
    assert colab_setup.setup(ROOT, modules={}, run=ran) is False
    assert ran.commands == [] and Path.cwd() == tmp_path


def test_setup_on_colab_adds_vaesep_without_touching_what_is_installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    ran = Recorder()
    assert colab_setup.setup(ROOT, modules=FAKE_COLAB, run=ran) is True
    apt, pip = ran.commands
    assert apt == ["bash", str(ROOT / "scripts" / "install-system-data.sh")]  # no Chromium
    assert pip[:4] == [sys.executable, "-m", "pip", "install"] and pip[-1] == f"{ROOT}[music]"
    assert not any("torch" in part or "[dev]" in part for part in pip)
    # the installed torch and Jupyter stack are held at their versions
    for name in ("torch", "ipywidgets", "ipykernel", "ipython"):
        assert f"{name}=={metadata.version(name)}" in ran.constraints
    assert Path.cwd() == ROOT / "notebooks"  # the notebooks' ../results and runs/ as locally


def test_constraints_hold_the_stack_and_pin_only_what_is_added() -> None:
    installed = {
        "torch": "2.8.0+cu126", "ipywidgets": "7.7.1", "jupyter-client": "6.1.12",
        "numpy": "2.0.2", "vaesep": "0.0.9",
    }
    tested = ["# comment", "torch==2.13.0", "ipywidgets==8.1.9", "numpy==2.4.6", "mir-eval==0.8.2",
              "Soxr==1.1.0", ""]
    assert colab_setup.pip_constraints(installed, tested) == [
        "ipywidgets==7.7.1",
        "jupyter-client==6.1.12",
        "torch==2.8.0+cu126",
        "mir-eval==0.8.2",
        "Soxr==1.1.0",
    ]  # numpy stays unless a requirement rules it out; a newer clone replaces vaesep 0.0.9
