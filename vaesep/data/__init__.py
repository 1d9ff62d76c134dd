"""Deterministic, cached, offline data sets for source separation.

>>> from vaesep import data
>>> ds = data.build("speech")            # doctest: +SKIP
>>> print(ds.describe())                 # doctest: +SKIP

Four offline data sets are registered (notebook 01, section "The speech data"):

* ``speech`` (default): two real speakers, ``v`` vs ``m``, Dutch for
  train/valid/test and Czech (other actors) as ``test_cs``; Debian packages
  ``fillets-ng-data-nl fillets-ng-data-cs``.
* ``chorales``: Bach chorales, soprano ``melody`` vs alto+tenor+bass
  ``accompaniment``, rendered with FluidSynth; ``fluidsynth fluid-soundfont-gm``.
* ``noise``: Dutch ``speech`` vs real recorded ``noise`` (unseen noises at
  test time); ``sonic-pi-samples`` plus the speech packages.
* ``synthetic``: two harmonic "voices", ``low`` vs ``high``, pure numpy; works
  everywhere and is what the unit tests use.

Loaders for corpora you download yourself (``tsp``, ``mir1k``, ``timit``,
``musdb18``, ``librispeech``) live in :mod:`vaesep.data.corpora`; see
``data/README.md``.

Nothing is downloaded: real audio comes from system packages
(``bash scripts/install-system-data.sh``). Every build is deterministic from
its seed and cached under :func:`cache_dir` with a sha256 manifest.
"""

from __future__ import annotations

from vaesep.data.building import build
from vaesep.data.cache import DatasetWriter, cache_dir
from vaesep.data.chorales import ChoralesBuilder
from vaesep.data.dataset import BuiltDataset
from vaesep.data.frames import FrameDataset
from vaesep.data.mixing import random_segments
from vaesep.data.noise import NoiseBuilder
from vaesep.data.registry import (
    BuildRequest,
    DatasetBuilder,
    available,
    register,
    split_files,
)
from vaesep.data.speech import SpeechBuilder
from vaesep.data.synthetic import SyntheticBuilder
from vaesep.data.system import MissingSystemDataError

register("speech", SpeechBuilder())
register("chorales", ChoralesBuilder())
register("noise", NoiseBuilder())
register("synthetic", SyntheticBuilder())

from vaesep.data import corpora  # noqa: E402, F401  (registers tsp, mir1k, timit, musdb18, librispeech)

__all__ = [
    "BuildRequest",
    "BuiltDataset",
    "DatasetBuilder",
    "DatasetWriter",
    "FrameDataset",
    "MissingSystemDataError",
    "available",
    "build",
    "cache_dir",
    "random_segments",
    "register",
    "split_files",
]
