"""Input checks and the silence rule shared by every metric in this package."""

from __future__ import annotations

import numpy as np

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
