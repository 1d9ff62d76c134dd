"""Separation metrics: BSS-eval v3, SI-SDR, their improvements, and aggregates.

Everything here works on plain arrays of waveforms and knows nothing about
models or data sets (the flow is one way: models produce estimates, this
package scores them). What the numbers mean, and why BSS-eval forgives a
512-tap filter while SI-SDR forgives only a gain, is explained in Notebook 02,
section "Measuring separation"; Notebook 04 uses :func:`evaluate_batch` and
:func:`compare_markdown` to build the paper's comparison table.

Protocol (see ``DESIGN.md``, "Evaluation protocol"):

* :func:`bss_eval` gives the numbers of
  ``mir_eval.separation.bss_eval_sources(..., compute_permutation=False)``;
  the default ``"fast"`` backend reuses one factorisation per item and
  agrees with mir_eval to ~1e-9 dB on speech.
* :func:`si_sdr` is scale-invariant SDR without mean removal by default.
* :func:`evaluate_item` adds NSDR and SI-SDRi, the gains over the mixture
  used as the estimate of every source, and marks items with a silent
  reference (RMS below :data:`SILENCE_RMS`) as undefined (NaN).
* :func:`evaluate_batch` returns an :class:`EvaluationResult` with means,
  medians and the length-weighted GNSDR/GSIR/GSAR of Huang et al. (2014);
  silent items are skipped and counted.

Example::

    from vaesep import metrics
    result = metrics.evaluate_batch(refs, ests, mixes, source_names=("v", "m"),
                                    metadata={"split": "test-cs", "snr_db": 0})
    print(result.to_markdown(title="VAE, Czech test speakers"))
"""

from vaesep.metrics._validation import SILENCE_RMS, SilentSourceError
from vaesep.metrics.bss import FILTER_LENGTH, bss_eval
from vaesep.metrics.results import (
    WEIGHTED_METRICS,
    EvaluationResult,
    compare_markdown,
    evaluate_batch,
)
from vaesep.metrics.scores import ITEM_METRICS, evaluate_item, si_sdr

__all__ = [
    "FILTER_LENGTH",
    "ITEM_METRICS",
    "SILENCE_RMS",
    "WEIGHTED_METRICS",
    "EvaluationResult",
    "SilentSourceError",
    "bss_eval",
    "compare_markdown",
    "evaluate_batch",
    "evaluate_item",
    "si_sdr",
]
