"""Errors of the corpus loaders: a wrong root or a damaged file, said plainly.

A loader never lets a missing folder or a half-downloaded file surface as a
stack trace from deep inside a decoder: it stops with one of these, naming
the file or folder and pointing at the section of ``data/README.md`` that
shows the layout it expects. data/README.md, section "When something is wrong".
"""

from __future__ import annotations

from pathlib import Path

from vaesep.data.system import MissingSystemDataError

README = "data/README.md"


def readme_pointer(section: str) -> str:
    """``see data/README.md, section "<section>"`` for the end of an error message."""
    return f'see {README}, section "{section}"'


class CorpusLayoutError(MissingSystemDataError):
    """The corpus root is not given, or does not hold the files and folders the loader expects.

    A subclass of :class:`~vaesep.data.MissingSystemDataError`, so code that
    skips a data set whose files are absent (tests, notebooks) treats a
    missing corpus the same way.

    data/README.md, section "When something is wrong".
    """


class CorpusFileError(RuntimeError):
    """A corpus file cannot be decoded: unreadable, truncated or in an unsupported coding.

    data/README.md, section "When something is wrong".
    """


def root_required_error(corpus: str, section: str) -> CorpusLayoutError:
    """The error for ``data.build(corpus)`` without ``root=``: corpora have no default location.

    data/README.md, section "When something is wrong".
    """
    return CorpusLayoutError(
        f"The {corpus!r} corpus is read from files you download yourself, so it needs their "
        f"folder: data.build({corpus!r}, root='/path/to/it') or "
        f"`vaesep data prepare {corpus} --root /path/to/it`; {readme_pointer(section)}"
    )


def layout_error(
    corpus: str, root: Path, missing: str, expected: str, section: str
) -> CorpusLayoutError:
    """The error for a root that does not look like the corpus.

    Args:
        corpus: registered name, e.g. ``"tsp"``.
        root: the folder the user passed.
        missing: the first expected file or folder that is not there.
        expected: one line describing the layout, e.g. ``"48k/FA/FA01_01.wav ..."``.
        section: the ``data/README.md`` section with the full layout.
    """
    return CorpusLayoutError(
        f"The {corpus!r} corpus was not found under {root}: {missing} is missing. "
        f"Expected {expected}, as unpacked from the original archive (no renaming); "
        f"{readme_pointer(section)}"
    )


def file_error(path: Path | str, problem: str, section: str) -> CorpusFileError:
    """The error for one damaged corpus file, named in full with what to do about it.

    data/README.md, section "When something is wrong".
    """
    return CorpusFileError(
        f"{path}: {problem}. Re-extract or re-download this file from the original archive; "
        f"{readme_pointer(section)}"
    )
