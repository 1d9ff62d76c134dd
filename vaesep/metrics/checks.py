"""Input checks, the silence rule, and mir_eval: what the metrics of :mod:`vaesep.metrics.scores` lean on.

Kept apart so that ``scores.py`` reads as the method alone. ``bss_eval_mir_eval``
is the reference implementation the fast BSS-eval is checked against
(``tests/test_metrics.py``, ``backend="mir_eval"``).
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

FILTER_LENGTH: int = 512
"""Taps of the distortion filter BSS-eval v3 allows (mir_eval's fixed choice)."""

SILENCE_RMS: float = 1e-6
"""A signal whose RMS is below this (about -120 dB re full scale) counts as silent.

BSS-eval projects an estimate onto the space spanned by delayed copies of the
references; a silent reference spans nothing, so the projection and every
ratio built on it are undefined. SI-SDR divides by the reference energy and is
undefined for the same reason. An absolute threshold (rather than one relative
to the other sources) keeps the rule easy to state: it only catches digital
silence and dither-level noise, never a quiet but audible source.
"""


class SilentSourceError(ValueError):
    """Raised by the array-level metrics when a reference (or estimate) is silent.

    :func:`vaesep.metrics.evaluate_item` catches the condition before it
    arises and reports NaN for the item instead, so a long evaluation does not
    stop on one silent segment.
    """


def as_sources(array: np.ndarray, name: str) -> np.ndarray:
    """Return ``array`` as a finite ``float64`` matrix of shape ``(n_sources, n_samples)``.

    Raises:
        ValueError: not two-dimensional, empty, or containing NaN/inf.
    """
    values = np.asarray(array)
    if values.ndim != 2:
        hint = " (use x[np.newaxis] for a single source)" if values.ndim == 1 else ""
        raise ValueError(
            f"{name} must have shape (n_sources, n_samples), got shape {values.shape}{hint}"
        )
    if values.shape[0] == 0 or values.shape[1] == 0:
        raise ValueError(
            f"{name} must have shape (n_sources, n_samples) with both sizes > 0, "
            f"got shape {values.shape}"
        )
    return _finite_float64(values, name)


def as_signal(array: np.ndarray, name: str, n_samples: int) -> np.ndarray:
    """Return ``array`` as a finite ``float64`` vector of shape ``(n_samples,)``."""
    values = np.asarray(array)
    if values.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape (n_samples,) = ({n_samples},) to match the "
            f"references, got shape {values.shape}"
        )
    return _finite_float64(values, name)


def check_same_shape(references: np.ndarray, estimates: np.ndarray) -> None:
    """Both arrays are ``(n_sources, n_samples)``; insist they agree exactly."""
    if references.shape[0] != estimates.shape[0]:
        raise ValueError(
            f"estimates must have shape (n_sources, n_samples) = {references.shape} like the "
            f"references, got {estimates.shape}: {estimates.shape[0]} estimates for "
            f"{references.shape[0]} references"
        )
    if references.shape[1] != estimates.shape[1]:
        raise ValueError(
            f"estimates must have shape (n_sources, n_samples) = {references.shape} like the "
            f"references, got {estimates.shape}: lengths differ ({estimates.shape[1]} vs "
            f"{references.shape[1]} samples); crop or pad them to the same length first"
        )


def checked_pair(references: np.ndarray, estimates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as finite float64 ``(n_sources, n_samples)`` arrays of the same shape, or a clear error."""
    references, estimates = as_sources(references, "references"), as_sources(estimates, "estimates")
    check_same_shape(references, estimates)
    return references, estimates


def silence_reason(references: np.ndarray, estimates: np.ndarray, mixture: np.ndarray) -> str | None:
    """Why an item cannot be scored, ``"silent_reference"``, ``"silent_estimate"`` (with a warning:
    the separator failed) or ``"silent_mixture"``; ``None`` if it can."""
    for reason, signals in (("silent_reference", references), ("silent_estimate", estimates), ("silent_mixture", mixture[None])):
        if silent_rows(signals).any():
            if reason == "silent_estimate":
                warnings.warn(
                    "an estimate is silent (the separator returned nothing for a source); "
                    "the item is reported as NaN and left out of the aggregates",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return reason
    return None


def silent_rows(sources: np.ndarray) -> np.ndarray:
    """Boolean mask, shape ``(n_sources,)``: which rows of ``(n_sources, n_samples)`` are silent."""
    # mean of squares rather than norm / sqrt(n): no overflow for int-scaled input
    rms = np.sqrt(np.mean(np.square(sources), axis=-1))
    return rms < SILENCE_RMS


def _finite_float64(values: np.ndarray, name: str) -> np.ndarray:
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise TypeError(f"{name} must be a real numeric array, got dtype {values.dtype}")
    # float64 throughout: the Gram matrices below are ill-conditioned enough
    # that float32 would cost several tenths of a dB of agreement
    values = values.astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)):
        n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(f"{name} contains {n_bad} NaN or infinite sample(s)")
    return values


def check_long_enough(references: np.ndarray) -> None:
    """Refuse signals too short for BSS-eval's distortion filters to mean anything.

    Each reference is allowed a :data:`FILTER_LENGTH`-tap filter. Once the
    filters have about as many coefficients as the signal has samples, they
    explain almost any estimate: a one-sample estimate with 10 % noise scored
    SDR = +inf, and up to about 500 samples of two sources SAR came out as
    +inf. Scores are still biased upwards near this minimum (for white-noise
    sources and a 10 dB estimate, SDR came out 2 dB high at it, 1 dB at twice
    it, 0.1 dB at 1 s of 16 kHz audio), so evaluate excerpts of a second or more.
    """
    n_sources, n_samples = references.shape
    if n_samples < n_sources * FILTER_LENGTH:
        raise ValueError(
            f"signals of {n_samples} samples are too short for BSS-eval with {n_sources} "
            f"source(s): its {FILTER_LENGTH}-tap distortion filters would explain almost any "
            f"estimate. Give at least {n_sources * FILTER_LENGTH} samples (a second or more "
            "is typical)"
        )


def refuse_silence(sources: np.ndarray, what: str, metric: str = "BSS-eval") -> None:
    """Raise :class:`SilentSourceError` if any row of ``sources`` is silent."""
    silent = np.flatnonzero(silent_rows(sources))
    if silent.size:
        raise SilentSourceError(
            f"{what} source(s) {silent.tolist()} are silent (RMS below vaesep.metrics.SILENCE_RMS); "
            f"{metric} is undefined for them. evaluate_item/evaluate_batch report such items as NaN and skip them."
        )


_BLAS_CONTROLLER: Any = None


def single_threaded_blas() -> AbstractContextManager[Any]:
    """Context in which BLAS/LAPACK run on one thread, if threadpoolctl is available.

    The matrices here are small (1024 x 1024 for two sources). On a loaded
    2-core machine a multi-threaded OpenBLAS Cholesky of that size was
    measured 30x *slower* (0.5 s vs 0.017 s) than a single-threaded one,
    because its worker threads spin waiting for cores other processes hold.
    """
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        try:
            from threadpoolctl import ThreadpoolController  # installed with scikit-learn
        except ImportError:
            _BLAS_CONTROLLER = False
        else:
            _BLAS_CONTROLLER = ThreadpoolController()
    if _BLAS_CONTROLLER is False:
        return nullcontext()
    return _BLAS_CONTROLLER.limit(limits=1, user_api="blas")


def bss_eval_mir_eval(references: np.ndarray, estimates: np.ndarray) -> dict[str, np.ndarray]:
    """BSS-eval by mir_eval itself, ``compute_permutation=False``; its deprecation notice silenced here only."""
    import mir_eval.separation  # imported lazily: slow to import, and optional at run time

    with warnings.catch_warnings():
        # mir_eval 0.8 marks bss_eval_sources for removal in 0.9; the
        # dependency pin (<0.9) is our answer to that, so the notice is noise
        warnings.filterwarnings("ignore", message=r".*bss_eval_sources", category=FutureWarning)
        # same reason as for the fast backend: its (S·512)² solves are small
        with single_threaded_blas():
            sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(
                references, estimates, compute_permutation=False
            )
    return {"sdr": np.asarray(sdr), "sir": np.asarray(sir), "sar": np.asarray(sar)}
