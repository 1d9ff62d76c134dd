"""``vaesep lab``: the student and the teacher edition of the numbered notebooks.

An exercise is a markdown cell with the question, then its solution: cells tagged ``solution``
(code that CI runs, an explanation in markdown), then optionally a code cell tagged ``check``
whose asserts a student's answer must pass. The teacher edition is the notebooks as committed;
the student edition replaces each run of solution cells by one empty answer cell and keeps
the checks.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

SOLUTION = "solution"
ANSWER = "# your answer here\n"


def student_edition(notebook):
    """A copy of an ``nbformat`` notebook without its solutions: one answer cell per run of them."""
    import nbformat

    student = nbformat.from_dict(notebook)  # a deep copy
    cells, in_solution = [], False
    for cell in student.cells:
        solution = SOLUTION in cell.metadata.get("tags", [])
        if not solution:
            cells.append(cell)
        elif not in_solution:  # the first cell of a solution
            cells.append(nbformat.v4.new_code_cell(ANSWER, id=f"answer-{len(cells)}"))
        in_solution = solution
    student.cells = cells
    return student


def write_editions(
    out: str | Path, notebooks_dir: str | Path = "notebooks", force: bool = False
) -> list[Path]:
    """Write ``out/student/NN_*.ipynb`` and ``out/teacher/NN_*.ipynb``; the written paths."""
    import nbformat

    from vaesep.files import atomic_write
    from vaesep.reproduce import find_notebooks

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise ValueError(
            f"{out} exists and is not empty; choose another --out or pass --force to replace it"
        )
    sources = find_notebooks(Path(notebooks_dir))
    for edition in ("student", "teacher"):
        shutil.rmtree(out / edition, ignore_errors=True)  # --force: no older notebook stays
    written = []
    for path in sources:
        teacher = nbformat.read(path, as_version=4)
        teacher.metadata.pop("jupytext", None)  # a hand-out has no paired .py script
        for edition, notebook in (("teacher", teacher), ("student", student_edition(teacher))):
            text = nbformat.writes(notebook)  # validated against the nbformat schema
            written.append(atomic_write(out / edition / path.name, text.rstrip("\n") + "\n"))
    return written


def lab_command(args: argparse.Namespace) -> int:
    written = write_editions(args.out, args.notebooks, force=args.force)
    out = Path(args.out)
    print(f"wrote {len(written) // 2} notebooks to {out / 'student'} (solutions removed, checks "
          f"kept) and to {out / 'teacher'} (with the solutions)")
    return 0


def add_lab_parser(subparsers) -> None:
    lab = subparsers.add_parser("lab", help="write the student and teacher notebooks")
    lab.set_defaults(func=lab_command, on_interrupt="run it again with --force")
    lab.add_argument("--out", required=True, help="folder for student/ and teacher/")
    lab.add_argument("--notebooks", default="notebooks", help="folder of NN_*.ipynb (./notebooks)")
    lab.add_argument("--force", action="store_true", help="write into a non-empty --out")
