"""SI-SDR and the per-item score card (BSS-eval, SI-SDR and their improvements)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from vaesep.metrics._validation import (
    SilentSourceError,
    as_signal,
    as_sources,
    check_same_shape,
    silent_rows,
)
from vaesep.metrics.bss import Backend, ReferenceSubspaces, bss_eval, check_long_enough

ITEM_METRICS: tuple[str, ...] = (
    "sdr",
    "sir",
    "sar",
    "si_sdr",
    "nsdr",
    "si_sdri",
    "mixture_sdr",
    "mixture_sir",
    "mixture_si_sdr",
)
"""Per-source values :func:`evaluate_item` returns, in dB (the mixture's SAR is left out)."""

UNDEFINED_SAR_DB: float = 100.0
"""SAR above this is reported as NaN ("undefined"), not as a number.

An estimate that is a sum of (filtered) references, such as the unprocessed
mixture, has no artifact component; its SAR is then rounding noise (≈130 dB
in float64), not a measurement. Real separators stay far below 100 dB.
"""


def si_sdr(
    references: np.ndarray,
    estimates: np.ndarray,
    *,
    zero_mean: bool = False,
) -> np.ndarray:
    """Scale-invariant SDR of each estimate (Le Roux, Wisdom, Erdogan & Hershey, 2019).

    The reference is rescaled to best fit the estimate, ``α = <ŝ, s> / ‖s‖²``,
    and ``SI-SDR = 10 log10(‖α s‖² / ‖ŝ - α s‖²)``. Unlike BSS-eval no
    filtering is forgiven, so SI-SDR is stricter and is not fooled by an
    estimate that is a filtered version of the source.

    Our choice: by default the signals are used as they are, without
    removing their means. Le Roux et al. state the formula for zero-mean
    signals but leave the centring to the user; our waveforms come from an
    inverse STFT of masked speech and are zero-mean to within rounding, so
    the two conventions agree to ~1e-6 dB on them. Pass ``zero_mean=True``
    for the centred variant (as in e.g. Asteroid's loss functions).

    Args:
        references: shape ``(n_sources, n_samples)``.
        estimates: shape ``(n_sources, n_samples)``; row ``j`` is scored
            against reference row ``j``.
        zero_mean: subtract each row's mean from both signals first.

    Returns:
        ``float64`` array of shape ``(n_sources,)`` in dB; ``+inf`` for an
        estimate that is an exact multiple of its reference.

    Raises:
        ValueError: wrong shapes, mismatched lengths or NaN/inf samples.
        SilentSourceError: a reference or an estimate is silent.
    """
    references = as_sources(references, "references")
    estimates = as_sources(estimates, "estimates")
    check_same_shape(references, estimates)
    if zero_mean:
        references = references - references.mean(axis=-1, keepdims=True)
        estimates = estimates - estimates.mean(axis=-1, keepdims=True)
    for sources, what in ((references, "reference"), (estimates, "estimate")):
        silent = np.flatnonzero(silent_rows(sources))
        if silent.size:
            raise SilentSourceError(
                f"{what} source(s) {silent.tolist()} are silent; SI-SDR is undefined for them"
            )
    scale = np.einsum("sn,sn->s", estimates, references) / np.einsum(
        "sn,sn->s", references, references
    )
    target = scale[:, np.newaxis] * references
    # the noise is formed explicitly rather than as ‖ŝ‖² - ‖αs‖², which
    # would lose all its digits for estimates above ~80 dB
    noise = estimates - target
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.sum(target**2, axis=-1) / np.sum(noise**2, axis=-1))


def evaluate_item(
    references: np.ndarray,
    estimates: np.ndarray,
    mixture: np.ndarray,
    *,
    backend: Backend = "fast",
) -> dict[str, Any]:
    """Every per-source score of one separated item, and the mixture's as a baseline.

    The mixture, used unchanged as the estimate of every source, is the floor
    any separator must beat; the improvements are measured from it:
    ``nsdr = sdr - mixture_sdr`` (the NSDR of Huang et al., 2014) and
    ``si_sdri = si_sdr - mixture_si_sdr``. The mixture's SAR is left out: a
    mixture that is the exact sum of the references contains no artifact at
    all, so its SAR is infinite up to rounding noise; for the same reason its
    SIR equals its SDR. The same holds when a *method* returns the mixture
    (the floor in a comparison): its SAR above :data:`UNDEFINED_SAR_DB` is
    reported as NaN and shown as "—" in tables.

    Silence (see :data:`vaesep.metrics.SILENCE_RMS`): if any reference is
    silent, BSS-eval and SI-SDR are undefined for the whole item (the silent
    source adds nothing to the subspace the others are measured against, and
    its own ratios divide by zero). The item is then reported with NaN for
    every metric and ``skipped = "silent_reference"``; aggregates leave it
    out and count it. A silent estimate or mixture is handled the same way
    (``"silent_estimate"``, ``"silent_mixture"``), with a warning for a
    silent estimate because it usually means the separator failed.

    Args:
        references: true sources, shape ``(n_sources, n_samples)``.
        estimates: separated sources, shape ``(n_sources, n_samples)``.
        mixture: the separator's input, shape ``(n_samples,)``.
        backend: BSS-eval implementation, see :func:`vaesep.metrics.bss_eval`.

    Returns:
        ``{metric: array of shape (n_sources,)}`` for each name in
        :data:`ITEM_METRICS`, plus ``"n_samples"`` (int) and ``"skipped"``
        (``None`` or the reason the item was not scored).

    Raises:
        ValueError: wrong shapes, NaN/inf samples, or signals too short for
            BSS-eval (:func:`vaesep.metrics.bss.check_long_enough`).
    """
    references = as_sources(references, "references")
    estimates = as_sources(estimates, "estimates")
    check_same_shape(references, estimates)
    mixture = as_signal(mixture, "mixture", references.shape[1])
    check_long_enough(references)
    n_sources, n_samples = references.shape

    reason = _silence_reason(references, estimates, mixture)
    if reason is not None:
        if reason == "silent_estimate":
            warnings.warn(
                "an estimate is silent (the separator returned nothing for a source); "
                "the item is reported as NaN and left out of the aggregates",
                RuntimeWarning,
                stacklevel=2,
            )
        undefined = {name: np.full(n_sources, np.nan) for name in ITEM_METRICS}
        return {**undefined, "n_samples": n_samples, "skipped": reason}

    mixture_rows = np.broadcast_to(mixture, (n_sources, n_samples))
    if backend == "fast":
        # one factorisation of the references' Gram matrix serves the
        # estimates and the mixture alike
        subspaces = ReferenceSubspaces(references)
        sdr, sir, sar = subspaces.ratios(estimates)
        mixture_sdr, mixture_sir, _ = subspaces.ratios(
            mixture[np.newaxis], targets=np.arange(n_sources)
        )
    else:
        separated = bss_eval(references, estimates, backend=backend)
        baseline = bss_eval(references, np.ascontiguousarray(mixture_rows), backend=backend)
        sdr, sir, sar = separated["sdr"], separated["sir"], separated["sar"]
        mixture_sdr, mixture_sir = baseline["sdr"], baseline["sir"]
    separated_si_sdr = si_sdr(references, estimates)
    mixture_si_sdr = si_sdr(references, mixture_rows)
    sar = np.where(np.asarray(sar) > UNDEFINED_SAR_DB, np.nan, sar)
    return {
        "sdr": sdr,
        "sir": sir,
        "sar": sar,
        "si_sdr": separated_si_sdr,
        "nsdr": sdr - mixture_sdr,
        "si_sdri": separated_si_sdr - mixture_si_sdr,
        "mixture_sdr": mixture_sdr,
        "mixture_sir": mixture_sir,
        "mixture_si_sdr": mixture_si_sdr,
        "n_samples": n_samples,
        "skipped": None,
    }


def _silence_reason(
    references: np.ndarray, estimates: np.ndarray, mixture: np.ndarray
) -> str | None:
    """Why the item cannot be scored, or ``None`` if it can."""
    if silent_rows(references).any():
        return "silent_reference"
    if silent_rows(estimates).any():
        return "silent_estimate"
    if silent_rows(mixture[np.newaxis]).any():
        return "silent_mixture"
    return None
