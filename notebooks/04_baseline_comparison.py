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
# # 04 · Baselines and the paper's comparison: does the VAE win by 2 dB?
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/vaesep/blob/main/notebooks/04_baseline_comparison.ipynb)
#
# Pandey, Kumar & Namboodiri (2018) report that their VAE separates about
# **2 dB SDR better** than the best of "DNN and RNN with different masking
# functions and autoencoders", the systems of Huang et al. (2014, 2015). A
# claim like that is only as good as the comparison behind it. In this
# notebook we rebuild the comparison on our own data, with every method behind
# the same `Separator` interface, the same test items, matched model sizes,
# the same training budget, and several training seeds, and then ask the
# question plainly: does the VAE beat the best baseline by ~2 dB *here*?
#
# ## What you will learn
#
# * what the baselines are: Huang et al.'s DNN and deep RNN with the joint
#   soft-mask layer, trained with MSE or with their discriminative objective;
#   supervised NMF, whose multiplicative updates you will see written out;
#   and the autoencoder, which is our VAE minus sampling and KL;
# * what makes a comparison fair: same data and splits, matched parameter
#   counts, one training budget for all, and a floor and a ceiling (the best
#   oracle mask, measured) to read the numbers against;
# * why one training run per method is not enough, and how to hold a gap
#   between two methods against the spread that retraining alone produces;
# * how to look past the mean: per-item distributions, spectrograms, and your
#   own ears.
#
# ## Prerequisites
#
# Notebook 01 (the speech data, oracle masks) and notebook 02 (the VAE, the
# trainer, SDR/SIR/SAR and SI-SDR). Every computation below is a call into
# `vaesep.compare`; the cells only narrate.
#
# ## Expected runtime
#
# README's section "The notebooks" lists this notebook's measured wall time in fast
# and full mode, written by `vaesep reproduce --readme README.md` from its own run
# (with the commit, date and machine load). Neither mode trains anything by default: the convergence
# study is read from its committed result files, and the 200-step comparison is
# rerun only with `RERUN = True`.

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
# %matplotlib inline
import dataclasses
from pathlib import Path

import torch
from IPython.display import Markdown, display

import vaesep
from vaesep import data
from vaesep.compare.conditions import FULL_CONDITIONS, conditions_markdown, get_condition
from vaesep.compare.methods import MATCHED_METHODS, methods_markdown
from vaesep.compare.report import (
    MEANS,
    MEDIANS,
    condition_markdown,
    contrast_sentences,
    convergence_summary,
    item_sdr,
    learning_curves_figure,
    load_runs,
    results_markdown,
    tuning_markdown,
    verdict_sentences,
)
from vaesep.compare.study import converged_study, execute, matched_study, pending, separate_item
from vaesep.files import project_dir, runs_dir, save_figure
from vaesep.models import DRNNConfig, DRNNNetwork
from vaesep.models.nmf import kl_divergence
from vaesep.plots import plot_metric_boxes, plot_spectrograms
from vaesep.runtime import mode_default, use_fast_mode
from vaesep.spectral import magnitude, stft
from vaesep.widgets.outputs import compact_figures, multitrack

compact_figures()  # figures as 256-colour PNGs: the saved notebook stays light

# %% [markdown]
# ## Parameters
#
# `DATA` is the domain whose conditions we look at closely (box plots,
# listening). Both views are read from their committed result files: the
# study at convergence from `STUDY_DIR`, the 200-step comparison from
# `MATCHED_DIR`. With `RERUN = True` the notebook trains the 200-step
# comparison's models itself, `SEEDS` each, `JOBS` at a time, into `OUT_DIR`,
# and scores the first `MAX_ITEMS` items of each condition (all in full mode).

# %% tags=["parameters"]
DATA = "speech"
SEEDS = (0, 1, 2)
FAST = None  # None: VAESEP_FAST decides (1 under pytest and `reproduce --fast`); or True/False
JOBS = 2
MAX_ITEMS = None  # test items per condition; None: 4 fast, all full
LISTEN_CONDITION = "czech"  # speakers the models never heard
LISTEN_ITEM = 0
OUT_DIR = None  # None: runs/compare (runs/fast/compare in fast mode): where RERUN and exercise 2 train
STUDY_DIR = None  # None: results/converged of the checkout, the committed result files of `vaesep study`
MATCHED_DIR = None  # None: results/matched of the checkout, the committed result files of `vaesep compare`
RERUN = False  # True: train the 200-step comparison's 72 models here (tens of minutes; fast mode: seconds)

# %%
# the parameters left at None take the default of the mode
FAST = use_fast_mode(FAST)
MAX_ITEMS = mode_default(MAX_ITEMS, fast=4, full=None)
OUT_DIR = runs_dir() / "compare" if OUT_DIR is None else Path(OUT_DIR)
STUDY_DIR = project_dir() / "results" / "converged" if STUDY_DIR is None else Path(STUDY_DIR)
MATCHED_DIR = project_dir() / "results" / "matched" if MATCHED_DIR is None else Path(MATCHED_DIR)

# %% [markdown]
# ## The claim, and what a fair test of it needs
#
# The paper's abstract gives the claim but not the protocol, so we fix one and
# state it:
#
# * **Same data, same splits.** All speech models train on the Dutch `train`
#   split with dynamic mixing at 0 dB and are tested on the same fixed items.
# * **Matched capacity.** Every network is within 10 % of the per-source
#   VAE's parameter count (the table below computes them; the shared-latent
#   VAE is smaller by construction). Huang et al. used 3 hidden layers of 1000
#   units; we scaled them down to the VAE's size rather than the VAE up,
#   because the VAE's sizes are the authors'.
# * **Trained to convergence, tuned alike.** Every network trains until its
#   validation SDR stops improving, after the same small search over
#   learning rates and its own knob, selected by validation SDR. (A matched
#   *small* budget, the second view below, rewards fast starters instead.)
# * **Seeds.** Each learned method is trained three times; every table cell is
#   the mean over seeds ± the standard deviation across them.
# * **Floor and ceiling.** The unprocessed mixture is the floor; the oracle
#   masks, computed from the true sources, are reference points, and the best
#   of them on each condition is the ceiling. The ideal ratio mask (IRM) is
#   the reference oracle of magnitude masking, not a bound: a joint soft mask
#   can output any mask in (0, 1), and the Wiener-like (power-ratio) mask
#   scores higher. Which oracle is best is measured, not assumed: the
#   contrasts at the end name it for each table.

# %% [markdown]
# ## At convergence: the comparison that answers the question
#
# A comparison at a small, equal budget measures how fast methods *start*.
# The paper's claim is about what they *reach*. So the main comparison,
# `vaesep study` (`vaesep/compare/study.py`), trains every learned method
# until its validation SDR stops improving:
#
# 1. **Tune** on `speech`, seed 0: three learning rates times each method's
#    own knob (the likelihood for the VAEs, γ for Huang et al.'s
#    discriminative term, the number of atoms for NMF), at most six
#    configurations per method, each trained to convergence.
# 2. **Select** by validation SDR, never by a method's own loss (the losses of
#    different methods are not comparable).
# 3. **Repeat** each winner with seeds 1 and 2 on speech, and on the other
#    domains.
#
# Every run leaves a small result file in `results/converged/`, committed to
# the repository, so this notebook only *reads* them, in fast and full mode
# alike: the run took hours on two CPU cores. `vaesep study` reruns or
# continues it. The cells below print what the files hold, whatever state
# the run is in.

# %%
study = converged_study(STUDY_DIR)
study_runs = load_runs(STUDY_DIR)
status = convergence_summary(study_runs)
remaining = len(pending(study))
study_state = "complete" if not remaining else f"IN PROGRESS, {remaining} runs still to do"
checkout = project_dir()
shown_dir = STUDY_DIR.resolve().relative_to(checkout) if STUDY_DIR.resolve().is_relative_to(checkout) else STUDY_DIR
display(Markdown(f"**The study at convergence is {study_state}**: the tables below read the "
                 f"{len(study_runs)} committed result files in `{shown_dir}` as they are. This notebook "
                 "trains none of it; its own small run is the 200-step view further down."))
print(f"{len(study_runs)} result files; {remaining} runs still to do "
      f"(more become due as tuning grids finish); {status['early_stopped']} of "
      f"{status['learned_runs']} learned runs stopped early; longest run: "
      f"{status['max_steps_used']:,} of {study.schedule.max_epochs * study.schedule.epoch_steps:,} allowed steps")
if status["not_converged"]:
    print("not converged (hit the step cap):", status["not_converged"])

# %% [markdown]
# Mean test SDR (dB) of each method's selected configuration, ± the standard
# deviation over training seeds (no ± means one seed so far). The last row
# is the best VAE variant minus the best baseline per condition.

# %%
display(Markdown(results_markdown(study_runs, study)))
display(Markdown("\n".join(f"* {sentence}" for sentence in verdict_sentences(study_runs, study))))

# %% [markdown]
# The learning curves: validation SDR against optimizer steps, each method's
# selected configuration, seed 0. The grey line at 200 steps is where the
# matched-budget table further down stopped every model; the dots are where
# early stopping found each run's best.

# %%
curves = learning_curves_figure(study_runs, study)
save_figure(curves, "04_learning_curves")
display(curves)

# %% [markdown]
# Every configuration that was tried, and which one was kept:

# %%
display(Markdown(tuning_markdown(study_runs, study)))

# %% [markdown]
# ## The contestants
#
# One row per method of the 200-step view (the converged study's rows are the
# same networks, with their grids). The parameter counts are computed from the
# networks themselves, for two sources and 513 frequency bins; the group says
# what each row is in the verdict: the best `vae` row against the best
# `baseline` row, between the `floor` and the best `oracle` (the ceiling).

# %%
display(Markdown(methods_markdown(MATCHED_METHODS)))

# %% [markdown]
# ## The baselines
#
# **Huang et al. (2015), DNN and DRNN.** Facts from the paper (*Joint
# Optimization of Masks and Deep Recurrent Neural Networks for Monaural Source
# Separation*, IEEE/ACM TASLP 23(12)) and from the authors' released code
# (`posenhuang/deeplearningsourceseparation` on GitHub: `train_mir1k_demo.m`,
# `drdae_discrim_joint_kl_obj.m`):
#
# * ReLU hidden layers and a **linear** output layer with one block of 513
#   values per source; the mask is `|ŷ₁| / (|ŷ₁| + |ŷ₂|)` times the mixture
#   magnitude (their "softabs"), the same joint soft-mask layer our VAE ends in;
# * the input is a window of **3 frames** (one context frame on each side);
# * the **DRNN** makes one hidden layer recurrent over time,
#   `h_t = ReLU(W x_t + U h_{t−1} + b)`, running forwards; their best
#   singing-voice model had 3 hidden layers with the recurrence at the
#   **2nd**, and so does ours;
# * the **discriminative objective** pulls each estimate to its own source and
#   pushes it away from the other:
#   `‖ŝ₁−s₁‖² − γ‖ŝ₁−s₂‖² + ‖ŝ₂−s₂‖² − γ‖ŝ₂−s₁‖²`, with **γ = 0.05** in their
#   best setting (`pos_neg_r` in the code).
#
# Our choices: 3 hidden layers of 256 units (to match the VAE's size), the
# same standardised log-magnitude features the VAE gets (Huang used spectra
# or log-mel), and Adam with the shared trainer instead of L-BFGS.
#
# **Supervised NMF.** One dictionary of 32 spectral shapes per speaker,
# learned from that speaker's training audio with the Kullback–Leibler
# divergence and Lee & Seung's multiplicative updates; on a mixture the
# dictionaries stay fixed, only their activations are fitted, and each
# speaker's part of the model becomes a Wiener-style mask. No sparsity term.
#
# **The autoencoder** is our VAE with `deterministic=True`: the same layers,
# no sampling, no KL term. It isolates what the *variational* part adds.
#
# Here is the deep RNN, layer by layer:

# %%
print(DRNNNetwork(DRNNConfig()))

# %% [markdown]
# NMF learns without gradients. On a mixture, the dictionaries
# $W = [W_1, W_2]$ (one column per atom) stay fixed and the activations
# $H \ge 0$ are fitted by Lee & Seung's multiplicative update for the
# generalised KL divergence $D(V \,\|\, WH) = \sum V \log\frac{V}{WH} - V + WH$:
#
# $$H \leftarrow H \odot \frac{W^\top \big(V / (WH)\big)}{W^\top \mathbf{1}},$$
#
# which keeps $H$ non-negative and never increases $D$. Here are those
# updates, in plain PyTorch, on the shipped `nmf-speech` dictionaries and a
# Dutch test mixture, checked against the library's `NMFNetwork`
# (`vaesep/models/nmf.py`). Learning a dictionary uses the same update for $W$,
# on the transposed problem $V^\top \approx H^\top W^\top$.

# %%
nmf = vaesep.load_model("nmf-speech").network
item = data.build("speech", fast=FAST).sources("test")[0]
V = torch.from_numpy(magnitude(stft(item.sum(axis=0)))).T.float()  # (bins, frames), the textbook layout
K = nmf.config.n_components
W = nmf.dictionaries.detach().permute(1, 0, 2).reshape(nmf.config.n_bins, -1)  # (bins, 2K): v's atoms, then m's
H = (V.sum(dim=0, keepdim=True) / W.sum()).expand(W.shape[1], -1).clone()  # a flat start, as the library's
eps = 1e-12  # keeps all-zero bins defined
divergence = []
for _ in range(nmf.config.iterations):
    divergence.append(float(kl_divergence(V, W @ H)))
    H = H * (W.T @ (V / (W @ H + eps))) / (W.sum(dim=0)[:, None] + eps)
divergence.append(float(kl_divergence(V, W @ H)))
parts = torch.stack([W[:, :K] @ H[:K], W[:, K:] @ H[K:]])  # W_v H_v and W_m H_m, (2, bins, frames)
library = nmf(V.T[None])["estimates"][0].transpose(1, 2)  # the same parts from NMFNetwork
print(f"divergence per frame after 0, 1, 10 and {nmf.config.iterations} updates: "
      + ", ".join(f"{divergence[i] / V.shape[1]:.2f}" for i in (0, 1, 10, -1)))
print(f"largest difference from NMFNetwork's parts: {float((parts - library).abs().max()):.1e} "
      f"(the parts' largest value: {float(parts.max()):.1f})")
assert all(after <= before * (1 + 1e-5) for before, after in zip(divergence[:-1], divergence[1:], strict=True)), \
    "D increased"
assert torch.allclose(parts, library, rtol=1e-4, atol=1e-6 * float(parts.max())), "the updates and NMFNetwork disagree"

# %% [markdown]
# ## The test conditions
#
# Four speech conditions use the same speech models; the chorales and the
# denoising condition have models trained on their own data (same methods,
# same budget). At ±5 dB the models meet an SNR they were not trained at.
# For the chorales we score the melody, the counterpart of the singing voice
# in MIR-1K papers, and also report GNSDR (the length-weighted NSDR those
# papers use); for denoising we score the speech.

# %%
display(Markdown(conditions_markdown()))

# %% [markdown]
# ## A second view: every method at a matched 200-step budget
#
# The earlier comparison of this project gave every network the same small
# budget: 200 optimizer steps (8 epochs × 25 steps × 32 one-second mixtures).
# At that budget no network had converged, so it measures how fast methods
# start; it is kept as a second view, one point of the learning curves above.
# Its committed tables are in `results/04_comparison*.md`, its result files in
# `results/matched`; the cells below read those files, and `RERUN = True`
# trains all 72 models of that comparison here instead.
#
# It is the same loop as the study above, over methods, configurations, seeds
# and domains, with one configuration per method (Adam 10⁻³, the method's own
# settings) and a fixed budget of 200 steps without early stopping
# (`vaesep compare` on the command line). Each run writes one result file,
# and a run whose file exists is skipped, so an interrupted comparison
# continues where it stopped and a finished one is only read back.

# %%
if RERUN:
    conditions = ("dutch", "czech") if FAST else FULL_CONDITIONS
    matched = matched_study(OUT_DIR, fast=FAST, conditions=conditions, seeds=SEEDS, max_items=MAX_ITEMS, jobs=JOBS)
    print(f"{len(pending(matched))} runs still to do")
    execute(matched)
else:
    matched = matched_study(MATCHED_DIR)  # the committed full run: read back, nothing trained
matched_runs = load_runs(matched.out)
print(f"{len(matched_runs)} result files in {matched.out}; budget: {matched.schedule.describe()}")

# %% [markdown]
# ## The headline table
#
# Mean SDR over the test items, averaged over training seeds, ± the standard
# deviation across seeds (no ± means one seed, or a method without a seed:
# the oracles and the mixture). The last row is the best VAE minus the best
# baseline of each condition, the same rule as at convergence. The line under
# the table says which commits produced the result files.

# %%
display(Markdown(results_markdown(matched_runs, matched)))
commits = sorted({run["commit"] for run in matched_runs})
print(f"{len(matched_runs)} result files in {matched.out}, commits {', '.join(commits)}")

# %% [markdown]
# Every metric, mean and median, for each condition. SAR is not shown for the
# mixture: it contains no artifacts at all, so its SAR is infinite up to
# rounding.

# %%
for name in matched.conditions:
    display(Markdown(condition_markdown(matched_runs, matched, name, MEANS)))
    display(Markdown(condition_markdown(matched_runs, matched, name, MEDIANS)))

# %% [markdown]
# ## Every item, every method
#
# A mean hides how the items spread. Each dot below is one test item and one
# source (first training seed); the boxes span the middle half. Look at the
# overlap between neighbouring baselines and the VAE before reading much into
# a difference of means.

# %%
for name in [c for c in matched.conditions if get_condition(c).models == DATA][:2]:
    scores = item_sdr(matched_runs, matched, name)
    best_oracle = max((m for m in ("irm", "wiener", "ibm") if m in scores), key=lambda m: scores[m].mean())
    lines = {"mixture mean": scores["mixture"].mean(), f"ceiling: {best_oracle} mean": scores[best_oracle].mean()}
    figure = plot_metric_boxes(scores, "SDR", title=get_condition(name).title, reference_lines=lines)
    save_figure(figure, f"04_sdr_boxes_{name}{'_fast' if FAST else ''}")
    display(figure)

# %% [markdown]
# Now one item through every method, as the shipped models separate it (the
# study's converged seed-0 models; the oracles computed from the truth): the
# spectrogram of what each method kept of the target voice, and its audio. Listen for two kinds of error: the
# other voice leaking through (interference, low SIR) and the target sounding
# thin or watery (artifacts, low SAR). All versions sit in one player: start
# another row and it picks up where the last one stopped, so you compare the
# same syllable. One scale serves every row (the loudest peak of all at full
# scale), so a method that keeps too little of the voice sounds quieter; the dB
# column is each row's level against the mixture.

# %%
listen = get_condition(LISTEN_CONDITION)
target = listen.source or listen.dataset(fast=FAST).source_names[0]
signals = separate_item(dataclasses.replace(study, shipped=True, fast=FAST), LISTEN_CONDITION, LISTEN_ITEM)
title = f"{listen.title}, item {LISTEN_ITEM}: target {target}, as each method keeps it"
display(plot_spectrograms(signals, title=title))
display(multitrack(signals, 16000, title=f"{title} (truth: {target} alone)"))

# %% [markdown]
# ## Does the VAE beat the baselines by 2 dB?
#
# The sentences below are written by `verdict_sentences` and
# `contrast_sentences` from the result files; nothing in them is typed by
# hand. They state the gap between the best VAE and the best baseline per
# condition, hold it against the seed spread (a gap within two standard
# errors is not a difference we can claim), and list the one-ingredient
# contrasts that say *why*: VAE vs autoencoder (the variational part), shared
# vs per-source latent, DRNN vs DNN (recurrence), discriminative vs MSE,
# and the distance to the ceiling (the best oracle of each
# condition, named in the sentence). First at the matched budget,
# then at convergence, the comparison that answers the question.

# %%
own_run = "models trained here" if RERUN else "the committed result files"
display(Markdown(f"**At 200 steps ({own_run}).**\n\n"
                 + "\n".join(f"* {s}" for s in verdict_sentences(matched_runs, matched))
                 + "\n\nOne-ingredient contrasts (mean SDR differences): "
                 + "; ".join(contrast_sentences(matched_runs, matched)) + "."))
display(Markdown(f"**At convergence (the committed study, {study_state.lower()}).**\n\n"
                 + ("\n".join(f"* {s}" for s in verdict_sentences(study_runs, study))
                    or "(no condition has both a VAE and a baseline yet)")
                 + "\n\nOne-ingredient contrasts (mean SDR differences): "
                 + ("; ".join(contrast_sentences(study_runs, study)) or "none yet") + "."))

# %% [markdown]
# How to read it. Whatever the verdict above, our setting differs from the
# paper's in ways that can move it: the published ~2 dB comes from another
# corpus (a female/male TSP pair), from baselines of another size, and from
# training budgets the paper does not state. The 200-step budget is small and
# the same for everyone, which rewards models that learn fast rather than
# models that would end up best; the distance to the ceiling and the row of
# the shipped `vae-speech` (the study's converged VAE, so it differs from the
# budget-matched `vae` in its training length and its selected likelihood, not
# in one ingredient) show how far from converged the budget-matched models
# are, and the study at convergence removes that handicap. Our baselines are also not handicapped: they have the VAE's size
# and the VAE's input features. So read each gap as "under this budget, on
# these speakers", and use exercise 2 to see how the matched view moves with
# a larger budget.
#
# `vaesep compare` saves the 200-step tables under `results/`
# (`04_comparison*.md` and `.json`), and `vaesep compare --readme README.md`
# copies its headline table and verdict into the README between their markers;
# `vaesep study --readme README.md` does the same for the study at convergence.

# %%
print(vaesep.list_pretrained())

# %% [markdown]
# ## Summary
#
# * Every method, from the mixture floor through NMF, Huang et al.'s DNN and
#   DRNN and the autoencoder to the VAE and the oracle masks (the best of
#   which is the ceiling), runs through
#   the same `load_model(...).separate(...)` call and the same evaluation.
# * A fair comparison fixes data, splits, size and budget, tunes every method
#   alike, trains it to convergence, and repeats the training with several
#   seeds; a gap is judged against the seed spread.
# * One loop produces both views: a result file per method, configuration,
#   seed and domain. The verdict is computed from those files; rerun with
#   other budgets or seeds and it rewrites itself.

# %% [markdown]
# ## Exercises
#
# Each exercise asks a question; write your answer in the code cell below it. Where an
# answer can be checked, a cell of asserts follows: run it after your answer. The solutions
# are in the teacher edition (`vaesep lab`, see the README), where CI runs them in fast mode
# (exercises 2 and 3 then train with the fast schedule `MATCHED_FAST`, in seconds; in full
# mode they train with the comparison's own budget and take as long as its runs).
#
# **1. How many seeds would you need?** Suppose two methods each have a seed
# standard deviation σ and you want to resolve a true gap of δ = 0.3 dB at two
# standard errors. Take σ as the VAE's on the Czech test in the 200-step
# comparison read above (three seeds: `condition_stats(matched_runs,
# matched)["czech"]["vae"]` holds its mean, `std` and per-seed `values`; try the
# converged study's σ too, `condition_stats(study_runs, study)`). How many
# seeds per method does that take? Keep σ in `sigma` and the answer, a whole
# number, in `n_seeds`.

# %% tags=["solution"]
import math

from vaesep.compare.report import condition_stats

vae_czech = condition_stats(matched_runs, matched)["czech"]["vae"]
sigma, delta = vae_czech.std, 0.3
n_seeds = math.ceil(8 * sigma**2 / delta**2)
print(f"σ = {sigma:.2f} dB over {len(vae_czech.values)} seeds → n ≥ 8σ²/δ² = {8 * sigma**2 / delta**2:.1f}: "
      f"{n_seeds} seed{'s' * (n_seeds != 1)} per method")

# %% [markdown] tags=["solution"]
# The standard error of a difference of two means of n seeds is σ·√(2/n);
# asking for 2σ√(2/n) ≤ δ gives n ≥ 8σ²/δ². A σ estimated from three seeds
# is itself uncertain (its relative standard error is about 50 %), so treat
# the answer as an order of magnitude and measure σ again on the first runs.

# %% tags=["check"]
import math


def two_standard_errors(n):
    return 2 * sigma * math.sqrt(2 / n)


assert math.isfinite(sigma) and sigma > 0, "sigma should be a measured standard deviation"
assert isinstance(n_seeds, int) and n_seeds >= 1
assert two_standard_errors(n_seeds) <= 0.3, f"{n_seeds} seeds do not resolve 0.3 dB at two standard errors"
assert n_seeds == 1 or two_standard_errors(n_seeds - 1) > 0.3, f"fewer than {n_seeds} seeds would do"
print("checked")

# %% [markdown]
# **2. A larger budget.** Does the ranking of the DNN, the DRNN and the VAE
# survive four times the training steps? Run the matched view for those
# methods on the Dutch and Czech tests with its schedule (`MATCHED`, or
# `MATCHED_FAST` in fast mode, from `vaesep.compare.study`) and with four times
# its epochs, and rank the methods by mean SDR. Keep the rankings in a dict
# `rankings`, `{schedule label: {condition: [methods, best first]}}`.

# %% tags=["solution", "trains"]
import dataclasses

from vaesep.compare.report import condition_stats
from vaesep.compare.study import MATCHED, MATCHED_FAST

base = MATCHED_FAST if FAST else MATCHED
items = f"-items{MAX_ITEMS}" if MAX_ITEMS else ""  # as matched_study names its folders
rankings = {}
for schedule in (base, dataclasses.replace(base, max_epochs=4 * base.max_epochs)):
    budget = dataclasses.replace(
        matched_study(OUT_DIR, fast=FAST, methods=("dnn", "drnn", "vae"), conditions=("dutch", "czech"),
                      max_items=MAX_ITEMS, jobs=1 if FAST else JOBS),  # fast: no worker processes
        out=OUT_DIR / f"{schedule.label()}{items}", schedule=schedule)
    execute(budget)
    stats = condition_stats(load_runs(budget.out), budget)
    rankings[schedule.label()] = {c: sorted(stats[c], key=lambda m: -stats[c][m].mean) for c in budget.conditions}
    for condition, order in rankings[schedule.label()].items():
        print(f"{schedule.describe().split(';')[0]}, {condition}: "
              + " > ".join(f"{m} {stats[condition][m].cell()}" for m in order))

# %% [markdown] tags=["solution"]
# The budget names the result folder (`schedule.label()`), so these runs never
# mix with those of another budget. Whether the ranking survives is in the
# printout: a swap between two methods whose means differ by less than two
# standard errors (the ± over seeds) is noise, not a change of ranking. In
# fast mode the runs use one seed and a few dozen steps, so they test the code,
# not the methods.

# %% tags=["check"]
assert len(rankings) == 2, "one ranking per budget"
for label, by_condition in rankings.items():
    assert set(by_condition) == {"dutch", "czech"}, label
    assert all(sorted(order) == ["dnn", "drnn", "vae"] for order in by_condition.values()), label
print("checked")

# %% [markdown]
# **3. A stronger discriminative term.** Train a DNN with γ = 0.2 and one with
# `dnn-discrim`'s γ = 0.05, with the same budget, and compare their SIR and SAR
# on the Czech test. What does pushing the estimates apart buy, and what does
# it cost? Keep the two mean SIRs and SARs in a dict `sir_sar`
# (`{gamma: (SIR, SAR)}`).

# %% tags=["solution", "trains"]
from vaesep import data
from vaesep.compare.methods import get_method
from vaesep.compare.study import MATCHED, MATCHED_FAST
from vaesep.evaluate import evaluate_separator
from vaesep.models import DNNConfig, DNNNetwork, NeuralSeparator
from vaesep.train import train

schedule = MATCHED_FAST if FAST else MATCHED
speech = data.build(DATA, seed=0, fast=FAST)
method = get_method("dnn", MATCHED_METHODS)  # its training settings (precision)
sir_sar = {}
for gamma in (0.05, 0.2):
    network = DNNNetwork(DNNConfig(source_names=speech.source_names, gamma=gamma))
    trained = train(network, speech, schedule.train_config(method, learning_rate=1e-3, seed=0)).network
    scored = evaluate_separator(NeuralSeparator(trained, name=f"dnn γ={gamma:g}"), speech, "test_cs",
                                max_items=MAX_ITEMS, progress=False)
    overall = scored.summary()["overall"]
    sir_sar[gamma] = (overall["sir_mean"], overall["sar_mean"])
    print(f"γ = {gamma:g}: SIR {sir_sar[gamma][0]:.2f} dB, SAR {sir_sar[gamma][1]:.2f} dB")

# %% [markdown] tags=["solution"]
# A larger γ usually raises SIR (less of the other voice) and lowers SAR
# (more artifacts): the objective rewards removing the competitor even where
# that damages the target. With one seed and (in fast mode) a few dozen steps,
# a difference smaller than the seed spread of the comparison's table is not
# evidence either way.

# %% tags=["check"]
import numpy as np

assert {0.05, 0.2} <= set(sir_sar) and np.all(np.isfinite([sir_sar[0.05], sir_sar[0.2]]))
print("checked")
