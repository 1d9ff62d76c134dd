"""The registry of data sets and the contract every data set builder follows.

``data.build(name)`` looks the name up here. The built-in sets register
themselves in ``vaesep/data/__init__.py``; a loader for another corpus (TSP,
MIR-1K, MUSDB18, ...) plugs in with :func:`register` and gets caching,
manifests, verification, :class:`~vaesep.data.BuiltDataset` and dynamic
mixing for free. Notebook 01, section "Bring your own corpus".

The builder contract
--------------------
Subclass :class:`DatasetBuilder` and implement :meth:`DatasetBuilder.build`.
``build(request, writer)`` must

* read only local files (under ``request.root``) and never the network;
* depend only on ``request`` (seed, SNR, fast mode, root, settings), so the
  same request gives bit-identical arrays: draw all randomness from
  ``request.rng("some", "label")``;
* call ``writer.add_split(split, streams=..., sources=..., items=...)`` once
  per split in :attr:`DatasetBuilder.splits`: ``streams`` maps every source
  name to a 1-D float32 16 kHz array (the split's concatenated audio);
  evaluation splits also pass ``sources`` of shape
  ``(n_items, n_sources, n_samples)`` already scaled to ``request.snr_db``
  (see :func:`vaesep.data.mixing.cut_evaluation_items`) and one metadata
  dict per item;
* write nothing outside the writer's directory (use ``writer.scratch_dir()``
  for temporary files).

The caller handles everything else: the cache key, the temporary directory
and atomic rename, sha256 manifests, verification and rebuilds.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from vaesep.data.cache import DatasetWriter


@dataclass(frozen=True)
class BuildRequest:
    """Everything a builder may depend on (see the module docstring).

    Attributes:
        name: the registered data set name.
        seed: seed of every random choice (pairings, offsets, synthesis).
        snr_db: ratio of the first source to each other source, in dB.
        fast: True for the small CI-sized variant.
        root: where the system data lives (None for generated sets).
        settings: the builder's size settings for this mode (see
            :meth:`DatasetBuilder.settings`); they are part of the cache key.
        progress: show tqdm progress bars.
        cache_root: the cache directory in use, so a builder can build another
            data set it depends on into the same cache (the noise set reuses
            the speech set).
    """

    name: str
    seed: int
    snr_db: float
    fast: bool
    root: Path | None
    settings: Mapping[str, Any] = field(default_factory=dict)
    progress: bool = True
    cache_root: Path | None = None

    def rng(self, *labels: str) -> np.random.Generator:
        """A random generator for one purpose, derived from the seed and ``labels``.

        Separate labels give independent streams, so adding a random draw for
        one split never shifts the numbers another split receives.
        """
        words = tuple(
            int.from_bytes(hashlib.sha1(label.encode("utf-8")).digest()[:4], "big")
            for label in labels
        )
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=words))


class DatasetBuilder(abc.ABC):
    """Base class of every data set builder (see the module docstring for the contract).

    Attributes:
        version: bump it whenever the builder's output changes; it is part of
            the cache key, so old caches are rebuilt instead of silently reused.
        source_names: one name per source, in the order of the ``sources`` axis.
        splits: every split the builder writes, in display order.
    """

    version: str = "1"
    source_names: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("train", "valid", "test")

    def default_root(self) -> Path | None:
        """Where the system data lives when ``root=None`` (None: nothing to read)."""
        return None

    def settings(self, fast: bool) -> dict[str, Any]:
        """Size parameters (segment length, caps) for full or fast mode; JSON-serialisable."""
        return {}

    def check_system_data(self, root: Path | None) -> None:
        """Raise :class:`~vaesep.data.MissingSystemDataError` if required files or programs are absent.

        The default has nothing to check (generated data sets).
        """
        return None

    def split_files(self, split: str, root: Path | None) -> list[str]:
        """Identifiers (relative paths) of the files in ``split``; empty for generated sets."""
        self.require_split(split)
        return []

    def require_split(self, split: str) -> None:
        """Raise ValueError naming the valid splits if ``split`` is not one of them."""
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; this data set has {list(self.splits)}")

    @abc.abstractmethod
    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        """Produce every split of the data set through ``writer``."""


_REGISTRY: dict[str, DatasetBuilder] = {}


def register(name: str, builder: DatasetBuilder, *, replace: bool = False) -> None:
    """Make ``builder`` available as ``data.build(name)``.

    Args:
        name: lowercase identifier, also the cache sub-directory.
        builder: an instance of a :class:`DatasetBuilder` subclass.
        replace: allow re-registering an existing name (e.g. in a notebook
            that redefines its loader).

    Notebook 01, section "Bring your own corpus".
    """
    if not isinstance(builder, DatasetBuilder):
        raise TypeError(
            f"builder must be an instance of vaesep.data.DatasetBuilder, got {type(builder).__name__}"
        )
    if not name or not name.replace("_", "").replace("-", "").isalnum() or name != name.lower():
        raise ValueError(f"data set names are lowercase letters, digits, '-' and '_'; got {name!r}")
    if name in _REGISTRY and not replace:
        raise ValueError(f"a data set named {name!r} is already registered; pass replace=True")
    _REGISTRY[name] = builder


def available() -> list[str]:
    """Names :func:`vaesep.data.build` accepts, in registration order."""
    return list(_REGISTRY)


def get_builder(name: str) -> DatasetBuilder:
    """The builder registered as ``name``; ValueError listing the names if unknown."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown data set {name!r}; available data sets: {', '.join(available())}"
        ) from None


def resolve_root(builder: DatasetBuilder, root: str | Path | None) -> Path | None:
    """``root`` as an absolute path, or the builder's default location when None."""
    if root is None:
        return builder.default_root()
    return Path(root).expanduser().absolute()


def split_files(name: str, split: str, *, root: str | Path | None = None) -> list[str]:
    """The utterance files / chorale ids / noise files that make up one split.

    Args:
        name: a registered data set, e.g. ``"speech"``.
        split: e.g. ``"train"``, ``"test"`` or ``"test_cs"``.
        root: where the system data lives (default: the builder's default).

    Returns:
        identifiers relative to ``root``, sorted. This is the whole split; a
        capped build (fast mode, ``test_cs``) uses a deterministic subset of
        it, recorded in the built data set's items and stream index.

    Notebook 01, section "Splits that never leak".
    """
    builder = get_builder(name)
    builder.require_split(split)
    resolved = resolve_root(builder, root)
    builder.check_system_data(resolved)
    return builder.split_files(split, resolved)
