"""Input checks, the silence rule, and mir_eval: what :mod:`vaesep.metrics.scores` leans on.

Kept apart so that ``scores.py`` reads as the method alone. :func:`bss_eval_mir_eval`
is the reference the fast BSS-eval is checked against (``tests/test_metrics.py``).
"""

from __future__ import annotations

import functools
import warnings
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController  # installed with scikit-learn

FILTER_LENGTH: int = 512
"""Taps of the distortion filter BSS-eval v3 allows (mir_eval's fixed choice)."""

SILENCE_RMS: float = 1e-6
"""Below this RMS (about -120 dB re full scale) a signal is silent: it spans nothing to project
onto, so BSS-eval and SI-SDR are undefined. Absolute, so only digital silence and dither count."""


class SilentSourceError(ValueError):
    """A reference or estimate is silent; :func:`~vaesep.metrics.evaluate_item` reports NaN instead."""


def _finite_float64(values: np.ndarray, name: str) -> np.ndarray:
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {values.dtype}")
    # float64: the Gram matrices are ill-conditioned enough that float32 costs tenths of a dB
    values = values.astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)):
        n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(f"{name} contains {n_bad} NaN or infinite sample(s)")
    return values


def as_signal(array: np.ndarray, name: str, n_samples: int) -> np.ndarray:
    """``array`` as a finite ``float64`` vector of shape ``(n_samples,)``."""
    values = np.asarray(array)
    if values.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape (n_samples,) = ({n_samples},) to match the references, "
            f"got shape {values.shape}"
        )
    return _finite_float64(values, name)


def checked_pair(references: np.ndarray, estimates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as finite float64 ``(n_sources, n_samples)`` arrays of the same shape, or a clear error."""
    references, estimates = np.asarray(references), np.asarray(estimates)
    for name, values in (("references", references), ("estimates", estimates)):
        if values.ndim != 2 or 0 in values.shape:
            hint = " (use x[np.newaxis] for a single source)" if values.ndim == 1 else ""
            raise ValueError(f"{name} must have shape (n_sources, n_samples), both > 0, "
                             f"got shape {values.shape}{hint}")
    if references.shape != estimates.shape:
        same_count = len(references) == len(estimates)
        lengths = " (lengths differ: crop or pad them first)" if same_count else ""
        raise ValueError(
            f"estimates must have shape (n_sources, n_samples) = {references.shape} like the references, "
            f"got {estimates.shape}{lengths}"
        )
    return _finite_float64(references, "references"), _finite_float64(estimates, "estimates")


def check_long_enough(references: np.ndarray) -> None:
    """Refuse signals too short for BSS-eval's :data:`FILTER_LENGTH`-tap filters to mean anything.

    With about as many filter coefficients as samples, the filters explain any estimate (SDR = +inf
    for a one-sample estimate with 10 % noise); near the minimum scores are still biased upwards
    (2 dB at it, 0.1 dB at 1 s of 16 kHz white noise), so evaluate a second or more.
    """
    n_sources, n_samples = references.shape
    if n_samples < n_sources * FILTER_LENGTH:
        raise ValueError(
            f"signals of {n_samples} samples are too short for BSS-eval with {n_sources} source(s): its "
            f"{FILTER_LENGTH}-tap distortion filters would explain almost any estimate. Give at least "
            f"{n_sources * FILTER_LENGTH} samples (a second or more is typical)"
        )


def silent_rows(sources: np.ndarray) -> np.ndarray:
    """Which rows of ``(n_sources, n_samples)`` are silent, ``(n_sources,)`` booleans."""
    return np.sqrt(np.mean(np.square(sources), axis=-1)) < SILENCE_RMS  # mean, not norm: no overflow


def refuse_silence(references: np.ndarray, estimates: np.ndarray, metric: str = "BSS-eval") -> None:
    """Raise :class:`SilentSourceError` if any reference or estimate is silent."""
    for what, sources in (("reference", references), ("estimate", estimates)):
        silent = np.flatnonzero(silent_rows(sources))
        if silent.size:
            raise SilentSourceError(
                f"{what} source(s) {silent.tolist()} are silent (RMS below "
                f"vaesep.metrics.SILENCE_RMS); {metric} is undefined for them. "
                "evaluate_item/evaluate_batch report such items as NaN and skip them."
            )


def silence_reason(references: np.ndarray, estimates: np.ndarray, mixture: np.ndarray) -> str | None:
    """Why an item cannot be scored (``"silent_reference"``, ``"silent_estimate"``, with a warning
    since the separator failed, or ``"silent_mixture"``), or ``None``."""
    signals = {"silent_reference": references, "silent_estimate": estimates,
               "silent_mixture": mixture[None]}
    reason = next((reason for reason, rows in signals.items() if silent_rows(rows).any()), None)
    if reason == "silent_estimate":
        warnings.warn(
            "an estimate is silent (the separator returned nothing for a source); "
            "the item is reported as NaN and left out of the aggregates",
            RuntimeWarning,
            stacklevel=3,
        )
    return reason


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded_blas() -> AbstractContextManager[Any]:
    """BLAS on one thread while in the context.

    The matrices are small (1024²); on a loaded 2-core machine a multi-threaded OpenBLAS
    Cholesky of that size was measured 30× slower (0.5 s against 0.017 s), its threads spinning.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def bss_eval_mir_eval(references: np.ndarray, estimates: np.ndarray) -> dict[str, np.ndarray]:
    """BSS-eval by mir_eval itself, ``compute_permutation=False``."""
    import mir_eval.separation  # slow to import, and needed only for the check

    with warnings.catch_warnings(), single_threaded_blas():
        # mir_eval 0.8 marks bss_eval_sources for removal; our pin (<0.9) answers that
        warnings.filterwarnings("ignore", message=r".*bss_eval_sources", category=FutureWarning)
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(references, estimates, compute_permutation=False)
    return {"sdr": np.asarray(sdr), "sir": np.asarray(sir), "sar": np.asarray(sar)}
