"""The audio a listening test plays, rendered once into a folder with an index.

Notebook 05, section "Building the stimuli". Per item (an excerpt of one target voice in a
test mixture), one WAV per condition: the hidden reference (the clean target), the 3.5 kHz
low-pass anchor, the unprocessed mixture, and every separator's estimate. All versions of an
item get the same RMS (listeners prefer the louder of two similar sounds, and separators do
not keep the level), turned down together if any would clip. Files have opaque names; only
``stimuli.json`` maps them to conditions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import MIXTURE, SAMPLE_RATE, as_mono_float, load_audio, rms, save_audio
from vaesep.files import read_json, write_json
from vaesep.listening.design import ANCHOR_PREFIX, HIDDEN_REFERENCE, ListeningDesign

INDEX_NAME = "stimuli.json"
ANCHOR = f"{ANCHOR_PREFIX}3.5kHz"  # BS.1534's low anchor: the reference low-passed at 3.5 kHz
ANCHOR_FILTER = (
    "Butterworth low-pass, order 8, applied forwards and backwards (scipy.signal.sosfiltfilt), "
    "-6 dB at 3500 Hz"
)
TARGET_RMS = 0.05  # common level of every version of an item (about -26 dBFS)
PEAK_LIMIT = 0.98  # no sample louder than this: loud items are turned down as a whole

Metric = Callable[[np.ndarray, np.ndarray], float]  # metric(reference, estimate) -> score


@dataclass(frozen=True)
class ItemAudio:
    """One item before rendering: a mixture excerpt ``(n_samples,)``, its sources
    ``(n_sources, n_samples)`` (they add up to it), and the ``target`` voice judged."""

    item_id: str
    mixture: np.ndarray
    sources: np.ndarray
    source_names: tuple[str, ...]
    target: str
    sample_rate: int = SAMPLE_RATE
    description: str = ""  # for the teacher: split, mixture, excerpt times

    def __post_init__(self) -> None:
        expected = (len(self.source_names), np.shape(self.mixture)[-1])
        if self.target not in self.source_names or np.shape(self.sources) != expected:
            raise ValueError(
                f"item {self.item_id!r}: target {self.target!r} must be one of {self.source_names}"
                f", and sources of shape {expected}, not {np.shape(self.sources)}"
            )


@dataclass(frozen=True)
class StimulusItem:
    """The files of one rendered item (condition -> file name) and each condition's scores."""

    item_id: str
    files: dict[str, str]
    description: str
    metrics: dict[str, dict[str, float]]  # condition -> metric -> dB


@dataclass(frozen=True)
class StimulusSet:
    """A folder of rendered stimuli; ``stimulus_set_id`` fingerprints what was rendered."""

    folder: Path
    stimulus_set_id: str
    sample_rate: int
    conditions: tuple[str, ...]
    anchor_filter: str  # a sentence for reports
    items: tuple[StimulusItem, ...]

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.item_id for item in self.items)

    def load(self, item_id: str, condition: str) -> np.ndarray:
        """The waveform of one condition of one item."""
        files = {item.item_id: item.files for item in self.items}
        if item_id not in files:
            raise KeyError(f"no item {item_id!r} in {self.folder}; known items: {self.item_ids}")
        return load_audio(self.folder / files[item_id][condition], sr=self.sample_rate)

    def metrics(self) -> dict[tuple[str, str], dict[str, float]]:
        """``(item_id, condition) -> {metric: score}``, as the analysis takes them."""
        return {(item.item_id, c): s for item in self.items for c, s in item.metrics.items()}

    def design(self, *, seed: int = 0, n_trials: int | None = None) -> ListeningDesign:
        """A design over every item, or the first ``n_trials``."""
        items = self.item_ids[:n_trials]
        return ListeningDesign(self.stimulus_set_id, items, self.conditions, seed)


def low_pass_anchor(signal: np.ndarray, sr: int) -> np.ndarray:
    """The MUSHRA low anchor (see ``ANCHOR_FILTER``): zero phase, so not delayed as well."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(8, 3500.0, btype="lowpass", fs=sr, output="sos")
    signal = np.asarray(signal, dtype=np.float32)
    pad = min(3 * (2 * len(sos) + 1), signal.shape[0] - 1)  # short inputs need a shorter pad
    return sosfiltfilt(sos, signal, padlen=pad).astype(np.float32)


def level_align(waves: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Scale each waveform to ``TARGET_RMS``, then all by one gain so none exceeds
    ``PEAK_LIMIT``: every version of an item keeps the same level."""
    scaled = {}
    for condition, wave in waves.items():
        if rms(wave) <= 1e-9:
            raise ValueError(f"condition {condition!r} is silent: its level cannot be matched")
        scaled[condition] = np.asarray(wave, dtype=np.float64) * (TARGET_RMS / rms(wave))
    gain = min(1.0, PEAK_LIMIT / max(float(np.max(np.abs(wave))) for wave in scaled.values()))
    return {condition: (wave * gain).astype(np.float32) for condition, wave in scaled.items()}


def _versions(item: ItemAudio, separators: Sequence[Any]) -> dict[str, np.ndarray]:
    """Every condition's waveform of one item, before level alignment."""
    target = as_mono_float(item.sources[item.source_names.index(item.target)])
    waves = {HIDDEN_REFERENCE: target, ANCHOR: low_pass_anchor(target, item.sample_rate)}
    waves[MIXTURE] = as_mono_float(item.mixture)
    for separator in separators:
        references = item.sources if separator.needs_references else None
        estimates = separator.separate(item.mixture, item.sample_rate, references=references)
        names = separator.source_names
        if item.target in names:
            waves[separator.name] = estimates[names.index(item.target)]
        elif estimates.shape[0] == len(item.source_names):  # named otherwise, data set's order
            waves[separator.name] = estimates[item.source_names.index(item.target)]
        else:
            raise ValueError(
                f"separator {separator.name!r} returns {names}; none is {item.target!r}"
            )
    return waves


def render_stimuli(
    items: Sequence[ItemAudio],
    separators: Sequence[Any],
    folder: str | os.PathLike,
    *,
    metrics: Mapping[str, Metric] | None = None,
    seed: int = 0,
) -> StimulusSet:
    """Render every condition of every item, level-aligned, into ``folder`` with its index.

    ``separators`` are the systems under test (``name``, ``source_names``,
    ``needs_references``, ``separate(mixture, sr, references=)``). ``metrics`` score each
    version against the clean target, before level alignment. ``seed`` salts file names.
    """
    if len({item.sample_rate for item in items}) > 1:
        raise ValueError("all items must share a sample rate")
    # the unprocessed mixture goes by the name the comparison gives its floor
    conditions = (HIDDEN_REFERENCE, ANCHOR, MIXTURE, *(s.name for s in separators))
    # checked before any rendering: one trial per item, distinct conditions behind the letters
    ListeningDesign("", tuple(item.item_id for item in items), conditions)
    sample_rate, folder = items[0].sample_rate, Path(folder)
    # the salt depends on the seed only: every machine rendering the same items gets the
    # same file names and stimulus-set id, so a class can pool its results
    salt = hashlib.sha256(f"vaesep-stimuli|{seed}".encode()).hexdigest()
    fingerprint, rendered = hashlib.sha256(), []
    for item in items:
        waves = _versions(item, separators)
        target, scores, files = waves[HIDDEN_REFERENCE], {}, {}
        for condition, wave in waves.items():
            if metrics and condition != HIDDEN_REFERENCE:  # the reference would score +inf
                values = {name: float(metric(target, wave)) for name, metric in metrics.items()}
                # a perfect estimate too: +inf is not JSON, and every use skips it anyway
                scores[condition] = {k: v for k, v in values.items() if math.isfinite(v)}
        for condition, wave in level_align(waves).items():
            token = hashlib.sha256(f"{salt}|{item.item_id}|{condition}".encode()).hexdigest()
            files[condition] = f"{token[:16]}.wav"
            save_audio(folder / files[condition], wave, sample_rate)
            # identity is what was rendered, not the float bytes (they differ between CPUs)
            fingerprint.update(f"{item.item_id}|{item.description}|{files[condition]}".encode())
        rendered.append(StimulusItem(item.item_id, files, item.description, scores))
    set_id = fingerprint.hexdigest()[:16]
    stimuli = StimulusSet(folder, set_id, sample_rate, conditions, ANCHOR_FILTER, tuple(rendered))
    index = dataclasses.asdict(stimuli)
    del index["folder"]  # the index belongs to whichever folder holds it
    write_json(folder / INDEX_NAME, {"format": 1, **index})
    return stimuli


def load_stimuli(folder: str | os.PathLike) -> StimulusSet:
    """Read the stimulus set that :func:`render_stimuli` wrote into ``folder``."""
    folder = Path(folder)
    if not (folder / INDEX_NAME).is_file():
        raise FileNotFoundError(
            f"no {INDEX_NAME} in {folder}: render the stimuli first with "
            "vaesep.listening.render_stimuli(...)"
        )
    index = read_json(folder / INDEX_NAME)
    del index["format"]
    items = tuple(StimulusItem(**item) for item in index.pop("items"))
    return StimulusSet(folder, conditions=tuple(index.pop("conditions")), items=items, **index)


def excerpt_bounds(signal: np.ndarray, sr: int, max_seconds: float) -> tuple[int, int]:
    """``(start, stop)`` of the most energetic ``max_seconds`` of ``signal`` (on a 0.25 s
    grid): BS.1534 asks for short excerpts, and the loudest avoids judging silence."""
    n_samples, length = int(np.shape(signal)[-1]), int(round(max_seconds * sr))
    if n_samples <= length:
        return 0, n_samples
    energy = np.concatenate([[0.0], np.cumsum(np.square(signal, dtype=np.float64))])
    starts = np.arange(0, n_samples - length + 1, max(1, int(0.25 * sr)))
    start = int(starts[int(np.argmax(energy[starts + length] - energy[starts]))])
    return start, start + length


def items_from_dataset(
    dataset: Any, chosen: Sequence[tuple[str, int, str]], *, max_seconds: float = 8.0
) -> list[ItemAudio]:
    """Cut the items the teacher chose, ``(split, index, target)`` each, from a built data
    set: ``("test_cs", 0, "m")`` is Czech mixture 0 judged on speaker ``m``. Each item is
    the most energetic ``max_seconds`` of its target; ids read like ``"test_cs-000-m"``."""
    names, sr, items = tuple(dataset.source_names), SAMPLE_RATE, []
    for split, index, target in chosen:
        if target not in names:
            raise ValueError(f"target {target!r} is not a source of this data set: {names}")
        mixture, sources = dataset.mixtures(split)[index], dataset.sources(split)[index]
        start, stop = excerpt_bounds(sources[names.index(target)], sr, max_seconds)
        description = f"split {split}, mixture {index}, target {target}, "
        description += f"{start / sr:.2f}-{stop / sr:.2f} s"
        mixture = np.asarray(mixture[start:stop], dtype=np.float32)
        sources = np.asarray(sources[:, start:stop], dtype=np.float32)
        items.append(ItemAudio(f"{split}-{index:03d}-{target}", mixture, sources, names, target,
                               sr, description))
    return items


def separation_metrics() -> dict[str, Metric]:
    """SDR (BSS-eval v3) and SI-SDR in dB, for :func:`render_stimuli`'s ``metrics``.
    Against the target alone, SDR does not depend on the other source."""
    from vaesep.metrics import bss_eval, si_sdr

    return {
        "SDR": lambda ref, est: float(bss_eval(ref[None], est[None])["sdr"][0]),
        "SI-SDR": lambda ref, est: float(si_sdr(ref[None], est[None])[0]),
    }
