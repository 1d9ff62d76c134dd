"""The paper's comparison: does the VAE beat the best baseline by ~2 dB? (notebook 04)

Pandey et al. (2018) claim their VAE beats the best of DNN, RNN and autoencoder baselines by
~2 dB SDR; this package reruns that comparison. Read in order: :mod:`~vaesep.compare.conditions`
(the test conditions), :mod:`~vaesep.compare.methods` (the rows and their grids),
:mod:`~vaesep.compare.study` (the one resumable loop) and :mod:`~vaesep.compare.one_run` (one run
of it), :mod:`~vaesep.compare.report` (tables, verdict, curves), then :mod:`~vaesep.compare.views`,
:mod:`~vaesep.compare.shipping` and :mod:`~vaesep.compare.inference` (notebook 06).

Example::

    from vaesep.compare import converged_study, load_runs, results_markdown
    study = converged_study("results/converged")
    print(results_markdown(load_runs(study.out), study))
"""

from vaesep.compare.conditions import CONDITIONS, FULL_CONDITIONS, get_condition
from vaesep.compare.methods import CONVERGED_METHODS, MATCHED_METHODS, get_method
from vaesep.compare.report import load_runs, results_markdown, verdict_sentences
from vaesep.compare.study import Study, converged_study, execute, matched_study, pending

__all__ = [
    "CONDITIONS", "CONVERGED_METHODS", "FULL_CONDITIONS", "MATCHED_METHODS", "Study", "converged_study", "execute",
    "get_condition", "get_method", "load_runs", "matched_study", "pending", "results_markdown", "verdict_sentences",
]
