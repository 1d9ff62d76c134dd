"""The notebooks' mode switches (FAST = None/True/False, budgets left at None), progress bars, folders."""

import pytest

from vaesep.files import project_dir, results_dir, runs_dir
from vaesep.runtime import FAST_ENV, mode_default, progress_bar, use_fast_mode


def test_none_keeps_the_environment_and_a_choice_is_shared_with_the_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VAESEP_RUNS_DIR", raising=False)
    monkeypatch.setenv(FAST_ENV, "1")
    assert use_fast_mode(None) is True
    assert mode_default(None, fast=2, full=10) == 2
    assert use_fast_mode(False) is False
    assert mode_default(None, fast=2, full=10) == 10
    assert runs_dir().resolve() == (tmp_path / "runs").resolve()  # not runs/fast
    assert use_fast_mode(None) is False  # the choice stays for the rest of the kernel


def test_a_given_budget_wins_even_when_it_is_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAST_ENV, "1")
    assert mode_default(0, fast=2, full=10) == 0


@pytest.mark.parametrize("wrong", ["false", 0, 1.0])
def test_fast_must_be_a_bool_or_none(wrong: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FAST_ENV, "1")
    with pytest.raises(TypeError, match="FAST must be True, False or None"):
        use_fast_mode(wrong)


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize(("progress", "tty", "shown"), [(None, True, True), (None, False, False),
                                                        (True, False, True), (False, True, False)])
def test_progress_bars_show_on_a_terminal_only_unless_asked(progress, tty, shown, monkeypatch) -> None:
    """A notebook kernel's stderr is no terminal: a bar there would stay frozen in the saved notebook."""
    import sys

    monkeypatch.setattr(sys, "stderr", _Stream(tty))
    bar = progress_bar(range(3), progress, file=sys.stderr)
    assert bar.disable is not shown
    assert list(bar) == [0, 1, 2]


def test_results_and_runs_are_the_checkouts_whatever_the_working_directory(monkeypatch, tmp_path) -> None:
    """notebooks/ and the top level of a checkout share one results/ and one runs/; the variables win."""
    (tmp_path / "vaesep").mkdir()
    (tmp_path / "vaesep" / "__init__.py").touch()
    (tmp_path / "notebooks" / "deeper").mkdir(parents=True)
    monkeypatch.delenv("VAESEP_RESULTS_DIR", raising=False)
    monkeypatch.delenv("VAESEP_RUNS_DIR", raising=False)
    monkeypatch.setenv(FAST_ENV, "1")
    for where in (tmp_path, tmp_path / "notebooks", tmp_path / "notebooks" / "deeper"):
        monkeypatch.chdir(where)
        assert project_dir() == tmp_path.resolve()
        assert results_dir() == tmp_path.resolve() / "results"
        assert runs_dir() == tmp_path.resolve() / "runs" / "fast"
    monkeypatch.setenv("VAESEP_RESULTS_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("VAESEP_RUNS_DIR", str(tmp_path / "other"))
    assert results_dir() == tmp_path / "elsewhere"
    assert runs_dir() == tmp_path / "other" / "fast"
    assert not (tmp_path / "notebooks" / "results").exists() and not (tmp_path / "notebooks" / "runs").exists()
