"""``data.build``: return a data set from the cache, building it first if needed.

Notebook 01, section "Where the data lives".
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import vaesep
from vaesep.audio import SAMPLE_RATE
from vaesep.data import cache
from vaesep.data.dataset import BuiltDataset
from vaesep.data.registry import BuildRequest, get_builder, resolve_root
from vaesep.runtime import fast_mode


def build(
    name: str,
    *,
    seed: int = 0,
    snr_db: float = 0.0,
    fast: bool | None = None,
    cache_dir: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
    progress: bool = True,
) -> BuiltDataset:
    """Build a registered data set once into the cache and return a handle to it.

    A later call with the same arguments verifies the cached files against
    their manifest (size and sha256 of each) and returns them; if a file is
    missing or changed it warns and rebuilds. Builds are atomic: they are
    written to a temporary directory that is renamed into place at the end,
    so an interrupted build leaves nothing that could be mistaken for a
    finished one. Builders that decode large corpora keep their decoded
    streams in a resume directory, so rerunning an interrupted build
    continues where it stopped (data/README.md, section "Interrupted builds").

    Args:
        name: one of :func:`vaesep.data.available`, e.g. ``"speech"``.
        seed: seed of every random choice (pairings, offsets; synthesis for
            ``"synthetic"``). File splits do not depend on it.
        snr_db: level of the first source over each other one in the fixed
            evaluation items (dB).
        fast: small CI-sized variant; None means :func:`vaesep.runtime.fast_mode`.
        cache_dir: cache root; default :func:`vaesep.data.cache_dir`.
        root: where the system data lives; default the builder's own.
        progress: show progress bars.

    Returns:
        a :class:`~vaesep.data.BuiltDataset`.

    Raises:
        ValueError: unknown ``name``.
        MissingSystemDataError: the system packages the set is read from are not installed.
    """
    builder = get_builder(name)
    fast = fast_mode() if fast is None else bool(fast)
    resolved_root = resolve_root(builder, root)
    settings = builder.settings(fast)
    params = {
        "seed": int(seed),
        "snr_db": float(snr_db),
        "fast": fast,
        "root": None if resolved_root is None else str(resolved_root),
        **settings,
    }
    key = cache.dataset_key(name, builder.version, params)
    cache_root = Path(cache_dir).expanduser() if cache_dir is not None else cache.cache_dir()
    base = cache_root / name
    final = base / key

    if (final / cache.MANIFEST).is_file():
        problem = cache.verification_problem(final, params)
        if problem is None:
            return BuiltDataset.open(final)
        warnings.warn(
            f"the cached {name!r} data set at {final} failed verification ({problem}); rebuilding it",
            RuntimeWarning,
            stacklevel=2,
        )
    builder.check_system_data(resolved_root)
    with cache.build_lock(base, key):
        # another process may have built it while we waited for the lock
        if final.exists():
            if cache.verification_problem(final, params) is None:
                return BuiltDataset.open(final)
            cache.discard(final)
        cache.remove_leftovers(base, key)
        partial = cache.partial_dir(base, key)
        partial.mkdir(parents=True)
        resume = cache.resume_dir(base, key)  # survives interruption: corpora resume from it
        writer = cache.DatasetWriter(
            partial, builder.source_names, SAMPLE_RATE, resume_directory=resume
        )
        request = BuildRequest(
            name=name,
            seed=int(seed),
            snr_db=float(snr_db),
            fast=fast,
            root=resolved_root,
            settings=settings,
            progress=progress,
            cache_root=cache_root,
        )
        try:
            builder.build(request, writer)
            writer.finish(
                {
                    "name": name,
                    "key": key,
                    "builder_version": builder.version,
                    "vaesep_version": vaesep.__version__,
                    "params": params,
                }
            )
            os.replace(partial, final)
            shutil.rmtree(resume, ignore_errors=True)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
    return BuiltDataset.open(final)
