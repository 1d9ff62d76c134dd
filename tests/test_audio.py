"""Loading, channel handling, resampling and SNR mixing (vaesep.audio)."""

import numpy as np
import pytest
import soundfile as sf

from vaesep import audio


def test_int16_is_scaled_to_unit_range():
    pcm = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    np.testing.assert_allclose(audio.as_mono_float(pcm), [0.0, 0.5, -1.0, 32767 / 32768], atol=1e-6)


@pytest.mark.parametrize("layout", ["samples_first", "channels_first"])
def test_stereo_is_averaged_either_layout(layout):
    left = np.linspace(-1, 1, 1000, dtype=np.float32)
    stereo = np.stack([left, -left * 0.5], axis=1 if layout == "samples_first" else 0)
    np.testing.assert_allclose(audio.as_mono_float(stereo), left * 0.25, atol=1e-6)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros(0), "empty"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.zeros((2, 2, 2)), "dimensions"),
        (np.zeros((20, 30)), "channels"),
        (np.array(["a"]), "numeric"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        audio.as_mono_float(bad)


def test_resample_length_and_tone_frequency():
    sr = 44_100
    t = np.arange(sr) / sr
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    down = audio.resample(tone, sr, 16_000)
    assert down.shape == (16_000,)
    spectrum = np.abs(np.fft.rfft(down))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins over one second


def test_mix_at_snr_sets_the_ratio():
    rng = np.random.default_rng(0)
    target, interferer = rng.standard_normal(8000) * 3, rng.standard_normal(8000) * 0.1
    for snr in (-5.0, 0.0, 5.0):
        a, b = audio.mix_at_snr(target, interferer, snr)
        measured = 20 * np.log10(audio.rms(a) / audio.rms(b))
        assert measured == pytest.approx(snr, abs=1e-3)
        assert audio.rms(a) == pytest.approx(1.0, abs=1e-4)
    with pytest.raises(ValueError, match="silent"):
        audio.mix_at_snr(target, np.zeros(8000))


def test_load_and_save_round_trip(tmp_path):
    signal = (np.random.default_rng(1).standard_normal(22_050) * 0.1).astype(np.float32)
    path = tmp_path / "x.flac"
    sf.write(path, np.stack([signal, signal], axis=1), 22_050)
    loaded = audio.load_audio(path)
    assert loaded.shape == (16_000,) and loaded.dtype == np.float32
    saved = audio.save_audio(tmp_path / "out" / "y.wav", loaded)
    assert np.allclose(sf.read(saved)[0], loaded, atol=1e-7)
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.wav"):
        audio.load_audio(tmp_path / "nothere.wav")
    corrupt = tmp_path / "broken.ogg"
    corrupt.write_bytes(b"OggS" + b"\x00" * 50)
    with pytest.raises(OSError, match="broken.ogg"):
        audio.load_audio(corrupt)


def test_streamed_resampling_is_bit_identical_to_one_shot(monkeypatch):
    signal = np.random.default_rng(2).standard_normal(44_100 * 3).astype(np.float32)
    for orig, target in [(44_100, 16_000), (16_000, 48_000), (22_050, 16_000)]:
        whole = audio.resample(signal, orig, target)
        with monkeypatch.context() as patch:
            patch.setattr(audio, "_STREAM_BLOCK", 10_007)  # many blocks, odd size
            streamed = audio.resample(signal, orig, target)
        np.testing.assert_array_equal(streamed, whole)


def test_resampling_refuses_bad_rates_and_huge_outputs(monkeypatch):
    with pytest.raises(TypeError, match="orig_sr"):
        audio.resample(np.zeros(100, np.float32), True, 16_000)
    with pytest.raises(ValueError, match="target_sr"):
        audio.resample(np.zeros(100, np.float32), 16_000, 2**40)
    monkeypatch.setattr(audio, "MAX_RESAMPLED_SAMPLES", 1000)
    with pytest.raises(ValueError, match="process the recording in parts"):
        audio.resample(np.zeros(500, np.float32), 8000, 48_000)


def test_a_file_declaring_an_absurd_sample_rate_is_refused(tmp_path):
    path = tmp_path / "one_hertz.wav"
    sf.write(path, np.zeros(100, np.float32), 1)  # resampling it to 16 kHz would multiply it by 16000
    with pytest.raises(ValueError, match="one_hertz.wav"):
        audio.load_audio(path)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.uint8, np.uint16])
def test_pcm_integers_are_scaled_by_their_full_range(dtype):
    info = np.iinfo(dtype)
    pcm = np.array([info.min, info.max], dtype=dtype)
    scaled = audio.as_mono_float(pcm)
    assert scaled[0] == -1.0 and 0.99 < scaled[1] <= 1.0
