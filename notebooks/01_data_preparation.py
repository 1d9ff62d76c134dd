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
# # 01 · Data preparation: two voices, one microphone
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/vaesep/blob/main/notebooks/01_data_preparation.ipynb)
#
# Monaural source separation starts from a single recording in which several
# sources sound at once, and asks for each of them back. Before any model can
# learn that, we need mixtures *for which we know the answer*: real voices,
# recorded separately, added together. This notebook builds that data, looks at
# it and listens to it, and measures how well separation could go at best.
#
# ## What you will learn
#
# * where the default `speech` data comes from (two real voice actors, read
#   from Debian packages), how it is split so that the test set never leaks
#   into training, and how mixtures are made from it;
# * how to read a waveform and a log-magnitude spectrogram, and why we analyse
#   16 kHz audio with 64 ms frames every 16 ms;
# * what tells the two voices apart: their pitch (F0) and their levels, and how
#   often one voice dominates a 0 dB mixture;
# * the **oracle masks** (ideal binary, ideal ratio, Wiener-like): what they
#   are, how they sound, and their scores, the ceiling that every model in the
#   later notebooks is measured against, next to the floor of doing nothing;
# * the two other data sets of the package, Bach chorales and speech in noise.
#
# ## Prerequisites
#
# None among the notebooks: this is the first one. It needs the system
# packages of the README set-up (`bash scripts/install-system-data.sh`, which
# installs the voice packs `fillets-ng-data-nl` and `fillets-ng-data-cs`, the
# sound font and `fluidsynth` for the chorales, and `sonic-pi-samples` for the
# noises). No model is trained here and nothing is downloaded.
#
# ## Expected runtime
#
# README's section "The notebooks" lists this notebook's measured wall time in fast
# and full mode, written by `vaesep reproduce --readme README.md` from its own run
# (with the commit, date and machine load). Fast mode (`VAESEP_FAST=1`, as in CI) uses 12 test mixtures
# per language and a few seconds of audio per speaker for the pitch statistics;
# full mode uses every test mixture. The first run also builds the data sets
# into the cache (decoding the speech, rendering the chorales); later runs read
# the cache.

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
import time

import numpy as np
from IPython.display import Audio, Markdown, display

import vaesep
from vaesep import data
from vaesep.evaluate import (  # evaluate_separator: one split, as the exercises use it
    evaluate_separator,
    evaluate_test_splits,
    split_label,
    split_summaries,
    split_tables_markdown,
)
from vaesep.plots import (
    plot_db_histograms,
    plot_f0_histograms,
    plot_harmonic_zoom,
    plot_masks,
    plot_metric_boxes,
    plot_spectrograms,
    plot_split_durations,
    plot_stft_resolutions,
    plot_waveforms,
)
from vaesep.files import save_figure, save_table
from vaesep.runtime import mode_default, use_fast_mode
from vaesep.spectral import (
    DEFAULT_STFT,
    STFTConfig,
    ideal_binary_mask,
    ideal_ratio_mask,
    magnitude,
    stft,
    wiener_mask,
)
from vaesep.stats import (
    both_voiced_window,
    dataset_levels,
    dominance,
    estimate_f0,
    local_snr_db,
    speaker_f0,
    speaker_summary,
    split_summary,
)
from vaesep.widgets.outputs import compact_figures, multitrack

compact_figures()  # figures as 256-colour PNGs: the saved notebook stays light

# %% [markdown]
# ## Parameters
#
# The only cell a teacher needs to change. `DATA` is any name from
# `vaesep.data.available()` (or a corpus you registered yourself, see
# `vaesep/data/builder.py`); the pitch and level sections assume two sources.
# `FAST` is on when the environment variable `VAESEP_FAST=1` is set, as in CI:
# the same code runs on less data.

# %% tags=["parameters"]
DATA = "speech"  # any name from vaesep.data.available(), e.g. a corpus such as "tsp" or "mir1k"
ROOT = None  # a corpus's folder (see data/README.md); None for the offline sets
SEED = 0  # seeds the mixtures (pairings and offsets); the file splits never change
SNR_DB = 0.0  # level of the first source over the second in the test mixtures
FAST = None  # None: VAESEP_FAST decides (1 under pytest and `reproduce --fast`); or True/False
DEVICE = None  # unused here (nothing is trained); kept so every notebook takes the same parameters
EXAMPLE_ITEM = 0  # which Dutch test mixture to look at and listen to
F0_SECONDS = None  # audio per speaker and split for the pitch statistics; None: 12 s fast, 120 s full
EVAL_ITEMS = None  # None: every test mixture; a number: only the first ones

# %%
# the parameters left at None take the default of the mode
FAST = use_fast_mode(FAST)
F0_SECONDS = mode_default(F0_SECONDS, fast=12.0, full=120.0)

# %% [markdown]
# ## Where the audio comes from
#
# The default data set, `speech`, is built from the voice packs of the puzzle
# game *Fish Fillets NG*: studio recordings of two voice actors playing a big
# fish (speaker code `v`, a low male voice) and a small fish (`m`, a higher
# voice), once in **Dutch** and, by other actors, in **Czech**. Each line of
# dialogue is a separate OGG file, so every recording has exactly one speaker:
# perfect ground truth.
#
# The game audio is licensed under the GPL-2. **We never copy it into this
# repository**: the Debian packages install it under
# `/usr/share/games/fillets-ng/sound/`, and `vaesep.data` reads it from there,
# decodes it (with `soundfile`, no ffmpeg), resamples it to 16 kHz mono, trims
# the leading and trailing silence of every utterance, and writes the result
# into a cache outside the repository (`~/.cache/vaesep`, or `$VAESEP_CACHE`).
#
# Which data sets are registered, and which files make up each split:

# %%
print("registered data sets:", data.available())
files = {split: data.split_files(DATA, split) for split in ("train", "valid", "test", "test_cs")}
for split, names in files.items():
    print(f"{split:8s} {len(names):5d} recordings, e.g. {names[0]}")

# %% [markdown]
# ### Splits that never leak
#
# Three rules keep the evaluation honest (they are ours; the paper does not
# describe its split):
#
# 1. **Train and validate on Dutch only.** The Dutch recordings are assigned to
#    train / valid / test (80 / 10 / 10 %) by a hash of their file path. The
#    assignment does not depend on the seed or on which other files exist, so
#    the Dutch test set is the same on every machine, forever.
# 2. **Czech is the speaker-independent test set** (`test_cs`). Different
#    actors, a different language: it asks whether a model learnt "a low voice
#    and a high voice" or merely these two people. It never enters training;
#    the builder refuses to build if it did.
# 3. **Split by recording, not by time.** Two pieces of the same utterance
#    never end up on both sides of the line.
#
# We check rules 1 and 2 on the file lists:

# %%
file_languages = {split: sorted({path.split("/")[-2] for path in names}) for split, names in files.items()}
overlap = set(files["test_cs"]) & (set(files["train"]) | set(files["valid"]))
print("languages per split:", file_languages)
print("files shared between test_cs and train/valid:", len(overlap))
print("files shared between Dutch test and train/valid:", len(set(files["test"]) & (set(files["train"]) | set(files["valid"]))))

# %% [markdown]
# ## Building the data set
#
# `data.build` decodes the files once and caches the result with a sha256
# manifest; a second call verifies the files and returns at once. Each split
# becomes one **stream** per speaker: the speaker's trimmed utterances
# concatenated. Training draws fresh random pairs of segments from the train
# streams at every step (*dynamic mixing*, notebook 02). The valid and test
# splits also hold **fixed mixtures** ("items"): 4-second segments of each
# speaker, each scaled to unit RMS, with the second source scaled by
# $10^{-\mathrm{SNR}/20}$, then added. Fixed items make every evaluation
# comparable across models and runs.

# %%
ds = data.build(DATA, seed=SEED, snr_db=SNR_DB, fast=FAST, root=ROOT)
print(ds.describe())

# %%
split_table, split_data = split_summary(ds)
display(Markdown(split_table))
saved = save_table(split_table, "01_splits", data=split_data)
figure = plot_split_durations(ds)
save_figure(figure, "01_split_durations")
display(figure)

# %% [markdown]
# In fast mode the streams are cut short (the durations and item counts
# printed above) so that CI runs quickly; the figures and tables are the same,
# only smaller. Every item records where it came from:

# %%
item = ds.items("test")[EXAMPLE_ITEM]
for source, entry in item["sources"].items():
    pieces = ", ".join(f"{f['file']} from {f['file_offset'] / ds.sample_rate:.2f} s" for f in entry.get("files", []))
    print(f"{source}: stream offset {entry['stream_offset'] / ds.sample_rate:.1f} s, gain {entry['gain']:.2f} <- {pieces}")

# %% [markdown]
# ## Looking at one test mixture
#
# Here are the two sources of one Dutch test item and their sum, the mixture a
# separator receives. Listen to each: the mixture is what the model hears, the
# sources are what it should give back. The notebooks put the versions of one
# clip in one player: starting another row picks up at the same moment, and
# all rows share one scale, so they keep their true levels (IPython's `Audio`
# would make every clip equally loud); the dB column is each row's level
# against the first.

# %%
sr = ds.sample_rate
sources = np.array(ds.sources("test")[EXAMPLE_ITEM])  # (n_sources, n_samples), a copy in memory
mixture = sources.sum(axis=0)
signals = {**dict(zip(ds.source_names, sources, strict=True)), "mixture": mixture}
display(plot_waveforms(signals, sr, title=f"Dutch test item {EXAMPLE_ITEM}"))
display(multitrack(signals, sr, title=f"Dutch test item {EXAMPLE_ITEM}: both sources and their sum"))

# %% [markdown]
# The waveform shows *when* each voice is loud, but not *which frequencies*
# it occupies. The log-magnitude spectrogram does: time runs to the right,
# frequency upwards, colour is level in dB. Voiced speech appears as stacks of
# horizontal stripes, the **harmonics**: multiples of the fundamental
# frequency F0 at which the vocal folds vibrate. The low voice `v` has densely
# packed harmonics, the higher voice `m` wider-spaced ones. In the mixture both
# stacks overlap, but mostly in *different* places; that is what masks exploit.

# %%
figure = plot_spectrograms(signals, title=f"Dutch test item {EXAMPLE_ITEM}: log-magnitude spectrograms")
save_figure(figure, "01_example_spectrograms")
display(figure)

# %% [markdown]
# ## Why this STFT
#
# Every model and oracle in this package sees the same short-time Fourier
# transform (`vaesep.spectral.DEFAULT_STFT`, the configuration of the authors'
# code: a 1024-point FFT, 513 frequency bins). At our 16 kHz sample rate the
# settings mean:

# %%
config = DEFAULT_STFT
print(f"sample rate        {config.sample_rate} Hz")
print(f"frame (n_fft)      {config.n_fft} samples = {1000 * config.n_fft / config.sample_rate:.0f} ms, Hann window")
print(f"bin spacing        {config.sample_rate / config.n_fft:.2f} Hz, {config.n_bins} bins from 0 to {config.sample_rate // 2} Hz")
print(f"hop                {config.hop_length} samples = {1000 * config.hop_length / config.sample_rate:.0f} ms "
      f"({100 * (1 - config.hop_length / config.n_fft):.0f} % overlap)")
print(f"one 4 s item       {config.n_frames(4 * config.sample_rate)} frames x {config.n_bins} bins")

# %% [markdown]
# **Why these numbers.** The analysis must *resolve the harmonics* of both
# voices: two neighbouring harmonics of the low voice are only F0 apart, and a
# Hann window needs about two bins between peaks to show them separately, so
# the bins must be well below F0/2. 1024 samples at 16 kHz give bins of
# 15.6 Hz, enough for a low male voice. Longer frames would resolve even finer
# detail but blur fast changes (onsets, pitch glides): speech changes every
# few tens of milliseconds. The hop of a quarter frame (75 % overlap) makes the
# squared Hann windows sum to a constant, so the inverse STFT reconstructs the
# signal exactly, and it gives the model a new frame every 16 ms.
#
# The trade-off is easiest to see side by side: the same stretch of the
# mixture analysed with a short, our, and a long frame.

# %%
f0_tracks = {name: estimate_f0(wave, sr) for name, wave in zip(ds.source_names, sources, strict=True)}
window_seconds = 1.5
start_frame = both_voiced_window(list(f0_tracks.values()), int(window_seconds * sr / config.hop_length))
start = start_frame * config.hop_length / sr
resolutions = [STFTConfig(n_fft=256, hop_length=64), DEFAULT_STFT, STFTConfig(n_fft=4096, hop_length=1024)]
display(plot_stft_resolutions(mixture, resolutions, start=start, duration=window_seconds,
                              title="the mixture, three analysis windows"))

# %% [markdown]
# With 16 ms frames the harmonics melt into broad bands (good time
# resolution, poor frequency resolution); with 256 ms frames they are sharp
# but every syllable is smeared over a quarter of a second. Our 64 ms frames
# sit in between.
#
# Now the same stretch with our STFT, zoomed to the low frequencies. Over it we
# draw the harmonics $k \cdot F_0(t)$ of each speaker, with each speaker's F0
# estimated from their *own* recording (by `librosa.pyin`, see the next
# section). On the right, one frame's spectrum: each voice's harmonic peaks
# fall in different bins, and in the mixture both sets of peaks stay visible.

# %%
figure = plot_harmonic_zoom(
    signals,
    f0_tracks,
    start=start,
    duration=window_seconds,
    title="resolved harmonics of both voices",
)
save_figure(figure, "01_harmonics")
display(figure)
print(f"shown: {start:.2f}-{start + window_seconds:.2f} s of test item {EXAMPLE_ITEM}")
display(Audio(mixture[int(start * sr) : int((start + window_seconds) * sr)], rate=sr))

# %% [markdown]
# ## Who is speaking: pitch and level
#
# ### Pitch (F0)
#
# How different are the two voices? We estimate the fundamental frequency of
# every voiced frame with probabilistic YIN (`librosa.pyin`) on random
# excerpts of each speaker's stream, for the Dutch training speakers and for
# the Czech test speakers. Search range, frame grid and voicing rule are our
# choices and are listed in `vaesep/stats.py`. pyin is slow (the line under
# the figure prints what it cost here), hence the excerpts.

# %%
pitch_splits = [split for split in ("train", "test_cs") if split in ds.splits]
started, started_cpu = time.perf_counter(), time.process_time()
pitch = {split: speaker_f0(ds, split, seconds=F0_SECONDS, seed=SEED) for split in pitch_splits}
pyin_seconds, pyin_cpu = time.perf_counter() - started, time.process_time() - started_cpu
pyin_audio = F0_SECONDS * ds.n_sources * len(pitch_splits)
histograms = {f"{name}, {split_label(ds, split)}": result.f0_hz
              for split, by_source in pitch.items() for name, result in by_source.items()}
figure = plot_f0_histograms(histograms, title="F0 of voiced frames, per speaker")
save_figure(figure, "01_f0_histograms")
display(figure)
print(f"pyin on {pyin_audio:.0f} s of audio: {pyin_cpu:.1f} s of CPU ({10 * pyin_cpu / pyin_audio:.1f} s per 10 s "
      f"of audio), {pyin_seconds:.1f} s of wall time (more on a busy machine)")

# %% [markdown]
# The two speakers of each language occupy mostly different pitch ranges, with
# some overlap (excited lines of the low voice, calm ones of the high voice).
# Where the pitches differ, the harmonics interleave and a mask can pick them
# apart; where they coincide, the harmonics fall into the same bins and the
# spectrum alone cannot say whose they are. Compare the Dutch and Czech
# actors: a model trained on Dutch must cope with whatever shift you see.
#
# ### Level
#
# The fixed mixtures scale every 4 s segment to unit RMS, so on average both
# voices are equally loud (0 dB). But speech pauses, and its level moves by
# tens of dB between syllables. The table adds the level statistics of each
# speaker's whole stream to the pitch statistics: its RMS in dB re. full scale
# (before the mixtures rescale it), the share of 64 ms frames within 30 dB of
# that RMS ("active"), and the spread of the active frames' levels.

# %%
levels = {(split, name): level for split in pitch_splits
          for name, level in dataset_levels(ds, split).items()}
speaker_table, speaker_data = speaker_summary([r for by_source in pitch.values() for r in by_source.values()], levels)
display(Markdown(speaker_table))
saved = save_table(speaker_table, "01_speakers", data=speaker_data)

# %% [markdown]
# ### A 0 dB mixture is rarely 0 dB locally
#
# What matters for separation is the level of one voice *relative to the
# other*, frame by frame. For every frame of every Dutch test mixture we
# compute the **local SNR**, the level of `v` minus the level of `m` in dB
# (frames where both are silent are left out):

# %%
local = local_snr_db(np.asarray(ds.sources("test")))
shares = dominance(local, threshold_db=10.0)
first, second = ds.source_names
figure = plot_db_histograms({f"{first} over {second}, Dutch test items": local},
                            xlabel=f"local SNR of {first} over {second} per 64 ms frame (dB)",
                            reference_lines={"0 dB": 0.0, "+10 dB": 10.0, "-10 dB": -10.0},
                            title=f"frame-wise SNR in the {ds.snr_db:g} dB test mixtures")
save_figure(figure, "01_local_snr")
display(figure)
print(f"frames where {first} leads by more than 10 dB: {100 * shares['first']:.0f} %")
print(f"frames where {second} leads by more than 10 dB: {100 * shares['second']:.0f} %")
print(f"frames within +-10 dB (real overlap): {100 * shares['neither']:.0f} %")

# %% [markdown]
# A large share of frames is dominated by one voice. Inside the overlapping
# frames, the spectrum separates them further: different harmonics, different
# bins. Both facts together are why a *mask* over time-frequency bins can
# separate two voices from one microphone at all.
#
# ## Oracle masks: the ceiling
#
# A mask-based separator multiplies the mixture's complex STFT $X$ by a mask
# $M_i \in [0, 1]$ per source and inverts the result with the **mixture's
# phase**: $\hat s_i = \mathrm{iSTFT}(M_i \odot X)$. The best masks, computed
# from the true sources $S_i$ that no real system has, are the **oracles**:
#
# | oracle | mask of source $i$ | idea |
# |---|---|---|
# | ideal binary mask (IBM) | $1$ if $\lvert S_i\rvert$ is the largest in the bin, else $0$ | each bin belongs to one source |
# | ideal ratio mask (IRM) | $\lvert S_i\rvert / \sum_j \lvert S_j\rvert$ | share the bin by magnitude |
# | Wiener-like mask | $\lvert S_i\rvert^2 / \sum_j \lvert S_j\rvert^2$ | share the bin by power |
#
# The IRM has exactly the form of the **joint soft-mask layer** that ends the
# VAE and the DNN/RNN baselines (Huang et al., 2015; notebook 02): those
# models estimate $\lvert S_i\rvert$ and divide by the sum. A perfect such
# model *is* the IRM, so the IRM is the reference oracle of everything we
# train; the tables below show whether it is also the best oracle.
# The masks of the example item, for source `v` (the masks of `m` are one
# minus these):

# %%
source_magnitudes = magnitude(stft(sources))  # (n_sources, n_frames, n_bins)
oracle_masks = {"IBM": ideal_binary_mask(source_magnitudes), "IRM": ideal_ratio_mask(source_magnitudes),
                "Wiener": wiener_mask(source_magnitudes)}
figure = plot_masks({f"{name}, source {first}": mask[0] for name, mask in oracle_masks.items()},
                    title=f"oracle masks of test item {EXAMPLE_ITEM}, source {first}")
save_figure(figure, "01_oracle_masks")
display(figure)

# %% [markdown]
# The oracles follow the `Separator` interface of every model in the package
# (`model.separate(mixture, sr)`), except that they must also be given the
# true sources. Listen to what each makes of the mixture. The IBM tends to
# sound "watery" (musical noise: isolated bins switching on and off); the
# IRM and the Wiener mask are smoother.

# %%
floor = vaesep.load_model("mixture", source_names=ds.source_names)
oracles = {name: vaesep.load_model(name, source_names=ds.source_names) for name in ("ibm", "irm", "wiener")}
for target_index, target in enumerate(ds.source_names):
    estimates = {f"{name} → {target}": oracle.separate(mixture, sr, references=sources)[target_index]
                 for name, oracle in oracles.items()}
    display(multitrack({f"{target} (truth)": sources[target_index], **estimates}, sr,
                       title=f"target: source {target} of test item {EXAMPLE_ITEM}, as each oracle keeps it"))

# %% [markdown]
# ### Scores on the test sets
#
# We score the oracles on every test mixture with BSS-eval (SDR, SIR, SAR;
# notebook 02 explains each) and scale-invariant SDR, on the Dutch test split
# and on the Czech speakers. The **floor** is the mixture itself used as the
# estimate of each source: what doing nothing scores; its NSDR, the
# improvement over the mixture, is zero by definition. The mixture contains
# no artefacts at all, so its SAR is infinite up to rounding noise, not a
# measurement: the tables show it as "—".

# %%
methods = {"mixture (floor)": floor, **{f"{name} (oracle)": model for name, model in oracles.items()}}
results = evaluate_test_splits(methods, ds, max_items=EVAL_ITEMS)
tables = split_tables_markdown(results, ds, seed=SEED)
display(Markdown(tables))
saved = save_table(tables, "01_oracles", data=split_summaries(results))

# %% [markdown]
# Per-item SDRs show how much the ceiling varies from one mixture to the next:

# %%
for split, by_method in results.items():
    scores = {label.split(" ")[0]: r.item_values("sdr") for label, r in by_method.items()}
    figure = plot_metric_boxes(scores, "SDR", title=f"SDR per item and source, {split_label(ds, split)}")
    save_figure(figure, f"01_oracle_sdr_{split}")
    display(figure)

# %% [markdown]
# Read the tables before moving on; these are the numbers every later
# notebook refers back to:
#
# * the **IRM row is the reference oracle** of the VAE and the baselines: it
#   is exactly what their joint soft-mask layer outputs when their estimates
#   are perfect, $\hat y_i = \lvert S_i\rvert$. It is not a mathematical bound
#   (the layer can also express other masks, such as the Wiener-like one:
#   compare their rows), so the **ceiling** the later notebooks read results
#   against is the best oracle row of each table, whichever that is; a trained
#   model that estimates magnitudes from the mixture alone rarely comes close
#   to either;
# * the **mixture row is the floor**; a model's NSDR is its SDR gain over it;
# * the gap between the Dutch and the Czech rows is a property of the data
#   (other voices, other recordings), not of any model: keep it in mind when
#   notebook 02 compares a model on the two languages.
#
# ## A short tour of the other data sets
#
# The same `data.build` call gives two more data sets with the same structure
# (streams, fixed test items, manifest), used in notebook 04 (the
# comparison's chorales and denoising conditions), `noise` also in notebook
# 06, and available to every notebook through the `DATA` parameter:
#
# * `chorales`: Bach chorales from the `music21` corpus (BSD licence), soprano
#   `melody` against alto + tenor + bass `accompaniment`, each part rendered to
#   its own stem with `fluidsynth` and the FluidR3 General MIDI sound font
#   (MIT); a stand-in for singing-voice separation.
# * `noise`: Dutch speech against real recorded noises (hiss, hum, machines)
#   from the `sonic-pi-samples` package (mostly CC0), with different noise
#   recordings in train, valid and test; speech denoising.
#
# One test item of each:

# %%
for name in ("chorales", "noise"):
    tour = data.build(name, seed=SEED, fast=FAST)
    tour_sources = np.array(tour.sources("test")[0])
    tour_signals = {**dict(zip(tour.source_names, tour_sources, strict=True)), "mixture": tour_sources.sum(axis=0)}
    figure = plot_spectrograms(tour_signals, title=f"{name}: test item 0", max_frequency=tour.sample_rate / 2)
    save_figure(figure, f"01_tour_{name}")
    display(figure)
    display(multitrack(tour_signals, tour.sample_rate, title=f"{name}: test item 0, sources and mixture"))

# %% [markdown]
# ## Bring your own corpus
#
# The paper's own corpora are not redistributable, but if you have one the
# same pipeline runs on it. `vaesep.data` has loaders for TSP (`tsp`,
# `tsp-fa-fb`, `tsp-mc-md`), MIR-1K (`mir1k`), TIMIT (`timit`), MUSDB18
# (`musdb18`) and LibriSpeech (`librispeech`): each reads the corpus as
# distributed and builds the same cached, manifest-checked arrays as the
# offline sets. `data/README.md` gives the download, the expected layout and
# the commands, e.g. `vaesep data prepare mir1k --root /data/MIR-1K`. In a
# notebook, set `DATA = "mir1k"` and `ROOT = "/data/MIR-1K"` in the parameters
# cell. Another corpus plugs in by subclassing `DatasetBuilder` and calling
# `vaesep.data.register` (the contract is in `vaesep/data/builder.py`).

# %%
print("registered data sets:", ", ".join(data.available()))

# %% [markdown]
# ## Summary
#
# * The default data are two real voices from Debian's Fish Fillets NG voice
#   packs, read in place (GPL-2 audio, never copied into the repository),
#   resampled to 16 kHz, trimmed, split by a hash of the file path: Dutch for
#   train / valid / test, Czech actors only as a speaker-independent test.
# * A 1024-point STFT with a 256-sample hop (64 ms frames, 15.6 Hz bins, 16 ms
#   steps) resolves the harmonics of both voices while following the changes
#   of speech.
# * The speakers differ in pitch, and within a 0 dB mixture one voice often
#   dominates a frame; both make mask-based separation possible.
# * The oracle masks, computed from the true sources, show what masking with
#   the mixture's phase reaches when the masks are right; the IRM is the
#   reference oracle of the models of notebook 02, the best oracle is the
#   ceiling, and the unprocessed mixture is the floor. Their scores on the
#   Dutch and Czech test sets are saved as `01_oracles`.
#
# Next: notebook 02 trains the VAE on this data.

# %% [markdown]
# ## Exercises
#
# Each exercise asks a question; write your answer in the code cell below it. Where an
# answer can be checked, a cell of asserts follows: run it after your answer. The solutions
# are in the teacher edition (`vaesep lab`, see the README), where CI runs them in fast mode.
#
# **1. Louder and quieter.** Rebuild the data at `SNR_DB = 5` (speaker `v`
# 5 dB louder than `m`) and score the IRM again on the Dutch test split. How do
# the SDRs of the two speakers move, and does the NSDR (improvement over the
# mixture) move the same way? Explain why. Keep the mean SDR and NSDR of each
# source in dicts `sdr_louder` and `nsdr_louder` (`{source: dB}`; an
# evaluation's `.summary()["per_source"]` has them).

# %% tags=["solution"]
louder = data.build(DATA, seed=SEED, snr_db=5.0, fast=FAST, root=ROOT)
irm = vaesep.load_model("irm", source_names=louder.source_names)
louder_result = evaluate_separator(irm, louder, "test", max_items=EVAL_ITEMS, progress=False)
print(louder_result.to_markdown(title="IRM at +5 dB"))
per_source = louder_result.summary()["per_source"]
sdr_louder = {name: stats["sdr_mean"] for name, stats in per_source.items()}
nsdr_louder = {name: stats["nsdr_mean"] for name, stats in per_source.items()}

# %% [markdown] tags=["solution"]
# The louder source `v` gets a higher SDR and the quieter `m` a lower one than
# at 0 dB: every bin the mask gives to `v` contains less of `m`, and vice
# versa. The NSDR moves the other way: the mixture itself is already a good
# estimate of the loud source (its SDR is roughly the SNR itself) and a bad
# one of the quiet source (roughly minus the SNR), so the quiet source gains
# more from separation.
# This is why papers report NSDR (or SI-SDRi) next to SDR.

# %% tags=["check"]
at_0_db = results["test"]["irm (oracle)"].summary()["per_source"]  # the IRM's row in the table above
loud, quiet = ds.source_names
assert sdr_louder[loud] > at_0_db[loud]["sdr_mean"] and sdr_louder[quiet] < at_0_db[quiet]["sdr_mean"], \
    "at +5 dB the louder source should score a higher SDR than at 0 dB, the quieter one a lower one"
assert nsdr_louder[loud] < at_0_db[loud]["nsdr_mean"] and nsdr_louder[quiet] > at_0_db[quiet]["nsdr_mean"], \
    "the NSDR should move the other way"
print("both directions as expected")

# %% [markdown]
# **2. Another STFT.** Is our 64 ms frame the best choice for the oracle? Give
# the IRM a different STFT, e.g. `STFTConfig(n_fft=256, hop_length=64)` or
# `STFTConfig(n_fft=2048, hop_length=512)` (a mask separator reads its
# settings from its `stft_config` attribute), and compare its Dutch test SDR
# with the default. Keep the overall mean SDR per FFT size in a dict
# `sdr_by_n_fft` (`{n_fft: dB}`), the default's included.

# %% tags=["solution"]
sdr_by_n_fft = {}
for stft_config in (STFTConfig(n_fft=256, hop_length=64), DEFAULT_STFT, STFTConfig(n_fft=2048, hop_length=512)):
    irm = vaesep.load_model("irm", source_names=ds.source_names)
    irm.stft_config = stft_config
    result = evaluate_separator(irm, ds, "test", max_items=EVAL_ITEMS, progress=False)
    sdr_by_n_fft[stft_config.n_fft] = result.summary()["overall"]["sdr_mean"]
    print(f"n_fft {stft_config.n_fft:5d} ({1000 * stft_config.n_fft / sr:.0f} ms): IRM SDR "
          f"{sdr_by_n_fft[stft_config.n_fft]:.2f} dB")

# %% [markdown] tags=["solution"]
# Short frames cannot resolve the harmonics of the low voice, so many bins hold
# both voices and even the ideal mask cannot split them: the ceiling drops.
# Long frames resolve harmonics better but mix syllables that change within
# the frame. The oracle score is one argument for a frame length; the other is
# what a model can *learn* to predict, which notebook 02 explores.

# %% tags=["check"]
default_row = results["test"]["irm (oracle)"].summary()["overall"]["sdr_mean"]
assert len(sdr_by_n_fft) >= 2 and DEFAULT_STFT.n_fft in sdr_by_n_fft, "score the default and another STFT"
assert abs(sdr_by_n_fft[DEFAULT_STFT.n_fft] - default_row) < 1e-6, \
    "with the default STFT the IRM should score exactly its row of the table above"
print("checked")

# %% [markdown]
# **3. Binary or ratio?** The IBM is the ceiling of a model that *classifies*
# each bin, the IRM of one that *shares* it. For the example item and source
# `v`, in what share of the active time-frequency bins (those within 60 dB of
# the loudest, `total > 1e-3 * total.max()` with `total =
# source_magnitudes.sum(axis=0)`) does the IBM differ from the IRM by more
# than 0.25? Keep it as a fraction in `share_differ`. Which values of the IRM
# are those, and what does that say about the two voices in those bins? Listen
# to both separations again: where do you hear the difference?

# %% tags=["solution"]
total = source_magnitudes.sum(axis=0)
active = total > 1e-3 * total.max()
differ = np.abs(oracle_masks["IBM"][0] - oracle_masks["IRM"][0]) > 0.25
share_differ = differ[active].mean()
print(f"{100 * share_differ:.1f} % of the active bins")
irm_values = oracle_masks["IRM"][0][active & differ]
print(f"the IRM in those bins lies between {irm_values.min():.3f} and {irm_values.max():.3f}")

# %% [markdown] tags=["solution"]
# The IBM rounds the IRM to 0 or 1, so their difference is
# min(IRM, 1 - IRM), never more than 0.5. It exceeds 0.25 exactly when the IRM
# lies between 0.25 and 0.75, that is when neither voice is more than three
# times (about 9.5 dB) louder than the other in that bin: the bins where the
# voices truly overlap. There the IBM throws away a real part of the quieter
# voice and keeps a real part of the louder one's interference; switching
# such bins on and off from frame to frame is the "watery" musical noise of
# its output.

# %% tags=["check"]
total = source_magnitudes.sum(axis=0)
gap = np.abs(oracle_masks["IBM"][0] - oracle_masks["IRM"][0])[total > 1e-3 * total.max()]
assert 0 < share_differ < 1 and abs(share_differ - np.mean(gap > 0.25)) < 1e-9, \
    "not the share of active bins where the IBM and the IRM of source v differ by more than 0.25"
print("checked")
