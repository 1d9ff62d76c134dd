"""The paper's comparison: does the VAE beat the best baseline by ~2 dB? (notebook 04)

Pandey et al. (2018) claim their VAE beats the best of DNN, RNN and autoencoder baselines by
~2 dB SDR; this package reruns that comparison. Read in order: :mod:`~vaesep.compare.conditions`
(the test conditions), :mod:`~vaesep.compare.methods` (the rows and their grids),
:mod:`~vaesep.compare.study` (the one resumable loop, one item through every method, the shipped
models) and :mod:`~vaesep.compare.one_run` (one run of it), :mod:`~vaesep.compare.report` (tables,
verdict, curves), then :mod:`~vaesep.compare.inference` (notebook 06).
"""
