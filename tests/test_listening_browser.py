"""End to end: a real browser rates one trial of the listening-test widget.

For each front-end (JupyterLab 4 and Notebook 7, the classic Notebook's
successor) this starts a Jupyter server on 127.0.0.1 (a free port, a random
token) over a small purpose-built notebook that renders tiny synthetic
stimuli and shows the widget, then drives Debian's Chromium
(``/usr/bin/chromium``, headless) with Playwright: run the cell, type a
listener id, pass the familiarisation page, play the reference, switch to a
letter (the playback position must be kept, not restart), loop a region (the
position must stay in it and wrap), set every rating of the one trial, press
Next, and check that the listener's results file holds exactly those ratings
and plays.

Needs ``pip install 'playwright>=1.40,<2' 'jupyterlab>=4,<5' 'notebook>=7,<8'``
and ``apt-get install chromium``; ``playwright install`` (a browser download)
is never used. Without them the test is skipped locally and fails in CI
(``CI=true``), saying what to install.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pytest

from vaesep.data.builder import install_command

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
SERVER_START_TIMEOUT_S = 60


@dataclass(frozen=True)
class FrontEnd:
    """A Jupyter front-end the widget must work in."""

    module: str  # run as ``python -m <module>``
    requirement: str  # what to pip install
    notebook_path: str  # URL path of a notebook in it


FRONT_ENDS = {
    "jupyterlab": FrontEnd("jupyterlab", "jupyterlab>=4,<5", "/lab/tree/listening.ipynb"),
    # Notebook 7 is the classic Notebook's successor, built on the same widget manager
    "notebook": FrontEnd("notebook", "notebook>=7,<8", "/notebooks/listening.ipynb"),
}
WIDGET_TIMEOUT_MS = 60_000  # the kernel imports torch and renders stimuli first
STEP_TIMEOUT_MS = 15_000
CLIP_S = 4.0  # long enough that a switch a kernel round trip later cannot wrap around
LOOP_S = (1.0, 1.5)

NOTEBOOK_SOURCE = """\
import numpy as np
from vaesep.listening import ItemAudio, render_stimuli
from vaesep.models import IdealRatioMask
from vaesep.widgets.listening import listening_test

t = np.arange({n_samples}) / 16000
low = np.sin(2 * np.pi * 220 * t).astype(np.float32)
high = (0.3 * np.sign(np.sin(2 * np.pi * 1800 * t))).astype(np.float32)
sources = np.stack([low, high])
items = [ItemAudio("tiny-0", sources.sum(0), sources, ("low", "high"), "low")]
stimuli = render_stimuli(items, [IdealRatioMask(("low", "high"))], {stimuli!r})
listening_test(stimuli, {results!r}, n_trials=1)
"""


def require_tools(front_end: FrontEnd) -> None:
    """Skip (locally; a failure under CI=true) when the browser stack is missing."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("pip install 'playwright>=1.40,<2'")
    if importlib.util.find_spec(front_end.module) is None:
        missing.append(f"pip install {front_end.requirement!r}")
    if not CHROMIUM.exists():
        missing.append(f"{install_command(['chromium'])} (Debian's /usr/bin/chromium)")
    if missing:
        # under CI=true the top-level conftest.py turns this skip into a failure
        pytest.skip(
            "browser test needs: " + "; ".join(dict.fromkeys(missing))
            + " (never 'playwright install': it downloads a browser)"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server(url: str, deadline: float, server: subprocess.Popen) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer {url} within {SERVER_START_TIMEOUT_S} s")


def start_server(root: Path, port: int, token: str, front_end: FrontEnd) -> subprocess.Popen:
    env = {
        **os.environ,
        # keep the server's settings, workspaces and runtime files out of $HOME
        "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(root / ".jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".jupyter-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / ".jupyter-workspaces"),
        "VAESEP_FAST": "1",
        "MPLBACKEND": "Agg",
    }
    write_lab_settings(root / ".jupyter-settings")
    command = [
        sys.executable,
        "-m",
        front_end.module,
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.allow_root=True",  # CI containers run as root
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    log = open(root / "jupyter.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def write_lab_settings(settings_dir: Path) -> None:
    # no "would you like news?" toast over the widget, no update check (no network)
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


def wait_until_kernel_idle(page: Page, steady_s: float = 2.0, timeout_s: float = 60.0) -> None:
    """Wait until the notebook's kernel has been idle for ``steady_s`` seconds.

    The indicator flashes "idle" once before the kernel even starts, so a
    single sighting is not enough.
    """
    indicator = page.locator(".jp-Notebook-ExecutionIndicator")
    deadline = time.monotonic() + timeout_s
    idle_since: float | None = None
    while time.monotonic() < deadline:
        status = indicator.first.get_attribute("data-status") if indicator.count() else None
        if status == "idle":
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= steady_s:
                return
        else:
            idle_since = None
        time.sleep(0.25)
    raise TimeoutError(f"the kernel did not become idle within {timeout_s} s")


def stop_server(server: subprocess.Popen) -> None:
    # the server was started in its own process group: that group holds the
    # server and the kernel it started, nothing else
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    except ProcessLookupError:
        pass


def player_state(page: Page) -> dict[str, str]:
    """What the player's root element says: position (s), active clip, playing, loop."""
    return page.locator(".vaesep-sync-player").evaluate("el => ({...el.dataset})")


def wait_for_position(page: Page, seconds: float) -> None:
    where = "document.querySelector('.vaesep-sync-player')?.dataset.position"
    page.wait_for_function(f"() => Number({where}) >= {seconds}")


def check_switch_keeps_position(page: Page) -> None:
    """Play the reference, switch to B mid-clip: B is heard from where the reference was."""
    page.locator("button.vaesep-play-reference").click()
    wait_for_position(page, 1.0)
    before = float(player_state(page)["position"])
    page.locator("button.vaesep-play-B").click()
    page.wait_for_function(
        "() => document.querySelector('.vaesep-sync-player')?.dataset.active === 'B'"
    )
    after = player_state(page)
    assert after["playing"] == "true"
    # a restart would put B at about 0 s; kept, it goes on from `before` (plus a round trip)
    assert before <= float(after["position"]) < CLIP_S, (before, after)
    time.sleep(0.3)
    assert float(player_state(page)["position"]) > float(after["position"])  # still playing


def check_loop(page: Page) -> None:
    """Loop LOOP_S through the player's inputs: the position stays in it and wraps around."""
    start, end = LOOP_S
    for name, value in (("start", start), ("end", end)):
        box = page.locator(f".vaesep-loop-{name}")
        box.fill(str(value))
        box.press("Tab")  # the input's change event
    page.wait_for_function(
        "() => document.querySelector('.vaesep-sync-player')?.dataset.loop === "
        f"'{start:.3f} {end:.3f}'"
    )
    positions = []
    for _ in range(40):  # 2 s, four times the region
        positions.append(float(player_state(page)["position"]))
        time.sleep(0.05)
    assert all(start - 0.01 <= p <= end + 0.01 for p in positions), positions
    assert any(b < a for a, b in zip(positions[:-1], positions[1:], strict=True)), positions


def write_notebook(root: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    source = NOTEBOOK_SOURCE.format(
        stimuli=str(root / "stimuli"), results=str(root / "results"), n_samples=int(CLIP_S * 16000)
    )
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    path = root / "listening.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("front_end_name", sorted(FRONT_ENDS))
def test_a_real_browser_rates_one_trial(front_end_name: str, tmp_path: Path) -> None:
    front_end = FRONT_ENDS[front_end_name]
    require_tools(front_end)
    from playwright.sync_api import expect, sync_playwright

    write_notebook(tmp_path)
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port, token, front_end)
    try:
        wait_for_server(
            f"{base}/api/status?token={token}", time.monotonic() + SERVER_START_TIMEOUT_S, server
        )
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=STEP_TIMEOUT_MS
            )
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(STEP_TIMEOUT_MS)
            try:
                page.goto(f"{base}{front_end.notebook_path}?token={token}")
                editor = page.locator(".jp-Notebook .jp-Cell .cm-content").first
                editor.wait_for(timeout=WIDGET_TIMEOUT_MS)
                wait_until_kernel_idle(page)
                editor.click()
                page.keyboard.press("Shift+Enter")

                listener = page.locator(".vaesep-listener-id input")
                listener.wait_for(timeout=WIDGET_TIMEOUT_MS)
                listener.fill("browser-01")
                page.locator("button.vaesep-begin").click()
                page.locator("button.vaesep-start").click()  # familiarisation done

                check_switch_keeps_position(page)
                check_loop(page)

                next_button = page.locator("button.vaesep-next")
                expect(next_button).to_be_disabled()
                boxes = page.locator("[class*='vaesep-rating-']")
                letters = sorted(
                    cls.removeprefix("vaesep-rating-")
                    for index in range(boxes.count())
                    for cls in boxes.nth(index).get_attribute("class").split()
                    if cls.startswith("vaesep-rating-")
                )
                assert letters == ["A", "B", "C", "D"]  # hidden ref, anchor, mixture, irm
                given = {letter: 17 + 21 * n for n, letter in enumerate(letters)}
                for letter, value in given.items():
                    box = page.locator(f".vaesep-rating-{letter} input")
                    box.fill(str(value))
                    box.press("Tab")  # text widgets send their value on change
                    expect(page.locator(f".vaesep-mark-{letter}")).to_contain_text("rated")
                expect(next_button).to_be_enabled()
                next_button.click()
                expect(page.locator(".vaesep-status")).to_contain_text(
                    "All 1 trials are saved", timeout=STEP_TIMEOUT_MS
                )
            except Exception:
                # leave evidence for a CI failure: what the page showed, what the server said
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
                log_tail = (tmp_path / "jupyter.log").read_text(errors="replace")[-3000:]
                print(f"screenshot: {tmp_path / 'failure.png'}\njupyter log tail:\n{log_tail}")
                raise
            finally:
                browser.close()
    finally:
        stop_server(server)

    (results_file,) = (tmp_path / "results").glob("browser-01__*.jsonl")
    lines = [json.loads(line) for line in results_file.read_text().splitlines()]
    trials = [line for line in lines if line["type"] == "trial"]
    assert len(trials) == 1
    stored = {entry["letter"]: entry["rating"] for entry in trials[0]["ratings"]}
    assert stored == given
    assert trials[0]["listener_id"] == "browser-01"
    assert trials[0]["reference_plays"] == 1
    plays = {entry["letter"]: entry["plays"] for entry in trials[0]["ratings"]}
    assert plays == {"A": 0, "B": 1, "C": 0, "D": 0}
