"""Loaders for real corpora you download yourself: TSP, MIR-1K, TIMIT, MUSDB18, LibriSpeech.

Importing this package registers them next to the offline sets, so
``data.build(name, root=...)``, ``vaesep data prepare <name> --root PATH``
and ``vaesep train --data <name> --root PATH`` all work:

=================  ==================================  =============================
name               sources                             splits
=================  ==================================  =============================
``tsp``            ``FA``, ``MC`` (Huang et al. pair)  train / valid / test
``tsp-fa-fb``      ``FA``, ``FB``                      train / valid / test
``tsp-mc-md``      ``MC``, ``MD``                      train / valid / test
``mir1k``          ``voice``, ``accompaniment``        train / valid / test
``timit``          ``speech``, ``noise``               train / valid / test
``musdb18``        ``vocals``, ``accompaniment``       train / valid / test
``librispeech``    ``female``, ``male``                train / valid / test
=================  ==================================  =============================

Optional: nothing else in :mod:`vaesep.data` depends on it. The shared reader is
:mod:`~vaesep.data.corpora.base`; the adapters are :mod:`~vaesep.data.corpora.speech`
and :mod:`~vaesep.data.corpora.music`; data/README.md has each corpus's origin,
licence, layout and commands. Notebook 01, section "Bring your own corpus".
"""

from __future__ import annotations

from vaesep.data.builder import register
from vaesep.data.corpora.base import CorpusBuilder, CorpusFileError, CorpusLayoutError
from vaesep.data.corpora.music import MIR1KBuilder, MUSDB18Builder
from vaesep.data.corpora.speech import HUANG_PAIRS, LibriSpeechBuilder, TIMITBuilder, TSPBuilder

for _tsp in (TSPBuilder(pair) for pair in HUANG_PAIRS):
    register(_tsp.corpus, _tsp)
register("mir1k", MIR1KBuilder())
register("timit", TIMITBuilder())
register("musdb18", MUSDB18Builder())
register("librispeech", LibriSpeechBuilder())

__all__ = ["CorpusBuilder", "CorpusFileError", "CorpusLayoutError", "LibriSpeechBuilder", "MIR1KBuilder",
           "MUSDB18Builder", "TIMITBuilder", "TSPBuilder"]  # fmt: skip
