"""The paper's comparison: does the VAE beat the best baseline by ~2 dB? (notebook 04)

Pandey et al. (2018) claim their VAE beats the best of "DNN and RNN with different
masking functions and autoencoders" by ~2 dB SDR. This package reruns that comparison
on our data, in modules read in this order:

* :mod:`~vaesep.compare.conditions`: the test conditions (Dutch, Czech, ±5 dB, chorales, noise);
* :mod:`~vaesep.compare.methods`: the rows, from the mixture floor through the baselines
  and the VAEs to the oracle ceilings, and the grid searched for each;
* :mod:`~vaesep.compare.study`: the one loop over methods × configurations × seeds ×
  domains, resumable, at convergence or at a matched 200-step budget;
  :mod:`~vaesep.compare.one_run`: what one run of it does;
* :mod:`~vaesep.compare.report`: the tables, the verdict and the learning curves, read
  from the result files;
* :mod:`~vaesep.compare.views` (one item through every method),
  :mod:`~vaesep.compare.shipping` (the shipped models), and :mod:`~vaesep.compare.inference`
  (SDR and cost against inference iterations, notebook 06). ``vaesep study`` and
  ``vaesep compare`` are in :mod:`vaesep.cli.compare`.

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
