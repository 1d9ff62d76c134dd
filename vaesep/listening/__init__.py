"""A blinded MUSHRA-style listening test (ITU-R BS.1534) and its analysis.

The logic lives here, apart from the ipywidgets view in
:mod:`vaesep.widgets.listening`, so it can be tested without a browser:

* :mod:`~vaesep.listening.design` -- conditions, letters, balanced random orders;
* :mod:`~vaesep.listening.stimuli` -- rendering level-aligned stimuli and anchors;
* :mod:`~vaesep.listening.session` -- per-listener results files, resume;
* :mod:`~vaesep.listening.analysis` -- post-screening, statistics, correlations;
* :mod:`~vaesep.listening.plots` -- the figures of the analysis;
* :mod:`~vaesep.listening.simulated` -- a clearly labelled simulated listener.

Notebook 05 ("A listening test") uses all of them.
"""

from vaesep.listening.analysis import (
    ListeningReport,
    analyse_folder,
    correlate_with_metrics,
    load_results,
    post_screen,
    summarise_conditions,
)
from vaesep.listening.design import (
    HIDDEN_REFERENCE,
    MIXTURE,
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
    "HIDDEN_REFERENCE",
    "MIXTURE",
    "SCALE_LABELS",
    "ItemAudio",
    "ListeningDesign",
    "ListeningReport",
    "ListeningSession",
    "SessionLockedError",
    "SimulatedListenerModel",
    "StimulusSet",
    "TrialPlan",
    "analyse_folder",
    "correlate_with_metrics",
    "items_from_dataset",
    "load_results",
    "load_stimuli",
    "low_pass_anchor",
    "open_session",
    "position_counts",
    "post_screen",
    "read_results_file",
    "render_stimuli",
    "separation_metrics",
    "simulate_listeners",
    "summarise_conditions",
]
