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
#   supervised NMF; and the autoencoder, which is our VAE minus sampling and KL;
# * what makes a comparison fair: same data and splits, matched parameter
#   counts, one training budget for all, and a floor and a ceiling to read
#   the numbers against;
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
# Measured on an otherwise idle 2-core CPU without a GPU, once the data sets
# are in the cache (notebook 01 builds them): about **20 seconds** in fast mode
# (`VAESEP_FAST=1`, as in CI: the shipped models, 4 test items per
# condition). In full mode the notebook runs the whole comparison itself
# (72 training runs, 172 evaluations, two at a time): **32–37 minutes** in
# two runs; on a machine shared with other work it took 70. If `vaesep compare --jobs 2`
# has already been run from the repository root, the notebook finds its
# results and only reads them (about 15 seconds). The provenance line under
# the headline table gives the wall time of the run you are reading.

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
from pathlib import Path

from IPython.display import Audio, Markdown, display

import vaesep
from vaesep.compare import (
    FULL_CONDITIONS,
    CompareConfig,
    get_condition,
    plan,
    run_comparison,
    separate_item,
)
from vaesep.compare.conditions import conditions_markdown
from vaesep.compare.methods import methods_markdown
from vaesep.models import DRNNConfig, DRNNNetwork
from vaesep.plots import plot_metric_boxes, plot_spectrograms
from vaesep.reporting import save_figure
from vaesep.runtime import mode_default, use_fast_mode

# %% [markdown]
# ## Parameters
#
# `DATA` is the domain whose conditions we look at closely (box plots,
# listening); `SEEDS` are the training seeds of every learned method (at least
# three outside fast mode: the runner refuses fewer). In fast mode the
# notebook evaluates the **shipped** models (one seed, trained by the full
# comparison) on the first `MAX_ITEMS` items; in full mode it trains and
# evaluates everything itself, two tasks at a time (`JOBS`).

# %% tags=["parameters"]
DATA = "speech"
SEEDS = (0, 1, 2)
FAST = None  # None: VAESEP_FAST decides (1 under pytest and `reproduce --fast`); or True/False
JOBS = 2
MAX_ITEMS = None  # test items per condition; None: 4 fast, all full
LISTEN_CONDITION = "czech"  # speakers the models never heard
LISTEN_ITEM = 0
OUT_DIR = None  # None: ../runs/compare (../runs/fast/compare in fast mode)

# %%
# the parameters left at None take the default of the mode
FAST = use_fast_mode(FAST)
MAX_ITEMS = mode_default(MAX_ITEMS, fast=4, full=None)
OUT_DIR = Path(mode_default(OUT_DIR, fast="../runs/fast/compare", full="../runs/compare"))

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
# * **Matched budget.** Every network sees the same number of optimiser steps
#   on the same amount of audio, with the same optimiser and learning rate.
#   The budget is small (a full comparison has to fit in an hour on two CPU
#   cores), and we say so wherever we quote numbers.
# * **Seeds.** Each learned method is trained three times; every table cell is
#   the mean over seeds ± the standard deviation across them.
# * **Floor and ceiling.** The unprocessed mixture is the floor; the oracle
#   masks, computed from the true sources, are the ceiling. The ideal ratio
#   mask (IRM) is the best any model ending in a joint soft mask can do.

# %% [markdown]
# ## The contestants
#
# One row per method. The parameter counts are computed from the networks
# themselves, for two sources and 513 frequency bins.

# %%
display(Markdown(methods_markdown()))

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
# ## Running the comparison
#
# `run_comparison` turns the configuration into small tasks (one training
# run per method, seed and domain; one evaluation per method, seed and
# condition). Each task writes one file, and tasks whose file exists are
# skipped, so an interrupted run continues where it stopped and a finished one
# is only read back.

# %%
conditions = ("dutch", "czech") if FAST else FULL_CONDITIONS
config = CompareConfig(
    conditions=conditions, seeds=(0,) if FAST else SEEDS, fast=FAST, pretrained=FAST,
    max_items=MAX_ITEMS, out_dir=str(OUT_DIR), jobs=1 if FAST else JOBS,
)
todo = plan(config)
print(f"{len(todo.train)} training runs and {len(todo.evaluate)} evaluations still to do")
report = run_comparison(config)

# %% [markdown]
# ## The headline table
#
# Mean SDR over the test items, averaged over training seeds, ± the standard
# deviation across seeds (no ± means one seed, or a method without a seed:
# the oracles and the mixture). The last row is the VAE minus the best
# baseline of each condition. The line under the table says which commit and
# which run produced it.

# %%
display(Markdown(report.headline_markdown()))

# %% [markdown]
# Sizes, and what training cost each method in this run:

# %%
display(Markdown(report.methods_markdown()))

# %% [markdown]
# Every metric, mean and median, for each condition. SAR is not shown for the
# mixture: it contains no artifacts at all, so its SAR is infinite up to
# rounding.

# %%
for name in config.conditions:
    display(Markdown(report.condition_markdown(name)))

# %% [markdown]
# ## Every item, every method
#
# A mean hides how the items spread. Each dot below is one test item and one
# source (first training seed); the boxes span the middle half. Look at the
# overlap between neighbouring baselines and the VAE before reading much into
# a difference of means.

# %%
for name in [c for c in config.conditions if get_condition(c).models == DATA][:2]:
    scores = report.item_scores(name, "sdr")
    lines = {"mixture mean": scores["mixture"].mean(), "IRM mean": scores["irm"].mean()}
    figure = plot_metric_boxes(scores, "SDR", title=get_condition(name).title, reference_lines=lines)
    save_figure(figure, f"04_sdr_boxes_{name}{'_fast' if FAST else ''}")
    display(figure)

# %% [markdown]
# Now one item through every method: the spectrogram of what each method
# kept of the target voice, and its audio. Listen for two kinds of error: the
# other voice leaking through (interference, low SIR) and the target sounding
# thin or watery (artifacts, low SAR).

# %%
signals = separate_item(config, LISTEN_CONDITION, LISTEN_ITEM)
display(plot_spectrograms(signals, title=f"{get_condition(LISTEN_CONDITION).title}, item {LISTEN_ITEM}"))
for name, signal in signals.items():
    print(name)
    display(Audio(signal, rate=16000))

# %% [markdown]
# ## Does the VAE beat the baselines by 2 dB?
#
# The paragraph below is written by `report.conclusion()` from the numbers of
# this run; nothing in it is typed by hand. It states the gap between the VAE
# and the best baseline per condition, holds it against the seed spread
# (a gap within two standard errors is not a difference we can claim), and
# lists the one-ingredient contrasts that say *why*: VAE vs autoencoder
# (the variational part), shared vs per-source latent, DRNN vs DNN
# (recurrence), discriminative vs MSE, and the distance to the IRM ceiling.

# %%
display(Markdown(report.conclusion()))

# %% [markdown]
# How to read it. Whatever the verdict above, our setting differs from the
# paper's in ways that can move it: the published ~2 dB comes from another
# corpus (a female/male TSP pair), from baselines of another size, and from
# training budgets the paper does not state. Our budget is small and the same
# for everyone, which rewards models that learn fast rather than models that
# would end up best; the distance to the IRM ceiling and the shipped VAE's
# row (the same network trained longer) show how far from converged the
# budget-matched models are. Our baselines are also not handicapped: they
# have the VAE's size and the VAE's input features. So read the gap as
# "under equal, small budgets on these speakers", and use exercise 2 to see
# whether it survives a larger budget.
#
# The tables are also saved under `results/` (`04_comparison*.md` and `.json`);
# `vaesep compare --readme README.md` copies the headline table and this
# paragraph into the README between its markers, with the commit and date.

# %%
print(vaesep.list_pretrained())

# %% [markdown]
# ## Summary
#
# * Every method, from the mixture floor through NMF, Huang et al.'s DNN and
#   DRNN and the autoencoder to the VAE and the oracle ceilings, runs through
#   the same `load_model(...).separate(...)` call and the same evaluation.
# * A fair comparison fixes data, splits, size and budget, and repeats the
#   training with several seeds; a gap is judged against the seed spread.
# * The conclusion above is computed from the run; rerun with other budgets
#   or seeds and it rewrites itself.
#
# ## Exercises
#
# **1. How many seeds would you need?** Suppose two methods each have a seed
# standard deviation σ (take the VAE's on the Czech test) and you want to
# resolve a true gap of δ = 0.3 dB at two standard errors. How many seeds per
# method does that take?
#
# <details><summary>Solution</summary>
#
# The standard error of a difference of two means of n seeds is σ·√(2/n);
# asking for 2σ√(2/n) ≤ δ gives n ≥ 8σ²/δ².
#
# ```python
# sigma = report.stats["czech"]["vae"]["sdr_mean"].std
# print(f"σ = {sigma:.2f} dB → n ≥ {8 * sigma**2 / 0.3**2:.1f} seeds")
# ```
# </details>
#
# **2. A larger budget.** Does the ranking of the DNN, the DRNN and the VAE
# survive four times the training steps? Run the comparison for those methods
# on the Dutch and Czech tests with `Budget(epochs=32)`.
#
# <details><summary>Solution</summary>
#
# ```python
# from vaesep.compare import Budget
# bigger = CompareConfig(methods=("mixture", "irm", "dnn", "drnn", "vae"),
#                        conditions=("dutch", "czech"), budget=Budget(epochs=32),
#                        out_dir=str(OUT_DIR), jobs=2)
# display(Markdown(run_comparison(bigger).headline_markdown()))
# ```
# The budget is part of the models' folder name, so these runs never mix with
# the default ones. Expect about 4× the training time of the full comparison
# for these three methods.
# </details>
#
# **3. A stronger discriminative term.** Train a DNN with γ = 0.2 instead of
# 0.05 and compare its SIR and SAR on the Czech test with `dnn-discrim`'s.
# What does pushing the estimates apart buy, and what does it cost?
#
# <details><summary>Solution</summary>
#
# ```python
# from vaesep import data
# from vaesep.compare import Budget
# from vaesep.evaluate import evaluate_separator
# from vaesep.models import DNNConfig, DNNNetwork, NeuralSeparator
# from vaesep.train import train
# speech = data.build("speech", fast=FAST)
# network = DNNNetwork(DNNConfig(source_names=speech.source_names, gamma=0.2))
# trained = train(network, speech, Budget().train_config(seed=0)).network
# result = evaluate_separator(NeuralSeparator(trained, name="dnn γ=0.2"), speech, "test_cs")
# print(result.to_markdown())
# ```
# A larger γ usually raises SIR (less of the other voice) and lowers SAR
# (more artifacts): the objective rewards removing the competitor even where
# that damages the target.
# </details>
