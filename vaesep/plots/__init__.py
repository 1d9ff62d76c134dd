"""Figures used across the notebooks; every function returns its matplotlib Figure.

Submodules: :mod:`~vaesep.plots.spectrograms` (waveforms, spectrograms,
masks), :mod:`~vaesep.plots.training` (loss curves), :mod:`~vaesep.plots.results`
(metric distributions per method).
"""

from vaesep.plots.results import plot_metric_boxes
from vaesep.plots.spectrograms import plot_masks, plot_spectrograms, plot_waveforms
from vaesep.plots.training import LiveLossPlot, plot_history

__all__ = [
    "LiveLossPlot",
    "plot_history",
    "plot_masks",
    "plot_metric_boxes",
    "plot_spectrograms",
    "plot_waveforms",
]

# data figures (notebook 01), the KL schedule (notebook 02), inference (notebook 06)
from vaesep.plots.data import (  # noqa: E402
    plot_db_histograms,
    plot_f0_histograms,
    plot_harmonic_zoom,
    plot_split_durations,
    plot_stft_resolutions,
)
from vaesep.plots.inference import plot_iteration_curves, plot_objective  # noqa: E402
from vaesep.plots.model import plot_kl_schedule  # noqa: E402

__all__ += [
    "plot_db_histograms",
    "plot_f0_histograms",
    "plot_harmonic_zoom",
    "plot_iteration_curves",
    "plot_kl_schedule",
    "plot_objective",
    "plot_split_durations",
    "plot_stft_resolutions",
]
