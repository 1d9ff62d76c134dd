"""A pure-numpy stand-in for the speech set: two synthetic harmonic "voices".

Source ``low`` sings "syllables" at 90–160 Hz, ``high`` at 200–320 Hz, each with its own
F0 glide, vibrato, formants, envelope and a little breath noise: separable from spectra,
not from one fixed tone. It needs no system packages and builds in about a second,
so it is the data of the unit tests (tests/conftest.py); notebook 01 does not show it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.data.builder import BuildRequest, DatasetBuilder, DatasetWriter

F0Range = tuple[float, float]  # a voice's lowest and highest F0, Hz
VOICES: dict[str, F0Range] = {"low": (90.0, 160.0), "high": (200.0, 320.0)}
SYLLABLE_SECONDS, GAP_SECONDS = (0.12, 0.40), (0.02, 0.15)  # each drawn uniformly from its range
HARMONICS_UP_TO_HZ = 7000.0  # harmonics above are left out: band-limited, nothing aliases at 16 kHz
BREATH_LEVEL = 0.03  # breath noise amplitude relative to the voiced part (about -30 dB)
_TABLE_SIZE = 2048


def _wavetable(f0_max: float, formants: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One period of a vowel-like waveform: harmonic k at ``1/k`` (a glottal-like tilt) times
    two formant bumps (placed for ``f0_max``, so they stay put during the glide)."""
    n_harmonics = min(_TABLE_SIZE // 2 - 1, max(1, int(HARMONICS_UP_TO_HZ // f0_max)))
    k = np.arange(1, n_harmonics + 1)
    frequencies = k * f0_max
    resonance = sum(np.exp(-0.5 * ((frequencies - mid) / width) ** 2) for mid, width in formants)
    amplitudes = (1.0 / k) * (0.15 + resonance)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=n_harmonics)
    # an inverse FFT with one non-zero bin per harmonic is the sum of sines, in O(N log N)
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=np.complex128)
    spectrum[k] = amplitudes * np.exp(1j * (phases - np.pi / 2)) * (_TABLE_SIZE / 2)
    return np.fft.irfft(spectrum, n=_TABLE_SIZE)


def synthesize_syllable(f0_range: F0Range, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """One voiced syllable, ``(n_samples,)`` float32, peak around 1."""
    t = np.arange(n_samples) / SAMPLE_RATE
    start_f0 = rng.uniform(*f0_range)
    end_f0 = np.clip(start_f0 * rng.uniform(0.85, 1.15), *f0_range)
    vibrato_rate, vibrato_depth = rng.uniform(4.5, 6.5), rng.uniform(0.005, 0.02)
    f0 = np.linspace(start_f0, end_f0, n_samples) * (
        1.0 + vibrato_depth * np.sin(2.0 * np.pi * vibrato_rate * t + rng.uniform(0, 2 * np.pi))
    )
    formants = np.array([[rng.uniform(300.0, 900.0), 150.0], [rng.uniform(900.0, 2500.0), 250.0]])
    table = _wavetable(float(f0.max()), formants, rng)
    cycles = np.cumsum(f0) / SAMPLE_RATE  # phase in periods
    position = (cycles % 1.0) * _TABLE_SIZE
    lower = position.astype(np.int64)
    fraction = position - lower
    voiced = table[lower] * (1 - fraction) + table[(lower + 1) % _TABLE_SIZE] * fraction
    voiced /= np.max(np.abs(table)) + 1e-12
    attack = min(n_samples // 2, int(rng.uniform(0.02, 0.05) * SAMPLE_RATE))
    release = min(n_samples // 2, int(rng.uniform(0.04, 0.10) * SAMPLE_RATE))
    envelope = np.ones(n_samples)
    envelope[:attack] = np.sin(0.5 * np.pi * np.arange(attack) / attack) ** 2
    envelope[n_samples - release :] = np.cos(0.5 * np.pi * np.arange(release) / release) ** 2
    breath = np.diff(rng.standard_normal(n_samples + 1)) * BREATH_LEVEL  # differenced: high-pass
    return ((voiced + breath) * envelope * rng.uniform(0.5, 1.0)).astype(np.float32)


def synthesize_voice(f0_range: F0Range, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Syllables and short pauses filling ``seconds``; the pauses hold a faint noise floor
    (about -60 dB) rather than digital silence, as a microphone would."""
    total = int(round(seconds * SAMPLE_RATE))
    signal = (rng.standard_normal(total) * 1e-3).astype(np.float32)
    position = int(rng.uniform(*GAP_SECONDS) * SAMPLE_RATE)
    while position < total:
        length = int(rng.uniform(*SYLLABLE_SECONDS) * SAMPLE_RATE)
        syllable = synthesize_syllable(f0_range, length, rng)[: total - position]
        signal[position : position + syllable.shape[0]] += syllable
        position += length + int(rng.uniform(*GAP_SECONDS) * SAMPLE_RATE)
    return signal


class SyntheticBuilder(DatasetBuilder):
    """Builds ``data.build("synthetic")`` (see the module docstring)."""

    version = "1"
    source_names = tuple(VOICES)

    def settings(self, fast: bool) -> dict[str, Any]:
        return {"segment_seconds": 2.0, "train_seconds_per_source": 30.0 if fast else 120.0,
                "items_per_split": 6 if fast else 16}  # fmt: skip

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        settings = request.settings
        # evaluation streams hold 25 % more than the items, so pairings have a choice
        evaluation = settings["items_per_split"] * settings["segment_seconds"] * 1.25
        for split in self.splits:
            seconds = settings["train_seconds_per_source"] if split == "train" else evaluation
            streams = {name: synthesize_voice(voice, seconds, request.rng("voice", split, name))
                       for name, voice in VOICES.items()}  # fmt: skip
            writer.add_split(split, streams=streams, request=request,
                             max_items=settings["items_per_split"])  # fmt: skip
        writer.note("voices", {name: list(f0_range) for name, f0_range in VOICES.items()})
