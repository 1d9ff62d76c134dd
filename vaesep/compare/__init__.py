"""The paper's comparison: every method behind one interface, on the same splits.

Pandey et al. (2018) claim their VAE beats the best of "DNN and RNN with
different masking functions and autoencoders" by ~2 dB SDR. This package
reproduces that comparison on our data:

* :mod:`~vaesep.compare.methods`: the rows (mixture floor, oracle
  ceilings, NMF, Huang et al.'s DNN/DRNN with MSE and discriminative
  objectives, the autoencoder, the VAE in two variants) and the shared
  training :class:`Budget`;
* :mod:`~vaesep.compare.conditions`: the tables (Dutch, Czech, ±5 dB,
  chorales, denoising);
* :mod:`~vaesep.compare.runner`: resumable training and evaluation tasks;
* :mod:`~vaesep.compare.tables` and :mod:`~vaesep.compare.report`:
  mean ± std over seeds, the VAE-vs-best-baseline gap, Markdown and JSON;
* :mod:`~vaesep.compare.views`: one item through every method (notebook 04);
* :mod:`~vaesep.compare.study`: the comparison at convergence (``vaesep study``), and
  :mod:`~vaesep.compare.inference`: SDR and cost against inference iterations (notebook 06);
* :mod:`~vaesep.compare.cli`: ``vaesep compare``.

Example::

    from vaesep.compare import CompareConfig, run_comparison
    report = run_comparison(CompareConfig())          # ~1 h on 2 CPU cores with jobs=2
    print(report.headline_markdown()); print(report.conclusion())
"""

from vaesep.compare.cli import add_compare_parser
from vaesep.compare.conditions import CONDITIONS, FULL_CONDITIONS, Condition, get_condition
from vaesep.compare.methods import (
    METHODS,
    PROPOSED,
    Budget,
    Method,
    build_method_network,
    get_method,
)
from vaesep.compare.report import ComparisonReport, build_report, run_comparison
from vaesep.compare.runner import CompareConfig, execute, load_results, plan
from vaesep.compare.shipping import pretrained_name
from vaesep.compare.tables import Gap, SeedStat, best_baseline_gap
from vaesep.compare.views import separate_item, target_source

__all__ = [
    "CONDITIONS",
    "FULL_CONDITIONS",
    "METHODS",
    "PROPOSED",
    "Budget",
    "CompareConfig",
    "ComparisonReport",
    "Condition",
    "Gap",
    "Method",
    "SeedStat",
    "add_compare_parser",
    "best_baseline_gap",
    "build_method_network",
    "build_report",
    "execute",
    "get_condition",
    "get_method",
    "load_results",
    "plan",
    "pretrained_name",
    "run_comparison",
    "separate_item",
    "target_source",
]
