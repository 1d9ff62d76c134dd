"""`vaesep lab`: the student edition keeps no solution, the teacher edition is the committed notebooks."""

from pathlib import Path

import nbformat
import pytest

from vaesep.cli import main
from vaesep.cli.lab import ANSWER, outline, student_edition, write_editions

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


@pytest.fixture(scope="module")
def editions(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lab") / "editions"
    assert main(["lab", "--out", str(out), "--notebooks", str(NOTEBOOK_DIR)]) == 0
    return out


def test_every_notebook_has_exercises_with_solutions_and_checks():
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        solutions = [c for c in cells if "solution" in tags(c)]
        assert any(c.cell_type == "code" for c in solutions), f"{path.name}: no solution code cell"
        assert any("check" in tags(c) for c in cells), f"{path.name}: no check cell"
        # solutions and checks come after the exercises heading, none in the body
        heading = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and "## Exercises" in c.source)
        assert all(i > heading for i, c in enumerate(cells) if {"solution", "check"} & set(tags(c))), path.name


def test_teacher_edition_is_the_committed_notebooks(editions):
    assert sorted(p.name for p in (editions / "teacher").iterdir()) == [p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        committed = nbformat.read(path, as_version=4)
        teacher = nbformat.read(editions / "teacher" / path.name, as_version=4)
        assert teacher.cells == committed.cells, path.name
        assert "jupytext" not in teacher.metadata  # a hand-out has no paired script to write


def test_student_edition_has_no_solution_left(editions):
    for path in NOTEBOOKS:
        teacher = nbformat.read(path, as_version=4)
        student = nbformat.read(editions / "student" / path.name, as_version=4)
        nbformat.validate(student)
        assert not [c for c in student.cells if "solution" in tags(c)], path.name
        text = "\n".join(c.source for c in student.cells)
        body = "\n".join(c.source for c in teacher.cells if "solution" not in tags(c))
        for cell in teacher.cells:
            if "solution" in tags(cell):
                assert cell.source not in text, f"{path.name}: a solution cell is in the student edition"
                # any line of a solution that the rest of the notebook does not also contain (the body may
                # show the same line with a comment after it: notebook 02's KL term)
                own = [line.strip() for line in cell.source.splitlines() if len(line.strip()) > 20]
                leaked = [line for line in own if line not in body and line in text]
                assert not leaked, f"{path.name}: solution lines left in the student edition: {leaked}"
        # everything else is kept, in order, and one answer cell stands for each solution
        kept = [c for c in teacher.cells if "solution" not in tags(c)]
        assert [c for c in student.cells if c.source != ANSWER] == kept, path.name
        starts = sum(1 for i, c in enumerate(teacher.cells)
                     if "solution" in tags(c) and (i == 0 or "solution" not in tags(teacher.cells[i - 1])))
        assert sum(c.source == ANSWER for c in student.cells) == starts, path.name
        assert [c for c in student.cells if "check" in tags(c)] == [c for c in kept if "check" in tags(c)]


def test_one_answer_cell_per_solution():
    cell = nbformat.v4.new_code_cell
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("question 1"),
        cell("x = 1", metadata={"tags": ["solution"]}),
        nbformat.v4.new_markdown_cell("why", metadata={"tags": ["solution"]}),
        cell("assert x == 1", metadata={"tags": ["check"]}),
        nbformat.v4.new_markdown_cell("question 2"),
        cell("y = 2", metadata={"tags": ["solution"]}),
    ])
    student = student_edition(notebook)
    assert [c.source for c in student.cells] == ["question 1", ANSWER, "assert x == 1", "question 2", ANSWER]
    assert len({c.id for c in student.cells}) == 5
    assert len(notebook.cells) == 6  # the notebook given is left as it was
    nbformat.validate(student)


def test_refuses_to_overwrite_without_force(editions, tmp_path, capsys):
    out = tmp_path / "lab"
    (out / "student").mkdir(parents=True)
    stale = out / "student" / "99_old.ipynb"
    stale.write_text("{}")
    assert main(["lab", "--out", str(out), "--notebooks", str(NOTEBOOK_DIR)]) == 2
    assert "--force" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "student").iterdir()) == ["99_old.ipynb"]  # nothing written
    written = write_editions(out, NOTEBOOK_DIR, force=True)
    assert not stale.exists() and len(written) == 2 * len(NOTEBOOKS)
    assert (out / "student" / NOTEBOOKS[0].name).read_bytes() == (editions / "student" / NOTEBOOKS[0].name).read_bytes()


def _ran(cell, start: str, end: str):
    cell.metadata["execution"] = {"iopub.execute_input": start, "shell.execute_reply": end}
    return cell


def test_the_guide_times_sections_and_exercises_from_an_executed_notebook(tmp_path):
    code, text = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    t = "2026-12-01T10:00:{:02d}.000000Z".format
    solution = code("x = 1", metadata={"tags": ["solution", "trains"]})
    solution.outputs = [nbformat.v4.new_output("stream", name="stdout", text="first\nanswer 42\n")]
    notebook = nbformat.v4.new_notebook(cells=[
        text("# Title\n\nfour words of intro"),
        text("## The model, from the ELBO\n\none two three"), _ran(code("a = 1"), t(0), t(30)),
        text("## Exercises\n\nintro words\n\n**4. First one.** Do it now."), _ran(solution, t(30), t(42)),
        text("the answer explained at length", metadata={"tags": ["solution"]}),
        _ran(code("assert x == 1", metadata={"tags": ["check"]}), t(42), t(48)),
        text("**Exercise 2 — second.** Later."), text("## Summary\n\nend"),
    ])
    parts = outline(notebook)
    assert [(p["name"], p["exercise"]) for p in parts] == [
        ("(top)", None), ("The model, from the ELBO", None), ("Exercises", None), ("First one", 4),
        ("second", 2), ("Summary", None)]
    assert [p["words"] for p in parts] == [6, 9, 4, 6, 5, 3]  # solution prose is not counted
    assert parts[1]["seconds"] == 30 and parts[3]["seconds"] == 18 and parts[3]["trains"]
    assert parts[3]["answer"] == "answer 42" and not parts[4]["trains"]
    executed = tmp_path / "results" / "executed"
    executed.mkdir(parents=True)
    nbformat.write(notebook, executed / "02_training_the_vae.ipynb")
    (tmp_path / "results" / "summary.json").write_text('{"fast": true, "code": "abc1234"}')
    guide = tmp_path / "LAB.md"
    guide.write_text("x\n<!-- vaesep-lab-fast:start -->\nold\n<!-- vaesep-lab-fast:end -->\ny\n")
    assert main(["lab", "--guide", str(guide), "--executed", str(executed)]) == 0
    written = guide.read_text()
    assert "\nold\n" not in written and "abc1234" in written
    assert "| `02` 4. First one | yes | yes | 0.3 | answer 42 |" in written  # exercise 4 of 02 is on the path
    assert "| `02_training_the_vae` | (top); The model, from the ELBO | 0 | 0.5 | 4 | 0.3 |" in written


def test_lab_needs_out_or_guide(tmp_path, capsys):
    assert main(["lab"]) == 2
    assert "--out" in capsys.readouterr().err
    guide = tmp_path / "LAB.md"
    guide.write_text("<!-- vaesep-lab-fast:start -->\n<!-- vaesep-lab-fast:end -->\n")
    assert main(["lab", "--guide", str(guide), "--executed", str(tmp_path / "executed")]) == 2
    assert "run `vaesep reproduce" in capsys.readouterr().err
