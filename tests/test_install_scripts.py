"""scripts/install-system-data.sh, run against fake dpkg, apt-cache and apt-get.

The fakes print long outputs, as the real tools do for a package like
chromium: the script must read them to the end and still decide right (a
`... | grep -q` under pipefail decided wrong whenever the writer was killed by
SIGPIPE). Nothing is installed: the fake apt-get only logs its arguments.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install-system-data.sh"
FILLER_LINES = 20_000  # far more than a pipe buffer holds

# Every package counts as installed except those named in $FAKE_MISSING; apt has a
# candidate for every package except those named in $FAKE_NO_CANDIDATE.
FAKES = {
    "dpkg": r"""
if [[ " $FAKE_MISSING " == *" $2 "* ]]; then echo "package '$2' is not installed" >&2; exit 1; fi
printf 'Package: %s\nStatus: install ok installed\n' "$2"
yes 'Description: filler' | head -n "$FILLER_LINES"
""",
    "dpkg-query": r"""
package="${!#}"
if [[ " $FAKE_MISSING " == *" $package "* ]]; then echo "no packages found matching $package" >&2; exit 1; fi
printf 'install ok installed'
""",
    "apt-cache": r"""
if [[ " $FAKE_NO_CANDIDATE " == *" $2 "* ]]; then candidate='(none)'; else candidate='1.0-1'; fi
case "$1" in
  show) [ "$candidate" = '(none)' ] && exit 100; printf 'Package: %s\nVersion: 1.0-1\n' "$2" ;;
  policy) printf '%s:\n  Installed: (none)\n  Candidate: %s\n  Version table:\n' "$2" "$candidate" ;;
esac
yes '     1.0-1 500 filler' | head -n "$FILLER_LINES"
""",
    "apt-get": r"""echo "$*" >> "$FAKE_APT_LOG" """,
    "id": "echo 0",  # as root, so no sudo is needed
}


def run_script(tmp_path: Path, *args: str, missing: str = "", no_candidate: str = ""):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in FAKES.items():
        fake = bin_dir / name
        fake.write_text("#!/usr/bin/env bash\n" + body.strip() + "\n")
        fake.chmod(0o755)
    log = tmp_path / "apt-get.log"
    log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_MISSING": missing,
        "FAKE_NO_CANDIDATE": no_candidate,
        "FAKE_APT_LOG": str(log),
        "FILLER_LINES": str(FILLER_LINES),
    }
    finished = subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0, finished.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    return calls, finished.stdout


def test_available_chromium_is_installed_every_time(tmp_path: Path) -> None:
    for _ in range(20):
        calls, _ = run_script(tmp_path, "--with-dev-tools", missing="chromium")
        assert calls == ["update -q", "install -y -q --no-install-recommends chromium"]


def test_nothing_is_installed_when_everything_is_there(tmp_path: Path) -> None:
    calls, out = run_script(tmp_path, "--with-dev-tools")
    assert calls == []
    assert "already installed" in out


def test_a_missing_data_package_is_installed_without_chromium_by_default(tmp_path: Path) -> None:
    calls, _ = run_script(tmp_path, missing="fluidsynth chromium")
    assert calls == ["update -q", "install -y -q --no-install-recommends fluidsynth"]


@pytest.mark.parametrize("missing", ["chromium", "fluidsynth chromium"])
def test_chromium_without_a_candidate_is_reported_not_installed(tmp_path: Path, missing: str):
    calls, out = run_script(tmp_path, "--with-dev-tools", missing=missing, no_candidate="chromium")
    assert not any(call.endswith("chromium") for call in calls)
    assert "no apt package 'chromium' here" in out
