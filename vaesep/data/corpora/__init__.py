"""Loaders for real corpora you download yourself: TSP, MIR-1K, TIMIT, MUSDB18, LibriSpeech.

Importing this package registers ``tsp`` (``tsp-fa-fb``, ``tsp-mc-md``), ``mir1k``,
``timit``, ``musdb18`` and ``librispeech`` next to the offline sets, for
``data.build(name, root=...)`` and ``vaesep data prepare <name> --root PATH``. Optional:
nothing else in :mod:`vaesep.data` depends on it. :mod:`~vaesep.data.corpora.base` is the
shared reader; :mod:`~vaesep.data.corpora.speech` and :mod:`~vaesep.data.corpora.music` are
the adapters; data/README.md has each corpus's sources, splits, origin, licence, layout and
commands. Notebook 01, section "Bring your own corpus".
"""

from __future__ import annotations

from vaesep.data.builder import register
from vaesep.data.corpora.base import CorpusBuilder, CorpusFileError, CorpusLayoutError
from vaesep.data.corpora.music import MIR1KBuilder, MUSDB18Builder
from vaesep.data.corpora.speech import HUANG_PAIRS, LibriSpeechBuilder, TIMITBuilder, TSPBuilder

for _builder in (
    *(TSPBuilder(pair) for pair in HUANG_PAIRS), MIR1KBuilder(), TIMITBuilder(), MUSDB18Builder(),
    LibriSpeechBuilder(),
):  # fmt: skip
    register(_builder.corpus, _builder)

__all__ = [
    "CorpusBuilder", "CorpusFileError", "CorpusLayoutError", "LibriSpeechBuilder", "MIR1KBuilder",
    "MUSDB18Builder", "TIMITBuilder", "TSPBuilder",
]  # fmt: skip
