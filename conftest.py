"""pytest set-up for every run from this repository: tests, notebooks, or both.

Being at the repository root, this file is loaded whatever paths pytest is given
(``pytest --nbmake notebooks``, ``pytest notebooks/02_training_the_vae.ipynb``,
``pytest tests``), before any test module imports :mod:`vaesep` and before nbmake
starts a kernel, which inherits this process's environment.

* Fast mode is the default: ``VAESEP_FAST=1`` unless it is set already, so a
  notebook run by pytest takes seconds, not the full mode's 45 minutes. For the
  full mode under pytest, set it yourself: ``VAESEP_FAST=0 pytest --nbmake notebooks``.
* Under ``CI=true`` a skipped test counts as failed: a test skipped because a
  system dependency is missing (Debian's data packages, Chromium) proved nothing,
  and CI must fail where a user's install would. Locally it stays a skip whose
  reason names what to install.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("VAESEP_FAST", "1")
# One intra-op thread: the tests' batches are small, and on a shared 2-core machine two
# torch threads contending with other work ran the trainer tests 4x slower. The notebook
# kernels that nbmake starts inherit this too.
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _skip_fails() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _fail_if_skipped(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and _skip_fails():
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        reason = str(reason).removeprefix("Skipped: ")
        report.longrepr = f"skipped under CI=true, which fails the run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    _fail_if_skipped(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _fail_if_skipped(outcome.get_result())
