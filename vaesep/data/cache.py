"""``data.build``: a data set from the cache, built first if it is not there.

A build is written into ``<cache>/<name>/.<key>.building-<host>-<pid>-<random>/`` and
renamed to ``<cache>/<name>/<key>`` once its manifest is complete: the rename is atomic,
so a folder at the final place is always finished, and of two concurrent builds the
first rename wins (no locks). ``<key>`` hashes the name, builder version and every
parameter; the manifest's sha256 and size of every file are checked on every later
call. Notebook 01, section "Building the data set".
"""

from __future__ import annotations

import contextlib
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

from vaesep.data.builder import BuildRequest, DatasetWriter, get_builder, resolve_root
from vaesep.data.dataset import MANIFEST, MANIFEST_FORMAT, BuiltDataset, file_sha256
from vaesep.files import to_json
from vaesep.runtime import fast_mode

_BUILDING = ".building-"


def cache_dir() -> Path:
    """Root of the data cache: ``$VAESEP_CACHE`` if set, else ``~/.cache/vaesep``."""
    configured = os.environ.get("VAESEP_CACHE", "").strip()
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "vaesep"


def _cache_root(given: str | os.PathLike | None) -> Path:
    return cache_dir() if given is None else Path(given).expanduser()  # build's parameter hides it


def _canonical(value: Any) -> str:
    """JSON with sorted keys and fixed separators: equal content, equal bytes."""
    return to_json(value, sort_keys=True).rstrip("\n")


def dataset_key(name: str, builder_version: str, params: Mapping[str, Any]) -> str:
    blob = _canonical({"name": name, "builder_version": builder_version, "params": params})
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def verification_problem(directory: Path, params: Mapping[str, Any]) -> str | None:
    """None if a built folder's files have their recorded size and sha256 and its parameters
    are the requested ones; else the first problem, in words."""
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


def _remove_dead_builds(base: Path, key: str) -> None:
    """Delete temporary folders of builds of ``key`` whose process on this host has ended."""
    if os.name != "posix":
        return  # no safe way to ask whether a process is alive (os.kill would end it on Windows)
    ours = f".{key}{_BUILDING}{socket.gethostname()}-"
    for leftover in base.glob(f"{ours}*"):
        try:
            os.kill(int(leftover.name[len(ours) :].split("-")[0]), 0)  # signal 0: does it exist?
        except ProcessLookupError:
            shutil.rmtree(leftover, ignore_errors=True)
        except (ValueError, PermissionError):
            pass  # not a pid, or alive under another user


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
    doomed = final.with_name(f".{final.name}{_BUILDING}{socket.gethostname()}-{os.getpid()}-old")
    with contextlib.suppress(FileNotFoundError):  # renamed first: never read half-deleted
        os.replace(final, doomed)
        shutil.rmtree(doomed, ignore_errors=True)
    os.rename(temporary, final)


def build(
    name: str, *, seed: int = 0, snr_db: float = 0.0, fast: bool | None = None,
    cache_dir: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> BuiltDataset:  # fmt: skip
    """Build data set ``name`` (:func:`vaesep.data.available`) once into the cache and return
    a handle; a later call verifies the cached files and rebuilds them, with a warning, if
    one is missing or changed. ``seed`` drives every random choice but not the file splits;
    ``snr_db`` is the level of source 0 over each other one in the fixed items; ``fast=None``
    follows :func:`vaesep.runtime.fast_mode`; ``root`` defaults to the builder's own.
    Raises ValueError for an unknown name, MissingSystemDataError for absent data."""
    from vaesep import __version__  # late import: the package imports this module

    builder = get_builder(name)
    fast = fast_mode() if fast is None else bool(fast)
    resolved_root = resolve_root(builder, root)
    settings = builder.settings(fast)
    root_text = None if resolved_root is None else str(resolved_root)
    params = {"seed": int(seed), "snr_db": float(snr_db), "fast": fast, "root": root_text}
    params.update(settings)
    key = dataset_key(name, builder.version, params)
    cache_root = _cache_root(cache_dir)
    base, final = cache_root / name, cache_root / name / key
    if (final / MANIFEST).is_file():
        if (problem := verification_problem(final, params)) is None:
            return BuiltDataset.open(final)
        warnings.warn(f"the cached {name!r} data set at {final} failed verification ({problem}); "
                      "rebuilding it", RuntimeWarning, stacklevel=2)  # fmt: skip
    builder.check_system_data(resolved_root)
    base.mkdir(parents=True, exist_ok=True)
    _remove_dead_builds(base, key)
    owner = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary = base / f".{key}{_BUILDING}{owner}"
    temporary.mkdir()  # not tempfile.mkdtemp: its owner-only mode would stay on the published build
    request = BuildRequest(name, int(seed), float(snr_db), fast, resolved_root, settings, progress,
                           cache_root)  # fmt: skip
    try:
        writer = DatasetWriter(temporary, builder.source_names)
        builder.build(request, writer)
        writer.finish({"name": name, "key": key, "builder_version": builder.version,
                       "vaesep_version": __version__, "params": params})  # fmt: skip
        _publish(temporary, final, params)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return BuiltDataset.open(final)
