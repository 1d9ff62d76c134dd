"""``vaesep lab``: the student and the teacher edition of the numbered notebooks.

An exercise is a markdown cell with the question, then its solution: cells tagged ``solution``
(code that CI runs, an explanation in markdown), then optionally a code cell tagged ``check``
whose asserts a student's answer must pass. The teacher edition is the notebooks as committed;
the student edition replaces each run of solution cells by one empty answer cell and keeps
the checks. ``--guide`` times the lab path of ``notebooks/LAB.md`` from notebooks that
``vaesep reproduce`` executed (nbclient records when each cell ran).
"""

from __future__ import annotations

import argparse
import re
import shutil
from datetime import datetime
from pathlib import Path

from vaesep.cli.arguments import opt
from vaesep.files import atomic_write, fill_block, markdown_table, read_json
from vaesep.reproduce import find_notebooks

SOLUTION = "solution"
ANSWER = "# your answer here\n"
EXERCISE = re.compile(r"^\*\*(?:Exercise\s+)?(\d+)(?:\.|\s+—)\s*(.*?)\*\*", re.MULTILINE)  # "**2. Title.**", "**Exercise 2 — title.**"
READING_WPM = 150
"""Words of technical prose read per minute: an assumption of the guide, not a measurement."""

LAB_PATH: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    "01": (("(top)", "Where the audio comes from", "Looking at one test mixture", "Summary"), (3,)),
    "02": (("(top)", "The model, from the ELBO", "Separating test mixtures"), (4,)),
    "03": (("(top)", "2. Two-dimensional views", "3. Active and collapsed units", "Summary"), (2,)),
    "04": (("(top)", "The claim", "At convergence", "Does the VAE beat", "Summary"), (1,)),
    "05": (("(top)", "The MUSHRA design", "Analysis", "Summary"), (1,)),
    "06": (("(top)", "From the generative model", "One mixture, three answers", "The verdict"), (1,)),
}
"""The two-hour path: per notebook, the sections read in class (by the start of their title) and
the exercises done there; the rest is homework. Every notebook still runs whole."""


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


def write_editions(out: str | Path, notebooks_dir: str | Path = "notebooks",
                   force: bool = False) -> list[Path]:
    """Write ``out/student/NN_*.ipynb`` and ``out/teacher/NN_*.ipynb``; the written paths."""
    import nbformat

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise ValueError(f"{out} exists and is not empty; choose another --out or pass --force to "
                         "replace it")
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


def cell_seconds(cell) -> float:
    """How long an executed code cell ran, from nbclient's timestamps (0 if it did not run)."""
    timing = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
        return 0.0
    start, end = (datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                  for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def outline(notebook) -> list[dict]:
    """The parts of an executed notebook in order: each ``## `` section and each exercise, with
    its words of prose (solutions not counted), seconds of code, whether a solution cell is
    tagged ``trains``, and the last line its solution printed (else its check)."""
    def part(name: str, exercise: int | None = None) -> dict:
        return {"name": name, "exercise": exercise, "words": 0, "seconds": 0.0, "trains": False, "answer": ""}

    parts = [part("(top)")]
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown" and SOLUTION not in tags:
            text = cell.source
            if text.startswith("## "):
                parts.append(part(text.splitlines()[0][3:]))
            heading = EXERCISE.search(text)
            if heading:  # an exercise's question, alone or after its section's introduction
                parts[-1]["words"] += len(text[: heading.start()].split())
                parts.append(part(heading.group(2).rstrip("."), int(heading.group(1))))
                text = text[heading.start():]
            parts[-1]["words"] += len(text.split())
        elif cell.cell_type == "code":
            parts[-1]["seconds"] += cell_seconds(cell)
            parts[-1]["trains"] |= "trains" in tags
            printed = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
            lines = [line for line in printed.splitlines() if line.strip() and line[0] not in "|_#"]  # no tables
            if lines and (SOLUTION in tags or ("check" in tags and not parts[-1]["answer"])):
                parts[-1]["answer"] = lines[-1].strip()[:140]
    return parts


def guide_markdown(executed: str | Path) -> tuple[str, str]:
    """The mode (``"fast"``/``"full"``) and the timed lab path of :data:`LAB_PATH`, read from the
    notebooks ``vaesep reproduce`` executed into ``executed`` (its summary lies beside it)."""
    import nbformat

    executed = Path(executed)
    notebooks = sorted(executed.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks or not (executed.parent / "summary.json").is_file():
        raise FileNotFoundError(f"no notebooks executed by `vaesep reproduce` in {executed} (with its summary.json "
                                "beside it): run `vaesep reproduce [--fast] --out DIR`, then give --executed DIR/executed")
    summary = read_json(executed.parent / "summary.json")
    rows, exercises, totals = [], [], [0.0, 0.0, 0.0]  # read, run, exercises
    for path in notebooks:
        sections, chosen = LAB_PATH.get(path.name[:2], ((), ()))
        parts = outline(nbformat.read(path, as_version=4))
        on_path = [p for p in parts if p["exercise"] is None and p["name"].startswith(sections)]
        read = sum(p["words"] for p in on_path) / READING_WPM
        run = sum(p["seconds"] for p in parts if p["exercise"] is None) / 60
        work = sum(p["seconds"] for p in parts if p["exercise"] in chosen) / 60
        totals = [total + value for total, value in zip(totals, (read, run, work), strict=True)]
        rows.append([f"`{path.stem}`", "; ".join(p["name"] for p in on_path), f"{read:.0f}", f"{run:.1f}",
                     ", ".join(map(str, chosen)) or "—", f"{work:.1f}"])
        exercises += [[f"`{path.name[:2]}` {p['exercise']}. {p['name']}", "yes" if p["exercise"] in chosen else "",
                       "yes" if p["trains"] else "no", f"{p['seconds'] / 60:.1f}", p["answer"].replace("|", "/")]
                      for p in parts if p["exercise"] is not None]
    mode = "fast" if summary["fast"] else "full"
    read, run, work = totals
    rows.append(["**path**", "", f"**{read:.0f}**", f"**{run:.1f}**", "", f"**{work:.1f}**"])
    return mode, "\n\n".join([
        f"_Measured by `vaesep reproduce{' --fast' if mode == 'fast' else ''}` at commit {summary['code']} "
        f"({mode} mode); reading at {READING_WPM} words per minute (assumed). Written by "
        "`vaesep lab --guide`._",
        markdown_table(["notebook", "sections read in class", "read (min)", "run, whole notebook (min)",
                        "exercises in class", "their run (min)"], rows, "llrrlr"),
        markdown_table(["exercise", "in class", "trains a model", "run (min)", "what the solution printed last"],
                       exercises, "lllrl"),
    ])


def lab_command(args: argparse.Namespace) -> int:
    if not (args.out or args.guide):
        raise ValueError("give --out DIR (write the editions) or --guide FILE (time the lab path), or both")
    if args.guide:
        mode, text = guide_markdown(args.executed)
        print(f"rewrote {fill_block(args.guide, f'<!-- vaesep-lab-{mode}:start -->', f'<!-- vaesep-lab-{mode}:end -->', text)}")
        if not args.out:
            return 0
    written = write_editions(args.out, args.notebooks, force=args.force)
    out = Path(args.out)
    print(f"wrote {len(written) // 2} notebooks to {out / 'student'} (solutions removed, checks "
          f"kept) and to {out / 'teacher'} (with the solutions)")
    return 0


OPTIONS = [
    opt("--out", help="folder for student/ and teacher/"),
    opt("--notebooks", default="notebooks", help="folder of NN_*.ipynb (./notebooks)"),
    opt("--force", action="store_true", help="write into a non-empty --out"),
    opt("--guide", help="rewrite this guide's timed path (notebooks/LAB.md) from --executed"),
    opt("--executed", default="results/executed",
        help="notebooks executed by `vaesep reproduce` (default results/executed)"),
]
"""The options of ``vaesep lab`` (:func:`vaesep.cli.commands_table`)."""
