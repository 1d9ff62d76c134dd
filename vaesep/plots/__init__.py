"""Figures for the notebooks; every function returns its matplotlib Figure.

* :mod:`~vaesep.plots.spectra` -- waveforms, spectrograms, masks, STFT resolutions (every notebook);
* :mod:`~vaesep.plots.data` -- minutes per split, pitch and level histograms (notebook 01);
* :mod:`~vaesep.plots.training` -- loss curves and the KL warm-up (notebook 02);
* :mod:`~vaesep.plots.results` -- scores per method (01, 02, 04) and inference curves (06);
* :mod:`~vaesep.plots.latent` -- the latent space (notebook 03; import it by name).
"""

from vaesep.plots.data import plot_db_histograms, plot_f0_histograms, plot_split_durations
from vaesep.plots.results import plot_iteration_curves, plot_metric_boxes, plot_objective
from vaesep.plots.spectra import (
    plot_harmonic_zoom,
    plot_masks,
    plot_spectrograms,
    plot_stft_resolutions,
    plot_waveforms,
)
from vaesep.plots.training import LiveLossPlot, plot_history, plot_kl_schedule

__all__ = [
    "LiveLossPlot", "plot_db_histograms", "plot_f0_histograms", "plot_harmonic_zoom", "plot_history",
    "plot_iteration_curves", "plot_kl_schedule", "plot_masks", "plot_metric_boxes", "plot_objective",
    "plot_spectrograms", "plot_split_durations", "plot_stft_resolutions", "plot_waveforms",
]
