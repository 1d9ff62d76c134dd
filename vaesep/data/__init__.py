"""Deterministic, cached, offline data sets for source separation (notebook 01).

>>> from vaesep import data
>>> ds = data.build("speech")            # doctest: +SKIP
>>> print(ds.describe())                 # doctest: +SKIP

Four offline sets, read from Debian packages (``bash scripts/install-system-data.sh``) or
generated, never downloaded: ``speech`` (the default; Dutch speakers ``v`` vs ``m``, Czech
actors as ``test_cs``), ``chorales`` (Bach chorales, soprano ``melody`` vs ``accompaniment``,
rendered with FluidSynth), ``noise`` (Dutch ``speech`` vs recorded ``noise``) and
``synthetic`` (two harmonic "voices", pure numpy, what the unit tests use); each has its module.
Loaders for corpora you download yourself (``tsp``, ``mir1k``, ``timit``, ``musdb18``,
``librispeech``) are the optional subpackage :mod:`vaesep.data.corpora`; see ``data/README.md``.
Reading order: builder (splits, the contract), mixing, cache (``build``), dataset (the handle),
then one builder.
"""
from __future__ import annotations

from vaesep.data.builder import (
    BuildRequest,
    DatasetBuilder,
    DatasetWriter,
    MissingSystemDataError,
    available,
    register,
    split_files,
)  # fmt: skip
from vaesep.data.cache import build, cache_dir
from vaesep.data.chorales import ChoralesBuilder
from vaesep.data.dataset import BuiltDataset
from vaesep.data.mixing import random_segments
from vaesep.data.noise import NoiseBuilder
from vaesep.data.speech import SpeechBuilder
from vaesep.data.synthetic import SyntheticBuilder

register("speech", SpeechBuilder())
register("chorales", ChoralesBuilder())
register("noise", NoiseBuilder())
register("synthetic", SyntheticBuilder())

# registers tsp, mir1k, timit, musdb18, librispeech
from vaesep.data import corpora  # noqa: E402, F401

__all__ = [
    "BuildRequest", "BuiltDataset", "DatasetBuilder", "DatasetWriter", "MissingSystemDataError",
    "available", "build", "cache_dir", "random_segments", "register", "split_files",
]  # fmt: skip
