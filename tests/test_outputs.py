"""Light notebook outputs: one labelled player per comparison at true levels, compact figures."""

from __future__ import annotations

import base64
import importlib.util
import io
import re

import numpy as np
import pytest
import soundfile
from PIL import Image

from vaesep.data.builder import install_command
from vaesep.plots import plot_spectrograms
from vaesep.widgets.outputs import HEADROOM, compact_png, multitrack

RATE = 16_000


def decoded_tracks(player) -> list[np.ndarray]:
    uris = re.findall(r"src='data:audio/flac;base64,([^']+)'", player.data)
    return [soundfile.read(io.BytesIO(base64.b64decode(uri)))[0] for uri in uris]


def test_one_player_keeps_the_level_differences_and_names_every_track() -> None:
    rng = np.random.default_rng(0)
    loud, quiet = 0.5 * rng.standard_normal(RATE), 0.05 * rng.standard_normal(RATE)
    player = multitrack({"mixture": loud, "estimate <v>": quiet}, RATE, title="target: speaker v")
    waves = decoded_tracks(player)
    assert len(waves) == 2 and player.data.count("<audio") == 2
    # one scale for all: the loudest peak at HEADROOM, the quiet track 20 dB below (not normalised to its own peak)
    assert np.max(np.abs(waves[0])) == pytest.approx(HEADROOM, abs=1e-4)
    ratio = np.sqrt(np.mean(waves[1] ** 2) / np.mean(waves[0] ** 2))
    assert ratio == pytest.approx(np.sqrt(np.mean(quiet**2) / np.mean(loud**2)), rel=0.01)
    assert "target: speaker v" in player.data and "estimate &lt;v&gt;" in player.data  # labels escaped
    level = 20 * np.log10(np.sqrt(np.mean(quiet**2) / np.mean(loud**2)))
    assert f"{level:+.1f} dB" in player.data and "+0.0 dB" in player.data  # re the first track
    with pytest.raises(ValueError, match="at least one track"):
        multitrack({}, RATE, title="nothing")


def test_figures_are_stored_as_small_palette_pngs_without_page_long_layouts() -> None:
    rng = np.random.default_rng(0)
    signals = {f"method {n}": rng.standard_normal(RATE) * (n + 1) for n in range(14)}
    figure = plot_spectrograms(signals, title="fourteen methods")
    width, height = figure.get_size_inches() * figure.dpi
    assert height < 1.2 * width  # two columns past six panels, not 14 rows on a 3:1 page
    plain = io.BytesIO()
    figure.savefig(plain, format="png", bbox_inches="tight")
    compact = compact_png(figure)
    image = Image.open(io.BytesIO(compact))
    assert image.mode == "P" and np.allclose(image.size, Image.open(plain).size, atol=2)  # same pixels
    assert len(compact) < 0.5 * len(plain.getvalue())


def test_starting_another_track_pauses_the_first_and_keeps_the_position(tmp_path) -> None:
    """The player's script in Debian's Chromium: play one row, then another, as a listener switches."""
    from test_listening_browser import CHROMIUM, CHROMIUM_ARGS

    if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
        pytest.skip(f"needs pip install 'playwright>=1.40,<2' and {install_command(['chromium'])} "
                    "(never 'playwright install': it downloads a browser)")  # under CI=true: a failure
    from playwright.sync_api import sync_playwright

    rng = np.random.default_rng(0)
    player = multitrack({"a": 0.3 * rng.standard_normal(3 * RATE), "b": 0.03 * rng.standard_normal(3 * RATE)},
                        RATE, title="switching")
    page_file = tmp_path / "player.html"
    page_file.write_text(f"<html><body>{player.data}</body></html>", encoding="utf-8")
    state = "[...document.querySelectorAll('audio')].map(a => [a.paused, a.currentTime])"
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            page.evaluate("document.querySelectorAll('audio')[0].play()")
            page.wait_for_function("document.querySelectorAll('audio')[0].currentTime > 0.5", timeout=20_000)
            page.evaluate("document.querySelectorAll('audio')[1].play()")
            page.wait_for_function("!document.querySelectorAll('audio')[1].paused", timeout=20_000)
            (first_paused, first_at), (second_paused, second_at) = page.evaluate(state)
        finally:
            browser.close()
    assert first_paused and not second_paused
    assert first_at > 0.5
    # picked up where the first stopped, not from 0; a seek in a FLAC stream may land a few
    # samples early (CI saw 0.542204 s after 0.542244 s), so allow 20 ms
    assert second_at >= first_at - 0.02
