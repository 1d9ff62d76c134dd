"""Notebook hygiene: jupytext pairs in sync, no committed outputs, the shared structure.

Executing the notebooks is nbmake's job (`pytest --nbmake notebooks`).
"""

import ast
import json
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

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


def parameters_and_derived(cells) -> tuple[int, int]:
    """Indexes of the cell tagged ``parameters`` and of the code cell after it."""
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    derived = next(i for i in range(tagged[0] + 1, len(cells)) if cells[i].cell_type == "code")
    return tagged[0], derived


def literal_assignments(source: str) -> dict[str, object]:
    """``{name: value}`` of a cell made only of ``NAME = literal`` lines, else AssertionError."""
    values = {}
    for statement in ast.parse(source).body:
        assert isinstance(statement, ast.Assign), f"not an assignment: {ast.unparse(statement)}"
        try:
            value = ast.literal_eval(statement.value)
        except ValueError:
            raise AssertionError(
                f"{ast.unparse(statement)}: the parameters cell holds plain values only (papermill "
                "replaces them); derive anything computed in the next cell"
            ) from None
        for target in statement.targets:
            if isinstance(target, ast.Tuple):  # HIDDEN, LATENT = 128, 64
                values.update({n.id: v for n, v in zip(target.elts, value, strict=True)})
            else:
                values[target.id] = value
    return values


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_are_plain_values_and_derived_in_the_next_cell(notebook):
    cells = jupytext.read(notebook).cells
    tagged, derived = parameters_and_derived(cells)
    parameters = literal_assignments(cells[tagged].source)
    assert parameters["FAST"] is None, "FAST = None: VAESEP_FAST decides unless it is given"
    assert "FAST = use_fast_mode(FAST)" in cells[derived].source.splitlines()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_has_exercises_and_the_usual_sections(notebook):
    cells = jupytext.read(notebook).cells
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown").lower()
    for heading in ("what you will learn", "prerequisites", "runtime", "exercise"):
        assert heading in text, f"{notebook.name} lacks a '{heading}' section"


# a budget per notebook whose default differs between the modes
OVERRIDABLE = {
    "01_data_preparation": "F0_SECONDS",
    "02_training_the_vae": "EPOCHS",
    "03_latent_space": "N_FRAMES",
    "04_baseline_comparison": "MAX_ITEMS",
    "05_listening_test": "N_TRIALS",
    "06_separation_as_inference": "CURVE_ITEMS",
}
REPORT = """
import json, os
print(json.dumps({"FAST": FAST, "VAESEP_FAST": os.environ["VAESEP_FAST"], "value": %s}))
"""


def test_injected_parameters_take_effect(tmp_path):
    """As ``papermill -p``: a cell inserted after the parameters cell changes the budgets.

    One kernel runs each notebook's cells up to its derived-values cell three times: as
    it is (fast mode from the environment), with ``FAST = False`` injected, and with a
    budget injected as well. Nothing past the derived values is executed.
    """
    assert set(OVERRIDABLE) == {path.stem for path in NOTEBOOKS}
    notebook = nbformat.v4.new_notebook()
    runs = []
    for path in NOTEBOOKS:
        cells = jupytext.read(path).cells
        tagged, derived = parameters_and_derived(cells)
        name = OVERRIDABLE[path.stem]
        assert literal_assignments(cells[tagged].source)[name] is None, f"{name} is not a budget"
        code = [c.source for c in cells[:tagged] if c.cell_type == "code"]
        for injected in ("", "FAST = False", f"FAST = False\n{name} = 7"):
            # papermill's order: parameters, injected parameters, then the rest
            fresh = 'import os\nos.environ["VAESEP_FAST"] = "1"  # as in a new kernel under pytest'
            sources = [*code, fresh, cells[tagged].source, injected, cells[derived].source, REPORT % name]
            notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
            code = []  # the imports ran once; each run starts again from the parameters cell
            runs.append((path.stem, injected, len(notebook.cells) - 1))
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # inherits VAESEP_FAST=1 from the top-level conftest.py
    reports = {}
    for stem, injected, index in runs:
        printed = "".join(o["text"] for o in notebook.cells[index].outputs if o.get("name") == "stdout")
        reports[stem, injected] = json.loads(printed.strip().splitlines()[-1])
    for stem, name in OVERRIDABLE.items():
        default, full, given = (reports[stem, i] for i in ("", "FAST = False", f"FAST = False\n{name} = 7"))
        assert (default["FAST"], default["VAESEP_FAST"]) == (True, "1"), stem
        assert (full["FAST"], full["VAESEP_FAST"]) == (False, "0"), stem  # library calls agree
        assert full["value"] != default["value"], f"{stem}: FAST = False left {name} at its fast value"
        assert given["value"] == 7, stem
