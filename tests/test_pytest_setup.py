"""The top-level conftest.py: fast mode for any pytest run, and no silent skips in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/05_listening_test.ipynb"
# a plugin that reports the environment pytest (and so every nbmake kernel) runs with
ENV_PROBE = """
import os

def pytest_collection_finish(session):
    print("probe: VAESEP_FAST=%s OMP_NUM_THREADS=%s"
          % (os.environ.get("VAESEP_FAST"), os.environ.get("OMP_NUM_THREADS")))
"""


def run_pytest(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value for key, value in os.environ.items()
        if key not in {"VAESEP_FAST", "OMP_NUM_THREADS", "CI", "PYTEST_ADDOPTS"}
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, env={**environment, **env}, capture_output=True, text=True, timeout=120,
    )


def test_notebooks_run_by_pytest_default_to_fast_mode(tmp_path: Path) -> None:
    # a notebook named on its own, without tests/ (whose conftest.py once set fast mode);
    # one file rather than notebooks/ because collecting all five costs seconds
    (tmp_path / "vaesep_env_probe.py").write_text(ENV_PROBE)
    probe = ["--nbmake", "--collect-only", "-q", "-p", "vaesep_env_probe", NOTEBOOK]
    default = run_pytest(probe, ROOT, PYTHONPATH=str(tmp_path))
    assert default.returncode == 0, default.stdout + default.stderr
    assert "probe: VAESEP_FAST=1 OMP_NUM_THREADS=1" in default.stdout
    full = run_pytest(probe, ROOT, PYTHONPATH=str(tmp_path), VAESEP_FAST="0")
    assert "probe: VAESEP_FAST=0 OMP_NUM_THREADS=1" in full.stdout  # full mode stays reachable


SKIPPING_TESTS = {
    "test_skips.py": """
import pytest

@pytest.fixture
def system_data():
    pytest.skip("needs fluidsynth: sudo apt-get install -y fluidsynth")

def test_in_body():
    pytest.skip("needs chromium: sudo apt-get install -y chromium")

def test_in_fixture(system_data):
    pass

@pytest.mark.xfail(reason="a known bug, not a missing dependency")
def test_expected_failure():
    assert False

def test_passes():
    pass
""",
    "test_module_skip.py": """
import pytest
pytest.skip("needs playwright: pip install playwright", allow_module_level=True)
""",
}


@pytest.fixture
def skipping_project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    for name, source in SKIPPING_TESTS.items():
        (tmp_path / name).write_text(source)
    return tmp_path


def test_skips_stay_skips_locally(skipping_project: Path) -> None:
    local = run_pytest(["-q", "-rs"], skipping_project)
    assert local.returncode == 0, local.stdout
    assert "1 passed, 3 skipped, 1 xfailed" in local.stdout
    assert "sudo apt-get install -y chromium" in local.stdout


def test_skips_fail_under_ci(skipping_project: Path) -> None:
    ci = run_pytest(["-q", "test_skips.py"], skipping_project, CI="true")
    assert ci.returncode == 1, ci.stdout
    summary = ci.stdout.strip().splitlines()[-1]
    assert "skipped" not in summary and "1 passed" in summary and "1 xfailed" in summary, summary
    for need in ("fluidsynth", "chromium"):
        assert f"skipped under CI=true, which fails the run: needs {need}" in ci.stdout


def test_a_skipped_module_is_a_collection_error_under_ci(skipping_project: Path) -> None:
    ci = run_pytest(["-q", "test_module_skip.py"], skipping_project, CI="true")
    assert ci.returncode == 2, ci.stdout  # pytest's "interrupted by collection errors"
    assert "skipped under CI=true, which fails the run: needs playwright" in ci.stdout
