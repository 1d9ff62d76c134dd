"""vaesep.stats: pitch, levels, local SNR and split tables."""

import math

import numpy as np
import pytest

from vaesep import stats
from vaesep.spectral import DEFAULT_STFT


def harmonic_tone(f0: float, seconds: float = 1.0, sr: int = 16_000, n_harmonics: int = 6) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, n_harmonics + 1)).astype(np.float32)


def test_estimate_f0_finds_the_fundamental_on_the_stft_grid():
    f0 = stats.estimate_f0(harmonic_tone(150.0))
    assert f0.size == DEFAULT_STFT.n_frames(16_000)
    assert np.isfinite(f0).mean() > 0.8
    assert np.nanmedian(f0) == pytest.approx(150.0, rel=0.02)


def test_estimate_f0_at_another_rate_keeps_the_frame_duration():
    f0 = stats.estimate_f0(harmonic_tone(220.0, sr=22_050), sr=22_050)
    assert f0.size == pytest.approx(DEFAULT_STFT.n_frames(16_000), abs=1)
    assert np.nanmedian(f0) == pytest.approx(220.0, rel=0.02)


def test_estimate_f0_rejects_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        stats.estimate_f0(np.zeros((2, 4000), dtype=np.float32))
    with pytest.raises(ValueError, match="shorter"):
        stats.estimate_f0(np.zeros(100, dtype=np.float32))


def test_speaker_f0_separates_the_synthetic_voices(synthetic_dataset):
    result = stats.speaker_f0(synthetic_dataset, "train", seconds=4.0, excerpt_seconds=2.0, progress=False)
    assert list(result) == list(synthetic_dataset.source_names)
    low, high = result["low"], result["high"]
    assert low.split == "train" and low.seconds == pytest.approx(4.0)
    assert 0.3 < low.voiced_fraction <= 1.0
    assert 85 < low.percentile(50) < 170 and 190 < high.percentile(50) < 340
    assert low.percentile(10) <= low.percentile(50) <= low.percentile(90)


def test_speaker_f0_statistics_of_nothing_are_nan():
    empty = stats.SpeakerF0("x", "train", np.zeros(0), 0, 0.0)
    assert math.isnan(empty.voiced_fraction) and math.isnan(empty.percentile(50))


def test_frame_levels_of_a_sine_and_of_silence():
    sine = np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000)
    levels = stats.frame_levels_db(sine)
    assert levels.size == 1 + (16_000 - 1024) // 256
    assert np.allclose(levels, 20 * np.log10(np.sqrt(0.5)), atol=0.05)
    assert stats.frame_levels_db(np.zeros(2000)).max() < -100
    assert stats.frame_levels_db(np.ones(10)).shape == (1,)
    with pytest.raises(ValueError):
        stats.frame_levels_db(np.zeros(0))


def test_level_statistics_counts_pauses():
    rng = np.random.default_rng(0)
    speech_like = np.concatenate([0.1 * rng.standard_normal(16_000), np.zeros(16_000)])
    result = stats.level_statistics(speech_like)
    assert result["rms_dbfs"] == pytest.approx(20 * np.log10(0.1) - 10 * np.log10(2), abs=0.1)
    assert 0.4 < result["active_fraction"] < 0.6
    assert 0 <= result["level_spread_db"] < 2


def test_dataset_levels_cover_every_source(synthetic_dataset):
    levels = stats.dataset_levels(synthetic_dataset, "valid")
    assert list(levels) == list(synthetic_dataset.source_names)
    assert all(0 < level["active_fraction"] <= 1 for level in levels.values())


def test_local_snr_of_scaled_copies_is_their_gain():
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((3, 8_000))
    sources = np.stack([noise, noise * 10 ** (-6 / 20)], axis=1)
    snr = stats.local_snr_db(sources)
    assert np.allclose(snr, 6.0, atol=1e-6)
    shares = stats.dominance(np.array([-20.0, 0.0, 15.0, 30.0]))
    assert shares == {"first": 0.5, "second": 0.25, "neither": 0.25}
    assert math.isnan(stats.dominance(np.zeros(0))["first"])
    with pytest.raises(ValueError, match="n_items, 2"):
        stats.local_snr_db(np.zeros((2, 3, 100)))


def test_split_and_speaker_summaries_are_tables_with_data(synthetic_dataset):
    markdown, data = stats.split_summary(synthetic_dataset)
    # the header, the rule under it, and a row per split
    assert sum(line.startswith("| ") for line in markdown.splitlines()) == len(synthetic_dataset.splits) + 2
    assert "| train | - | - | - | - |" in markdown  # generated audio: no language, no files
    assert set(data["splits"]) == set(synthetic_dataset.splits)
    f0 = stats.speaker_f0(synthetic_dataset, "valid", seconds=2.0, excerpt_seconds=2.0, progress=False)
    levels = {("valid", name): level for name, level in stats.dataset_levels(synthetic_dataset, "valid").items()}
    table, rows = stats.speaker_summary(list(f0.values()), levels)
    assert "F0 median (Hz)" in table and "RMS (dBFS)" in table
    assert [row["source"] for row in rows["rows"]] == list(synthetic_dataset.source_names)
    assert all("active_fraction" in row for row in rows["rows"])


def test_both_voiced_window_finds_the_overlap():
    a = np.full(100, np.nan)
    b = np.full(100, np.nan)
    a[20:60] = 100.0
    b[40:90] = 200.0
    assert stats.both_voiced_window([a, b], 20) == 40
    assert stats.both_voiced_window([a], 10) == 20
    assert stats.both_voiced_window([a, b], 500) == 0
