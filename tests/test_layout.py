"""The package's shape (issue #14): short modules, a short reading path, no import cycles, layers."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vaesep"
READING_ORDER = (
    "vaesep/spectral.py",
    "vaesep/models/vae.py",
    "vaesep/train.py",
    "vaesep/models/separator.py",
    "vaesep/metrics/scores.py",
)
# lower layers never import higher ones (function-level imports included)
LAYERS = (
    {"files", "runtime", "audio", "spectral", "metrics"},
    {"data", "models", "checkpoint", "batches"},
    {"train", "api", "priors", "evaluate", "stats", "inspection", "latent", "plots"},
    {"compare", "listening", "widgets"},
    {"cli", "reproduce"},
)


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Package modules ``path`` imports anywhere (``TYPE_CHECKING`` blocks excepted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(node) for block in ast.walk(tree) if isinstance(block, ast.If)
        and "TYPE_CHECKING" in ast.unparse(block.test) for stmt in block.body for node in ast.walk(stmt)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            # the longest package module the name lies in ("vaesep.data.builder.get_builder" -> builder)
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != "vaesep":
                found.add(name)
    return found - {module_name(path)}


def import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in files}
    return {module_name(path): imports_of(path, modules) for path in files}


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): lines(p) for p in PACKAGE.rglob("*.py") if lines(p) > 400}
    assert not long, long


def test_the_reading_path_is_five_files_under_1200_lines_listed_first_in_readme():
    total = sum(lines(ROOT / name) for name in READING_ORDER)
    assert total < 1200, total
    layout = (ROOT / "README.md").read_text(encoding="utf-8").split("## How the package is laid out")[1]
    listed = re.findall(r"^(vaesep/\S+\.py)", layout, re.MULTILINE)
    assert tuple(listed[:5]) == READING_ORDER, listed[:5]


def test_no_import_cycles():
    graph = import_graph()
    # Tarjan's strongly connected components; any component of two or more modules is a cycle
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, cycles


def test_no_import_reaches_up_a_layer():
    def layer(module: str) -> int:
        top = module.split(".")[1]
        return next(rank for rank, names in enumerate(LAYERS) if top in names)

    upward = [
        f"{module} -> {target}" for module, targets in import_graph().items() if module != "vaesep"
        for target in targets if layer(target) > layer(module)
    ]
    assert not upward, upward


def test_importing_vaesep_changes_no_environment_and_loads_no_torch():
    code = (
        "import os, sys; before = dict(os.environ); import vaesep; "
        "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items()); "
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
