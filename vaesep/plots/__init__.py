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
