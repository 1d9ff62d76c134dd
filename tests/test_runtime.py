"""The notebooks' mode switches: FAST = None/True/False and budgets left at None."""

import pytest

from vaesep.files import runs_dir
from vaesep.runtime import FAST_ENV, mode_default, use_fast_mode


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
