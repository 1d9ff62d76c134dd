"""The test conditions: which data, split, SNR and source each table column is about.

Speech models are trained once (Dutch, 0 dB, dynamic mixing) and tested on four
conditions; the chorale and noise conditions use models trained on their own data.
Notebook 04, section "The test conditions".
"""

from __future__ import annotations

from dataclasses import dataclass

from vaesep import data as datasets
from vaesep.files import markdown_table


@dataclass(frozen=True)
class Condition:
    """One test condition (one column): test items from ``data``/``split`` at ``snr_db`` (first
    source over the other), scored on ``source`` (``None``: all) with the models of domain ``models``."""

    name: str
    title: str
    data: str
    split: str
    snr_db: float = 0.0
    models: str = "speech"
    source: str | None = None

    def dataset(self, *, fast: bool) -> datasets.BuiltDataset:
        """The built data set the test items come from (cached after the first build)."""
        return datasets.build(self.data, snr_db=self.snr_db, fast=fast, progress=False)


def training_dataset(domain: str, *, fast: bool) -> datasets.BuiltDataset:
    """Training (and validation) data of one domain: always the 0 dB build."""
    return datasets.build(domain, snr_db=0.0, fast=fast, progress=False)


CONDITIONS: tuple[Condition, ...] = (
    Condition("dutch", "speech, Dutch test speakers (speaker-dependent), 0 dB", "speech", "test"),
    Condition("czech", "speech, Czech actors (speaker-independent), 0 dB", "speech", "test_cs"),
    Condition("dutch-5db", "speech, Dutch test, −5 dB (v 5 dB below m)", "speech", "test", -5.0),
    Condition("dutch+5db", "speech, Dutch test, +5 dB (v 5 dB above m)", "speech", "test", 5.0),
    Condition("chorales", "Bach chorales, melody vs accompaniment, 0 dB (melody scored)", "chorales", "test",
              models="chorales", source="melody"),
    Condition("noise", "denoising: Dutch speech in unseen recorded noise, 0 dB (speech scored)", "noise", "test",
              models="noise", source="speech"),
    Condition("synthetic", "synthetic harmonic voices (CI fixture), 0 dB", "synthetic", "test", models="synthetic"),
)
"""Every condition; the full comparison runs all but ``synthetic``."""

FULL_CONDITIONS: tuple[str, ...] = ("dutch", "czech", "dutch-5db", "dutch+5db", "chorales", "noise")


def get_condition(name: str) -> Condition:
    """The :class:`Condition` called ``name`` (a ValueError lists the known ones)."""
    for condition in CONDITIONS:
        if condition.name == name:
            return condition
    raise ValueError(f"unknown condition {name!r}; known: {[c.name for c in CONDITIONS]}")


def domain_conditions(domain: str, names: tuple[str, ...] = FULL_CONDITIONS + ("synthetic",)) -> tuple[str, ...]:
    """The conditions among ``names`` that test the models of one training domain."""
    return tuple(name for name in names if get_condition(name).models == domain)


def conditions_markdown(names: tuple[str, ...] = FULL_CONDITIONS) -> str:
    """A Markdown table of conditions. Notebook 04, section "The test conditions"."""
    rows = [[c.name, c.title, f"{c.data}/{c.split}", f"{c.snr_db:+g} dB", c.models, c.source or "all"]
            for c in map(get_condition, names)]
    return markdown_table(["condition", "what", "data/split", "SNR", "models trained on", "scored"], rows, "lllrll")
