"""Decoding many recordings to trimmed 16 kHz audio on all (up to two) cores.

Decoding and resampling are the slow part of a build and parallelise perfectly: a process pool
of at most two workers (the reference machine has two cores; ``VAESEP_DATA_WORKERS`` changes
it) returns results in order with only a few in flight, so a long corpus never sits in memory.
Where forking is unsafe (macOS, Windows) files are decoded in one process.
Notebook 01, section "Where the audio comes from".
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from itertools import islice
from typing import Any, TypeVar

import numpy as np

from vaesep.audio import SAMPLE_RATE, load_audio
from vaesep.runtime import progress_bar

IN_FLIGHT_PER_WORKER = 2
_SERIAL_BELOW = 8  # starting processes costs more than decoding a handful of files

ResultT = TypeVar("ResultT")


def trim_silence(signal: np.ndarray, top_db: float) -> tuple[np.ndarray, int]:
    """``(trimmed float32, start)``: without the ends quieter than ``top_db`` below the loudest
    frame (``librosa.effects.trim``); a silent recording stays whole."""
    import librosa.effects  # ~1.5 s to import, needed only while building

    trimmed, (start, _) = librosa.effects.trim(signal, top_db=top_db)
    if trimmed.size == 0:
        return signal, 0
    return np.ascontiguousarray(trimmed, dtype=np.float32), int(start)


def decode_trimmed(path: str, top_db: float) -> tuple[np.ndarray, int]:
    """One file as ``(trimmed 16 kHz mono, start)``; a file without samples (the Dutch pack has
    two) gives empty audio, which the caller skips and records."""
    import soundfile as sf

    if sf.info(path).frames == 0:
        return np.zeros(0, dtype=np.float32), 0
    return trim_silence(load_audio(path, SAMPLE_RATE), top_db)


Arguments = Sequence[tuple[Any, ...]]


def ordered_map(function: Callable[..., ResultT], arguments: Arguments) -> Iterator[ResultT]:
    """``function(*a)`` for each ``a``, yielded in order, with at most two results per worker
    in flight. ``function`` must be module-level (the workers receive it by name)."""
    configured = os.environ.get("VAESEP_DATA_WORKERS", "").strip()
    workers = max(1, int(configured)) if configured else min(2, os.cpu_count() or 1)
    workers = min(workers, len(arguments))
    # fork starts workers that already hold numpy and librosa and, unlike spawn,
    # does not re-run the user's script or notebook; macOS and Windows lack a safe fork
    forkable = sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or not forkable or len(arguments) < _SERIAL_BELOW:
        yield from (function(*argument) for argument in arguments)
        return
    trim_silence(np.zeros(4096, dtype=np.float32), 60.0)  # import librosa once, for all workers
    queue, fork = iter(arguments), multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=fork) as pool:
        first = islice(queue, workers * IN_FLIGHT_PER_WORKER)
        pending = deque(pool.submit(function, *a) for a in first)
        try:
            while pending:
                result = pending.popleft().result()
                if (following := next(queue, None)) is not None:
                    pending.append(pool.submit(function, *following))
                yield result
        finally:
            for future in pending:
                future.cancel()


def parallel_map(function: Callable[..., ResultT], arguments: Arguments, *, progress: bool | None,
                 desc: str, unit: str = "file") -> list[ResultT]:  # fmt: skip
    """``[function(*a) for a in arguments]`` through :func:`ordered_map`, with a progress bar."""
    results = ordered_map(function, arguments)
    return list(progress_bar(results, progress, total=len(arguments), desc=desc, unit=unit))
