"""The test conditions of the comparison: which data, split, SNR and models.

Speech models are trained once (Dutch, 0 dB, dynamic mixing) and tested on
four conditions; the chorale and noise conditions use models trained on
their own data. Notebook 04, section "The test conditions".
"""

from __future__ import annotations

from dataclasses import dataclass

from vaesep import data as datasets


@dataclass(frozen=True)
class Condition:
    """One test condition (one table of the comparison).

    Attributes:
        name: short identifier, used in file names.
        title: what the table is about, for headings.
        data: the data set the test items come from.
        split: its evaluation split.
        snr_db: level of the first source over the other in the test items.
        models: the data set the models were trained on (its train split, 0 dB).
        source: the source the headline numbers are about (``None``: all
            sources together), e.g. the speech in denoising.
    """

    name: str
    title: str
    data: str
    split: str
    snr_db: float = 0.0
    models: str = "speech"
    source: str | None = None

    def dataset(self, *, fast: bool, seed: int = 0) -> datasets.BuiltDataset:
        """The built data set the test items come from (cached after the first build)."""
        return datasets.build(self.data, seed=seed, snr_db=self.snr_db, fast=fast, progress=False)

    def training_dataset(self, *, fast: bool, seed: int = 0) -> datasets.BuiltDataset:
        """The data set the models of this condition are trained on."""
        return training_dataset(self.models, fast=fast, seed=seed)


def training_dataset(name: str, *, fast: bool, seed: int = 0) -> datasets.BuiltDataset:
    """Training data of one model domain: always the 0 dB build, split ``train``."""
    return datasets.build(name, seed=seed, snr_db=0.0, fast=fast, progress=False)


CONDITIONS: tuple[Condition, ...] = (
    Condition("dutch", "speech, Dutch test speakers (speaker-dependent), 0 dB", "speech", "test"),
    Condition("czech", "speech, Czech actors (speaker-independent), 0 dB", "speech", "test_cs"),
    Condition("dutch-5db", "speech, Dutch test, −5 dB (v 5 dB below m)", "speech", "test", -5.0),
    Condition("dutch+5db", "speech, Dutch test, +5 dB (v 5 dB above m)", "speech", "test", 5.0),
    Condition(
        "chorales",
        "Bach chorales, melody vs accompaniment, 0 dB (melody scored)",
        "chorales",
        "test",
        models="chorales",
        source="melody",
    ),
    Condition(
        "noise",
        "denoising: Dutch speech in unseen recorded noise, 0 dB (speech scored)",
        "noise",
        "test",
        models="noise",
        source="speech",
    ),
    Condition(
        "synthetic",
        "synthetic harmonic voices (CI fixture), 0 dB",
        "synthetic",
        "test",
        models="synthetic",
    ),
)
"""Every condition; the full comparison runs all but ``synthetic``."""

FULL_CONDITIONS: tuple[str, ...] = ("dutch", "czech", "dutch-5db", "dutch+5db", "chorales", "noise")


def get_condition(name: str) -> Condition:
    """The :class:`Condition` called ``name`` (a ValueError lists the known ones)."""
    for condition in CONDITIONS:
        if condition.name == name:
            return condition
    raise ValueError(f"unknown condition {name!r}; known: {[c.name for c in CONDITIONS]}")


def conditions_markdown(names: tuple[str, ...] = FULL_CONDITIONS) -> str:
    """A Markdown table of conditions: data, split, SNR, training domain, scored source.

    Notebook 04, section "The test conditions".
    """
    rows = [
        f"| {c.name} | {c.title} | {c.data}/{c.split} | {c.snr_db:+g} dB | {c.models} | {c.source or 'all'} |"
        for c in map(get_condition, names)
    ]
    header = "| condition | what | data/split | SNR | models trained on | scored |\n|---|---|---|---:|---|---|"
    return "\n".join([header, *rows])
