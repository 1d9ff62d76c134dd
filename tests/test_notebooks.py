"""Notebook hygiene: jupytext pairs in sync, no committed outputs, the shared structure.

Executing the notebooks is nbmake's job (`pytest --nbmake notebooks`).
"""

import json
from pathlib import Path

import jupytext
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, f"no numbered notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_pair_is_in_sync(notebook):
    script = notebook.with_suffix(".py")
    assert script.is_file(), f"{notebook.name} has no paired jupytext script {script.name}"
    from_ipynb = jupytext.read(notebook)
    from_script = jupytext.read(script)
    cells = [(c.cell_type, c.source.strip()) for c in from_ipynb.cells]
    assert cells == [(c.cell_type, c.source.strip()) for c in from_script.cells], (
        f"{notebook.name} and {script.name} differ: run `jupytext --sync {script}`"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs_committed(notebook):
    content = json.loads(notebook.read_text())
    with_outputs = [
        index for index, cell in enumerate(content["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not with_outputs, f"{notebook.name}: cells {with_outputs} carry outputs; strip them"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_has_parameters_cell_and_exercises(notebook):
    cells = jupytext.read(notebook).cells
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{notebook.name} needs exactly one cell tagged 'parameters'"
    assert "fast_mode()" in tagged[0].source, "the parameters cell must read vaesep.runtime.fast_mode()"
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown").lower()
    for heading in ("what you will learn", "prerequisites", "runtime", "exercise"):
        assert heading in text, f"{notebook.name} lacks a '{heading}' section"
