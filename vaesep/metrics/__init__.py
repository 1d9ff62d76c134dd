"""Separation metrics on plain waveform arrays: BSS-eval v3, SI-SDR, improvements, aggregates.

Nothing here knows models or data sets. Notebook 02, "Measuring separation", explains the
numbers (BSS-eval forgives a 512-tap filter, SI-SDR only a gain); notebook 04 builds the
paper's table with :func:`evaluate_batch` and :func:`compare_markdown`.

* :mod:`~vaesep.metrics.scores`: :func:`bss_eval` (mir_eval's numbers, about 3× faster),
  :func:`si_sdr`, and :func:`evaluate_item`, one item's scores against the mixture's;
* :mod:`~vaesep.metrics.results`: :func:`evaluate_batch` and :class:`EvaluationResult`
  (means, medians, the length-weighted GNSDR/GSIR/GSAR of Huang et al. 2014).
"""

from vaesep.metrics.checks import FILTER_LENGTH, SILENCE_RMS, SilentSourceError
from vaesep.metrics.results import (
    WEIGHTED_METRICS,
    EvaluationResult,
    compare_markdown,
    evaluate_batch,
)
from vaesep.metrics.scores import ITEM_METRICS, bss_eval, evaluate_item, si_sdr

__all__ = [
    "FILTER_LENGTH", "ITEM_METRICS", "SILENCE_RMS", "WEIGHTED_METRICS", "EvaluationResult",
    "SilentSourceError", "bss_eval", "compare_markdown", "evaluate_batch", "evaluate_item",
    "si_sdr",
]
