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
# # 02 · Training the VAE
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/vaesep/blob/main/notebooks/02_training_the_vae.ipynb)
#
# Pandey, Kumar & Namboodiri (Interspeech 2018) separate two sources from one
# microphone with a **variational autoencoder** (VAE) on magnitude spectra:
# an MLP encoder maps a frame of the mixture's spectrogram to a Gaussian
# latent code, and an MLP decoder turns the code into the spectrum of a
# source. This notebook writes the model down from its training objective, the
# evidence lower bound (ELBO), trains it on the two voices of notebook 01,
# and measures what it separates, next to the mixture (the floor), the oracle
# masks of notebook 01 (the best of them, found by measuring, is the ceiling)
# and the pretrained model shipped with the package.
#
# ## What you will learn
#
# * the VAE's objective, the ELBO, term by term, and how each term appears in
#   the code (`vaesep/models/vae.py`);
# * the reparameterisation trick, why the KL weight β is warmed up, and why
#   we use z = μ at test time;
# * how the joint soft-mask layer of Huang et al. (2015) turns the decoders'
#   outputs into masks on the mixture;
# * how a network learns: the negative ELBO and a few dozen Adam steps written
#   out in plain PyTorch (`zero_grad`, loss, `backward`, `step`), checked
#   against the library's loss and its `vaesep.train.train_step`; then the loop
#   that takes over for the long run: dynamic mixing, live loss curves,
#   validation, early stopping and resumable checkpoints;
# * how separation is scored (SDR, SIR, SAR, NSDR, SI-SDR), and how to read a
#   result against its floor and ceiling.
#
# ## Prerequisites
#
# Notebook 01 (the `speech` data, the oracle masks). If you have not run it,
# `data.build` below builds the data first (see 01 for the time that takes).
# No earlier model is needed: this notebook trains one. The comparison also
# uses the pretrained model shipped with the package, `vae-speech`, which is
# what to use in a lab with no time to train (`vaesep.load_model("vae-speech")`).
#
# ## Expected runtime
#
# README's section "The notebooks" lists this notebook's measured wall time in fast
# and full mode, written by `vaesep reproduce --readme README.md` from its own run
# (with the commit, date and machine load). Fast mode (`VAESEP_FAST=1`, as in CI) trains a few
# epochs of a few steps; full mode trains the budget of the pretrained model
# (100 steps of 32 one-second mixtures per epoch) and evaluates on every test
# mixture, which is where most of its time goes; each epoch's time is printed
# as it trains. With no time to train, set `EPOCHS = 1`, `EXTRA_EPOCHS = 0` and
# read the pretrained model's results.

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
import copy
import dataclasses
import inspect

import numpy as np
import torch
from IPython.display import Markdown, display

import vaesep
from vaesep import data
from vaesep.batches import SpectralBatch, ValidationSet, spectrogram_batch
from vaesep.evaluate import (  # evaluate_separator: one split, as the exercises use it
    evaluate_separator,
    evaluate_test_splits,
    split_label,
    split_summaries,
    split_tables_markdown,
)
from vaesep.files import count_parameters, runs_dir, save_figure, save_table
from vaesep.inspection import describe_checkpoint, network_outputs, parameter_table
from vaesep.metrics import compare_markdown
from vaesep.models import VAEConfig, VAENetwork
from vaesep.plots import (
    LiveLossPlot,
    plot_history,
    plot_kl_schedule,
    plot_masks,
    plot_metric_boxes,
    plot_spectrograms,
)
from vaesep.runtime import mode_default, pick_device, use_fast_mode
from vaesep.spectral import ideal_ratio_mask, magnitude, stft
from vaesep.train import TrainConfig, train, train_step
from vaesep.widgets.outputs import compact_figures, multitrack

compact_figures()  # figures as 256-colour PNGs: the saved notebook stays light

# %% [markdown]
# ## Parameters
#
# Fast mode (`VAESEP_FAST=1`, as in CI) trains for seconds: enough to run
# every cell, not enough to separate well. `RESTART = False` picks up a
# finished or interrupted run from the checkpoint instead of training again.

# %% tags=["parameters"]
DATA = "speech"  # any name from vaesep.data.available(), e.g. a corpus such as "tsp"
ROOT = None  # a corpus's folder (see data/README.md); None for the offline sets
SEED = 0  # seeds the data set's mixtures, the initial weights and the training draws
FAST = None  # None: VAESEP_FAST decides (1 under pytest and `reproduce --fast`); or True/False
DEVICE = None  # None: a CUDA GPU when there is one, else the CPU
EPOCHS = None  # first training session; None: 2 fast, 10 full
EXTRA_EPOCHS = None  # added when we resume; None: 1 fast, 2 full (the pretrained model's 12 in all)
STEPS_PER_EPOCH = None  # None: 10 fast, 100 full
BATCH_SEGMENTS = None  # mixtures per step, each SEGMENT_SECONDS long; None: 8 fast, 32 full
SEGMENT_SECONDS = 1.0
LEARNING_RATE = 1e-3
BETA = 1.0  # weight of the KL term after warm-up
KL_WARMUP_EPOCHS = None  # None: 2 fast, 5 full
PATIENCE = 8  # epochs without a better validation loss before stopping early
CONTEXT = 2  # neighbouring frames on each side the encoder sees (0 = the authors' input)
HIDDEN, LATENT = 128, 64  # the authors' layer sizes
RESTART = True  # False: continue from an existing checkpoint with the same settings
PRETRAINED = "vae-speech"  # the shipped model, for comparison
EXAMPLE_ITEM = 0  # which test mixture to look at and listen to
EVAL_ITEMS = None  # None: every test mixture; a number: only the first ones
CHECKPOINT = None  # None: runs_dir() / "02_vae.pt", in runs/fast/ in fast mode: CI never overwrites your model

# %%
# the parameters left at None take the default of the mode
FAST = use_fast_mode(FAST)
EPOCHS = mode_default(EPOCHS, fast=2, full=10)
EXTRA_EPOCHS = mode_default(EXTRA_EPOCHS, fast=1, full=2)
STEPS_PER_EPOCH = mode_default(STEPS_PER_EPOCH, fast=10, full=100)
BATCH_SEGMENTS = mode_default(BATCH_SEGMENTS, fast=8, full=32)
KL_WARMUP_EPOCHS = mode_default(KL_WARMUP_EPOCHS, fast=2, full=5)
CHECKPOINT = runs_dir() / "02_vae.pt" if CHECKPOINT is None else CHECKPOINT

# %%
ds = data.build(DATA, seed=SEED, fast=FAST, root=ROOT)
print(ds.describe())
sr = ds.sample_rate
device = pick_device(DEVICE)
print(f"training on {device}; checkpoint: {CHECKPOINT}")

# %% [markdown]
# ## The model, from the ELBO
#
# ### What is modelled
#
# Each STFT frame $t$ of the mixture has magnitudes $\mathbf{x}_t = \lvert X_{:,t}\rvert \in \mathbb{R}^{F}$
# ($F = 513$ bins), and each source $i$ has magnitudes $\mathbf{s}_{i,t} = \lvert S_{i,:,t}\rvert$.
# The model explains the sources of a frame through a latent code
# $\mathbf{z}_i \in \mathbb{R}^{L}$ per source, with a standard normal prior
# $p(\mathbf{z}_i) = \mathcal{N}(\mathbf{0}, I)$. An **encoder** (the
# approximate posterior) reads the mixture:
#
# $$q_\phi(\mathbf{z}_i \mid \mathbf{x}) = \mathcal{N}\big(\boldsymbol{\mu}_i,\ \operatorname{diag} \boldsymbol{\sigma}_i^2\big),\qquad
# [\boldsymbol{\mu}_i, \log \boldsymbol{\sigma}_i^2] = W_{i,2}\,\mathrm{ReLU}(W_{i,1}\,\tilde{\mathbf{x}}_t + \mathbf{b}_{i,1}) + \mathbf{b}_{i,2}$$
#
# where $\tilde{\mathbf{x}}_t$ is the encoder's input: the log-magnitudes
# $\log(\mathbf{x} + 10^{-3})$ of frame $t$ and of $C$ frames on each side,
# each bin standardised by its mean and standard deviation over training
# mixtures (`MaskingNetwork.features`; $\log\boldsymbol\sigma^2$ is clipped
# to $[-12, 8]$ so that $\exp$ cannot overflow early in training). A
# **decoder** per source turns a code into a non-negative spectrum:
#
# $$\hat{\mathbf{y}}_i = \operatorname{softplus}\big(W_{i,4}\,\mathrm{ReLU}(W_{i,3}\,\mathbf{z}_i + \mathbf{b}_{i,3}) + \mathbf{b}_{i,4}\big).$$
#
# ### From estimates to masks
#
# The decoders' outputs are not used as the sources directly. Following Huang
# et al. (2015), a **joint soft-mask layer** turns them into masks that share
# out the mixture, so the separated magnitudes always add up to the mixture's:
#
# $$m_{i,f} = \frac{\hat y_{i,f}}{\sum_j \hat y_{j,f} + 10^{-8}},\qquad \hat{\mathbf{s}}_i = \mathbf{m}_i \odot \mathbf{x}.$$
#
# (`vaesep.spectral.joint_soft_mask`, applied in `MaskingNetwork.forward`.)
# With perfect estimates $\hat{\mathbf{y}}_i = \mathbf{s}_i$ this is the ideal
# ratio mask of notebook 01. The waveform of source $i$ is the inverse STFT of
# $m_i \odot X$, with the mixture's phase.
#
# ### The objective
#
# The likelihood of the true sources given the code is a unit-variance
# Gaussian around the separated magnitudes,
# $p_\theta(\mathbf{s}_i \mid \mathbf{z}, \mathbf{x}) = \mathcal{N}(\hat{\mathbf{s}}_i, I)$.
# For every frame, the log-likelihood of the sources is bounded from below by
# the ELBO:
#
# $$\log p(\mathbf{s} \mid \mathbf{x}) \;\ge\; \mathbb{E}_{q_\phi(\mathbf{z}\mid\mathbf{x})}\big[\log p_\theta(\mathbf{s}\mid\mathbf{z},\mathbf{x})\big] \;-\; \mathrm{KL}\big(q_\phi(\mathbf{z}\mid\mathbf{x})\,\big\|\,p(\mathbf{z})\big).$$
#
# We minimise the negative ELBO, averaged over all frames $t$ of a batch
# $\mathcal{B}$ (`VAENetwork.loss`):
#
# $$\mathcal{L} = \underbrace{\frac{1}{|\mathcal{B}|}\sum_{t}\ \frac12 \sum_{i}\sum_{f} \big(\hat s_{i,f,t} - s_{i,f,t}\big)^2}_{\text{reconstruction}}
# \;+\; \beta_e\ \underbrace{\frac{1}{|\mathcal{B}|}\sum_{t}\sum_{i}\sum_{k=1}^{L} \frac12\big(\mu_{i,k}^2 + \sigma_{i,k}^2 - 1 - \log\sigma_{i,k}^2\big)}_{\text{KL}}$$
#
# * The reconstruction term (`MaskingNetwork.reconstruction_loss`) is the
#   Gaussian negative log-likelihood without its constant
#   $\tfrac{F}{2}\log 2\pi$ per source. (With `likelihood="laplace"` it is
#   $\sum \lvert\hat s - s\rvert$ instead.)
# * The KL term (`VAENetwork.kl_divergence`) is the closed form for two
#   Gaussians with diagonal covariance; it is in nats per frame, like the
#   reconstruction term.
# * $\beta_e = \beta \cdot \min\big(1, \tfrac{e+1}{E_\text{warm-up}}\big)$ in
#   (zero-based) epoch $e$ (`VAENetwork.kl_weight`). Early in training the KL
#   term is cheap to minimise by ignoring the input ($\mu = 0$, $\sigma = 1$),
#   and the decoder then learns to ignore $\mathbf z$: *posterior collapse*.
#   Starting with a small weight lets the codes become informative first.
#   Validation always uses the full $\beta$, so validation losses of different
#   epochs can be compared.
#
# ### The likelihood has a scale, and β depends on it
#
# The unit variance above is a choice with a consequence. The magnitudes are
# in arbitrary units: every mixture is scaled to an RMS of
# `REFERENCE_RMS` = 0.1 before the STFT (a loudness convention, nothing
# physical). Halve that level and every squared error shrinks four-fold,
# while the KL term, which measures the codes, does not change. So "β = 1"
# means nothing by itself: it is β relative to a reconstruction term whose
# size was set by the convention. The cell below measures both terms per
# frame with the shipped `vae-unit-speech` (the study's converged VAE trained
# with the unit variance, as the authors' code scales it) on the validation mixtures, then again with the same audio ten times louder.
#
# Two likelihoods remove the convention (`likelihood=` in `VAEConfig`):
#
# * `"sigma"`: a Gaussian whose variance σ² is not fixed but set to its
#   maximum-likelihood value on each batch, the mean squared error (σ-VAE,
#   Rybkin et al. 2021). The reconstruction term becomes
#   $\tfrac{IF}{2}\log \hat\sigma^2$ per frame ($I$ sources, $F$ bins):
#   rescaling the data adds a constant, so the optimum does not move.
# * `"is"`: the complex-Gaussian model of the STFT used by VAE speech models
#   (Leglaive, Girin & Horaud 2018): each time-frequency coefficient is
#   zero-mean complex Gaussian with variance $\hat s^2$, whose negative
#   log-likelihood is, up to constants, the Itakura–Saito divergence
#   $\sum \big(s^2/\hat s^2 - \log(s^2/\hat s^2) - 1\big)$. Ratios only:
#   scale-free.
#
# With either, β = 1 is the ELBO of a model that does not depend on how loud
# we made the data. Notebook 04 tunes the likelihood on the validation split
# and keeps the unit variance as a method of its own (`vae-unit`, "as the
# authors' code scales it").

# %%
from vaesep.latent import unit_statistics

shipped_vae = vaesep.load_model("vae-unit-speech").network.eval()
validation = ValidationSet(ds.sources("valid")[: 8 if FAST else None])
with torch.no_grad():
    # the network sees the mixture at the reference level, as always; only the units in which
    # the likelihood measures its output and the truth change with `scale`
    outputs = shipped_vae(validation.mixture)
    kl = float(shipped_vae.kl_divergence(outputs["mu"], outputs["logvar"]))
    for likelihood in ("gaussian", "sigma", "is"):
        shipped_vae.config.likelihood = likelihood  # the same weights, scored under each likelihood
        nats = {scale: float(shipped_vae.reconstruction_loss(outputs["separated"] * scale, validation.sources * scale))
                for scale in (1.0, 10.0)}
        print(f"{likelihood:>8}: reconstruction {nats[1.0]:10.1f} nats/frame, ×10 louder {nats[10.0]:10.1f} "
              f"(ratio {nats[10.0] / nats[1.0]:6.1f}, difference {nats[10.0] - nats[1.0]:8.1f}); KL {kl:.1f} nats/frame")
        if likelihood == "gaussian":
            unit_variance_nats = nats[1.0]
    shipped_vae.config.likelihood = "gaussian"
print(f"unit variance: the reconstruction term is {unit_variance_nats / kl:.0f} times the KL")
mu, logvar = outputs["mu"], outputs["logvar"]  # (items, encoders, frames, latent)
units = unit_statistics(mu.permute(0, 2, 1, 3).reshape(-1, *mu.shape[1::2]).numpy(),
                        logvar.permute(0, 2, 1, 3).reshape(-1, *mu.shape[1::2]).numpy(),
                        encoder_names=shipped_vae.source_names)
print("active latent units per encoder:", units.n_active, f"of {shipped_vae.config.latent}")

# %% [markdown]
# Read the first line against the KL: under the unit variance the
# reconstruction term outweighs the KL per frame (the factor is printed), and the same audio
# measured ten times louder multiplies it by a hundred (the printed ratio)
# while the KL stays where it is. So the weight the KL really gets, and with
# it how hard the codes are pushed towards the prior, is set by the loudness
# convention, not by β; the count of active units printed last is what this
# model ended up with. Under `"sigma"` the louder units only add a constant,
# $IF\log 10$ per frame (the printed difference), and under `"is"` nothing
# at all: the optimum, and so the trained model, does not depend on the level.
#
# ### Sampling, and z = μ at test time
#
# The expectation over $q_\phi$ is estimated with one sample per frame. To
# let gradients flow through the sampling, it is written as a deterministic
# function of $\boldsymbol\mu$, $\boldsymbol\sigma$ and independent noise,
# the **reparameterisation trick** (`VAENetwork.sample_latent`):
#
# $$\mathbf{z}_i = \boldsymbol{\mu}_i + \boldsymbol{\sigma}_i \odot \boldsymbol{\varepsilon},\qquad \boldsymbol{\varepsilon} \sim \mathcal{N}(\mathbf{0}, I),\qquad \boldsymbol\sigma_i = \exp\big(\tfrac12 \log\boldsymbol\sigma_i^2\big).$$
#
# At test time there is no reason to add noise: as in the authors' code we
# use the posterior mean, $\mathbf{z}_i = \boldsymbol{\mu}_i$, so separation
# is deterministic.
#
# ### Our choices, and the authors' code
#
# The paper's text is not available to us; its abstract and the authors'
# public TensorFlow code are. Where they are silent or, in our reading, not
# the textbook VAE, the choices are ours:
#
# | | authors' code | this package |
# |---|---|---|
# | encoder input | one 513-bin magnitude frame | standardised log-magnitudes of the frame and `CONTEXT` frames on each side (ours; `CONTEXT = 0` gives their layer sizes) |
# | encoder | 513 → 128 ReLU → μ, log σ² of a 64-d latent | the same sizes after the input layer; log σ² clipped |
# | decoder | 64 → 128 ReLU → Gaussian mean and log-variance, 513 each | 64 → 128 ReLU → 513, softplus; the likelihood's variance unit, batch-optimal (`"sigma"`) or the estimate itself (`"is"`) |
# | output | the decoder's spectrum | joint soft mask on the mixture (Huang et al., 2015; ours for the VAE) |
# | objective | a KL term and likelihood that are not the textbook forms | the textbook ELBO above, with β warm-up (ours) |
# | one VAE per source | yes | yes (`variant="per_source"`); `"shared"` is an option |
# | weights, optimiser | N(0, 0.01²), Adam, learning rate 10⁻³ | the same, plus gradient-norm clipping (ours) |
# | training data | each source's VAE on that source's **clean** frames, input and target (the mixture is never seen in training) | fresh random 1 s *mixtures* every step, each scaled to the same level (ours); their scheme is `train_on="clean"` (notebook 04's `vae-authors`) |
# | test time | z = μ | z = μ |
# | stopping | not stated | best validation SDR, early stopping (ours) |
#
# The training data row is the largest difference. In the authors' scheme
# each VAE is an autoencoder of *clean* speech of one speaker; separation
# then rests on the hope that, fed a mixture, the encoder of speaker *v*
# lands on a code of speaker *v*'s speech. Nothing in training asks for that:
# the encoders never saw a mixture. Ours trains the encoders on mixtures and
# scores the masked output against each source, which asks for separation
# directly: a discriminative model with a stochastic bottleneck. Both are in
# the comparison of notebook 04 (`vae-authors` and `vae`); the truly
# generative reading, inference of the codes that explain the mixture, is
# the subject of a later notebook.
#
# ## The network
#
# The configuration below is saved in every checkpoint, so a model can always
# be rebuilt exactly. (`train` draws the initial weights afresh from its seed
# when it starts a run, so a run is reproducible from its settings alone.)

# %%
vae_config = VAEConfig(source_names=ds.source_names, context=CONTEXT, hidden=HIDDEN, latent=LATENT,
                       beta=BETA, kl_warmup_epochs=KL_WARMUP_EPOCHS)
torch.manual_seed(SEED)
network = VAENetwork(vae_config)
print(network)
display(Markdown(parameter_table(network)))

# %% [markdown]
# Most parameters sit in the encoders' first layer, which reads
# $(2C+1) \times 513$ inputs; the decoders are small. Two encoders and two
# decoders: one VAE per source, as in the authors' code.
#
# ### From waveforms to training frames (dynamic mixing)
#
# Training never sees the same mixture twice: every step draws fresh one-second
# segments of each speaker at random offsets of the Dutch training streams,
# scales each to unit RMS and adds them (`data.random_segments`, the same
# convention as the fixed test items). The STFT of a batch gives the network's
# input and target, every mixture scaled to the same RMS level first so that
# separation does not depend on how loud a recording is. Listen to two
# training mixtures:

# %%
batch = data.random_segments(ds, "train", 2, SEGMENT_SECONDS, rng=np.random.default_rng(SEED))
mixture_magnitude, source_magnitude = spectrogram_batch(batch, torch.device("cpu"))
print("waveforms (batch, sources, samples):", batch.shape)
print("mixture magnitudes (batch, frames, bins):", tuple(mixture_magnitude.shape))
print("source magnitudes (batch, sources, frames, bins):", tuple(source_magnitude.shape))
display(multitrack({f"training mixture {n + 1}": example.sum(axis=0) for n, example in enumerate(batch)}, sr,
                   title="two random training mixtures"))

# %% [markdown]
# One forward pass of the untrained network on these frames. In training mode
# the code is sampled, so two passes differ; in evaluation mode z = μ and they
# agree. The loss terms of the untrained network are where training starts:

# %%
with torch.no_grad():
    network.train()
    sampled = [network(mixture_magnitude)["masks"] for _ in range(2)]
    network.eval()
    deterministic = [network(mixture_magnitude)["masks"] for _ in range(2)]
    outputs = network(mixture_magnitude)
    terms = network.loss(outputs, source_magnitude)
print({key: tuple(value.shape) for key, value in outputs.items()})
print(f"training mode: the two passes' masks differ by up to {float((sampled[0] - sampled[1]).abs().max()):.2e}")
print(f"evaluation mode (z = mu): they differ by up to {float((deterministic[0] - deterministic[1]).abs().max()):.2e}")
print({key: round(float(value), 2) for key, value in terms.items()}, "(nats per frame)")

# %% [markdown]
# The KL weight over the epochs of this run, warm-up then flat:

# %%
figure = plot_kl_schedule([network.kl_weight(epoch) for epoch in range(EPOCHS + EXTRA_EPOCHS)])
display(figure)


# %% [markdown]
# ### Learning, by hand
#
# Everything the library does to train the network fits in a few lines of
# PyTorch. First the loss: the negative ELBO of the formula above, written
# from the network's outputs (the separated magnitudes ŝ, and μ and log σ²
# of the codes), next to the library's `VAENetwork.loss` on the same outputs:

# %%
def negative_elbo(outputs, sources, kl_weight):
    """The negative ELBO in nats per frame: unit-variance Gaussian reconstruction + β_e · KL."""
    error = outputs["separated"] - sources  # (batch, sources, frames, bins)
    reconstruction = (0.5 * error.square()).sum(dim=(1, 3)).mean()  # ½ Σ_i Σ_f (ŝ − s)², mean over frames
    mu, logvar = outputs["mu"], outputs["logvar"]  # (batch, encoders, frames, latent)
    kl = (0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(dim=(1, 3)).mean()  # Σ_i Σ_k, mean over frames
    return reconstruction + kl_weight * kl


with torch.no_grad():
    network.train()  # z is sampled, as in training
    outputs = network(mixture_magnitude)
    ours = negative_elbo(outputs, source_magnitude, network.kl_weight(0))
    library = network.loss(outputs, source_magnitude, epoch=0)["loss"]
print(f"by hand {float(ours):.4f}, VAENetwork.loss {float(library):.4f} nats per frame "
      f"(first epoch: β_e = {network.kl_weight(0):g})")
assert torch.isclose(ours, library, rtol=1e-5), "the hand-written ELBO and VAENetwork.loss disagree"

# %% [markdown]
# Then the optimisation: a few dozen Adam steps on the two mixtures above, on
# a copy of the network so that the training run below starts from the same
# weights. Each step is the same four moves: compute the loss, clear the old
# gradients (`zero_grad`), compute the new ones by backpropagation
# (`backward`), and let Adam move every weight (`step`). The one extra line
# caps the gradient's norm, as the library does, so that a rare huge
# gradient early on cannot throw the weights far away.

# %%
STEPS_BY_HAND = 40
by_hand = copy.deepcopy(network).train()
by_hand.fit_normalisation(mixture_magnitude)  # the feature statistics, from these two mixtures only
by_library = copy.deepcopy(by_hand)  # the same start, for the check below
optimizer = torch.optim.Adam(by_hand.parameters(), lr=LEARNING_RATE)
torch.manual_seed(SEED)  # the noise ε of the reparameterisation trick
hand_losses = []
for _ in range(STEPS_BY_HAND):
    outputs = by_hand(mixture_magnitude)  # forward: encode, sample z = μ + σ·ε, decode, mask
    loss = negative_elbo(outputs, source_magnitude, by_hand.kl_weight(0))
    optimizer.zero_grad()  # forget the gradients of the previous step
    loss.backward()  # d loss / d weight for every weight, by the chain rule
    torch.nn.utils.clip_grad_norm_(by_hand.parameters(), 5.0)  # cap the gradient's norm at 5
    optimizer.step()  # Adam's update of every weight
    hand_losses.append(loss.item())
shown = sorted({0, *range(9, STEPS_BY_HAND, 10), STEPS_BY_HAND - 1})
print("loss after step (nats per frame):", ", ".join(f"{i + 1}: {hand_losses[i]:.1f}" for i in shown))

# %% [markdown]
# The library's version of one step is `vaesep.train.train_step`; the
# training loop below calls it for every batch, and so does the training
# benchmark (`benchmarks/bench_training.py`). Besides the four moves it can
# compute in bfloat16, and it stops with an error if the loss is not finite:

# %%
print(inspect.getsource(train_step))

# %% [markdown]
# Run from the same weights with the same random draws, it must retrace the
# hand-written loop step for step:

# %%
library_optimizer = torch.optim.Adam(by_library.parameters(), lr=LEARNING_RATE)
two_mixtures = SpectralBatch(mixture_magnitude, source_magnitude)
torch.manual_seed(SEED)
library_losses = [train_step(by_library, library_optimizer, two_mixtures, epoch=0)["loss"]
                  for _ in range(STEPS_BY_HAND)]
weight_gap = max(float((a - b).abs().max()) for a, b in zip(by_hand.parameters(), by_library.parameters(), strict=True))
print(f"{STEPS_BY_HAND} steps: largest loss difference {np.max(np.abs(np.subtract(hand_losses, library_losses))):.1e} "
      f"nats per frame, largest weight difference {weight_gap:.1e}")
assert np.allclose(hand_losses, library_losses, rtol=1e-4), "the hand-written loop and train_step disagree"
print(f"on these two mixtures the loss fell from {hand_losses[0]:.1f} to {hand_losses[-1]:.1f} nats per frame")

# %% [markdown]
# Steps on two mixtures fit those two mixtures and nothing else. A model
# that separates voices it has not heard needs far more steps, each on fresh
# mixtures, a validation set to tell when to stop, and checkpoints to
# survive an interruption: from here on the library's loop does the work.
#
# ## Training
#
# `vaesep.train.train` runs the loop: each step draws a batch and calls
# `train_step` on it, and after each epoch computes the loss on the fixed
# validation mixtures (z = μ, full β). It keeps the weights of the best
# validation epoch, stops early when `PATIENCE` epochs bring no improvement,
# and writes a checkpoint after every epoch. The curves below are redrawn
# in place after each epoch, here and when training resumes further down (the
# notebook's one loss plot): reconstruction and KL separately, because the total hides
# which of the two moves. The KL term jumps up in the first steps, as the
# codes begin to carry information about the mixture, and is then pushed
# back down as the warm-up raises its weight, while the reconstruction keeps
# falling. During warm-up the training loss weighs the KL less than the
# validation loss does, so the two total-loss curves only become comparable
# once β has reached its final value.

# %%
train_config = TrainConfig(epochs=EPOCHS, steps_per_epoch=STEPS_PER_EPOCH, batch_segments=BATCH_SEGMENTS,
                           segment_seconds=SEGMENT_SECONDS, learning_rate=LEARNING_RATE, patience=PATIENCE,
                           seed=SEED)
live_plot = LiveLossPlot(title="training the VAE: loss per frame")  # redrawn in place, also when resuming
result = train(network, ds, train_config, checkpoint_path=CHECKPOINT, resume=not RESTART, device=DEVICE,
               on_epoch_end=live_plot)
history = result.history
print(f"{len(history['epoch'])} epochs, stopped by: {result.stopped}; best validation loss "
      f"{history['valid_loss'][result.best_epoch]:.2f} in epoch {result.best_epoch + 1}; "
      f"{np.mean(history['seconds']):.1f} s per epoch, {np.mean(history['frames_per_second']):,.0f} frames/s")

# %% [markdown]
# ### What a checkpoint holds
#
# A checkpoint is a plain dictionary saved with `torch.save` and read back
# with `weights_only=True`, so opening one never runs code. Besides the best
# weights it holds everything needed to rebuild the model (its kind and
# configuration), to judge it (the data set's name, parameters and manifest
# hash, the training configuration and history) and, while training can still
# continue, the state to resume from (current weights, optimiser state, random
# number generator, the next epoch):

# %%
display(Markdown(describe_checkpoint(CHECKPOINT)))

# %% [markdown]
# ### Resuming
#
# Training can be continued from the checkpoint: call `train` again with the
# same settings and more epochs (or after an interrupted run, with the same
# epochs). It reloads the weights, the optimiser state and the random state,
# and carries on where it stopped. The resumed epochs are added to the loss
# curves of the training cell above (in a saved copy of the notebook, that
# plot shows the final state).

# %%
epochs_before = len(history["epoch"])
result = train(network, ds, dataclasses.replace(train_config, epochs=EPOCHS + EXTRA_EPOCHS),
               checkpoint_path=CHECKPOINT, device=DEVICE, on_epoch_end=live_plot)
history = result.history
frames_per_mixture = mixture_magnitude.shape[1]  # frames of one SEGMENT_SECONDS mixture
frames_seen = len(history["epoch"]) * STEPS_PER_EPOCH * BATCH_SEGMENTS * frames_per_mixture
print(f"epochs before: {epochs_before}, after: {len(history['epoch'])}; stopped by: {result.stopped}; "
      f"best epoch: {result.best_epoch + 1}")
print(f"trained on {frames_seen:,} frames in all ({len(history['epoch'])} epochs x {STEPS_PER_EPOCH} steps x "
      f"{BATCH_SEGMENTS} mixtures x {frames_per_mixture} frames), "
      f"{len(history['epoch']) * STEPS_PER_EPOCH * BATCH_SEGMENTS * SEGMENT_SECONDS / 60:.1f} min of mixtures, "
      f"in {sum(history['seconds']):.1f} s")
save_figure(plot_history(history, title="VAE training: loss per frame"), "02_training_curves")  # the file only

# %% [markdown]
# ## Separating test mixtures
#
# `vaesep.load_model` turns the checkpoint into a separator with the same
# interface as the oracles of notebook 01: `model.separate(mixture, sr)`.
# Next to it we load the pretrained `vae-speech` shipped with the package;
# here is how long it was trained:

# %%
model = vaesep.load_model(CHECKPOINT, device=DEVICE)
pretrained = vaesep.load_model(PRETRAINED, device=DEVICE)
oracles = {name: vaesep.load_model(name, source_names=ds.source_names) for name in ("irm", "wiener", "ibm")}
irm = oracles["irm"]
floor = vaesep.load_model("mixture", source_names=ds.source_names)
for label, separator in (("this notebook", model), ("pretrained", pretrained)):
    budget = separator.info.get("train_config") or {}
    epochs_run = len((separator.info.get("history") or {}).get("epoch", []))
    print(f"{label}: {separator.name}, sources {separator.source_names}, {count_parameters(separator.network):,} parameters, "
          f"{epochs_run} epochs x {budget.get('steps_per_epoch')} steps x {budget.get('batch_segments')} mixtures")
configs = [m.network.config_dict() for m in (model, pretrained)]
settings = [{key: value for key, value in (m.info.get("train_config") or {}).items() if key != "epochs"}
            for m in (model, pretrained)]
for what, (mine, theirs) in (("network configuration", configs), ("training settings, epochs apart", settings)):
    differ = [f"{key} {mine.get(key)} here, {theirs.get(key)} pretrained"
              for key in sorted(set(mine) | set(theirs)) if mine.get(key) != theirs.get(key)]
    print(f"{what}: " + ("the same" if not differ else "differ in " + "; ".join(differ)))

# %% [markdown]
# The two lines above name every setting in which this notebook's model
# differs from the pretrained one. In fast mode the budget (steps, mixtures
# per step) and the KL warm-up are shortened, so both lines list
# differences; a setting the pretrained model's checkpoint does not record
# shows as `None` (it was trained by an earlier version of the trainer, see
# README). Only a model whose lines read "the same" was trained like the
# pretrained one.
#
# One Dutch test mixture, separated by both models. First the magnitudes of
# each source: the truth, the IRM's estimate (the reference oracle of
# magnitude masking: the mask the joint soft-mask layer would output from
# perfect estimates), and the two VAEs'
# $\hat{\mathbf s}_i = \mathbf m_i \odot \mathbf x$:

# %%
sources = np.array(ds.sources("test")[EXAMPLE_ITEM])
mixture = sources.sum(axis=0)
truth = magnitude(stft(sources))  # (n_sources, n_frames, n_bins)
mixture_magnitude = magnitude(stft(mixture))  # (n_frames, n_bins)
ideal = ideal_ratio_mask(truth)
inside = {"this notebook": network_outputs(model, mixture, sr), "pretrained": network_outputs(pretrained, mixture, sr)}
for index, name in enumerate(ds.source_names):
    panels = {f"true {name}": truth[index], f"IRM {name}": ideal[index] * mixture_magnitude,
              **{f"{label} {name}": out["separated"][index] for label, out in inside.items()}}
    figure = plot_spectrograms(panels, title=f"Dutch test item {EXAMPLE_ITEM}, source {name}")
    save_figure(figure, f"02_separated_{name}")
    display(figure)

# %% [markdown]
# The masks for the first source (those of the second are one minus these),
# on the colour bar's scale from 0 (dark purple: the bin goes to the other
# source) through teal (0.5) to 1 (yellow). Where the VAE's mask follows the
# IRM's pattern, separation works; where it stays teal, around 0.5, the model
# could not decide whose bin it is. The line under the figure counts those
# undecided bins.

# %%
first = ds.source_names[0]
figure = plot_masks({f"IRM {first}": ideal[0], **{f"{label} {first}": out["masks"][0] for label, out in inside.items()}},
                    title=f"masks of source {first}, Dutch test item {EXAMPLE_ITEM}")
save_figure(figure, "02_masks")
display(figure)
undecided = {label: np.mean(np.abs(mask - 0.5) < 0.1)
             for label, mask in {"IRM": ideal[0], **{label: out["masks"][0] for label, out in inside.items()}}.items()}
print("share of bins with a mask between 0.4 and 0.6: "
      + ", ".join(f"{label} {100 * share:.0f} %" for label, share in undecided.items()))

# %% [markdown]
# And the audio, before and after:

# %%
estimates = {label: separator.separate(mixture, sr, references=sources if separator.needs_references else None)
             for label, separator in (("IRM (reference oracle)", irm), ("this notebook", model), ("pretrained", pretrained))}
for index, target in enumerate(ds.source_names):
    tracks = {"mixture": mixture, "truth": sources[index], **{label: waves[index] for label, waves in estimates.items()}}
    display(multitrack(tracks, sr, title=f"target: source {target} of Dutch test item {EXAMPLE_ITEM}"))

# %% [markdown]
# ## Measuring separation
#
# Listening is the final judge (notebook 05), but numbers let us compare
# many mixtures at once. For an estimate $\hat s$ of a source $s$, BSS-eval
# (Vincent et al., 2006) splits the estimate into a part explained by the
# true source (allowing a 512-tap filter of it), $s_\text{target}$, a part
# explained by the other sources, $e_\text{interf}$, and the rest,
# $e_\text{artif}$:
#
# * **SDR** $= 10\log_{10} \lVert s_\text{target}\rVert^2 / \lVert e_\text{interf} + e_\text{artif}\rVert^2$, overall quality;
# * **SIR** $= 10\log_{10} \lVert s_\text{target}\rVert^2 / \lVert e_\text{interf}\rVert^2$, how little of the other voice is left;
# * **SAR** $= 10\log_{10} \lVert s_\text{target} + e_\text{interf}\rVert^2 / \lVert e_\text{artif}\rVert^2$, how few new artefacts there are;
# * **NSDR** = SDR of the estimate minus SDR of the mixture used as the
#   estimate: the improvement; **GNSDR**, **GSIR** and **GSAR** are their
#   means weighted by item length (Huang et al.);
# * **SI-SDR** (Le Roux et al., 2019) $= 10\log_{10}\lVert\alpha s\rVert^2/\lVert \alpha s-\hat s\rVert^2$
#   with $\alpha = \langle \hat s, s\rangle/\lVert s\rVert^2$, which forgives
#   only a gain, not a filter: stricter than SDR.
#
# All in dB, higher is better; means and medians over every (item, source)
# pair. An item whose reference is digitally silent would be skipped and
# counted in the caption (none are, since the test items are cut from
# non-silent segments). As in notebook 01, the mixture's SAR is undefined (it
# contains no artefacts at all) and shown as "—".

# %%
ORACLE_LABELS = {"irm": "irm (reference oracle)", "wiener": "wiener (oracle)", "ibm": "ibm (oracle)"}
contenders = {"mixture (floor)": floor, "VAE, this notebook": model, "VAE, pretrained": pretrained,
              **{ORACLE_LABELS[name]: oracle for name, oracle in oracles.items()}}
results = evaluate_test_splits(contenders, ds, max_items=EVAL_ITEMS)
tables = split_tables_markdown(results, ds, seed=SEED)
display(Markdown(tables))
saved = save_table(tables, "02_results", data=split_summaries(results))

# %%
for split, by_label in results.items():
    scores = {label.split(" (")[0].replace("VAE, ", ""): r.item_values("sdr")
              for label, r in by_label.items()}
    figure = plot_metric_boxes(scores, "SDR", title=f"SDR per item and source, {split_label(ds, split)}")
    save_figure(figure, f"02_sdr_{split}")
    display(figure)

# %% [markdown]
# Where each model sits between the floor and the ceiling, as a share of the
# gap (0 % = no better than the mixture, 100 % = as good as the best oracle).
# The ceiling is measured, not assumed: the oracle mask with the highest mean
# SDR on each split. The IRM is the reference oracle of magnitude masking, but
# not a bound: the joint soft mask can output any mask in (0, 1), so it can
# also output the Wiener-like mask (each source's share of the power) or come
# as close as it likes to the binary one. The line prints which oracle is the ceiling,
# and the IRM's own share of the gap.

# %%
for split, by_label in results.items():
    mean_sdr = {label: r.summary()["overall"]["sdr_mean"] for label, r in by_label.items()}
    ceiling = max(ORACLE_LABELS.values(), key=mean_sdr.get)
    low, high = mean_sdr["mixture (floor)"], mean_sdr[ceiling]
    shares = ", ".join(f"{label}: {mean_sdr[label]:.2f} dB = {100 * (mean_sdr[label] - low) / (high - low):.0f} %"
                       for label in ("VAE, this notebook", "VAE, pretrained", ORACLE_LABELS["irm"]))
    print(f"{split_label(ds, split)}: floor {low:.2f} dB, ceiling {high:.2f} dB ({ceiling.split()[0]}, "
          f"the best oracle); {shares}")


# %% [markdown]
# **How to read this.** In fast mode (as in CI) the model of this notebook
# has trained for seconds, on the frames counted after "Resuming": its rows
# only show that every step runs, and say nothing about the method. Fast mode is for
# CI; read the pretrained model's rows instead, which is also the model
# notebooks 03–05 fall back on. In full mode, compare your model with the
# pretrained one. The printout after loading the models says whether it was
# trained with your settings; with the same settings and budget your model
# should land close to it (runs with different seeds differ a little), with
# a smaller budget below it.
#
# Compare also the two languages. The Czech speakers were never heard in
# training; a model that learnt "a low voice and a higher voice" transfers, a
# model that learnt two particular people does not. Notebook 01 showed that
# the Czech voices differ in pitch from the Dutch ones, and that the ceiling
# itself differs between the languages: judge the transfer by the share of
# the floor-to-ceiling gap, not by raw SDR.
#
# ## Summary
#
# * The VAE encodes each mixture frame (with context) into a Gaussian code per
#   source and decodes a spectrum per source; a joint soft mask turns the
#   spectra into masks on the mixture.
# * It is trained on the negative ELBO: a Gaussian reconstruction error of the
#   masked magnitudes plus a KL term whose weight is warmed up; sampling uses
#   the reparameterisation trick, and testing uses z = μ.
# * `vaesep.train.train` trains any masking network with dynamic mixing,
#   validation, early stopping and resumable checkpoints; `vaesep.load_model`
#   turns a checkpoint into a separator.
# * Results are read against the floor (the mixture) and the ceiling (the
#   best oracle mask, measured on each split; the IRM is the reference oracle
#   of magnitude masking, not a bound), on Dutch and on unseen Czech speakers; they are saved as
#   `02_results`, and your checkpoint as `runs/02_vae.pt` for notebooks 03–05.

# %% [markdown]
# ## Exercises
#
# Each exercise asks a question; write your answer in the code cell below it. Where an
# answer can be checked, a cell of asserts follows: run it after your answer. The solutions
# are in the teacher edition (`vaesep lab`, see the README), where CI runs them in fast mode.
# Every exercise here trains new networks with this notebook's budget (`train_config`, as
# long as the training above took, per network: in full mode, minutes each).
#
# **1. What does the "V" buy?** Train the same network as a plain
# autoencoder (`deterministic=True`: no sampling, no KL term, the paper's
# autoencoder baseline) with the same budget, and compare its test SDR with
# the VAE's. Keep the loaded model as `ae_model` and its mean SDR per test split
# in a dict `ae_sdr` (`{split: dB}`, the splits of `results`).

# %% tags=["solution", "trains"]
ae = VAENetwork(dataclasses.replace(vae_config, deterministic=True))
ae_result = train(ae, ds, dataclasses.replace(train_config, epochs=EPOCHS + EXTRA_EPOCHS),
                  checkpoint_path=runs_dir() / "02_ae.pt", resume=False, device=DEVICE)
ae_model = vaesep.load_model(runs_dir() / "02_ae.pt", device=DEVICE)
ae_sdr = {}
for split, by_label in results.items():
    ae_eval = evaluate_separator(ae_model, ds, split, max_items=EVAL_ITEMS, progress=False)
    ae_sdr[split] = ae_eval.summary()["overall"]["sdr_mean"]
    display(Markdown(compare_markdown({"autoencoder": ae_eval, "VAE": by_label["VAE, this notebook"]},
                                      title=split_label(ds, split))))

# %% [markdown] tags=["solution"]
# The KL term pulls the codes towards the prior and the sampling adds noise
# during training: both regularise. With dynamic mixing the network sees
# plenty of data, so the difference is often small; it grows when the
# training data are small (try `dynamic_mixing=False` in the `TrainConfig`).
# A claim that the VAE is better needs the difference to exceed the spread
# between training runs with different seeds (notebook 04 measures it).

# %% tags=["check"]
assert ae_model.network.config.deterministic, "ae_model should be the autoencoder (deterministic=True)"
assert count_parameters(ae_model.network) == count_parameters(model.network), "the same network as the VAE, sampling aside"
assert set(ae_sdr) == set(results) and all(np.isfinite(list(ae_sdr.values()))), "one mean SDR per test split"
print("checked")

# %% [markdown]
# **2. The weight of the KL term.** Train with `BETA = 0.1` and with
# `BETA = 4`, and with `KL_WARMUP_EPOCHS = 1` (no warm-up, β as above).
# Compare the reconstruction and KL curves and the Dutch test SDR of the three
# with the model of this notebook. What happens to the KL term with a large β,
# and what does the warm-up change? Keep the validation KL of each run's last
# epoch in a dict `final_kl` and its test SDR in `test_sdr`, both keyed
# `"beta 0.1"`, `"beta 4"` and `"no warm-up"`.

# %% tags=["solution", "trains"]
from matplotlib.figure import Figure

from vaesep.files import markdown_table

variants = {"beta 0.1": dataclasses.replace(vae_config, beta=0.1),
            "beta 4": dataclasses.replace(vae_config, beta=4.0),
            "no warm-up": dataclasses.replace(vae_config, kl_warmup_epochs=1)}
histories = {f"this notebook (beta {BETA:g}, warm-up {KL_WARMUP_EPOCHS})": history}
final_kl, test_sdr = {}, {}
for label, variant_config in variants.items():
    torch.manual_seed(SEED)
    path = runs_dir() / f"02_{label.replace(' ', '_')}.pt"
    run = train(VAENetwork(variant_config), ds, dataclasses.replace(train_config, epochs=EPOCHS + EXTRA_EPOCHS),
                checkpoint_path=path, resume=False, device=DEVICE)
    histories[label] = run.history
    final_kl[label] = run.history["valid_kl"][-1]
    scored = evaluate_separator(vaesep.load_model(path, device=DEVICE), ds, "test", max_items=EVAL_ITEMS,
                                progress=False)
    test_sdr[label] = scored.summary()["overall"]["sdr_mean"]
figure = Figure(figsize=(10, 3.2), layout="constrained")
for axis, term in zip(figure.subplots(1, 2), ("reconstruction", "kl"), strict=True):
    for label, run_history in histories.items():
        axis.plot(run_history["epoch"], run_history[f"valid_{term}"], marker=".", label=label)
    axis.set(title=f"validation {term}", xlabel="epoch", ylabel="nats per frame", yscale="log")
axis.legend(fontsize="small")
display(figure)
test_sdr["this notebook"] = results["test"]["VAE, this notebook"].summary()["overall"]["sdr_mean"]
final_kl["this notebook"] = history["valid_kl"][-1]
display(Markdown(markdown_table(["run", "validation KL, last epoch (nats/frame)", "Dutch test SDR (dB)"],
                                [[label, f"{final_kl[label]:.2f}", f"{test_sdr[label]:.2f}"] for label in test_sdr])))

# %% [markdown] tags=["solution"]
# A large β makes every nat of information in the codes expensive: the KL
# falls towards zero (many latent dimensions collapse onto the prior), the
# codes carry less about the mixture, and the reconstruction term and the SDR
# get worse. A small β makes the model behave like the autoencoder of
# exercise 1: a larger KL, codes free to carry detail. The warm-up lets the
# codes become useful before the KL term weighs fully; without it the KL is
# squeezed from the first step and the collapse starts earlier, which shows
# as a smaller KL after the same number of steps (the table above; with this
# notebook's short budgets the SDR differences are within the spread between
# seeds, so read them as a direction, not a result). Notebook 03 counts the
# dimensions that stay active.

# %% tags=["check"]
assert {"beta 0.1", "beta 4", "no warm-up"} <= set(final_kl) & set(test_sdr), "a KL and an SDR for each run"
assert final_kl["beta 4"] < final_kl["beta 0.1"], "a larger beta should leave less KL in the codes"
assert all(np.isfinite(list(test_sdr.values()))), "a test SDR for each run"
print("checked")

# %% [markdown]
# **3. Context.** The authors' encoder sees a single frame (`CONTEXT = 0`).
# How many parameters does that save, and what does it cost in SDR? Why
# would neighbouring frames help to decide which voice a bin belongs to? Keep
# the number of parameters saved in `saved_parameters` and the single-frame
# model's mean Dutch test SDR in `context0_sdr`.

# %% tags=["solution", "trains"]
single = VAENetwork(dataclasses.replace(vae_config, context=0))
display(Markdown(parameter_table(single)))  # compare with the table of the network above
saved_parameters = (sum(p.numel() for p in network.parameters() if p.requires_grad)
                    - sum(p.numel() for p in single.parameters() if p.requires_grad))
run = train(single, ds, dataclasses.replace(train_config, epochs=EPOCHS + EXTRA_EPOCHS),
            checkpoint_path=runs_dir() / "02_context0.pt", resume=False, device=DEVICE)
single_model = vaesep.load_model(runs_dir() / "02_context0.pt", device=DEVICE)
single_eval = evaluate_separator(single_model, ds, "test", max_items=EVAL_ITEMS, progress=False)
context0_sdr = single_eval.summary()["overall"]["sdr_mean"]
print(f"context 0 saves {saved_parameters:,} parameters; Dutch test SDR {context0_sdr:.2f} dB against "
      f"{results['test']['VAE, this notebook'].summary()['overall']['sdr_mean']:.2f} dB with context ±{CONTEXT}")

# %% [markdown] tags=["solution"]
# The first encoder layer shrinks by a factor $2C + 1$ in its inputs. A single
# 64 ms frame says little about where a syllable is going: with context the
# encoder sees the pitch glide and the onsets around the frame, which tell
# the two voices apart when their spectra in one frame are ambiguous. With
# the fast budget (a few dozen steps) the two SDRs differ by less than the
# spread between seeds, in either direction; compare them after a full-mode
# run.

# %% tags=["check"]
def trainable(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


assert saved_parameters == trainable(network) - trainable(VAENetwork(dataclasses.replace(vae_config, context=0))), \
    "the count of parameters saved is off"
assert np.isfinite(context0_sdr)
print("checked")


# %% [markdown]
# **4. Write the ELBO yourself.** `negative_elbo` in "Learning, by hand" uses
# the unit-variance Gaussian. Write `sigma_elbo(outputs, sources, beta)`, the
# negative ELBO in nats per frame under the σ-VAE likelihood
# (`likelihood="sigma"`, section "The likelihood has a scale"): a Gaussian
# whose variance σ² is set to its best value on the batch, the mean squared
# error over all items, sources, frames and bins. Derive its reconstruction
# term first (what is left of $\tfrac{1}{2\sigma^2}\sum_{i,f}(\hat s - s)^2
# + \tfrac{IF}{2}\log\sigma^2$ per frame at that σ²?), then add β times the
# KL. The check cell compares your function with `VAENetwork.loss` on the
# shipped model's outputs for the validation mixtures.

# %% tags=["solution"]
def sigma_elbo(outputs, sources, beta):
    """Negative ELBO per frame, σ-VAE likelihood: ½·I·F·log σ̂² + β·KL, σ̂² the batch's mean squared error."""
    error = outputs["separated"] - sources  # (batch, sources, frames, bins)
    n_sources, n_bins = error.shape[1], error.shape[3]
    reconstruction = 0.5 * n_sources * n_bins * torch.log(error.square().mean())
    mu, logvar = outputs["mu"], outputs["logvar"]
    kl = (0.5 * (mu.square() + logvar.exp() - 1 - logvar)).sum(dim=(1, 3)).mean()
    return reconstruction + beta * kl


# %% [markdown] tags=["solution"]
# Per frame, the Gaussian with variance σ² costs
# $\tfrac{1}{2\sigma^2}\sum_{i,f}(\hat s - s)^2 + \tfrac{IF}{2}\log\sigma^2$ plus a
# constant. Averaged over the batch's frames, the first term is
# $\tfrac{IF}{2}\,\mathrm{MSE}/\sigma^2$, which is minimised (together with the
# second) at $\sigma^2 = \mathrm{MSE}$; there it is the constant $\tfrac{IF}{2}$,
# and what is left is $\tfrac{IF}{2}\log\mathrm{MSE}$. Scaling the audio by
# $a$ multiplies the MSE by $a^2$ and so only adds $IF\log a$: the
# gradients, and the balance against the KL, do not depend on the level. The
# library also adds a floor of $10^{-6}$ times the sources' mean power inside
# the log, so that a silent batch cannot give $\log 0$; on real audio it
# changes the loss by far less than the check's tolerance.

# %% tags=["check"]
with torch.no_grad():
    shipped_outputs = shipped_vae(validation.mixture)
    shipped_vae.config.likelihood = "sigma"
    try:
        expected = shipped_vae.loss(shipped_outputs, validation.sources)["loss"]  # no epoch: the full β
    finally:
        shipped_vae.config.likelihood = "gaussian"
    yours = sigma_elbo(shipped_outputs, validation.sources, shipped_vae.config.beta)
print(f"yours {float(yours):.3f}, VAENetwork.loss {float(expected):.3f} nats per frame")
assert torch.isclose(yours, expected, rtol=1e-4), "sigma_elbo does not match VAENetwork.loss with likelihood='sigma'"
