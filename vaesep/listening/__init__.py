"""A blinded MUSHRA-style listening test (ITU-R BS.1534) and its analysis: notebook 05.

Read in this order: :mod:`~vaesep.listening.design` (letters, balanced orders),
:mod:`~vaesep.listening.stimuli` (level-aligned audio and the anchor),
:mod:`~vaesep.listening.session` (one fsync'd line per trial, resume, locks, reading back),
:mod:`~vaesep.listening.analysis` (post-screening, statistics, figures) and
:mod:`~vaesep.listening.simulated`. The ipywidgets view is :mod:`vaesep.widgets.listening`;
the logic lives here, tested without a browser.
"""

from vaesep.listening.analysis import analyse_folder
from vaesep.listening.design import HIDDEN_REFERENCE, ListeningDesign, position_counts
from vaesep.listening.session import SessionLockedError, open_session, read_results_file
from vaesep.listening.simulated import SimulatedListenerModel, simulate_listeners
from vaesep.listening.stimuli import (
    ItemAudio,
    items_from_dataset,
    load_stimuli,
    render_stimuli,
    separation_metrics,
)

__all__ = [
    "HIDDEN_REFERENCE", "ItemAudio", "ListeningDesign", "SessionLockedError",
    "SimulatedListenerModel", "analyse_folder", "items_from_dataset", "load_stimuli",
    "open_session", "position_counts", "read_results_file", "render_stimuli",
    "separation_metrics", "simulate_listeners",
]
