"""Figures for the notebooks; every function returns its matplotlib Figure.

:mod:`~vaesep.plots.spectra` draws waveforms, spectrograms and masks (every notebook),
:mod:`~vaesep.plots.charts` data, training and score charts (01, 02, 04, 06) and
:mod:`~vaesep.plots.latent` the latent space (notebook 03; import it by name).
"""

from vaesep.plots.charts import (
    LiveLossPlot,
    plot_db_histograms,
    plot_f0_histograms,
    plot_history,
    plot_iteration_curves,
    plot_kl_schedule,
    plot_metric_boxes,
    plot_objective,
    plot_split_durations,
)
from vaesep.plots.spectra import (
    plot_harmonic_zoom,
    plot_masks,
    plot_spectrograms,
    plot_stft_resolutions,
    plot_waveforms,
)

__all__ = [
    "LiveLossPlot", "plot_db_histograms", "plot_f0_histograms", "plot_harmonic_zoom", "plot_history",
    "plot_iteration_curves", "plot_kl_schedule", "plot_masks", "plot_metric_boxes", "plot_objective",
    "plot_spectrograms", "plot_split_durations", "plot_stft_resolutions", "plot_waveforms",
]
