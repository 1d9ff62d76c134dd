"""The listening test on screen: an ipywidgets view over :mod:`vaesep.listening`.

Notebook 05, section "Running a real session". Pages: listener id (unless given),
familiarisation, one page per trial, thank-you; orders, storage and resume are decided in
:mod:`vaesep.listening`, this view only draws and forwards clicks. A page's clips play in sync
in a :class:`~vaesep.widgets.player.SyncPlayer` (a play button makes its clip the audible one,
a region can be looped), as in webMUSHRA. Works with ipywidgets 7 and 8; the CSS classes
``vaesep-*`` are what the browser test clicks.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import ipywidgets as widgets
from IPython.display import display

from vaesep.listening.design import HIDDEN_REFERENCE, SCALE_LABELS, ListeningDesign
from vaesep.listening.session import open_session, utc_now
from vaesep.listening.stimuli import StimulusSet, load_stimuli
from vaesep.widgets.player import SyncPlayer, colab_metadata

SLIDER_HEIGHT = "240px"
INTRO_HTML = """
<h3>Listening test: familiarisation</h3>
<p>In each trial you hear a <b>reference</b>: one clean voice. Behind the letters are
several versions of the same excerpt, in a new random order every trial. One of them is
the reference itself, hidden; others are separated by different systems, or degraded on
purpose. Rate how close each letter sounds to the reference, from 0 (<i>Bad</i>) to
100 (<i>Excellent</i>). Give 100 to a letter you cannot tell apart from the reference.</p>
<p>Below is one example item: listen to the reference and to every version, to learn the
range of quality you will meet. Use headphones, in a quiet room, at a comfortable level
that you keep for the whole test.</p>
"""
TRIAL_HINT = (
    "Move every slider (or type a number) to rate it; to give 0, move the slider up and back. "
    "<b>Next</b> is enabled once every letter is rated. Each trial is saved when you press it."
    "<br>A letter switches what you hear without restarting; loop a passage with the player's "
    "<i>start here</i> and <i>end here</i>."
)


def _button(description: str, css: str, **style: object) -> widgets.Button:
    return widgets.Button(description=description, _dom_classes=[f"vaesep-{css}"], **style)


class ListeningTestView(widgets.VBox):
    """The whole test as one widget; build it with :func:`listening_test`."""

    def __init__(
        self, stimuli: StimulusSet, results_dir: str | os.PathLike, design: ListeningDesign,
        listener_id: str | None = None, new_session: bool = False,
    ) -> None:
        super().__init__(layout={"width": "100%"})
        self.stimuli, self.results_dir, self.design = stimuli, Path(results_dir), design
        self.new_session, self.session, self._trial = new_session, None, None
        self._sliders, self._rated, self._plays = {}, {}, {}
        self._status = widgets.HTML(_dom_classes=["vaesep-status"])
        self._player = SyncPlayer(_dom_classes=["vaesep-player"])
        self._error = widgets.HTML(_dom_classes=["vaesep-error"])
        self._page, self._hint = widgets.VBox(), widgets.HTML(TRIAL_HINT)
        self._next = _button("Next", "next", disabled=True, button_style="primary")
        self._next.on_click(lambda _: self.submit_current_trial())
        self.children = (widgets.HTML("<h2>Listening test</h2>"), self._status, self._page,
                         self._error)
        if listener_id is not None:
            self.start(listener_id)
            return
        name = widgets.Text(placeholder="e.g. anna or student-07", description="Listener id:",
                            _dom_classes=["vaesep-listener-id"])
        begin = _button("Begin", "begin", button_style="primary")
        begin.on_click(lambda _: self.start(name.value.strip()))
        self._status.value = "Type the listener id your teacher gave you, then press Begin."
        self._page.children = (widgets.HBox([name, begin]),)

    def start(self, listener_id: str) -> None:
        """Open (or resume) the listener's session and show the page they are at."""
        try:
            self.session = open_session(
                self.results_dir, listener_id, self.design,
                stimuli_folder=self.stimuli.folder, new_session=self.new_session,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            self._error.value = f"<b style='color:#b00'>{html.escape(str(exc))}</b>"
            return
        self._error.value = ""
        if self.session.is_complete or self.session.familiarised:
            self._show_trial()
            return
        example = self.session.plan[0]  # its versions are numbered, in the trial's order
        clips = {"Reference": HIDDEN_REFERENCE} | {
            f"Version {number}": condition
            for number, (_, condition) in enumerate(example.letters, start=1)
        }
        self._load_player(example.item, clips)
        start = _button("Start the test", "start", button_style="success")
        start.on_click(lambda _: self._finish_familiarisation())
        self._status.value = html.escape(self.session.describe())
        buttons = [self._play_button(name) for name in clips]
        versions = widgets.HBox(buttons, layout={"flex_flow": "row wrap"})
        self._page.children = (widgets.HTML(INTRO_HTML), versions, self._player, start)

    def _finish_familiarisation(self) -> None:
        self.session.mark_familiarised()
        self._show_trial()

    def _show_trial(self) -> None:
        self._player.playing = False
        plan = self._trial = self.session.next_trial
        done, total = len(self.session.trials), len(self.session.plan)
        if plan is None:
            self._status.value = (
                f"<b>All {total} trials are saved. Thank you!</b><br>"
                f"Results file: <code>{html.escape(str(self.session.path))}</code>"
            )
            self._page.children = ()
            self.session.close()
            return
        self._started = utc_now()
        self._plays = {letter: 0 for letter, _ in plan.letters} | {"reference": 0}
        self._rated, self._sliders = {letter: False for letter, _ in plan.letters}, {}
        labels = [widgets.Label(name, layout={"flex": "1 1 0"}) for name in SCALE_LABELS]
        # the band names beside the sliders, top to bottom
        scale = widgets.VBox(labels[::-1], layout={"height": SLIDER_HEIGHT,
                                                  "margin": "28px 12px 0 0"})
        self._load_player(plan.item, {"reference": HIDDEN_REFERENCE, **dict(plan.letters)})
        columns = [self._rating_column(letter) for letter, _ in plan.letters]
        resumed = " (resumed session)" if self.session.resumed else ""
        self._status.value = f"<b>Trial {done + 1} of {total}</b> ({done} saved){resumed}"
        self._next.disabled, self._hint.value = True, TRIAL_HINT
        reference = widgets.HBox([self._play_button("reference", "Reference")])
        columns = widgets.HBox([scale, *columns])
        self._page.children = (reference, self._player, columns, self._hint, self._next)

    def _rating_column(self, letter: str) -> widgets.VBox:
        slider = widgets.IntSlider(min=0, max=100, orientation="vertical", readout=False,
                                   layout={"height": SLIDER_HEIGHT})
        number = widgets.BoundedIntText(min=0, max=100, layout={"width": "64px"},
                                        _dom_classes=[f"vaesep-rating-{letter}"])
        widgets.link((slider, "value"), (number, "value"))
        mark = widgets.HTML("<span style='color:#888'>not rated</span>",
                            _dom_classes=[f"vaesep-mark-{letter}"])

        def on_change(_: dict) -> None:
            mark.value = "<span style='color:#070'>rated</span>"
            self._rated[letter] = True
            missing = [other for other, rated in self._rated.items() if not rated]
            self._next.disabled = bool(missing)
            self._hint.value = (
                f"{TRIAL_HINT}<br>Still to rate: {', '.join(missing)}" if missing
                else "Every letter is rated; press <b>Next</b> to save this trial."
            )

        slider.observe(on_change, names="value")
        self._sliders[letter] = slider
        return widgets.VBox(
            [self._play_button(letter), slider, number, mark],
            layout={"align_items": "center", "margin": "0 6px"},
            _dom_classes=[f"vaesep-column-{letter}"],
        )

    def _load_player(self, item: str, clips: dict[str, str]) -> None:
        """Put the page's clips (player name -> condition) of ``item`` in the player."""
        signals = {name: self.stimuli.load(item, condition) for name, condition in clips.items()}
        self._player.load(signals, self.stimuli.sample_rate)

    def _play_button(self, name: str, label: str | None = None) -> widgets.Button:
        """A button that makes clip ``name`` audible, counting the plays of a trial's clips."""
        button = _button(label or name, f"play-{name.replace(' ', '-')}", icon="play",
                         layout={"width": "auto"})

        def on_click(_: widgets.Button) -> None:
            if name in self._plays:  # a trial's letter or its reference
                self._plays[name] += 1
            self._player.switch_to(name)

        button.on_click(on_click)
        return button

    def submit_current_trial(self) -> None:
        """Save the current trial (the Next button) and show the next one."""
        if self.session is None or self._trial is None:
            return
        if not all(self._rated.values()):
            self._error.value = "<b style='color:#b00'>Rate every letter before pressing Next.</b>"
            return
        self._next.disabled = True  # a double click must not submit twice
        try:
            self.session.submit_trial(
                self._trial.trial_id,
                {letter: slider.value for letter, slider in self._sliders.items()},
                plays=self._plays, reference_plays=self._plays["reference"], started=self._started,
            )
        except (ValueError, OSError, RuntimeError) as exc:
            self._error.value = (
                f"<b style='color:#b00'>Could not save this trial: {html.escape(str(exc))}. "
                "Your ratings are still on screen; tell your teacher.</b>"
            )
            self._next.disabled = False
            return
        self._error.value = ""
        self._show_trial()

    def describe(self) -> str:
        """Plain text: what a front-end without widgets (nbconvert, a terminal) shows."""
        if self.session is None:
            return (
                f"Listening test over {len(self.design.items)} item(s) of {self.stimuli.folder}; "
                "waiting for a listener id (needs a Jupyter front-end with ipywidgets)."
            )
        return f"Listening test: {self.session.describe()}"

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        # the widget view's bundle as ipywidgets 8 builds it (7 has no such method; the view
        # protocol is 2.0 in both), with the text a front-end without widgets shows
        view = {"version_major": 2, "version_minor": 0, "model_id": self.model_id}
        return {"application/vnd.jupyter.widget-view+json": view, "text/plain": self.describe()}

    def _ipython_display_(self, **kwargs: object) -> None:
        # IPython prefers this hook to _repr_mimebundle_, and ipywidgets 7 (Colab's)
        # displays every widget through it, with a truncated repr as its text
        display(self._repr_mimebundle_(), raw=True, metadata=colab_metadata())
        handle_displayed = getattr(super(), "_handle_displayed", None)  # 7 only: on_displayed
        if handle_displayed:
            handle_displayed(**kwargs)


def listening_test(
    stimuli: StimulusSet | str | os.PathLike,
    results_dir: str | os.PathLike,
    listener_id: str | None = None,
    *,
    seed: int = 0,
    n_trials: int | None = None,
    new_session: bool = False,
) -> ListeningTestView:
    """The listening-test widget for one listener; show it as a cell's last line.

    ``stimuli`` is a :class:`StimulusSet` or its folder; ``seed`` and ``n_trials`` choose the
    design (the same for the whole class); without ``listener_id`` the first page asks for it.
    Re-running the cell, or restarting the kernel, resumes the listener's unfinished session.
    """
    if not isinstance(stimuli, StimulusSet):
        stimuli = load_stimuli(stimuli)
    design = stimuli.design(seed=seed, n_trials=n_trials)
    return ListeningTestView(stimuli, results_dir, design, listener_id, new_session)
