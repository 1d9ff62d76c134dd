"""A blinded MUSHRA-style listening test (ITU-R BS.1534) and its analysis: notebook 05.

Read in this order: :mod:`~vaesep.listening.design` (conditions, letters, balanced
orders), :mod:`~vaesep.listening.stimuli` (level-aligned audio and anchors),
:mod:`~vaesep.listening.session` (one fsync'd line per trial, resume, locks, reading
files back), :mod:`~vaesep.listening.analysis` (post-screening, statistics,
correlations) with its :mod:`~vaesep.listening.plots`, and
:mod:`~vaesep.listening.simulated` (a labelled simulated listener). The ipywidgets view
is :mod:`vaesep.widgets.listening`; the logic lives here, so it is tested without a browser.
"""

from vaesep.listening.analysis import (
    ListeningReport,
    Rating,
    analyse_folder,
    correlate_with_metrics,
    load_results,
    mean_confidence_interval,
    post_screen,
    summarise_conditions,
)
from vaesep.listening.design import (
    HIDDEN_REFERENCE,
    SCALE_LABELS,
    ListeningDesign,
    TrialPlan,
    position_counts,
)
from vaesep.listening.session import (
    ListeningSession,
    SessionLockedError,
    open_session,
    read_results_file,
)
from vaesep.listening.simulated import SimulatedListenerModel, simulate_listeners
from vaesep.listening.stimuli import (
    ItemAudio,
    StimulusSet,
    items_from_dataset,
    load_stimuli,
    low_pass_anchor,
    render_stimuli,
    separation_metrics,
)

__all__ = [
    "HIDDEN_REFERENCE", "SCALE_LABELS", "ItemAudio", "ListeningDesign", "ListeningReport",
    "ListeningSession", "Rating", "SessionLockedError", "SimulatedListenerModel",
    "StimulusSet", "TrialPlan", "analyse_folder", "correlate_with_metrics",
    "items_from_dataset", "load_results", "load_stimuli", "low_pass_anchor",
    "mean_confidence_interval", "open_session", "position_counts", "post_screen",
    "read_results_file", "render_stimuli", "separation_metrics", "simulate_listeners",
    "summarise_conditions",
]
