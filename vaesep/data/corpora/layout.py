"""Finding a corpus inside the folder a user points at.

People pass either the folder an archive unpacked into or the corpus folder
itself, and some copies of a corpus have upper-case names (``TRAIN/DR1``)
while others were lower-cased on the way. These helpers accept both without
renaming anything on disk. data/README.md, section "Real corpora".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from vaesep.data.corpora.errors import root_required_error


def require_root(corpus: str, root: Path | None, section: str) -> Path:
    """``root`` as a Path, or the error that says how to pass one (corpora have no default).

    data/README.md, section "Real corpora".
    """
    if root is None:
        raise root_required_error(corpus, section)
    return Path(root)


def child(directory: Path, name: str) -> Path | None:
    """The entry of ``directory`` called ``name``, ignoring case; None if there is none.

    An exact match wins, so a tree holding both ``TRAIN`` and ``train`` is read as written.

    data/README.md, section "Real corpora".
    """
    exact = directory / name
    if exact.exists():
        return exact
    if not directory.is_dir():
        return None
    wanted = name.lower()
    matches = sorted(entry for entry in directory.iterdir() if entry.name.lower() == wanted)
    return matches[0] if matches else None


def find_corpus_dir(
    root: Path, looks_right: Callable[[Path], bool], wrappers: Sequence[str]
) -> Path | None:
    """``root`` itself or the first ``root/<wrapper>`` (any case) that ``looks_right``.

    Args:
        root: the folder the user passed.
        looks_right: True for the corpus folder, e.g. "has a ``Wavfile`` sub-folder".
        wrappers: folder names the archive unpacks into, e.g. ``("MIR-1K",)``.

    data/README.md, section "Real corpora".
    """
    if looks_right(root):
        return root
    for wrapper in wrappers:
        candidate = child(root, wrapper)
        if candidate is not None and looks_right(candidate):
            return candidate
    return None


def files_with_suffix(directory: Path, suffixes: Iterable[str]) -> list[Path]:
    """Files directly in ``directory`` whose suffix is one of ``suffixes`` (any case), sorted.

    data/README.md, section "Real corpora".
    """
    wanted = {suffix.lower() for suffix in suffixes}
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in wanted)


def relative_id(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes: the id recorded in stream indexes.

    data/README.md, section "Real corpora".
    """
    return path.relative_to(root).as_posix()
