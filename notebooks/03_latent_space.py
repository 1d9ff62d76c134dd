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
# # 03 · Inside the VAE: the latent space
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/vaesep/blob/main/notebooks/03_latent_space.ipynb)
#
# The VAE of notebook 02 squeezes every mixture frame (64 ms of audio, with two
# neighbouring frames on each side) through a bottleneck: a Gaussian posterior
# q(z | x) = N(μ(x), diag σ²(x)) over a 64-dimensional latent z. At test time the
# decoder reads z = μ and produces its estimate of one speaker's spectrum. This
# notebook opens the bottleneck. What do the 64 numbers encode? Does the code
# know who is speaking, how loud, whether the frame is voiced? Are all
# 64 dimensions used? What comes out of the decoder for a code that no frame
# produced?
#
# ## What you will learn
#
# * how to read out μ and σ² for every frame, and why the per-source VAE has
#   **two latent spaces**, one per speaker, that we study one at a time;
# * how to look at 64-dimensional codes in two dimensions with PCA and t-SNE,
#   what each projection can show and what it cannot, and how a *linear probe*
#   puts a number on what a scatter plot suggests;
# * **active and collapsed units** (Burda et al., 2016): why the KL term of the
#   ELBO switches dimensions off, and how to check by ear that the switched-off
#   ones carry nothing;
# * how to decode a straight line between two codes and samples of the prior
#   N(0, I), and two ways of turning decoded frames into sound;
# * how to explore the latent space by hand with sliders.
#
# ## Prerequisites
#
# Notebook 02 (the VAE, the ELBO and its KL term). The model is notebook 02's
# checkpoint `runs/02_vae.pt` (`runs/fast/02_vae.pt` in fast mode) if you
# have run it; otherwise the pretrained
# `vae-speech` shipped with `vaesep` is used, so this notebook also works on its
# own. The speech test set of notebook 01 is built on first use, then cached
# (`benchmarks/README.md` has the build's measured time). The computations
# live in `vaesep.latent` (sections 1 to 3)
# and `vaesep.latent.decoding` (section 4), the figures in
# `vaesep.plots.latent` and the slider view in `vaesep.widgets.latent`.
# Headphones help in the listening cells.
#
# ## Expected runtime
#
# README's section "The notebooks" lists this notebook's measured wall time in fast
# and full mode, written by `vaesep reproduce --readme README.md` from its own run
# (with the commit, date and machine load). t-SNE takes most of it; fast mode (`VAESEP_FAST=1`, as in
# CI) projects fewer frames and test items than full mode.

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
import numpy as np
from IPython.display import Audio, Markdown, display

import vaesep
import vaesep.data
from vaesep import latent
from vaesep.files import save_figure
from vaesep.latent import decoding
from vaesep.metrics import si_sdr
from vaesep.plots import latent as latent_plots
from vaesep.plots import plot_spectrograms
from vaesep.runtime import mode_default, use_fast_mode
from vaesep.spectral import DEFAULT_STFT
from vaesep.widgets.latent import LatentExplorer
from vaesep.widgets.outputs import compact_figures, multitrack

compact_figures()  # figures as 256-colour PNGs: the saved notebook stays light

# %% tags=["parameters"]
DATA = "speech"  # the data set the model was trained on (notebook 01)
ROOT = None  # a corpus's folder when DATA names one (see data/README.md)
SPLIT = "test"  # held-out Dutch; "test_cs" for the unseen Czech speakers
SEED = 0
FAST = None  # None: VAESEP_FAST decides (1 under pytest and `reproduce --fast`); or True/False
N_FRAMES = None  # frames per input kept for the 2-D projections; None: 150 fast, 800 full
PERPLEXITY = None  # t-SNE: roughly, how many neighbours each point attends to; None: 20 fast, 30 full
TSNE_ITER = None  # None: 300 fast, 1000 full
KEEP_UNITS = None  # the numbers k of most active units kept (the rest set to 0) to score; None: by mode
N_STEPS = 9  # points on the line between two codes
N_PRIOR = 12  # prior samples to draw (and real frames to compare them with)
SHIFT = 2.0  # how far (in standard deviations) to push a code along a principal direction
ITEM = 0  # the test mixture we listen to

# %%
# the parameters left at None take the default of the mode: smaller everything, same code paths
FAST = use_fast_mode(FAST)
N_FRAMES = mode_default(N_FRAMES, fast=150, full=800)
PERPLEXITY = mode_default(PERPLEXITY, fast=20, full=30)
TSNE_ITER = mode_default(TSNE_ITER, fast=300, full=1000)
KEEP_UNITS = mode_default(KEEP_UNITS, fast=(0, 1, 2, 4, 8, 64), full=(0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64))

# %% [markdown]
# ## The model and the data
#
# `latent.find_checkpoint()` returns notebook 02's checkpoint when it was
# trained at least as long as the shipped `vae-speech`, and the shipped model
# otherwise (a fast-mode or one-epoch checkpoint has barely learned, and every
# analysis below would describe noise); it prints which one, and why, in
# capitals. We print the settings that matter here:
# the variant (one encoder per source, or one shared), the latent size and β,
# the weight of the KL term.

# %%
CHECKPOINT = latent.find_checkpoint()
model = vaesep.load_model(CHECKPOINT, device="cpu")
network = latent.as_vae(model)
config = network.config
print(f"model {CHECKPOINT}: variant {config.variant!r}, {config.latent}-d latent, "
      f"encoders {latent.encoder_names(model)}, context ±{config.context} frames, β = {config.beta:g}")
dataset = vaesep.data.build(DATA, seed=SEED, fast=FAST, root=ROOT)
assert model.source_names == dataset.source_names, "the model was trained on another data set"
sources = np.asarray(dataset.sources(SPLIT))
print(f"{SPLIT}: {sources.shape[0]} items of {sources.shape[-1] / dataset.sample_rate:g} s, "
      f"sources {dataset.source_names}")

# %% [markdown]
# ### Which encoder do we look at?
#
# With `variant="per_source"` (the authors' design, and our default) there are
# two complete VAEs that share only their input: **encoder v** reads the mixture
# and writes a code that **decoder v** turns into speaker v's share of each
# frequency bin, and encoder m does the same for speaker m. Each encoder has its
# own 64 dimensions, trained separately; dimension 5 of one has nothing to do
# with dimension 5 of the other, and a code of encoder v is meaningless to
# decoder m. So we study **each encoder separately**, always pairing encoder s
# with decoder s, and show both where it costs little. With
# `variant="shared"` there is a single encoder, called `"shared"`, whose code
# every decoder head reads; the same cells work unchanged.

# %% [markdown]
# ## 1. Encoding test frames
#
# `latent.encode_frames` runs whole test items through the encoders, so every
# frame sees its real context, and keeps μ and log σ² of every frame. It feeds
# each item in three ways:
#
# * the **mixture**, which is what the encoders were trained on;
# * each **source alone**, at the level it has inside the mixture: what the
#   encoder would see if the other speaker fell silent.
#
# Every frame gets labels to colour the plots by: the input it came from, its
# level in dB (0 dB is the mixture's average level), a *periodicity* between 0
# and 1 (the normalised autocorrelation peak between 60 and 400 Hz, a cheap
# voicing measure: vowels score near 1, fricatives and pauses near 0), and, for
# mixture frames, which speaker is louder in the frame. Frames more than 50 dB
# below the mixture's average level (digital silence) are dropped, and
# `N_FRAMES` frames per input are drawn at random to keep t-SNE quick.

# %%
codes = latent.encode_frames(model, sources, frames_per_input=N_FRAMES, seed=SEED)
for name in np.unique(codes.labels["input"]):
    chosen = codes.where(input=name)
    print(f"{name:>8}: {len(chosen)} frames, {chosen.labels['voiced'].mean():.0%} voiced, "
          f"median level {np.median(chosen.labels['level_db']):+.1f} dB, "
          f"mean posterior variance σ² {np.exp(chosen.logvar).mean():.2f}")

# %% [markdown]
# ## 2. Two-dimensional views: PCA and t-SNE
#
# A 64-dimensional cloud has to be flattened to be seen, and each way of
# flattening shows something different.
#
# * **PCA** rotates the cloud so that the first axis follows its largest
#   variance, the second the largest remaining one, and drops the rest. It is
#   linear: distances and directions in the picture are those of the code
#   space, only squashed. Its axes are directions we can *move along* and
#   decode (section 5 does exactly that). The printed share of variance tells
#   how much of the cloud the picture shows.
# * **t-SNE** (van der Maaten & Hinton, 2008) places points so that each keeps
#   roughly the same neighbours as in 64 dimensions. It reveals clusters that
#   PCA smears together, but the sizes of clusters and the distances between
#   them mean nothing, and another seed or perplexity gives another picture.
#   Use it to ask "who is near whom", never "how far".
#
# Each figure below is one encoder; the rows are the two projections of the
# same points, the columns four colourings of them.

# %%
pcas = {}
for name in codes.encoder_names:
    pcas[name] = latent.pca_projection(codes.means(name), n_components=4, seed=SEED)
    tsne = latent.tsne_projection(codes.means(name), PERPLEXITY, seed=SEED, max_iter=TSNE_ITER)
    figure = latent_plots.plot_projections(
        {f"PCA · encoder {name}": pcas[name].coords[:, :2], f"t-SNE · encoder {name}": tsne},
        codes, ("input", "dominant", "level_db", "periodicity"),
        title=f"Posterior means μ of encoder {name} ({SPLIT} split)",
    )
    save_figure(figure, f"03_projections_{name}")
    display(figure)
    print(f"encoder {name}: the first two principal directions hold "
          f"{pcas[name].explained[0]:.0%} + {pcas[name].explained[1]:.0%} of the variance of μ")

# %% [markdown]
# Things to look for, in each encoder's figure:
#
# * **Mixture frames and solo frames.** Grey points (mixtures) are what the
#   encoder was trained on. Blue and orange (each speaker alone) are inputs it
#   never saw during training. Where do they land relative to the mixtures?
# * **The dominant speaker.** In the second column every mixture frame takes the
#   colour of its louder speaker. Encoder v exists to say how much of each bin
#   belongs to v; if that is what its code holds, v-dominated and m-dominated
#   frames should lie in different regions.
# * **Level and voicing.** Does one direction of the cloud follow loudness
#   (third column) or periodicity (fourth)? A code that tracks level is natural:
#   the soft mask of a quiet frame depends on how the few bins above the noise
#   are shared.
#
# A scatter plot invites over-reading. A **linear probe** checks one of these
# impressions: a logistic regression is trained to tell the dominant speaker of
# a mixture frame from μ, and scored by 5-fold cross-validation. High accuracy
# means the information is in the code in a simple, linearly readable form.
# Compare it with the accuracy of always guessing the more frequent class: a
# probe that does no better than that finds no linear trace of the label (the
# information may still be there in a non-linear form, or not at all).

# %%
mixture_codes = codes.where(input="mixture")
dominant = mixture_codes.labels["dominant"]
majority = max(np.mean(dominant == name) for name in codes.source_names)
for name in codes.encoder_names:
    speaker = latent.probe_accuracy(mixture_codes.means(name), dominant, seed=SEED)
    voiced = latent.probe_accuracy(mixture_codes.means(name), mixture_codes.labels["voiced"], seed=SEED)
    print(f"encoder {name}: dominant speaker {speaker:.0%}, voiced or not {voiced:.0%} "
          f"(linear probe, 5-fold CV)")
print(f"guessing the more frequent speaker: {majority:.0%}; "
      f"the more frequent voicing class: {max(np.mean(mixture_codes.labels['voiced']), 1 - np.mean(mixture_codes.labels['voiced'])):.0%}")

# %% [markdown]
# ## 3. Active and collapsed units
#
# A latent dimension is useful only if its posterior mean changes with the
# input. Burda, Grosse & Salakhutdinov (2016) measure this with the **activity**
#
# $$A_d = \operatorname{Cov}_x\big(\mathbb{E}_{q(z\mid x)}[z_d]\big) = \operatorname{Var}_x\big(\mu_d(x)\big),$$
#
# the variance of μ_d over frames, and call dimension d **active** when
# A_d > 0.01. Next to it we show the average KL of each dimension,
# ½(μ_d² + σ_d² − 1 − log σ_d²), which is what the ELBO charges for it.
#
# **Why units collapse.** The ELBO is a trade: the reconstruction term rewards
# every bit of information about the frame that the decoder can use, and the
# KL term charges for every bit the posterior holds, dimension by dimension.
# The cheapest state of a dimension is q(z_d | x) = N(0, 1) for every x: it
# costs zero nats, and since it is the same for every input it tells the
# decoder nothing, so the decoder learns to ignore it. A dimension stays
# *active* only while the information it carries improves the reconstruction
# by more than its KL price. What decoder v needs for one frame's mask is
# limited (roughly: how much of the frame is v's, how loud, which harmonics),
# and a few dimensions can carry the bulk of it. Collapsed units are therefore
# not a bug of training: they are the ELBO's verdict that 64 dimensions were
# more than this decoder could use, and the effective size of the code is the
# number of active units, not the latent size we chose.
#
# Collapse is also *slow* at the end. The KL of one dimension with σ² = 1 is
# ½μ², whose gradient is μ: a unit that is nearly at the prior feels almost
# no pull towards it, so a trained model usually shows a few strong units and
# a long tail of weak ones that shrinks as training goes on. How far this has
# gone depends on β, the KL warm-up and the number of epochs; the table below
# says where our model stands.
#
# The statistics are computed on **all** frames of the test mixtures (what the
# encoder is meant for), not on the subsample above.

# %%
all_mixtures = latent.encode_frames(model, sources, include_sources=False, min_level_db=None)
stats = latent.unit_statistics(all_mixtures.mu, all_mixtures.logvar, encoder_names=all_mixtures.encoder_names)
display(Markdown(stats.summary()))
figure = latent_plots.plot_active_units(stats, title=f"Active units ({SPLIT} mixtures, all frames)")
save_figure(figure, "03_active_units")
display(figure)

# %% [markdown]
# Read the two rows together. A strongly active unit has a posterior mean that
# moves from frame to frame (top, green bars) and a posterior variance below 1
# (red line): the encoder is confident and pays KL for it (bottom). A collapsed
# unit (grey) has σ² close to 1 and a KL close to 0: it sits at the prior. The
# threshold 0.01 is a convention, and units just above it carry very little;
# the table's column "units holding 90 % of the KL" is a second count of how
# many dimensions do the work, which does not depend on a threshold.
#
# ### Does it matter? A test by ear
#
# If collapsed units carry nothing, pinning them to 0 (the prior mean) must
# leave the separation unchanged, while pinning the active ones must ruin it.
# `decoding.resynthesise` with the edit `decoding.keep_only_dims(stats.top_units(k))`
# keeps only the k most active dimensions of each encoder, sets every other
# dimension of every frame's μ to 0, decodes and applies the soft mask to the
# mixture; we score the result with SI-SDR (notebook 02). k = 64 is the unchanged model; k = 0 feeds every decoder the
# same constant code, so the mask can no longer follow the mixture.

# %%
curve = {}  # k → SI-SDR (dB) per test item and source
for k in KEEP_UNITS:
    estimates = decoding.resynthesise(model, sources.sum(axis=1), decoding.keep_only_dims(stats.top_units(k)))
    curve[k] = np.stack([si_sdr(truth, estimate) for truth, estimate in zip(sources, estimates, strict=True)])
rows = ["| units kept per encoder | " + " | ".join(f"SI-SDR {s} (dB)" for s in model.source_names) + " |",
        "|---|" + "---|" * model.n_sources]
rows += [f"| {k} | " + " | ".join(f"{v:.2f}" for v in scores.mean(axis=0)) + " |" for k, scores in curve.items()]
display(Markdown("\n".join(rows)))
full = curve[max(curve)].mean()
enough = min(k for k, scores in curve.items() if scores.mean() >= full - 1.0)
print(f"the top {enough} units per encoder get within 1 dB of all {max(curve)} ({full:.2f} dB mean SI-SDR)")

# %% [markdown]
# Listen to speaker v's estimate from test mixture `ITEM` with no units, with
# the `enough` units found above, and with all of them.

# %%
mixture = sources[ITEM].sum(axis=0)
tracks = {"mixture": mixture}
for k in sorted({0, enough, config.latent}):
    estimate = decoding.resynthesise(model, mixture, decoding.keep_only_dims(stats.top_units(k)))[0]
    tracks[f"top {k} units per encoder (SI-SDR {si_sdr(sources[ITEM][:1], estimate[None])[0]:.1f} dB)"] = estimate
display(multitrack(tracks, dataset.sample_rate, title=f"target: {model.source_names[0]}, test mixture {ITEM}"))

# %% [markdown]
# ## 4. Decoding: from codes back to spectra
#
# A decoder maps any point of its latent space to a spectrum frame, whether or
# not an encoder ever produced that point. One caveat before reading the
# frames: the loss of notebook 02 sees the decoder outputs ŷ_s only through
# the soft mask ŷ_s / Σ_j ŷ_j. Multiplying every decoder's output in a bin by
# the same factor changes nothing, so a decoded frame is the decoder's
# *relative claim* on each bin, not a calibrated magnitude. We plot it in dB
# relative to its peak.
#
# ### 4a. A straight line between two codes
#
# We pick two mixture frames of the test set: the voiced frame where speaker v
# is furthest ahead of m, and the one where m is furthest ahead of v. Both are
# encoded by encoder v, and decoder v decodes the points on the straight line
# between the two codes, z(α) = (1 − α) z₀ + α z₁. At α = 0 the code is that
# of a frame where v leads, at α = 1 of one where m leads. Does decoder v's
# output fade along the line, and is the way between a smooth fade or
# something else? The figure shows where in frequency the output changes; the
# printed levels say by how much. The two frames also differ in their own
# loudness, which moves the output whatever the decoder has learnt about who
# speaks: exercise 1 separates the two effects.

# %%
encoder = codes.encoder_names[0]
start = latent.pick_frame(codes, dominant=model.source_names[0])
end = latent.pick_frame(codes, dominant=model.source_names[1])
z0, z1 = codes.means(encoder)[start], codes.means(encoder)[end]
alphas = np.linspace(0.0, 1.0, N_STEPS)
line = np.outer(1 - alphas, z0) + np.outer(alphas, z1)  # row i: (1 − α_i) z₀ + α_i z₁
decoded_line = decoding.decode_latents(model, line, encoder=encoder)
figure = latent_plots.plot_interpolation(
    decoded_line, alphas, endpoint_labels=(f"{model.source_names[0]} ahead", f"{model.source_names[1]} ahead"),
    title=f"Decoder {encoder} along a line in encoder {encoder}'s latent space",
)
save_figure(figure, "03_interpolation")
display(figure)
print(f"the two frames: {model.source_names[0]} leads by {codes.labels['margin_db'][start]:.1f} dB, "
      f"{model.source_names[1]} leads by {codes.labels['margin_db'][end]:.1f} dB; ‖z₁ − z₀‖ = {np.linalg.norm(z1 - z0):.2f}")
levels = 10 * np.log10(decoded_line.sum(axis=1) / decoded_line[0].sum())
print("decoder output summed over bins, dB re α = 0:", " ".join(f"{level:+.1f}" for level in levels))

# %% [markdown]
# To *hear* the line we hold each of its points for a quarter of a second and
# turn the sequence into sound. There is no mixture behind these frames whose
# phase we could borrow, so we estimate one with **Griffin–Lim** (Griffin &
# Lim, 1984): start from random phases and alternate between "take the STFT of
# the current waveform" and "put the decoded magnitudes back". Our choice:
# 32 iterations with the momentum of Perraudin et al. (2013), as in
# `librosa.griffinlim`, implemented in `decoding.griffin_lim` on the package's
# own STFT. Expect a buzzy, robotic sound: a frame held still has no natural
# variation, and the phase is only an estimate.

# %%
held = np.repeat(decoded_line, int(0.25 * dataset.sample_rate / DEFAULT_STFT.hop_length), axis=0)
display(Audio(decoding.griffin_lim(held, seed=SEED), rate=dataset.sample_rate))

# %% [markdown]
# ### 4b. Samples from the prior
#
# A VAE is a generative model: z ~ N(0, I) fed to the decoder should give a
# plausible frame. The left panel below decodes prior samples, the right one
# the posterior means of random real mixture frames, both with decoder v. If
# the prior and the cloud of real codes (the *aggregate posterior*) agree, the
# two panels should look alike. The printed norms are a first check: a prior sample
# has ‖z‖² ≈ d (here d = the latent size), one unit per dimension, while the
# posterior mean of a real frame has ‖μ‖² = Σ_d μ_d², whose average over frames
# is roughly the sum of the activities A_d of section 3.

# %%
prior = np.random.default_rng(SEED).standard_normal((N_PRIOR, config.latent))
real = mixture_codes.means(encoder)[np.random.default_rng(SEED).choice(len(mixture_codes), N_PRIOR, replace=False)]
figure = latent_plots.plot_decoded_frames(
    {"z ~ N(0, I)": decoding.decode_latents(model, prior, encoder=encoder),
     "z = μ of real mixture frames": decoding.decode_latents(model, real, encoder=encoder)},
    title=f"Decoder {encoder}: prior samples and real codes")
save_figure(figure, "03_prior_samples")
display(figure)
print(f"mean ‖z‖²: prior samples {np.mean(np.sum(prior**2, axis=1)):.1f} (expected {config.latent}), "
      f"posterior means of mixture frames {np.mean(np.sum(mixture_codes.means(encoder)**2, axis=1)):.1f}")

# %% [markdown]
# Two remarks. A posterior *mean* is not a sample: on a collapsed dimension μ is
# 0 while a prior sample is a full N(0, 1) draw there. The decoder ignores
# those dimensions, so this does not matter for the decoded frames; it is why
# the norms above differ even for a perfect model. What matters is the active
# dimensions: where the prior puts mass that no real frame's code occupies (a
# *hole* of the aggregate posterior), the decoder was never trained and its
# output is a guess.
#
# To hear the prior, we glide through it: we move between a few prior samples,
# 30 frames from each to the next, along arcs z(t) = cos(πt/2) a + sin(πt/2) b. For
# independent standard normal a and b every point of the arc is again standard
# normal, so every frame is a genuine prior sample; a straight line would pass
# through points of unusually small norm. Griffin–Lim again supplies a phase.
# For comparison, the second row of the player is the μ-trajectory of the real test
# mixture decoded by decoder v and turned into sound the same way, without
# the mixture; the third is what the separator really does with the same
# trajectory: the soft mask on the mixture STFT, with the mixture's phase.

# %%
anchors = np.random.default_rng(SEED).standard_normal((6, config.latent))
t = np.arange(30)[:, None] / 30
path = np.concatenate([np.cos(np.pi * t / 2) * a + np.sin(np.pi * t / 2) * b
                       for a, b in zip(anchors[:-1], anchors[1:], strict=True)])
from_prior = decoding.griffin_lim(decoding.decode_latents(model, path, encoder=encoder), seed=SEED)
trajectory = latent.encode_frames(model, sources[ITEM:ITEM + 1], include_sources=False, min_level_db=None)
from_codes = decoding.griffin_lim(decoding.decode_latents(model, trajectory.means(encoder), encoder=encoder), seed=SEED)
separated = decoding.resynthesise(model, mixture)[0]
display(multitrack({"prior trajectory, Griffin–Lim": from_prior,
                    "real μ-trajectory, decoder output, Griffin–Lim": from_codes,
                    "real μ-trajectory, soft mask on the mixture (the separator)": separated},
                   dataset.sample_rate, title=f"decoder {encoder}: from the prior and from real codes"))

# %% [markdown]
# The gap between the last two rows is the point of the soft-mask layer:
# decoded frames alone are rough relative claims, but as *shares* of the real
# mixture, with its phase, they give speech.
#
# ### 4c. Editing a real mixture's code
#
# Now we change the code of every frame of the test mixture in the same way:
# move encoder v's μ by `SHIFT` standard deviations along the first principal
# direction of its codes of mixture frames (the directions along which real
# test mixtures vary, unlike section 2's PCA, which also saw solo inputs), in
# both senses, and let the separator finish the job. Encoder m is left
# alone, so speaker m's decoder still makes its usual claim; the soft mask
# then shares each bin between the edited v-claim and the unchanged m-claim.
# The printed share of the mixture's energy that ends up in v's estimate
# shows which way each edit pushes.

# %%
mixture_pca = latent.pca_projection(mixture_codes.means(encoder), n_components=4, seed=SEED)
direction = mixture_pca.components[0] * mixture_pca.std[0]
index = codes.encoder_names.index(encoder)
edits = {"unedited": None, f"PC1 −{SHIFT:g}σ": decoding.shift_along(direction, -SHIFT, index),
         f"PC1 +{SHIFT:g}σ": decoding.shift_along(direction, SHIFT, index)}
estimates = {name: decoding.resynthesise(model, mixture, edit)[0] for name, edit in edits.items()}
figure = plot_spectrograms(estimates, title=f"Estimate of {model.source_names[0]}, mixture {ITEM}, "
                           f"encoder {encoder}'s code moved along PC1")
save_figure(figure, "03_edited_code")
display(figure)
labels = {name: f"{name}: SI-SDR {si_sdr(sources[ITEM][:1], estimate[None])[0]:.1f} dB, "
                f"{np.sum(estimate**2) / np.sum(mixture**2):.0%} of the mixture's energy"
          for name, estimate in estimates.items()}
display(multitrack({labels[name]: estimate for name, estimate in estimates.items()}, dataset.sample_rate,
                   title=f"target: {model.source_names[0]}, mixture {ITEM}, code moved along PC1"))

# %% [markdown]
# ## 5. Exploring by hand
#
# The explorer below puts one slider on each of the four principal directions
# of encoder v's codes of mixture frames (as in 4c), in units of the cloud's standard deviation along that
# direction. Choose a starting point (the mean of the codes, or one of the two
# frames of section 4a), move the sliders, and decoder v's frame is redrawn;
# the grey line is the starting point's frame. **play frame** holds the frame
# for 0.75 s through Griffin–Lim. The sliders need a live kernel; in a static
# copy of this notebook (or under `nbmake`) the grid after it shows the same
# decodings for three settings of each slider.

# %%
explorer = LatentExplorer(model, mixture_codes, encoder=encoder, n_directions=4, bases={
    f"frame where {model.source_names[0]} leads": z0, f"frame where {model.source_names[1]} leads": z1})
display(explorer.widget)

# %%
figure = explorer.static_figure(values=(-SHIFT, 0.0, SHIFT))
save_figure(figure, "03_explorer_grid")
display(figure)

# %% [markdown]
# ## Summary
#
# The numbers of this run, collected from the cells above:

# %%
holding = stats.units_holding(0.9)
lines = [f"- model: `{CHECKPOINT}`, {config.variant} variant, {config.latent}-d latent per encoder, β = {config.beta:g}"]
for e, name in enumerate(stats.encoder_names):
    lines.append(f"- encoder {name}: {stats.n_active[name]} of {config.latent} units active "
                 f"(Var μ > {stats.threshold:g}); {holding[name]} units hold 90 % of its "
                 f"{stats.kl[e].sum():.1f} nats of KL per frame")
lines.append(f"- separation (mean SI-SDR over sources and items): {full:.2f} dB with all units, "
             f"within 1 dB of that with the top {enough} per encoder, {curve[min(curve)].mean():.2f} dB "
             f"with the top {min(curve)}")
display(Markdown("\n".join(lines)))

# %% [markdown]
# * Each encoder of the per-source VAE has its own latent space; its code is
#   read by one decoder, and we looked at them one at a time.
# * PCA shows the global shape of the code cloud along directions we can move
#   along; t-SNE shows neighbourhoods only; a linear probe turns "the colours
#   look separated" into an accuracy.
# * The KL term prices every dimension, so the ELBO keeps only as many active
#   units as the decoder can use, and the rest drift to the prior. The
#   separation curve of section 3 is the functional test of that count: it
#   shows how many of the most active units the separation needs before it
#   stops improving.
# * Decoded frames are relative claims on frequency bins. Through Griffin–Lim
#   alone they sound rough; as soft-mask shares of the real mixture, with its
#   phase, they give the separated speech.
#
# Notebook 04 compares the VAE with the DNN, RNN and autoencoder baselines on
# the whole test set.

# %% [markdown]
# ## Exercises
#
# Each exercise asks a question; write your answer in the code cell below it. Where an
# answer can be checked, a cell of asserts follows: run it after your answer. The solutions
# are in the teacher edition (`vaesep lab`, see the README), where CI runs them in fast mode.
# None of them trains a model: each takes seconds.
#
# **Exercise 1 — the other latent space.** Repeat section 4a in encoder m's
# latent space: take the same two frames, encode them with encoder m, and
# decode the line with decoder m. Which end now gets the strong harmonic
# claim? Does the decoded level change along the line in the mirror image of
# what you saw for v? Keep the decoded level along the line, in dB re α = 0
# as printed in section 4a, in `levels_m`.

# %% tags=["solution"]
other = codes.encoder_names[-1]
line_m = np.outer(1 - alphas, codes.means(other)[start]) + np.outer(alphas, codes.means(other)[end])
decoded_m = decoding.decode_latents(model, line_m, encoder=other)
display(latent_plots.plot_interpolation(decoded_m, alphas, title=f"Decoder {other}"))
levels_m = 10 * np.log10(decoded_m.sum(axis=1) / decoded_m[0].sum())
print(f"decoder {other}, dB re α = 0:", " ".join(f"{level:+.1f}" for level in levels_m))
print(f"decoder {encoder}, dB re α = 0:", " ".join(f"{level:+.1f}" for level in levels))
print(f"decoder {other} minus decoder {encoder}:", " ".join(f"{level:+.1f}" for level in levels_m - levels))

# %% [markdown] tags=["solution"]
# Both rows also follow the loudness of the two frames themselves, so compare
# them with each other: the last row printed is decoder m's level minus
# decoder v's. If it rises towards α = 1, decoder m claims more of the frame
# where m leads than decoder v does, as a per-source model should; a row that
# stays flat or falls would mean that this line does not separate the
# speakers. If the two encoders share nothing, the paths need not be mirror
# images in shape. (With the shared variant there is one encoder; then compare
# `decode_latents(..., source="v")` and `source="m"` on the same line.)

# %% tags=["check"]
assert np.shape(levels_m) == (N_STEPS,) and levels_m[0] == 0, "one level per point of the line, in dB re α = 0"
assert np.all(np.isfinite(levels_m))
print("checked")

# %% [markdown]
# **Exercise 2 — how arbitrary is the threshold?** Count the active units of
# each encoder for thresholds 0.001, 0.01 and 0.1, and compare with the number
# of units that hold 90 % and 99 % of the KL. Which count would you report, and
# why does the separation curve of section 3 help you decide? Keep the counts
# in a dict `active_counts` (`{threshold: {encoder: units}}`).

# %% tags=["solution"]
active_counts = {}
for threshold in (0.001, 0.01, 0.1):
    active_counts[threshold] = latent.unit_statistics(
        all_mixtures.mu, all_mixtures.logvar, threshold=threshold, encoder_names=all_mixtures.encoder_names
    ).n_active
    print(f"threshold {threshold:g}: {active_counts[threshold]}")
print("units holding 90 % of the KL:", stats.units_holding(0.9), " 99 %:", stats.units_holding(0.99))

# %% [markdown] tags=["solution"]
# Activity falls off gradually in a trained model, so the count depends on the
# threshold; what is robust is the shape of the sorted bars in section 3 and
# the number of units that carry most of the KL. The separation curve is the
# functional test: the smallest k whose SI-SDR is within a few tenths of a dB of
# the full model is the number of units the task actually uses.

# %% tags=["check"]
assert {0.001, 0.01, 0.1} <= set(active_counts)
for name in all_mixtures.encoder_names:
    counts = [active_counts[threshold][name] for threshold in (0.001, 0.01, 0.1)]
    assert counts == sorted(counts, reverse=True), f"encoder {name}: a higher threshold cannot leave more units active"
    if stats.threshold in active_counts:
        assert active_counts[stats.threshold][name] == stats.n_active[name], "section 3 counts otherwise"
print("checked")

# %% [markdown]
# **Exercise 3 — straight lines through the prior.** Draw two prior samples a
# and b. Compute ‖z‖ along the straight line (1 − t) a + t b and along the arc
# cos(πt/2) a + sin(πt/2) b for t = 0, 0.1, …, 1 (keep them in arrays
# `straight_norms` and `arc_norms`), and decode the midpoints of both with
# decoder v. Why does the straight line leave the region where prior samples
# live, and does the decoder notice?

# %% tags=["solution"]
a, b = np.random.default_rng(1).standard_normal((2, config.latent))
t = np.linspace(0, 1, 11)[:, None]
straight = (1 - t) * a + t * b
arc = np.cos(np.pi * t / 2) * a + np.sin(np.pi * t / 2) * b
straight_norms, arc_norms = np.linalg.norm(straight, axis=1), np.linalg.norm(arc, axis=1)
print("straight:", np.round(straight_norms, 1))
print("arc:     ", np.round(arc_norms, 1))
print(f"typical norm of a prior sample: √{config.latent} = {np.sqrt(config.latent):.1f}")
middles = decoding.decode_latents(model, np.stack([straight[5], arc[5]]), encoder=encoder)
display(latent_plots.plot_decoded_frames({"straight, t = 0.5": middles[:1], "arc, t = 0.5": middles[1:]}))

# %% [markdown] tags=["solution"]
# For independent a and b, ‖(a + b)/2‖² ≈ d/2: the midpoint of the line has
# about 71 % of the typical norm √d, a shell the prior almost never visits in
# 64 dimensions. The arc keeps ‖z‖ ≈ √d. On collapsed dimensions the decoder
# does not care; on the active ones a shorter z is a code closer to the
# centre of the cloud, which usually decodes to a duller, more average frame.

# %% tags=["check"]
assert np.shape(straight_norms) == np.shape(arc_norms) == (11,)
assert np.allclose(straight_norms[[0, -1]], arc_norms[[0, -1]]), "both paths start at a and end at b"
assert straight_norms[5] < arc_norms[5], "at t = 0.5 the straight line should be nearer the origin"
print("checked")
