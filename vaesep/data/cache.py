"""``data.build``: a data set from the cache, built first if it is not there.

A build is written into a temporary folder next to its final place,
``<cache>/<name>/.<key>.building-<host>-<pid>-<random>/``, and renamed into place
when its manifest is complete. The rename is atomic, so a folder at the
final place is always a finished build; an interrupted build leaves only its
temporary folder, which the next build removes once its process is gone.
Two processes building the same set at once both finish; the first rename
wins and the other discards its identical copy. No locks.

``<key>`` is a short hash of the name, the builder's version and every
parameter, so a changed seed, SNR, mode, root or setting builds into a new
folder. The manifest lists the sha256 and size of every file, checked on
every later call. Notebook 01, section "Building the data set".
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaesep.data.builder import (
    MANIFEST_FORMAT,
    BuildRequest,
    DatasetWriter,
    file_sha256,
    get_builder,
    resolve_root,
)
from vaesep.data.dataset import MANIFEST, BuiltDataset
from vaesep.files import to_json
from vaesep.runtime import fast_mode

CACHE_ENV = "VAESEP_CACHE"
KEY_LENGTH = 12
_BUILDING = ".building-"


def cache_dir() -> Path:
    """Root of the data cache: ``$VAESEP_CACHE`` if set, else ``~/.cache/vaesep``."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "vaesep"


def _cache_root(given: str | os.PathLike | None) -> Path:
    return Path(given).expanduser() if given is not None else cache_dir()


def _canonical(value: Any) -> str:
    """JSON with sorted keys and fixed separators: equal content, equal bytes."""
    return to_json(value, sort_keys=True).rstrip("\n")


def dataset_key(name: str, builder_version: str, params: Mapping[str, Any]) -> str:
    """The short hash naming the cache folder of one (name, version, params) combination."""
    blob = _canonical({"name": name, "builder_version": builder_version, "params": params})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def verification_problem(directory: Path, params: Mapping[str, Any]) -> str | None:
    """None if every file of a built folder has its recorded size and sha256 and the
    parameters are the requested ones; else the first problem found, in words."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"unreadable manifest ({exc})"
    if manifest.get("format") != MANIFEST_FORMAT:
        return f"manifest format {manifest.get('format')!r}, expected {MANIFEST_FORMAT}"
    if manifest.get("params") != json.loads(_canonical(dict(params))):
        return "manifest parameters differ from the requested ones"
    hashes, sizes = manifest.get("files", {}), manifest.get("file_bytes", {})
    for name in hashes:  # sizes first: cheap
        if not (directory / name).is_file():
            return f"missing file {name}"
        if (directory / name).stat().st_size != sizes.get(name):
            return f"{name} has the wrong size"
    for name, expected in hashes.items():
        if file_sha256(directory / name) != expected:
            return f"{name} does not match its sha256"
    return None


def _remove(directory: Path) -> None:
    """Delete a damaged build; renamed first (to a name :func:`_remove_dead_builds` also
    cleans up), so a half-deleted folder is never read as a build."""
    doomed = directory.with_name(f".{directory.name}{_BUILDING}{socket.gethostname()}-{os.getpid()}-old")
    try:
        os.replace(directory, doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)


def _remove_dead_builds(base: Path, key: str) -> None:
    """Delete temporary folders of builds of ``key`` whose process on this host has ended."""
    if os.name != "posix":
        return  # no safe way to ask whether a process is alive
    ours = f".{key}{_BUILDING}{socket.gethostname()}-"
    for leftover in base.glob(f"{ours}*"):
        pid = leftover.name[len(ours) :].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists (POSIX)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return True


def _publish(temporary: Path, final: Path, params: Mapping[str, Any]) -> None:
    """Rename a finished build into place; if another process got there first, keep its build."""
    try:
        os.rename(temporary, final)  # atomic; fails if ``final`` exists and is not empty
        return
    except OSError:
        if not final.exists():
            raise
    if verification_problem(final, params) is None:
        return  # an identical build won the race; the caller deletes ours
    _remove(final)  # a damaged build we are replacing
    os.rename(temporary, final)


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

    A later call with the same arguments checks the cached files against their
    manifest (size and sha256 of each) and returns them; a missing or changed
    file gives a warning and a rebuild.

    Args:
        name: one of :func:`vaesep.data.available`, e.g. ``"speech"``.
        seed: seed of every random choice (pairings, offsets; synthesis for
            ``"synthetic"``). File splits do not depend on it.
        snr_db: level of the first source over each other one in the fixed items (dB).
        fast: small CI-sized variant; None means :func:`vaesep.runtime.fast_mode`.
        cache_dir: cache root; default :func:`vaesep.data.cache_dir`.
        root: where the system data or corpus lives; default the builder's own.
        progress: show progress bars.

    Raises:
        ValueError: unknown ``name``.
        MissingSystemDataError: the packages or corpus files the set is read from are absent.
    """
    from vaesep import __version__  # late import: the package imports this module

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
    key = dataset_key(name, builder.version, params)
    cache_root = _cache_root(cache_dir)
    base = cache_root / name
    final = base / key
    if (final / MANIFEST).is_file():
        problem = verification_problem(final, params)
        if problem is None:
            return BuiltDataset.open(final)
        warnings.warn(
            f"the cached {name!r} data set at {final} failed verification ({problem}); rebuilding it",
            RuntimeWarning,
            stacklevel=2,
        )
    builder.check_system_data(resolved_root)
    base.mkdir(parents=True, exist_ok=True)
    _remove_dead_builds(base, key)
    temporary = base / f".{key}{_BUILDING}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir()  # not tempfile.mkdtemp: its owner-only mode would stay on the published build
    request = BuildRequest(
        name=name, seed=int(seed), snr_db=float(snr_db), fast=fast, root=resolved_root,
        settings=settings, progress=progress, cache_root=cache_root,
    )  # fmt: skip
    try:
        writer = DatasetWriter(temporary, builder.source_names)
        builder.build(request, writer)
        header = {"name": name, "key": key, "builder_version": builder.version, "vaesep_version": __version__}
        writer.finish({**header, "params": params})
        _publish(temporary, final, params)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return BuiltDataset.open(final)
