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
# # 06 · Separation as inference: VAE source priors
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/vaesep/blob/main/notebooks/06_separation_as_inference.ipynb)
#
# The paper's abstract calls the VAE "a more principled approach" than
# discriminative training because it is a *generative* model. Yet the VAEs of
# notebooks 02–04 are trained on mixtures to output masks: discriminative
# models with a stochastic bottleneck. The generative reading, which the
# literature after the paper developed (Bando et al., ICASSP 2018; Leglaive,
# Girin & Horaud, MLSP 2018), is different:
#
# 1. learn a **prior for each source**, p(s) = ∫ p(s | z) p(z) dz, from clean
#    recordings of that source alone (a VAE per source);
# 2. separate a mixture by **inference**: find the latent codes whose decoded
#    sources, added up, explain the mixture best, then split the mixture with
#    the Wiener filter those sources define.
#
# No mixture is seen in training. For denoising, only the speech gets a prior;
# the noise is a small NMF model fitted on each noisy recording itself, so no
# noise is seen in training at all. This notebook builds both cases, shows the
# objective that inference minimises, looks and listens at what refining the
# encoders' first guess changes, measures what it costs, and gives the verdict
# computed from the measurements.
#
# ## What you will learn
#
# * the generative model behind VAE source priors (a complex Gaussian per STFT
#   coefficient whose variance a decoder produces) and the inference objective
#   it implies, term by term as in `vaesep/models/generative.py`;
# * amortised inference (the encoders' guess) and its refinement by gradient
#   steps on the latent codes and multiplicative updates of the gains;
# * why the Wiener filter is the natural last step, and how it relates to the
#   masks of the other notebooks;
# * the denoising variant: a speech prior with an NMF noise model fitted on the
#   mixture itself (Itakura–Saito multiplicative updates);
# * how to measure SDR and cost against the number of inference iterations.
#
# ## Prerequisites
#
# Notebook 02 (the VAE and its ELBO; here with the Itakura–Saito likelihood of
# its section "The likelihood has a scale") and notebook 01 (the `speech` and
# `noise` data, the Wiener-like oracle mask). The priors are trained with
# `vaesep.priors` (the commands are in the section "The priors"); if none
# have been trained or shipped, this notebook trains them.
#
# ## Expected runtime
#
# README's section "The notebooks" lists this notebook's measured wall time in fast
# and full mode, written by `vaesep reproduce --readme README.md` from its own run
# (with the commit, date and machine load).
#
# In fast mode (`VAESEP_FAST=1`, as in CI) the notebook trains tiny priors for
# a few seconds each and measures a handful of test items, so it runs in about
# the time of the other notebooks' fast mode; those priors are far from
# converged and their numbers say nothing about the method. In full mode it
# loads priors trained by `vaesep train --model generative` (or the shipped
# ones); training them here instead takes hours on a CPU. The measurements
# cost a real-time factor that this notebook measures itself, in the section
# "What inference costs"; the last cell prints how long the whole run took.

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
import inspect
import time
from pathlib import Path

import numpy as np
import torch
from IPython.display import Markdown, display

import vaesep.data
from vaesep.compare.inference import (
    infer_item,
    inference_verdict,
    iteration_curve,
    iteration_markdown,
    study_comparison,
)
from vaesep.files import project_dir, save_figure, save_table
from vaesep.metrics import bss_eval
from vaesep.models.generative import multiplicative_update, negative_log_posterior
from vaesep.plots import plot_iteration_curves, plot_objective, plot_spectrograms
from vaesep.priors import load_or_train
from vaesep.runtime import code_version, mode_default, use_fast_mode
from vaesep.widgets.outputs import compact_figures, multitrack

compact_figures()  # figures as 256-colour PNGs: the saved notebook stays light

STARTED = time.perf_counter()

# %% [markdown]
# ## Parameters

# %% tags=["parameters"]
SPEECH_DATA = "speech"  # two voices, v and m: one prior each
NOISE_DATA = "noise"  # Dutch speech in unseen recorded noise: a speech prior, NMF noise
SEED = 0
FAST = None  # None: VAESEP_FAST decides (1 under pytest: tiny priors trained here in seconds, few test items)
SPEECH_MODEL = None  # a checkpoint path or pretrained name; None: see vaesep.priors.load_or_train
NOISE_MODEL = None
SHOW_ITERATIONS = (0, 10, 100)  # the estimates we look at and listen to
CURVE_ITERATIONS = (0, 10, 50, 200)  # the measured curve (issue 13)
ITEM = 0  # the test mixture we look at
CURVE_ITEMS = None  # test items per curve; None: 3 in fast mode, all in full mode
STUDY_DIR = None  # None: results/converged of the checkout, the result files of `vaesep study`

# %%
# the parameters left at None take the default of the mode
FAST = use_fast_mode(FAST)
CURVE_ITEMS = mode_default(CURVE_ITEMS, fast=3, full=None)
STUDY_DIR = project_dir() / "results" / "converged" if STUDY_DIR is None else Path(STUDY_DIR)
curve_items = CURVE_ITEMS
caption = f"0 dB, data seed {SEED}, {curve_items or 'all'} items, commit {code_version()}"  # every table says what it is

# %%
speech = vaesep.data.build(SPEECH_DATA, seed=SEED, fast=FAST)
noisy = vaesep.data.build(NOISE_DATA, seed=SEED, fast=FAST)
sr = speech.sample_rate
torch.manual_seed(SEED)
print(speech.describe())

# %% [markdown]
# ## From the generative model to the objective
#
# Write ``X_ft`` for the mixture's STFT coefficient at frame t and frequency
# bin f, and ``S_ift`` for source i's. The STFT is linear, so
# ``X_ft = Σ_i S_ift``. The model, for every source with a prior:
#
# * a latent code per frame, ``z_it ~ N(0, I)`` (64 dimensions, as in the paper);
# * the prior's decoder turns it into a spectrum, ``v_ift = d_i(z_it)_f²``;
# * the coefficient is a zero-mean complex Gaussian with that variance times a
#   gain per frame, ``S_ift ~ CN(0, g_it v_ift)``, independent across sources,
#   frames and bins. The gain lets a prior trained at one loudness explain a
#   source at any loudness; it gets a flat prior.
#
# A sum of independent zero-mean complex Gaussians is one, with the variances
# added: ``X_ft ~ CN(0, V_ft)``, ``V_ft = Σ_i g_it v_ift``. A complex Gaussian's
# log-density is ``−log(π V) − |X|² / V``, so with ``P_ft = |X_ft|²`` the
# negative log-posterior of the codes and gains, per frame and up to constants, is
#
# ``L(z, g) = (1/T) [ Σ_ft ( log V_ft + P_ft / V_ft ) + ½ Σ_it ‖z_it‖² ]``.
#
# The first sum is the **likelihood**: up to a constant it is the
# Itakura–Saito divergence between the mixture's power and the model's, the
# same likelihood the priors were trained with (it punishes a variance that
# is too small far more than one too large). The second is the **prior** on
# the codes: without it any code that fits would do. For numerical safety the
# code adds ``ε = 10⁻⁶ · mean P`` to ``V``. A source without a prior (the noise
# below) contributes ``[W H]_ft``, an NMF model, to ``V`` in place of ``g v``.
#
# **Inference** minimises L. It starts from the **encoders' guess** (amortised
# inference): each prior's encoder reads the mixture and proposes
# ``z_it = μ_i(X_t)``; the gains start at the one scale per frame that fits
# best (a closed form) and take a few multiplicative updates with the codes
# fixed. Each **iteration** then takes one Adam step on the codes along
# ``−∇_z L`` (a step that would raise L is taken back and the step size
# halved) and one multiplicative update of the gains and the NMF, which never
# raises L (Févotte & Idier 2011). So L falls at every iteration.
#
# The **Wiener filter** finishes the job: the posterior mean of each source is
# ``Ŝ_ift = (g_it v_ift / V_ft) · X_ft``, a mask on the mixture in the power
# ratios of the estimated sources: the Wiener-like oracle of notebook 01 when
# the variances are the true ones. Every mask here sums to one over the
# sources, so the estimates add up to the mixture.
#
# Here is the objective as the code computes it, and one multiplicative update:

# %%
print(inspect.getsource(negative_log_posterior))
print(inspect.getdoc(multiplicative_update))

# %% [markdown]
# ## The priors
#
# Each prior is a VAE of the paper's size (513 → 128 → 64-d code → 128 → 513)
# with a one-frame encoder, trained by `vaesep.priors.train_prior` on **its own
# source's clean audio only**, the Itakura–Saito likelihood and β = 1. Early
# stopping keeps the epoch with the best validation loss (the negative ELBO of
# that source's validation audio): a prior separates nothing on its own, so
# there is no separation SDR to select by. To train them to convergence from a
# shell (they land where this notebook looks, `runs/`):
#
# ```bash
# vaesep train --model generative --data speech --out runs/generative-speech.pt
# vaesep train --model generative --data noise --nmf-sources noise --out runs/generative-noise.pt
# ```

# %%
network, origin = load_or_train(speech, "generative-speech", fast=FAST, model=SPEECH_MODEL)
print(f"speech priors {list(network.priors)}: {origin}")
print(f"{sum(p.numel() for p in network.parameters()):,} parameters; inference settings: "
      f"step size {network.config.step_size}, {network.config.start_iterations} start updates of the gains")

# %% [markdown]
# ### What each prior has learnt
#
# Codes drawn from N(0, I) and decoded, one frame per code, side by side: a
# prior knows what a frame of its speaker's voice looks like, not how frames
# follow each other (each frame is drawn on its own). Compare the spacing of
# the harmonics, the pitch, between the two speakers.

# %%
with torch.no_grad():
    codes = torch.randn(1, 1, 120, network.config.latent)
    sampled = {f"prior {name}": prior.decode(codes)[0, 0].numpy() for name, prior in network.priors.items()}  # (frames, bins)
display(plot_spectrograms(sampled, title="Decoded codes z ~ N(0, I), one frame each"))

# %% [markdown]
# ## One mixture, three answers
#
# A held-out Dutch mixture at 0 dB. We separate it with the encoders' guess
# alone (0 iterations) and after 10 and 100 iterations of inference, and score
# each estimate with BSS-eval SDR against the true sources.

# %%
references = np.array(speech.sources("test")[ITEM])
mixture = references.sum(axis=0)
estimates, inferences, item_sdr = {}, {}, {}
for count in SHOW_ITERATIONS:
    estimates[count], inferences[count] = infer_item(network, mixture, count)
    item_sdr[count] = bss_eval(references, estimates[count])["sdr"]
    print(f"{count:4d} iterations: SDR " + ", ".join(
        f"{name} {value:.2f} dB" for name, value in zip(speech.source_names, item_sdr[count], strict=True)))
mixture_sdr = bss_eval(references, np.stack([mixture, mixture]))["sdr"]
print(f"the mixture itself: SDR {mixture_sdr.mean():.2f} dB (the floor)")

# %%
first = speech.source_names[0]
figure = plot_spectrograms(
    {"mixture": mixture, f"true {first}": references[0],
     **{f"{first}, {count} it.": estimates[count][0] for count in SHOW_ITERATIONS}},
    title=f"Speaker {first}: the encoders' guess and the refined estimates",
)
save_figure(figure, "06_estimates_speech")
display(figure)

# %%
display(multitrack({"mixture": mixture, f"true {first}": references[0],
                    **{f"{first} after {count} iterations": estimates[count][0] for count in SHOW_ITERATIONS}},
                   sr, title=f"target: speaker {first}, test item {ITEM}"))

# %% [markdown]
# ## The objective falling
#
# L at the start and after every iteration of the 100-iteration run, and the
# item's SDR at the three counts. L can only fall; whether the SDR follows is
# the question. If it does not, the optimiser is doing its job and the model
# is the limit: codes that explain the mixture better under the priors are not
# codes closer to the true sources.

# %%
last = max(SHOW_ITERATIONS)
figure = plot_objective(
    {"L per frame": inferences[last].objective[0].numpy()},
    sdr={count: float(item_sdr[count].mean()) for count in SHOW_ITERATIONS},
    title="Inference on one mixture: objective per iteration, SDR at three counts",
)
save_figure(figure, "06_objective")
display(figure)
steps = np.diff(inferences[last].objective[0].numpy())
print(f"L fell from {float(inferences[last].objective[0, 0]):.1f} to {float(inferences[last].objective[0, -1]):.1f}; "
      f"largest single rise: {max(steps.max(), 0.0):.2g} (float rounding at most)")

# %% [markdown]
# ## What inference costs
#
# The same measurement on whole test splits: SDR and real-time factor (seconds
# of computation per second of audio) after 0, 10, 50 and 200 iterations,
# on the Dutch test speakers and the Czech actors the priors never heard.

# %%
curves = {
    f"{SPEECH_DATA}/{split}": iteration_curve(network, speech, split, CURVE_ITERATIONS, max_items=curve_items)
    for split in ("test", "test_cs")
}
for label, rows in curves.items():
    display(Markdown(iteration_markdown(rows, title=f"{label}, {caption}")))

# %% [markdown]
# ## Denoising: a speech prior and NMF noise
#
# Now one prior, for speech (both Dutch speakers, trained on clean speech
# only), and a noise the model has never heard: the recordings of the `noise`
# set's test split are unseen by construction. The noise's variance is an NMF
# model ``W H`` with a few components (`n_components`), fitted on each noisy
# recording by the same multiplicative updates as the gains, alternating with
# the steps on the speech codes (Leglaive, Girin & Horaud 2018).

# %%
denoiser, origin = load_or_train(noisy, "generative-noise", fast=FAST, model=NOISE_MODEL, nmf_sources=("noise",))
print(f"priors {list(denoiser.priors)}, NMF sources {denoiser.config.nmf_sources} "
      f"with {denoiser.config.n_components} components: {origin}")
noisy_references = np.array(noisy.sources("test")[ITEM])
noisy_mixture = noisy_references.sum(axis=0)
noisy_estimates, noisy_inferences = {}, {}
for count in (0, last):
    noisy_estimates[count], noisy_inferences[count] = infer_item(denoiser, noisy_mixture, count)
    sdr = bss_eval(noisy_references, noisy_estimates[count])["sdr"]
    print(f"{count:4d} iterations: speech SDR {sdr[0]:.2f} dB")
print(f"the noisy mixture itself: speech SDR {bss_eval(noisy_references, np.stack([noisy_mixture] * 2))['sdr'][0]:.2f} dB")

# %%
noise_model = noisy_inferences[last].variances[0, 1].sqrt().numpy()  # |W H|^½ in magnitude units, (frames, bins)
figure = plot_spectrograms(
    {"noisy mixture": noisy_mixture, "clean speech": noisy_references[0],
     **{f"speech, {count} it.": noisy_estimates[count][0] for count in (0, last)}},
    title="Denoising by inference: the speech estimates",
)
save_figure(figure, "06_estimates_noise")
display(figure)
display(plot_spectrograms({"true noise": noisy_references[1], f"NMF noise model, {last} it.": noise_model},
                          title="The noise and the NMF model fitted on the mixture (√(WH), its own level scale)"))
display(multitrack({"noisy mixture": noisy_mixture, f"speech after {last} iterations": noisy_estimates[last][0]},
                   sr, title="target: the speech in noise"))

# %%
curves[f"{NOISE_DATA}/test"] = iteration_curve(denoiser, noisy, "test", CURVE_ITERATIONS, max_items=curve_items)
display(Markdown(iteration_markdown(curves[f"{NOISE_DATA}/test"], title=f"{NOISE_DATA}/test, {caption}")))
figure = plot_iteration_curves(curves, title="SDR and cost against inference iterations")
save_figure(figure, "06_iteration_curves")
display(figure)
save_table("\n\n".join(iteration_markdown(rows, title=f"{label}, {caption}") for label, rows in curves.items()),
           "06_iteration_curves", {"fast": FAST, "curves": curves})

# %% [markdown]
# ## The verdict
#
# Three questions, answered from the measurements above and, for the
# comparison with the mixture-trained models, from the convergence study's
# result files (`vaesep study`, notebook 04), where the generative method is
# one more row: priors trained per seed, the number of iterations chosen on
# validation SDR. Each comparison also names the best of the other methods
# trained on clean audio only (supervised NMF, the authors' clean-trained
# VAEs), which never see a mixture in training either.
#
# 1. Does inference beat amortised encoding alone?
# 2. Does the generative model hold up better than the mixture-trained models
#    where training and test differ (unseen Czech speakers, ±5 dB, unseen noise)?
# 3. What does it cost?

# %%
sentences = inference_verdict(curves)
compared = study_comparison(STUDY_DIR) if Path(STUDY_DIR).is_dir() else []
sentences += compared or [f"The convergence study in {STUDY_DIR} has no generative runs yet: run `vaesep study`."]
if FAST:
    sentences.insert(0, "**Fast mode: the priors trained for seconds, so these numbers test the code, not the method.**")
display(Markdown("\n".join(f"* {sentence}" for sentence in sentences)))

# %% [markdown]
# ## Summary
#
# * A VAE trained on one source's clean audio is a prior for that source; with
#   the Itakura–Saito likelihood its decoder gives the variance of every STFT
#   coefficient, and variances of independent sources add up in a mixture.
# * Separation is then inference: minimise the negative log-posterior L of the
#   codes and gains given the mixture, starting from the encoders' guess, and
#   split the mixture with the Wiener filter of the estimated variances.
# * For denoising, an NMF noise model fitted on each recording replaces a
#   noise prior, so nothing about the noise is learnt in advance.
# * L falls at every iteration by construction; whether the SDR follows, and
#   at what cost, is measured, not assumed.

# %% [markdown]
# ## Exercises
#
# Each exercise asks a question; write your answer in the code cell below it. Where an
# answer can be checked, a cell of asserts follows: run it after your answer. The solutions
# are in the teacher edition (`vaesep lab`, see the README), where CI runs them in fast mode.
# They run inference on one mixture (no training): seconds each.
#
# **1. The step size.** Inference takes Adam steps of size `step_size` on the
# codes. Run 100 iterations on the mixture above with step sizes 0.005, the
# default and 0.1, and compare the objective curves and the SDR. Which falls
# faster, and does the faster fall give the better separation? Keep the mean
# SDR per step size in a dict `sdr_by_step` (`{step size: dB}`).

# %% tags=["solution"]
import dataclasses

runs, sdr_by_step = {}, {}
for step in (0.005, network.config.step_size, 0.1):
    variant = network.with_iterations(100)
    variant.config = dataclasses.replace(variant.config, step_size=step)
    separated, found = infer_item(variant, mixture, 100)
    runs[f"step {step:g}"] = found.objective[0].numpy()
    sdr_by_step[step] = float(bss_eval(references, separated)["sdr"].mean())
    print(f"step {step:g}: L {runs[f'step {step:g}'][0]:.1f} → {runs[f'step {step:g}'][-1]:.1f}, "
          f"mean SDR {sdr_by_step[step]:.2f} dB")
display(plot_objective(runs))

# %% [markdown] tags=["solution"]
# A larger step lowers L faster at first (and is taken back more often: the
# rejected steps halve it). Lower L means codes that explain this mixture
# better under the priors; the SDR tells whether that is also closer to the
# truth. When the priors allow many explanations, the lowest L need not be the
# best separation, and a small number of small steps acts as a regulariser.

# %% tags=["check"]
assert {0.005, network.config.step_size, 0.1} <= set(sdr_by_step), "one SDR per step size"
assert all(np.isfinite(list(sdr_by_step.values())))
print("checked")

# %% [markdown]
# **2. How big a noise model?** The NMF noise model has
# `n_components` = 16 by default. Try 2 and 64 on the noisy item (50
# iterations each). What goes wrong at each end? Keep the speech SDR per
# number of components in a dict `speech_sdr` (`{components: dB}`).

# %% tags=["solution"]
speech_sdr = {}
for k in (2, denoiser.config.n_components, 64):
    variant = denoiser.with_iterations(50)
    variant.config = dataclasses.replace(variant.config, n_components=k)
    separated, _ = infer_item(variant, noisy_mixture, 50)
    speech_sdr[k] = float(bss_eval(noisy_references, separated)["sdr"][0])
    print(f"{k:3d} components: speech SDR {speech_sdr[k]:.2f} dB")

# %% [markdown] tags=["solution"]
# With very few components the noise model cannot follow a noise that
# changes over time, and what it cannot explain is left to the speech. With
# many, W H is flexible enough to explain the speech as well: nothing tells
# the NMF that harmonic combs belong to the speech, so it takes part of it.
# The speech prior's advantage is knowing what speech looks like; a noise
# model as flexible as it erases that advantage.

# %% tags=["check"]
assert {2, 64} <= set(speech_sdr) and all(np.isfinite(list(speech_sdr.values())))
print("checked")

# %% [markdown]
# **3. Who is who?** The priors carry the identity of the speakers, not only
# "speech". Swap them: build a separator whose `v` source uses the `m` prior
# and vice versa (a `copy.deepcopy` of `network` whose priors load each other's
# weights, `load_state_dict`), and separate the mixture above with 0 and 10
# iterations. What happens to the SDR, and why does the encoders' guess
# already show it? Keep the mean SDR of the swapped separator per iteration
# count in a dict `swapped_sdr`.

# %% tags=["solution"]
import copy

v, m = speech.source_names
swapped = copy.deepcopy(network)
swapped.priors[v].load_state_dict(network.priors[m].state_dict())
swapped.priors[m].load_state_dict(network.priors[v].state_dict())
swapped_sdr = {}
for count in (0, 10):
    separated, _ = infer_item(swapped, mixture, count)
    swapped_sdr[count] = float(bss_eval(references, separated)["sdr"].mean())
    print(f"{count:2d} iterations: swapped priors {swapped_sdr[count]:.2f} dB, "
          f"the right ones {item_sdr[count].mean() if count in item_sdr else float('nan'):.2f} dB")

# %% [markdown] tags=["solution"]
# Each prior now explains the other speaker's voice: the estimates come out in
# the wrong order, and BSS-eval (which does not search permutations) scores
# them far below the mixture. The encoder of each prior was trained to
# describe its own speaker; reading the mixture, it already proposes a code
# for that speaker's part, so the swap shows at 0 iterations.

# %% tags=["check"]
assert {0, 10} <= set(swapped_sdr) and all(np.isfinite(list(swapped_sdr.values())))
assert swapped_sdr[0] < item_sdr[0].mean(), "swapped priors should separate worse than the right ones"
print("checked")

# %%
print(f"this run took {time.perf_counter() - STARTED:.0f} s ({'fast' if FAST else 'full'} mode)")
