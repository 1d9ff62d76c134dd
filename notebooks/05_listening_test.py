# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · A listening test: do the separated voices *sound* better?
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/vaesep/blob/main/notebooks/05_listening_test.ipynb)
#
# SDR and SI-SDR (notebooks 02 and 04) are numbers computed from waveforms. What
# matters in the end is what people hear. This notebook runs a **blinded
# listening test** that follows the structure of ITU-R BS.1534 ("MUSHRA",
# *MUltiple Stimuli with Hidden Reference and Anchor*), collects the ratings of
# a whole class without losing any, and analyses them with one function call.
#
# ## What you will learn
#
# * why a listening test hides the conditions behind letters, hides the
#   reference among them, and adds a deliberately bad *anchor*;
# * how stimuli are prepared fairly (same excerpt, same level, no tell-tale
#   file names);
# * how ratings are stored so that a crash or a kernel restart loses nothing;
# * how BS.1534's post-screening removes unreliable listeners, and how to
#   report means with 95 % confidence intervals;
# * whether SDR and SI-SDR agree with what listeners hear.
#
# ## Prerequisites
#
# Notebook 01 (the speech data, oracle masks) and notebook 04 (the systems we
# compare). The VAE under test is the shipped `vae-speech`, trained for the
# full budget, unless notebook 02's checkpoint trained as long (a fast-mode or
# one-epoch model would make the test about an unfinished model); the cell that
# builds the stimuli prints which one, in capitals. Headphones, for the real session. Everything the notebook computes
# lives in `vaesep.listening` (logic) and `vaesep.widgets.listening` (the
# interface); the cells below only call it.
#
# ## Expected runtime
#
# README's section "The notebooks" lists this notebook's measured wall time in fast
# and full mode, written by `vaesep reproduce --readme README.md` from its own run
# (with the commit, date and machine load). Fast mode (`VAESEP_FAST=1`, as in CI) has fewer trials
# than full mode; the speech data set must be in the cache (notebook 01's job).
# A real listening session takes a listener a couple of minutes per trial, plus
# the familiarisation page.

# %%
# On Google Colab only (elsewhere this cell does nothing): fetch vaesep and install it with
# its offline audio data (a few minutes). What it does: scripts/colab_setup.py.
import sys

if "google.colab" in sys.modules:
    import runpy
    import subprocess

    subprocess.run("test -d /content/vaesep || git clone --depth 1 https://github.com/OWNER/vaesep /content/vaesep", shell=True, check=True)
    runpy.run_path("/content/vaesep/scripts/colab_setup.py", run_name="__main__")

# %%
from pathlib import Path

from IPython.display import display

import vaesep
import vaesep.data
from vaesep.files import results_dir
from vaesep.latent import find_checkpoint
from vaesep.listening import (
    analyse_folder,
    items_from_dataset,
    position_counts,
    read_results_file,
    render_stimuli,
    separation_metrics,
    simulate_listeners,
)
from vaesep.runtime import mode_default, use_fast_mode
from vaesep.widgets.listening import listening_test
from vaesep.widgets.outputs import compact_figures

compact_figures()  # figures as 256-colour PNGs: the saved notebook stays light

# %% [markdown]
# ## Parameters
#
# A teacher changes this cell only. `CHOSEN_ITEMS` lists the trials as
# `(split, mixture index, target speaker)`: `"test"` is held-out **Dutch**,
# `"test_cs"` is **Czech** (speakers never heard in training). With the
# `"synthetic"` data set use the split `"test"` and the targets `"low"`/`"high"`.

# %% tags=["parameters"]
DATASET = "speech"
SEED = 0
FAST = None  # None: VAESEP_FAST decides (1 under pytest and `reproduce --fast`); or True/False
CHOSEN_ITEMS = [
    ("test", 0, "v"), ("test_cs", 0, "m"), ("test_cs", 1, "v"), ("test", 1, "m"),
    ("test_cs", 2, "m"), ("test", 2, "v"), ("test_cs", 3, "v"), ("test", 3, "m"),
]
N_TRIALS = None  # None: 3 fast, every chosen item full
PRETRAINED_SYSTEMS = ["vae-speech"]  # shipped models in the test (vae-speech: or notebook 02's, see below)
ORACLE_SYSTEMS = ["irm"]  # the reference oracle of magnitude masking (notebook 01)
LISTENING_DIR = None  # None: results/listening, beside the other results (`reproduce --out`)
RESULTS_DIR = None  # real listeners' files; collect the class's here. None: LISTENING_DIR/class
SIMULATED_DIR = None  # machine-made ratings, never mixed with real ones. None: LISTENING_DIR/SIMULATED
N_SIMULATED_LISTENERS = 8

# %%
# the parameters left at None take the default of the mode, or of LISTENING_DIR
FAST = use_fast_mode(FAST)
N_TRIALS = mode_default(N_TRIALS, fast=3, full=len(CHOSEN_ITEMS))
LISTENING_DIR = results_dir() / "listening" if LISTENING_DIR is None else Path(LISTENING_DIR)
RESULTS_DIR = LISTENING_DIR / "class" if RESULTS_DIR is None else Path(RESULTS_DIR)
SIMULATED_DIR = LISTENING_DIR / "SIMULATED" if SIMULATED_DIR is None else Path(SIMULATED_DIR)

# %% [markdown]
# ## The MUSHRA design, and why
#
# In every **trial** the listener hears one excerpt in several versions:
#
# * the **reference**, labelled as such: the clean target voice;
# * behind the letters A, B, C, …, in a new random order per trial and per
#   listener: the **hidden reference** (the very same clean voice), the
#   **low anchor**, the unprocessed **mixture**, and the **systems under
#   test** (our VAE and the ideal ratio mask).
#
# The listener rates every letter from 0 to 100 on a scale labelled
# *Bad · Poor · Fair · Good · Excellent* (bands of 20 points).
#
# ### Why a hidden reference and an anchor
#
# The **hidden reference** checks the listener: it is identical to the
# reference, so an attentive listener rates it (close to) 100. Someone who does
# not is guessing, or their headphones are failing, and post-screening (below)
# removes them. The **low anchor** is the reference low-passed at 3.5 kHz, as
# BS.1534 prescribes (our filter: 8th-order Butterworth run forwards and
# backwards, zero phase, −6 dB at 3.5 kHz). It sounds clearly muffled, and
# because it is the same kind of degradation in every lab it pins down the
# bottom of the scale, so ratings from different tests and classes can be
# compared. The **mixture** shows what doing nothing sounds like.
#
# ### Blinding and balanced orders
#
# Names change judgements ("the VAE is the new method, it must be better"),
# so listeners never see them: letters are assigned afresh for every trial
# and every listener, and the audio files have opaque names. Orders are not
# only random but *balanced*: within each block of trials every condition
# sits behind every letter exactly once (rows of a shuffled Latin square),
# so "A is always heard first" cannot favour one system. Each listener's
# plan is deterministic from the design seed and their listener id, which is
# what makes resuming after a crash possible.

# %% [markdown]
# ## Building the stimuli
#
# We cut each chosen item to its loudest stretch (at most 8 s: BS.1534 asks
# for short excerpts that listeners can hold in memory), run every system on
# the mixture, make the anchor, and set **all versions of an item to the same
# RMS level**: people prefer the louder of two otherwise similar sounds, and
# separators do not preserve level, so without this the test would partly
# measure loudness. SDR and SI-SDR of each version are computed on the way and
# stored with the stimuli, for the comparison at the end.

# %%
dataset = vaesep.data.build(DATASET, seed=SEED, progress=False)
items = items_from_dataset(dataset, CHOSEN_ITEMS[:N_TRIALS])
shipped = vaesep.list_pretrained()
# notebook 02's model replaces vae-speech only if it trained as long; find_checkpoint says which, in capitals
systems = [vaesep.load_model(find_checkpoint() if name == "vae-speech" else name)
           for name in PRETRAINED_SYSTEMS if name in shipped]
systems += [vaesep.load_model(name, source_names=dataset.source_names) for name in ORACLE_SYSTEMS]
not_shipped = [name for name in PRETRAINED_SYSTEMS if name not in shipped]
if not_shipped:
    print(f"Not shipped with this install, so not in the test: {not_shipped}")
stimuli = render_stimuli(items, systems, LISTENING_DIR / "stimuli", metrics=separation_metrics(), seed=SEED)
print(f"{len(stimuli.items)} items x {len(stimuli.conditions)} conditions: {stimuli.conditions}")
print("Anchor:", stimuli.anchor_filter)

# %% [markdown]
# This is one listener's plan (for the teacher's eyes: a listener must not see
# their own). Below it, the letter positions of each condition counted over
# 40 listeners, and under them the smallest and largest count against the
# count of a perfectly even spread. A listener's trials come in blocks of as
# many trials as there are conditions, and a whole block puts every
# condition behind every letter exactly once; with fewer trials than
# conditions (as in fast mode) each listener gets only part of a block, so
# the counts over the class scatter around the even count instead of
# matching it.

# %%
design = stimuli.design(seed=SEED, n_trials=N_TRIALS)
for plan in design.plan_session("example-listener"):
    print(plan.trial_id, plan.item, "  ".join(f"{letter}={name}" for letter, name in plan.letters))
class_plans = [plan for n in range(40) for plan in design.plan_session(f"listener-{n}")]
print("rows: conditions, columns: letters A, B, ...")
counts = position_counts(class_plans, design.conditions)
for name, row in zip(design.conditions, counts, strict=True):
    print(f"{name:>18}", row)
print(f"{N_TRIALS} trials per listener, {len(design.conditions)} conditions: counts from {counts.min()} to "
      f"{counts.max()}, even spread {counts.mean():g}")

# %% [markdown]
# ## Running a real session
#
# Each listener runs the cell below in their own notebook, with headphones.
# The widget asks for a listener id (give each student a distinct one), shows
# a familiarisation page with an example item, and then one page per trial:
# a **Reference** button, a player, one play button, slider and number box per
# letter, and **Next**, which stays disabled until every letter has been rated.
# The progress line says "Trial k of n". As in webMUSHRA, all versions of the
# item play in sync and a button only changes which one you hear: switching
# keeps the playback position, so you can compare the same syllable across
# versions. The player loops the whole excerpt, or a passage you choose with its
# *start here* / *end here* buttons (or by typing the times); click its bar to
# move the playhead. Levels are played as rendered, never normalised.
#
# Re-running the cell, or restarting the kernel, resumes the listener at the
# first trial they have not submitted. Without a live front-end (e.g. when the
# notebook runs headless in CI) the cell prints a text summary instead.

# %%
listening_test(stimuli, RESULTS_DIR, seed=SEED, n_trials=N_TRIALS)

# %% [markdown]
# ## Nothing lost: how results are stored
#
# Every listener and session gets its own file in `RESULTS_DIR`, named
# `<listener>__<session>.jsonl` and created with `O_EXCL`, so two listeners on
# one machine never write into the same file; while a session is open its file
# is locked against a second kernel. The first line records the listener, the
# package version, the design and the full plan; each **Next** appends one line
# with every rating, letter, condition, play count and timestamp, in a single
# write followed by `fsync`. If the machine dies mid-write, the reader skips the
# torn last line and reports it; every trial submitted before is intact.
# To collect a class, copy all `.jsonl` files into one folder.
#
# ## A simulated listener (not real data)
#
# So that this notebook runs without people (and in CI), we now generate
# ratings from a **stated model**. They are *not* measurements and say nothing
# about how the systems sound; every file and figure made from them is marked
# SIMULATED, and they live in their own folder. The model:
#
# * hidden reference: normal around 98 (σ = 2.5);
# * anchor: normal around 20 (σ = 8), *not* derived from SI-SDR, because a
#   low-passed voice keeps a high SI-SDR while it sounds muffled;
# * every other version: `100 · sigmoid((SI-SDR − 5 dB) / 4 dB)` plus a
#   per-listener bias (σ = 5) plus noise (σ = 8);
# * one of the listeners is **careless** and rates everything at random
#   between 20 and 100, so post-screening has someone to catch;
#
# clipped to 0–100 and rounded. The simulated listeners go through exactly the
# same session code as a real one.

# %%
simulated_files = simulate_listeners(
    stimuli, design, SIMULATED_DIR, n_listeners=N_SIMULATED_LISTENERS, n_careless=1, seed=SEED
)
example = read_results_file(simulated_files[0])
print("header:", example.header["simulation_model"])
print("first trial, as stored:", example.trials[0])

# %% [markdown]
# ## Analysis
#
# One call reads a folder of results files, applies the post-screening,
# computes the statistics and draws the figures.
#
# ### Post-screening
#
# BS.1534-3 excludes a listener who rates the hidden reference below 90 in
# more than 15 % of their trials; the report names every excluded listener
# and why. The remaining ratings are summarised per condition as the mean
# with a 95 % confidence interval from Student's t distribution,
# `mean ± t(0.975, n−1) · s / √n`, over all kept listeners and items.

# %%
report = analyse_folder(SIMULATED_DIR, metrics=stimuli)
print(report)

# %% [markdown]
# The spread of the ratings per condition (boxes) with the means and their
# confidence intervals drawn over it, then the spread per item (a system that
# fails on one item shows up there even when the mean hides it).

# %%
display(report.figures["condition_means"])
display(report.figures["item_boxplots"])

# %% [markdown]
# ### Do the numbers agree with the ears?
#
# Each point is one item and condition: its SDR or SI-SDR against the mean
# rating of the kept listeners. The correlation uses the separated versions
# and the mixture; the hidden reference (infinite SDR) and the anchor are left
# out. With simulated listeners whose ratings were *made* from SI-SDR, a high
# correlation is built in: it only shows that the analysis works. With a real
# class, this is the figure to discuss.

# %%
display(report.figures["metric_correlation"])

# %% [markdown]
# ### Your class's results
#
# After the session, collect every listener's `.jsonl` file into `RESULTS_DIR`
# and run this cell: it is the same single call on real data.

# %%
if any(RESULTS_DIR.glob("*.jsonl")):
    class_report = analyse_folder(RESULTS_DIR, metrics=stimuli)
    print(class_report)
    display(*class_report.figures.values())
else:
    print(f"No real results in {RESULTS_DIR.resolve()} yet: run the session above first.")

# %% [markdown]
# ## Summary
#
# * A MUSHRA-style trial hides the conditions behind letters, in a balanced
#   random order per listener, and includes a hidden reference and a 3.5 kHz
#   low-pass anchor so that listeners can be checked and the scale is anchored.
# * All versions of an item play at the same level, from files whose names
#   reveal nothing.
# * Every submitted trial is on disk at once; a restarted kernel resumes;
#   each listener has their own file.
# * `analyse_folder` applies BS.1534's post-screening and reports means with
#   95 % confidence intervals, box plots, and correlations with SDR/SI-SDR.

# %% [markdown]
# ## Exercises
#
# Each exercise asks a question; write your answer in the code cell below it. Where an
# answer can be checked, a cell of asserts follows: run it after your answer. The solutions
# are in the teacher edition (`vaesep lab`, see the README), where CI runs them in fast mode.
# None of them trains a model: each takes seconds.
#
# **1. How many trials does post-screening need?** A careful listener
# misses the hidden reference (rates it below 90) in 5 % of trials, at random,
# and a listener who misses it in more than 15 % of the trials is excluded.
# What is the chance that they are excluded in a test of 4 trials, of 7, and
# of 10? Keep the three chances in a dict `exclusion_chance` (`{trials: probability}`).

# %% tags=["solution"]
from scipy.stats import binom

exclusion_chance = {}
for n in (4, 7, 10):
    first_excluding = next(k for k in range(n + 1) if k / n > 0.15)  # the fewest misses that exclude
    exclusion_chance[n] = float(binom.sf(first_excluding - 1, n, 0.05))  # P(misses >= first_excluding)
    print(f"{n:2d} trials: excluded from {first_excluding} misses on, chance {100 * exclusion_chance[n]:.1f} %")

# %% [markdown] tags=["solution"]
# With 4 trials a single miss is 25 % > 15 %, so the chance is 1 − 0.95⁴. With
# 7 trials one miss is 14 % (kept) and two are needed: 1 − 0.95⁷ − 7 · 0.05 ·
# 0.95⁶. Short tests exclude good listeners, and more trials are not always
# safer: the chance falls each time one more miss fits under 15 % and climbs
# until the next such step (10 trials still allow a single miss, so 10 is
# worse than 7). Choose the number of trials just above a step.

# %% tags=["check"]
import numpy as np

simulated_misses = np.random.default_rng(SEED).random((200_000, 10)) < 0.05  # 200,000 careful listeners
for n in (4, 7, 10):
    excluded = np.mean(simulated_misses[:, :n].mean(axis=1) > 0.15)
    assert abs(exclusion_chance[n] - excluded) < 0.005, f"{n} trials: a simulation excludes {excluded:.1%}"
print("checked against a simulation")

# %% [markdown]
# **2. The anchor against the metrics.** Re-run the analysis of the simulated
# ratings with `include_anchors=True`. What happens to the correlations, and
# why? Keep the Pearson r of every metric without and with the anchors in a
# dict `pearson` (`{include_anchors: {metric: r}}`).

# %% tags=["solution"]
pearson = {}
for with_anchors in (False, True):
    analysed = analyse_folder(SIMULATED_DIR, metrics=stimuli, include_anchors=with_anchors, make_figures=False)
    pearson[with_anchors] = {c.metric: c.pearson_r for c in analysed.correlations}
    print(f"anchors included: {with_anchors}; Pearson r:",
          ", ".join(f"{metric} {r:+.2f}" for metric, r in pearson[with_anchors].items()))

# %% [markdown] tags=["solution"]
# The anchor has a *high* SDR and SI-SDR (a low-passed voice keeps most of its
# energy, and BSS-eval even forgives the filter) but a *low* rating, so the
# correlation drops. Waveform metrics barely notice a loss of bandwidth that
# every listener hears.

# %% tags=["check"]
assert set(pearson) == {False, True} and set(pearson[False]) == set(pearson[True])
assert all(np.isfinite(r) for by_metric in pearson.values() for r in by_metric.values())
assert all(pearson[True][metric] < pearson[False][metric] for metric in pearson[False]), \
    "with the anchors, every metric should predict the ratings less well"
print("checked")

# %% [markdown]
# **3. How many listeners?** Simulate 4 and then 16 listeners (fresh folders)
# with a noisier model, `SimulatedListenerModel(noise_sd=20)`, and compare the
# widths of the 95 % confidence intervals of the condition means. Keep the mean
# half-width over conditions in a dict `half_widths` (`{listeners: rating points}`).

# %% tags=["solution"]
from vaesep.listening import SimulatedListenerModel

half_widths = {}
for n in (4, 16):
    folder = LISTENING_DIR / f"SIMULATED-noisy-{n}"
    simulate_listeners(stimuli, design, folder, n_listeners=n, n_careless=0,
                       model=SimulatedListenerModel(noise_sd=20), seed=SEED)
    summaries = analyse_folder(folder, make_figures=False).summaries
    half_widths[n] = float(np.mean([s.half_width for s in summaries]))
    print(f"{n:2d} listeners: half-widths", [round(s.half_width, 1) for s in summaries],
          f"mean {half_widths[n]:.1f}")
print(f"ratio 4 / 16 listeners: {half_widths[4] / half_widths[16]:.2f}")

# %% [markdown] tags=["solution"]
# The half-width shrinks roughly as 1/√(number of ratings): four times the
# listeners, about half the interval (a little less than half, as the t
# quantile for few listeners is larger too).

# %% tags=["check"]
assert {4, 16} <= set(half_widths) and half_widths[16] < half_widths[4], "more listeners, narrower intervals"
print("checked")
