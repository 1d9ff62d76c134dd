"""Separation metrics: BSS-eval v3, SI-SDR, their improvements, and aggregates.

Everything here works on plain arrays of waveforms and knows nothing about
models or data sets (the flow is one way: models produce estimates, this
package scores them). What the numbers mean, and why BSS-eval forgives a
512-tap filter while SI-SDR forgives only a gain, is explained in Notebook 02,
section "Measuring separation"; Notebook 04 uses :func:`evaluate_batch` and
:func:`compare_markdown` to build the paper's comparison table.

* :mod:`vaesep.metrics.scores`: BSS-eval v3 (:func:`bss_eval`, the numbers of
  ``mir_eval.separation.bss_eval_sources(..., compute_permutation=False)``,
  computed about 3× faster), :func:`si_sdr`, and :func:`evaluate_item`, the
  scores of one item with the mixture's as the baseline (NSDR, SI-SDRi);
  items with a silent reference are undefined (NaN);
* :mod:`vaesep.metrics.results`: :func:`evaluate_batch` and
  :class:`EvaluationResult`, with means, medians and the length-weighted
  GNSDR/GSIR/GSAR of Huang et al. (2014).

Example::

    from vaesep import metrics
    result = metrics.evaluate_batch(refs, ests, mixes, source_names=("v", "m"),
                                    metadata={"split": "test-cs", "snr_db": 0})
    print(result.to_markdown(title="VAE, Czech test speakers"))
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
