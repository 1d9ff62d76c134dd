"""Rendering the audio a listening test plays, and the index that describes it.

For every chosen item (one excerpt of one target source in one test mixture)
this writes one WAV per condition: the hidden reference (the clean target),
one or more low-pass anchors, optionally the unprocessed mixture, and the
target estimate of every separator under test. Notebook 05, section
"Building the stimuli", walks through it.

Two rules shape the code:

* **Equal level.** Listeners reliably prefer the louder of two otherwise
  similar sounds, and separators do not preserve level (a mixture is louder
  than one of its sources; masks remove energy). So all conditions of an item
  are scaled to the same RMS, and if that would clip any of them, the whole
  item is turned down together. RMS is a simple stand-in for a loudness model
  such as ITU-R BS.1770; for speech against speech it is close enough.
* **Nothing in a name.** File names are opaque tokens; only the JSON index
  (``stimuli.json``) maps them to conditions, so neither a file browser nor
  the audio player reveals which letter hides which system.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vaesep.audio import SAMPLE_RATE, as_mono_float, load_audio, rms, save_audio
from vaesep.listening.design import (
    ANCHOR_PREFIX,
    HIDDEN_REFERENCE,
    MIXTURE,
    ListeningDesign,
)
from vaesep.models import Separator

INDEX_NAME = "stimuli.json"
"""File name of the index inside a stimuli folder."""

DEFAULT_ANCHOR_CUTOFFS_HZ: tuple[float, ...] = (3500.0,)
"""BS.1534-3 prescribes a low anchor low-passed at 3.5 kHz (a 7 kHz mid anchor is optional)."""

ANCHOR_FILTER_ORDER = 8
"""Order of the Butterworth prototype of the anchor filter (run forwards and backwards)."""

TARGET_RMS = 0.05
"""Common RMS of all conditions of an item (about -26 dBFS), leaving headroom for peaks."""

PEAK_LIMIT = 0.98
"""No rendered sample may exceed this magnitude; louder items are turned down as a whole."""

MetricFunction = Callable[[np.ndarray, np.ndarray], float]
"""``metric(reference, estimate) -> score`` on two ``(n_samples,)`` waveforms."""


@dataclass(frozen=True)
class ItemAudio:
    """The raw material of one item: a mixture excerpt and its true sources.

    Notebook 05, section "Building the stimuli".

    Attributes:
        item_id: unique, human-readable id (shown to the teacher, not the listener).
        mixture: ``float32 (n_samples,)``.
        sources: ``float32 (n_sources, n_samples)``; they add up to ``mixture``.
        source_names: one name per row of ``sources``.
        target: the source the listener judges (the reference).
        sample_rate: in Hz.
        description: free text for the teacher (split, speaker, offset).
    """

    item_id: str
    mixture: np.ndarray
    sources: np.ndarray
    source_names: tuple[str, ...]
    target: str
    sample_rate: int = SAMPLE_RATE
    description: str = ""

    def __post_init__(self) -> None:
        if self.target not in self.source_names:
            raise ValueError(
                f"item {self.item_id!r}: target {self.target!r} is not one of the source "
                f"names {self.source_names}"
            )
        if np.ndim(self.sources) != 2 or np.shape(self.sources)[0] != len(self.source_names):
            raise ValueError(
                f"item {self.item_id!r}: sources must have shape (n_sources, n_samples) with "
                f"n_sources = {len(self.source_names)}, got {np.shape(self.sources)}"
            )
        if np.shape(self.sources)[1] != np.shape(self.mixture)[-1]:
            raise ValueError(
                f"item {self.item_id!r}: mixture has {np.shape(self.mixture)[-1]} samples, "
                f"sources have {np.shape(self.sources)[1]}"
            )

    @property
    def target_index(self) -> int:
        """Row of :attr:`sources` that holds the target."""
        return self.source_names.index(self.target)


@dataclass(frozen=True)
class StimulusItem:
    """The files of one item in a rendered stimulus set.

    Notebook 05, section "Building the stimuli".

    Attributes:
        item_id: as in :class:`ItemAudio`.
        files: condition name → file name (relative to the stimuli folder);
            the labelled reference plays the hidden-reference file.
        description: free text for the teacher.
        metrics: condition name → metric name → value of that condition
            against the clean target (empty when no metrics were asked for).
    """

    item_id: str
    files: dict[str, str]
    description: str = ""
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class StimulusSet:
    """A folder of rendered stimuli and its index.

    Notebook 05, section "Building the stimuli".

    Attributes:
        folder: where the WAV files and ``stimuli.json`` live.
        stimulus_set_id: fingerprint of the rendered audio (stored in results).
        sample_rate: of every file, in Hz.
        conditions: condition names, in the order given at rendering.
        items: one :class:`StimulusItem` per item, in rendering order.
        anchor_filter: a sentence stating the anchor filter, for reports.
    """

    folder: Path
    stimulus_set_id: str
    sample_rate: int
    conditions: tuple[str, ...]
    items: tuple[StimulusItem, ...]
    anchor_filter: str = ""

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Ids of all items, in rendering order."""
        return tuple(item.item_id for item in self.items)

    def item(self, item_id: str) -> StimulusItem:
        """The item with this id (``KeyError`` naming the known ids otherwise)."""
        for item in self.items:
            if item.item_id == item_id:
                return item
        raise KeyError(f"no item {item_id!r} in {self.folder}; known items: {self.item_ids}")

    def path(self, item_id: str, condition: str) -> Path:
        """The WAV file of one condition of one item."""
        return self.folder / self.item(item_id).files[condition]

    def load(self, item_id: str, condition: str) -> np.ndarray:
        """The waveform of one condition of one item, ``float32 (n_samples,)``."""
        return load_audio(self.path(item_id, condition), sr=self.sample_rate)

    def metrics(self) -> dict[tuple[str, str], dict[str, float]]:
        """Objective scores per ``(item_id, condition)``, as the analysis takes them."""
        return {
            (item.item_id, condition): dict(values)
            for item in self.items
            for condition, values in item.metrics.items()
        }

    def design(
        self,
        *,
        seed: int = 0,
        items: Sequence[str] | None = None,
        n_trials: int | None = None,
    ) -> ListeningDesign:
        """A listening design over these stimuli.

        Notebook 05, section "Blinding and balanced orders".

        Args:
            seed: base seed of every listener's random orders.
            items: the item ids the teacher chose (default: all).
            n_trials: keep only the first ``n_trials`` of ``items``.
        """
        chosen = tuple(items) if items is not None else self.item_ids
        unknown = [item for item in chosen if item not in self.item_ids]
        if unknown:
            raise ValueError(f"items {unknown} are not in {self.folder}; known: {self.item_ids}")
        if n_trials is not None:
            if not 1 <= n_trials <= len(chosen):
                raise ValueError(
                    f"n_trials must be between 1 and {len(chosen)} (the number of items), "
                    f"got {n_trials}"
                )
            chosen = chosen[:n_trials]
        return ListeningDesign(
            stimulus_set_id=self.stimulus_set_id,
            items=chosen,
            conditions=self.conditions,
            seed=seed,
        )

    def to_json(self) -> dict:
        """Plain-JSON form written to ``stimuli.json``."""
        return {
            "format": 1,
            "stimulus_set_id": self.stimulus_set_id,
            "sample_rate": self.sample_rate,
            "conditions": list(self.conditions),
            "anchor_filter": self.anchor_filter,
            "items": [
                {
                    "item_id": item.item_id,
                    "files": item.files,
                    "description": item.description,
                    "metrics": item.metrics,
                }
                for item in self.items
            ],
        }


def anchor_name(cutoff_hz: float) -> str:
    """Condition name of a low-pass anchor, e.g. ``anchor_3.5kHz`` for 3500 Hz.

    Notebook 05, section "Why a hidden reference and an anchor".
    """
    return f"{ANCHOR_PREFIX}{cutoff_hz / 1000:g}kHz"


def low_pass_anchor(
    signal: np.ndarray, sr: int, cutoff_hz: float = 3500.0, order: int = ANCHOR_FILTER_ORDER
) -> np.ndarray:
    """The reference low-passed at ``cutoff_hz``: the MUSHRA low anchor.

    Notebook 05, section "Why a hidden reference and an anchor". The filter is
    a Butterworth low-pass of order ``order`` in second-order sections, run
    forwards and backwards (``scipy.signal.sosfiltfilt``): zero phase, so the
    anchor is not also delayed, and the effective magnitude response is the
    square of the prototype's (order ``2·order`` roll-off, -6 dB at the cutoff).

    Args:
        signal: ``(n_samples,)`` waveform.
        sr: its sample rate in Hz; the cutoff must lie below ``sr / 2``.
        cutoff_hz: -6 dB point of the zero-phase filter, in Hz.
        order: Butterworth prototype order.

    Returns:
        ``float32 (n_samples,)``.
    """
    from scipy.signal import butter, sosfiltfilt

    if not 0 < cutoff_hz < sr / 2:
        raise ValueError(
            f"anchor cutoff {cutoff_hz} Hz must lie between 0 and the Nyquist frequency "
            f"{sr / 2} Hz of a {sr} Hz signal"
        )
    sos = butter(order, cutoff_hz, btype="lowpass", fs=sr, output="sos")
    signal = as_mono_float(signal, name="anchor input")
    # sosfiltfilt pads with a reflected copy; very short inputs need a shorter pad
    pad = min(3 * (2 * len(sos) + 1), signal.shape[0] - 1)
    return sosfiltfilt(sos, signal, padlen=pad).astype(np.float32)


def level_align(
    waveforms: Mapping[str, np.ndarray],
    target_rms: float = TARGET_RMS,
    peak_limit: float = PEAK_LIMIT,
) -> dict[str, np.ndarray]:
    """Scale each waveform to the same RMS, then all together below ``peak_limit``.

    Notebook 05, section "Building the stimuli" (why equal level matters).

    Args:
        waveforms: condition → ``(n_samples,)`` waveform.
        target_rms: the common RMS.
        peak_limit: largest allowed absolute sample value.

    Returns:
        condition → ``float32 (n_samples,)``, every one with the same RMS.

    Raises:
        ValueError: a condition is silent (its level cannot be matched).
    """
    scaled = {}
    for condition, wave in waveforms.items():
        level = rms(wave)
        if level <= 1e-9:
            raise ValueError(
                f"condition {condition!r} is silent, so its level cannot be matched; choose "
                "another excerpt or check the separator's output"
            )
        scaled[condition] = np.asarray(wave, dtype=np.float64) * (target_rms / level)
    peak = max(float(np.max(np.abs(wave))) for wave in scaled.values())
    common_gain = min(1.0, peak_limit / peak)
    return {name: (wave * common_gain).astype(np.float32) for name, wave in scaled.items()}


def _target_estimate(separator: Separator, item: ItemAudio) -> np.ndarray:
    references = item.sources if separator.needs_references else None
    estimates = separator.separate(item.mixture, item.sample_rate, references=references)
    if item.target in separator.source_names:
        row = separator.source_names.index(item.target)
    elif estimates.shape[0] == len(item.source_names):
        # the separator names its outputs differently but in the data set's order
        row = item.target_index
    else:
        raise ValueError(
            f"separator {separator.name!r} returns sources {separator.source_names}; cannot find "
            f"the target {item.target!r} of item {item.item_id!r} among them"
        )
    return estimates[row]


def _opaque_name(salt: str, item_id: str, condition: str) -> str:
    digest = hashlib.sha256(f"{salt}|{item_id}|{condition}".encode()).hexdigest()
    return f"{digest[:16]}.wav"


def _write_index(folder: Path, payload: dict) -> Path:
    path = folder / INDEX_NAME
    tmp = folder / f".{INDEX_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)
    return path


def render_stimuli(
    items: Sequence[ItemAudio],
    separators: Sequence[Separator],
    folder: str | os.PathLike,
    *,
    include_mixture: bool = True,
    anchor_cutoffs_hz: Sequence[float] = DEFAULT_ANCHOR_CUTOFFS_HZ,
    metrics: Mapping[str, MetricFunction] | None = None,
    seed: int = 0,
) -> StimulusSet:
    """Render every condition of every item, level-aligned, into ``folder``.

    Notebook 05, section "Building the stimuli".

    Args:
        items: the excerpts to judge (see :func:`items_from_dataset`).
        separators: the systems under test; oracles get the true sources.
        folder: output folder (created; an existing index is replaced).
        include_mixture: also hide the unprocessed mixture behind a letter.
        anchor_cutoffs_hz: one low-pass anchor per cutoff (3.5 kHz by default).
        metrics: optional ``name → metric(reference, estimate)``; each
            condition is scored against the clean target before level
            alignment and the scores are stored in the index.
        seed: salts the opaque file names.

    Returns:
        the :class:`StimulusSet`, also written to ``folder/stimuli.json``.
    """
    if not items:
        raise ValueError("render_stimuli needs at least one item")
    if len({item.item_id for item in items}) != len(items):
        raise ValueError("item ids must be distinct")
    sample_rates = {item.sample_rate for item in items}
    if len(sample_rates) != 1:
        raise ValueError(f"all items must share one sample rate, got {sorted(sample_rates)}")
    sample_rate = sample_rates.pop()
    anchors = [anchor_name(cutoff) for cutoff in anchor_cutoffs_hz]
    if not anchors:
        raise ValueError("BS.1534 requires at least one low anchor; pass anchor_cutoffs_hz=(3500,)")
    system_names = [separator.name for separator in separators]
    conditions = [
        HIDDEN_REFERENCE,
        *anchors,
        *([MIXTURE] if include_mixture else []),
        *system_names,
    ]
    if len(set(conditions)) != len(conditions):
        raise ValueError(
            f"condition names collide: {conditions}; give each separator a distinct .name"
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # the salt depends on the seed only, so every machine that renders the same
    # items gets the same file names and stimulus-set id (a class shares results)
    salt = hashlib.sha256(f"vaesep-stimuli|{seed}".encode()).hexdigest()

    rendered = []
    fingerprint = hashlib.sha256()
    for item in items:
        target = as_mono_float(item.sources[item.target_index], name=f"{item.item_id} target")
        waves: dict[str, np.ndarray] = {HIDDEN_REFERENCE: target}
        for cutoff, name in zip(anchor_cutoffs_hz, anchors, strict=True):
            waves[name] = low_pass_anchor(target, sample_rate, cutoff)
        if include_mixture:
            waves[MIXTURE] = as_mono_float(item.mixture, name=f"{item.item_id} mixture")
        for separator in separators:
            waves[separator.name] = _target_estimate(separator, item)
        scores = {
            condition: {name: float(fn(target, wave)) for name, fn in (metrics or {}).items()}
            for condition, wave in waves.items()
            if condition != HIDDEN_REFERENCE and metrics
        }
        files = {}
        for condition, wave in level_align(waves).items():
            files[condition] = _opaque_name(salt, item.item_id, condition)
            save_audio(folder / files[condition], wave, sample_rate)
            # identity = what was rendered (items, conditions, names), not the exact
            # float bytes, which differ in the last bits between CPUs and BLAS builds
            fingerprint.update(f"{item.item_id}|{item.description}|{files[condition]}".encode())
        rendered.append(StimulusItem(item.item_id, files, item.description, scores))

    stimulus_set = StimulusSet(
        folder=folder,
        stimulus_set_id=fingerprint.hexdigest()[:16],
        sample_rate=sample_rate,
        conditions=tuple(conditions),
        items=tuple(rendered),
        anchor_filter=(
            f"Butterworth low-pass, order {ANCHOR_FILTER_ORDER}, applied forwards and backwards "
            f"(scipy.signal.sosfiltfilt), -6 dB at {', '.join(f'{c:g}' for c in anchor_cutoffs_hz)} Hz"
        ),
    )
    _write_index(folder, stimulus_set.to_json())
    return stimulus_set


def load_stimuli(folder: str | os.PathLike) -> StimulusSet:
    """Read a stimulus set written by :func:`render_stimuli`.

    Notebook 05, section "Running a real session".
    """
    folder = Path(folder)
    path = folder / INDEX_NAME
    if not path.is_file():
        raise FileNotFoundError(
            f"no {INDEX_NAME} in {folder}: render the stimuli first with "
            "vaesep.listening.render_stimuli(...)"
        )
    payload = json.loads(path.read_text(encoding="utf-8"))
    items = tuple(
        StimulusItem(
            item_id=entry["item_id"],
            files=dict(entry["files"]),
            description=entry.get("description", ""),
            metrics={c: dict(v) for c, v in entry.get("metrics", {}).items()},
        )
        for entry in payload["items"]
    )
    return StimulusSet(
        folder=folder,
        stimulus_set_id=payload["stimulus_set_id"],
        sample_rate=int(payload["sample_rate"]),
        conditions=tuple(payload["conditions"]),
        items=items,
        anchor_filter=payload.get("anchor_filter", ""),
    )


def excerpt_bounds(
    signal: np.ndarray, sr: int, max_seconds: float, hop_seconds: float = 0.25
) -> tuple[int, int]:
    """Start and stop sample of the most energetic window of ``max_seconds``.

    BS.1534 asks for short excerpts (about 10 s at most) so that listeners
    can compare conditions from memory; the loudest stretch of the target
    avoids judging mostly silence. Notebook 05, section "Building the stimuli".

    Args:
        signal: ``(n_samples,)`` waveform (usually the target source).
        sr: sample rate in Hz.
        max_seconds: excerpt length; the whole signal if it is shorter.
        hop_seconds: step between candidate windows.

    Returns:
        ``(start, stop)`` sample indices.
    """
    n_samples = int(np.shape(signal)[-1])
    length = int(round(max_seconds * sr))
    if length <= 0:
        raise ValueError(f"max_seconds must be positive, got {max_seconds}")
    if n_samples <= length:
        return 0, n_samples
    energy = np.concatenate([[0.0], np.cumsum(np.square(signal, dtype=np.float64))])
    hop = max(1, int(hop_seconds * sr))
    starts = np.arange(0, n_samples - length + 1, hop)
    window_energy = energy[starts + length] - energy[starts]
    start = int(starts[int(np.argmax(window_energy))])
    return start, start + length


def items_from_dataset(
    dataset: object,
    chosen: Sequence[tuple[str, int, str]],
    *,
    max_seconds: float = 8.0,
    sample_rate: int = SAMPLE_RATE,
) -> list[ItemAudio]:
    """Cut the items the teacher chose from a ``vaesep.data`` data set.

    Notebook 05, section "Building the stimuli".

    Args:
        dataset: anything with ``mixtures(split) -> (n_items, n_samples)``,
            ``sources(split) -> (n_items, n_sources, n_samples)`` and
            ``source_names`` (as ``vaesep.data.build(...)`` returns).
        chosen: ``(split, index, target)`` per item, e.g.
            ``("test", 3, "v")`` for Dutch mixture 3 judged on speaker ``v``, or
            ``("test_cs", 0, "m")`` for a Czech one.
        max_seconds: excerpt length (the most energetic stretch of the target).
        sample_rate: the data set's rate in Hz.

    Returns:
        one :class:`ItemAudio` per entry of ``chosen``, ids like ``"test_cs-003-v"``.
    """
    source_names = tuple(dataset.source_names)  # type: ignore[attr-defined]
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    items = []
    for split, index, target in chosen:
        if target not in source_names:
            raise ValueError(f"target {target!r} is not a source of this data set: {source_names}")
        if split not in arrays:
            arrays[split] = (
                np.asarray(dataset.mixtures(split)),  # type: ignore[attr-defined]
                np.asarray(dataset.sources(split)),  # type: ignore[attr-defined]
            )
        mixtures, sources = arrays[split]
        if not 0 <= index < mixtures.shape[0]:
            raise IndexError(
                f"split {split!r} has {mixtures.shape[0]} mixtures; index {index} is out of range"
            )
        target_wave = sources[index, source_names.index(target)]
        start, stop = excerpt_bounds(target_wave, sample_rate, max_seconds)
        items.append(
            ItemAudio(
                item_id=f"{split}-{index:03d}-{target}",
                mixture=mixtures[index, start:stop].astype(np.float32),
                sources=sources[index, :, start:stop].astype(np.float32),
                source_names=source_names,
                target=target,
                sample_rate=sample_rate,
                description=(
                    f"split {split}, mixture {index}, target {target}, "
                    f"{start / sample_rate:.2f}-{stop / sample_rate:.2f} s"
                ),
            )
        )
    return items


def separation_metrics() -> dict[str, MetricFunction]:
    """SDR (BSS-eval v3) and SI-SDR of one estimate against one reference, in dB.

    Notebook 05, section "Do the numbers agree with the ears?". Thin
    wrappers over :mod:`vaesep.metrics` for :func:`render_stimuli`'s
    ``metrics=`` argument. Scored against the target alone, BSS-eval's SDR
    does not depend on the other source (its interference and artefact terms
    add up to everything outside the target's filtered copies).
    """
    from vaesep.metrics import bss_eval, si_sdr

    def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
        return float(bss_eval(reference[None], estimate[None])["sdr"][0])

    def scale_invariant_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
        return float(si_sdr(reference[None], estimate[None])[0])

    return {"SDR": sdr, "SI-SDR": scale_invariant_sdr}
