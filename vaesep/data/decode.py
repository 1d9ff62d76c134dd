"""Decoding many recordings to trimmed 16 kHz audio, on all (up to two) cores.

Decoding OGG/Vorbis and resampling 22.05 → 16 kHz is the slow part of
building the speech set, and it parallelises perfectly. We use a process
pool of at most two workers (the reference machine has two cores; set
``VAESEP_DATA_WORKERS`` to change it) and fall back to a plain loop where
forking is unavailable. Notebook 01, section "Getting the data".
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from vaesep.audio import SAMPLE_RATE, load_audio

WORKERS_ENV = "VAESEP_DATA_WORKERS"
MAX_DEFAULT_WORKERS = 2
_SERIAL_BELOW = 8  # starting processes costs more than decoding a handful of files

JobT = TypeVar("JobT")
ResultT = TypeVar("ResultT")


class TrimmedAudio(NamedTuple):
    """One decoded recording with its leading and trailing silence removed.

    Attributes:
        audio: ``(n_samples,)`` float32 at 16 kHz.
        file_offset: where ``audio`` starts inside the decoded (untrimmed) file, in samples.
        decoded_length: samples of the whole decoded file.
    """

    audio: np.ndarray
    file_offset: int
    decoded_length: int


def trim_silence(signal: np.ndarray, top_db: float) -> tuple[np.ndarray, int]:
    """Cut leading and trailing stretches quieter than ``top_db`` below the loudest frame.

    Uses ``librosa.effects.trim`` (2048-sample frames, hop 512). A recording
    that is silent throughout is returned whole.

    Returns:
        ``(trimmed (n,) float32, start offset in samples)``.
    """
    import librosa.effects  # imported here: costs ~1.5 s, needed only while building

    trimmed, (start, _) = librosa.effects.trim(signal, top_db=top_db)
    if trimmed.size == 0:
        return signal, 0
    return np.ascontiguousarray(trimmed, dtype=np.float32), int(start)


def decode_trimmed(path: str, top_db: float) -> TrimmedAudio:
    """Load one file as 16 kHz mono and trim its silence (the unit of work of the pool).

    A file with no samples (the Dutch pack has two) gives an empty ``audio``
    so the caller can skip it and say so.
    """
    import soundfile as sf

    if sf.info(path).frames == 0:
        return TrimmedAudio(np.zeros(0, dtype=np.float32), 0, 0)
    decoded = load_audio(path, SAMPLE_RATE)
    audio, start = trim_silence(decoded, top_db)
    return TrimmedAudio(audio, start, int(decoded.shape[0]))


def _call(job: tuple[Callable[..., Any], tuple[Any, ...]]) -> Any:
    function, arguments = job
    return function(*arguments)


def worker_count() -> int:
    """How many decoding processes to use: ``$VAESEP_DATA_WORKERS`` or min(2, cores)."""
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        return max(1, int(configured))
    return max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))


def _fork_context() -> multiprocessing.context.BaseContext | None:
    # fork starts workers that already hold numpy/librosa and, unlike spawn,
    # does not re-run a user's script or notebook; macOS and Windows lack a
    # safe fork, so they decode in one process.
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def parallel_map(
    function: Callable[..., ResultT],
    arguments: Sequence[tuple[Any, ...]],
    *,
    progress: bool,
    desc: str,
    unit: str = "file",
) -> list[ResultT]:
    """``[function(*a) for a in arguments]`` on a small process pool, in order, with a progress bar.

    ``function`` must be a module-level function (it is sent to the workers by name).
    """
    from tqdm.auto import tqdm

    workers = min(worker_count(), len(arguments))
    context = _fork_context()
    jobs: Iterable[tuple[Callable[..., Any], tuple[Any, ...]]] = ((function, a) for a in arguments)
    bar = tqdm(total=len(arguments), desc=desc, unit=unit, disable=not progress, leave=False)
    results: list[ResultT] = []
    try:
        if workers <= 1 or context is None or len(arguments) < _SERIAL_BELOW:
            for job in jobs:
                results.append(_call(job))
                bar.update()
            return results
        # import librosa (~1.5 s) once in the parent, so the forked workers share it
        trim_silence(np.zeros(4096, dtype=np.float32), 60.0)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for result in pool.map(_call, jobs, chunksize=4):
                results.append(result)
                bar.update()
        return results
    finally:
        bar.close()


def decode_many(
    paths: Sequence[Path], *, top_db: float, progress: bool, desc: str
) -> list[TrimmedAudio]:
    """Decode and trim ``paths`` in parallel; results in the order of ``paths``."""
    return parallel_map(
        decode_trimmed, [(str(p), top_db) for p in paths], progress=progress, desc=desc
    )
