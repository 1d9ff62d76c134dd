"""Looking inside the VAE's latent space: encode, project, measure, decode, listen.

Notebook 03 narrates every function here. The flow is:

1. :func:`encode_frames` runs test audio through the encoder(s) and keeps, for
   each STFT frame, the posterior mean μ and log-variance log σ² together with
   labels: which input it came from (a source alone or the mixture), its level
   in dB, how periodic (voiced) it is, and which speaker dominates it.
2. :func:`pca_projection` and :func:`tsne_projection` map μ to 2-D.
3. :func:`unit_statistics` finds the *active units* of Burda, Grosse &
   Salakhutdinov (2016): a latent dimension d is active when the posterior
   mean moves with the input, ``Cov_x(E_q[z_d]) > 0.01``. Collapsed dimensions
   sit at the prior, with σ² ≈ 1 and no KL cost.
4. :func:`decode_latents`, :func:`interpolate`, :func:`prior_trajectory` turn
   latent points back into spectrum frames; :func:`resynthesise` turns an
   edited μ-trajectory of a real mixture into audio through the soft mask and
   the mixture's phase, and :func:`griffin_lim` turns decoded frames that have
   no mixture behind them (prior samples) into audio by estimating a phase.

Which encoder? With ``variant="per_source"`` (the authors' design and our
default) there is one encoder per source: encoder ``v`` maps the *mixture* to
the code that decoder ``v`` turns into speaker v's share, and likewise for
``m``. The two latent spaces are unrelated (they are trained separately, and
the axes of one mean nothing in the other), so every analysis here works on
**one encoder at a time** and pairs encoder ``s`` with decoder ``s``. With
``variant="shared"`` there is a single encoder, named ``"shared"``, whose
latent feeds every decoder head.

A caveat that matters when reading decoded frames: the loss sees the decoder
outputs ``ŷ_s`` only through the joint soft mask ``ŷ_s / Σ_j ŷ_j``, so their
overall scale per bin is not pinned down by training. A decoded frame is the
decoder's *relative* claim on each bin, not a calibrated magnitude; we show it
in dB relative to its own peak.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vaesep.audio import MIXTURE
from vaesep.batches import spectrogram_batch
from vaesep.models import NeuralSeparator, VAENetwork
from vaesep.spectral import (
    DEFAULT_STFT,
    REFERENCE_RMS,
    STFTConfig,
    apply_masks,
    istft,
    joint_soft_mask,
    normalise_level,
    stft,
)

ACTIVE_THRESHOLD: float = 0.01
"""Burda et al. (2016): dimension d is active when ``Var_x(μ_d(x)) > 0.01``."""

F0_RANGE: tuple[float, float] = (60.0, 400.0)
"""Pitch range (Hz) searched by :func:`periodicity`: covers both speakers of the speech set."""

VOICED_THRESHOLD: float = 0.6
"""A frame is called voiced when its :func:`periodicity` reaches this and its level is above -30 dB."""


# --------------------------------------------------------------------------- the model


def as_vae(model: VAENetwork | NeuralSeparator) -> VAENetwork:
    """The :class:`VAENetwork` inside ``model`` (a separator from ``load_model`` or a bare network)."""
    network = model.network if isinstance(model, NeuralSeparator) else model
    if not isinstance(network, VAENetwork):
        raise TypeError(
            f"latent-space analysis needs a VAE, got {type(network).__name__}; load one with "
            "vaesep.load_model('vae-speech') or from notebook 02's checkpoint"
        )
    return network


def encoder_names(model: VAENetwork | NeuralSeparator) -> tuple[str, ...]:
    """One name per encoder: the source names for ``per_source``, ``("shared",)`` otherwise."""
    network = as_vae(model)
    return network.source_names if network.config.variant == "per_source" else ("shared",)


def decoder_index(
    model: VAENetwork | NeuralSeparator, encoder: str | int, source: str | None = None
) -> int:
    """The decoder that reads ``encoder``'s latent: its own source, or ``source`` for a shared latent."""
    network = as_vae(model)
    names = encoder_names(network)
    index = names.index(encoder) if isinstance(encoder, str) else int(encoder)
    if network.config.variant == "per_source":
        if source is not None and source != network.source_names[index]:
            raise ValueError(
                f"encoder {names[index]!r} feeds only decoder {names[index]!r}, not {source!r}"
            )
        return index
    return network.source_names.index(source) if source is not None else 0


def _training_steps(record: dict) -> int:
    """Optimizer steps behind a checkpoint record (0 when it does not say)."""
    history, config = record.get("history") or {}, record.get("train_config") or {}
    return len(history.get("epoch", [])) * int(config.get("steps_per_epoch", 0))


def find_checkpoint(pretrained: str = "vae-speech", *, announce: bool = True) -> str:
    """Notebook 02's ``runs_dir()/02_vae.pt`` if it was trained at least as long as the shipped
    model, else the shipped pretrained name.

    A checkpoint from a quick run (fast mode, or a one-epoch try) would make every
    analysis of notebook 03 describe a model that has barely learned, so it is only
    used when its training budget is at least the shipped model's. With ``announce``
    the choice and its reason are printed.

    Raises:
        FileNotFoundError: neither exists.
    """
    from vaesep.api import PRETRAINED_DIR, list_pretrained
    from vaesep.checkpoint import load_checkpoint
    from vaesep.files import runs_dir

    trained = runs_dir() / "02_vae.pt"
    shipped = pretrained in list_pretrained()
    reference = _training_steps(load_checkpoint(PRETRAINED_DIR / f"{pretrained}.pt")) if shipped else 0
    if trained.is_file():
        steps = _training_steps(load_checkpoint(trained))
        if steps >= reference or not shipped:
            if announce:
                print(f"USING notebook 02's model {trained}: {steps:,} training steps")
            return str(trained)
        if announce:
            print(f"USING the shipped {pretrained!r} ({reference:,} training steps), NOT {trained}: that one "
                  f"was trained for only {steps:,} steps, too few for the analyses below to mean anything")
        return pretrained
    if shipped:
        if announce:
            print(f"USING the shipped {pretrained!r} ({reference:,} training steps): notebook 02 has not run")
        return pretrained
    raise FileNotFoundError(
        f"no VAE to look at: {trained} does not exist (run notebook 02) and {pretrained!r} is not "
        f"among the shipped models {list_pretrained()}"
    )


# --------------------------------------------------------------------------- frame labels


def _frames(waves: np.ndarray, config: STFTConfig) -> np.ndarray:
    """``(..., n_samples)`` → ``(..., n_frames, n_fft)``, centred like :func:`vaesep.spectral.stft`."""
    half = config.n_fft // 2
    padded = np.pad(waves, [(0, 0)] * (waves.ndim - 1) + [(half, half)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, config.n_fft, axis=-1)
    return windows[..., :: config.hop_length, :]


def frame_level_db(waves: np.ndarray, config: STFTConfig = DEFAULT_STFT) -> np.ndarray:
    """RMS of each STFT frame in dB re :data:`~vaesep.spectral.REFERENCE_RMS`.

    Args:
        waves: ``(..., n_samples)`` at the level the network sees (mixture RMS = REFERENCE_RMS).

    Returns:
        ``(..., n_frames)``; 0 dB is the average level of a mixture.
    """
    frames = _frames(np.asarray(waves, dtype=np.float64), config)
    level = np.sqrt(np.mean(np.square(frames), axis=-1))
    return 20 * np.log10(np.maximum(level, 1e-8) / REFERENCE_RMS)


def periodicity(
    waves: np.ndarray, config: STFTConfig = DEFAULT_STFT, f0_range: tuple[float, float] = F0_RANGE
) -> np.ndarray:
    """How periodic each STFT frame is: a cheap voicing measure in [0, 1].

    The peak of the normalised autocorrelation of the Hann-windowed frame over
    the lags of ``f0_range``, divided by the window's own autocorrelation at
    that lag (Boersma 1993), so a steady vowel scores close to 1 and noise or
    silence close to 0. ``librosa.pyin`` is more accurate but ~50× slower; for
    colouring a scatter plot this is enough.

    Returns:
        ``(..., n_frames)`` float64.
    """
    frames = _frames(np.asarray(waves, dtype=np.float64), config)
    window = np.hanning(config.n_fft + 1)[:-1]
    n_fft2 = 2 * config.n_fft

    def autocorrelation(x: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(x, n=n_fft2, axis=-1)
        return np.fft.irfft(np.abs(spectrum) ** 2, n=n_fft2, axis=-1)[..., : config.n_fft]

    r_x = autocorrelation(frames * window)
    r_w = autocorrelation(window)
    low = int(config.sample_rate / f0_range[1])
    high = min(int(config.sample_rate / f0_range[0]), config.n_fft - 1)
    ratio = (r_x[..., low : high + 1] / np.maximum(r_x[..., :1], 1e-12)) / (
        r_w[low : high + 1] / r_w[0]
    )
    return np.clip(ratio.max(axis=-1), 0.0, 1.0)


# --------------------------------------------------------------------------- encoding


@dataclass
class LatentSet:
    """Posterior parameters of a set of frames, with a label for each frame.

    Attributes:
        mu, logvar: ``(n_frames, n_encoders, latent)``.
        labels: each ``(n_frames,)``: ``"input"`` (a source name or ``"mixture"``:
            what the encoder was fed), ``"item"``, ``"frame"`` (index in its item),
            ``"level_db"`` (frame RMS of that input, dB re the mixture's average),
            ``"periodicity"``, ``"voiced"`` (bool), ``"dominant"`` (the source
            with the most energy in the frame), ``"margin_db"`` (by how many dB
            it leads the next loudest source).
        encoder_names: one per encoder (axis 1 of ``mu``).
        source_names: the model's sources.
    """

    mu: np.ndarray
    logvar: np.ndarray
    labels: dict[str, np.ndarray]
    encoder_names: tuple[str, ...]
    source_names: tuple[str, ...]

    def __len__(self) -> int:
        return self.mu.shape[0]

    def encoder_index(self, encoder: str | int) -> int:
        return self.encoder_names.index(encoder) if isinstance(encoder, str) else int(encoder)

    def means(self, encoder: str | int) -> np.ndarray:
        """μ of one encoder, ``(n_frames, latent)``."""
        return self.mu[:, self.encoder_index(encoder)]

    def subset(self, selection: np.ndarray) -> LatentSet:
        """The frames picked by a boolean mask or an index array."""
        return dataclasses.replace(
            self,
            mu=self.mu[selection],
            logvar=self.logvar[selection],
            labels={key: value[selection] for key, value in self.labels.items()},
        )

    def where(self, **conditions: object) -> LatentSet:
        """Frames whose labels equal the given values, e.g. ``codes.where(input="mixture")``."""
        keep = np.ones(len(self), dtype=bool)
        for key, value in conditions.items():
            keep &= self.labels[key] == value
        return self.subset(keep)

    def counts(self) -> dict[str, int]:
        """Frames per input."""
        names, counts = np.unique(self.labels["input"], return_counts=True)
        return dict(zip(names.tolist(), counts.tolist(), strict=True))


@torch.no_grad()
def encode_magnitudes(
    model: VAENetwork | NeuralSeparator,
    magnitudes: np.ndarray | torch.Tensor,
    batch_items: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior μ and log σ² for magnitude spectrograms ``(n_items, n_frames, n_bins)``.

    Returns:
        ``mu``, ``logvar``, each ``(n_items, n_frames, n_encoders, latent)``.
    """
    network = as_vae(model)
    device = next(network.parameters()).device
    was_training = network.training
    network.eval()
    tensor = torch.as_tensor(np.asarray(magnitudes, dtype=np.float32))
    mus, logvars = [], []
    for start in range(0, tensor.shape[0], batch_items):
        mu, logvar = network.encode(tensor[start : start + batch_items].to(device))
        mus.append(mu.transpose(1, 2).cpu().numpy())
        logvars.append(logvar.transpose(1, 2).cpu().numpy())
    network.train(was_training)
    return np.concatenate(mus), np.concatenate(logvars)


def encode_frames(
    model: VAENetwork | NeuralSeparator,
    sources: np.ndarray,
    *,
    frames_per_input: int | None = None,
    include_sources: bool = True,
    min_level_db: float | None = -50.0,
    seed: int = 0,
) -> LatentSet:
    """Encode every STFT frame of test items, fed as mixtures and as each source alone.

    Each item is scaled as in training (its mixture to REFERENCE_RMS) and the
    same gain is applied to its sources, so a source alone is seen at the level
    it has inside the mixture: what the encoder would see if the other speaker
    fell silent. Whole items are encoded at once, so context frames are real.

    Args:
        model: a VAE separator or network.
        sources: ``(n_items, n_sources, n_samples)``, e.g. ``dataset.sources("test")``.
        frames_per_input: keep this many frames per input, drawn at random
            (seeded); ``None`` keeps all.
        include_sources: also encode each source alone (else mixtures only).
        min_level_db: drop frames of an input quieter than this (dB re the
            mixture's average level): digital silence maps to one point and
            would swamp the plots. ``None`` keeps everything.
        seed: seed of the frame draw.

    Returns:
        a :class:`LatentSet`, inputs in the order sources…, ``"mixture"``.
    """
    network = as_vae(model)
    sources = np.asarray(sources, dtype=np.float32)
    _, gain = normalise_level(sources.sum(axis=1))  # the mixture's gain, applied to its sources
    scaled = (sources * gain[:, None]).astype(np.float32)
    n_items, n_sources, _ = scaled.shape
    if n_sources != network.n_sources:
        raise ValueError(f"sources have {n_sources} rows, the model separates {network.n_sources}")
    mixture_magnitude, source_magnitude = spectrogram_batch(sources, torch.device("cpu"))
    source_levels = frame_level_db(scaled)  # (items, sources, frames)
    dominant = np.asarray(network.source_names)[source_levels.argmax(axis=1)]
    ranked_levels = np.sort(source_levels, axis=1)
    margin = ranked_levels[:, -1] - ranked_levels[:, -2]  # dB the loudest source leads by
    inputs = (
        [
            (name, source_magnitude[:, i], scaled[:, i])
            for i, name in enumerate(network.source_names)
        ]
        if include_sources
        else []
    )
    inputs.append((MIXTURE, mixture_magnitude, scaled.sum(axis=1)))

    rng = np.random.default_rng(seed)
    parts: list[dict[str, np.ndarray]] = []
    for name, magnitude, wave in inputs:
        mu, logvar = encode_magnitudes(network, magnitude)
        n_frames = mu.shape[1]
        level = frame_level_db(wave)
        part = {
            "mu": mu.reshape(-1, *mu.shape[2:]),
            "logvar": logvar.reshape(-1, *logvar.shape[2:]),
            "input": np.full(n_items * n_frames, name),
            "item": np.repeat(np.arange(n_items), n_frames),
            "frame": np.tile(np.arange(n_frames), n_items),
            "level_db": level.reshape(-1),
            "periodicity": periodicity(wave).reshape(-1),
            "dominant": (dominant if name == MIXTURE else np.full_like(dominant, name)).reshape(-1),
            "margin_db": margin.reshape(-1),
        }
        part["voiced"] = (part["periodicity"] >= VOICED_THRESHOLD) & (part["level_db"] > -30.0)
        keep = np.arange(n_items * n_frames)
        if min_level_db is not None:
            keep = keep[part["level_db"] > min_level_db]
        if frames_per_input is not None and keep.size > frames_per_input:
            keep = np.sort(rng.choice(keep, frames_per_input, replace=False))
        parts.append({key: value[keep] for key, value in part.items()})
    merged = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return LatentSet(
        mu=merged.pop("mu").astype(np.float32),
        logvar=merged.pop("logvar").astype(np.float32),
        labels=merged,
        encoder_names=encoder_names(network),
        source_names=network.source_names,
    )


# --------------------------------------------------------------------------- projections


@dataclass
class PCAProjection:
    """A principal-component basis of a cloud of latent means.

    Attributes:
        coords: the points in the first components, ``(n_points, n_components)``.
        mean: the cloud's mean, ``(latent,)``.
        components: unit directions, ``(n_components, latent)``.
        std: standard deviation of the cloud along each component.
        explained: fraction of the total variance along each component.
    """

    coords: np.ndarray
    mean: np.ndarray
    components: np.ndarray
    std: np.ndarray
    explained: np.ndarray

    def point(self, offsets: Sequence[float], base: np.ndarray | None = None) -> np.ndarray:
        """``base`` (default: the mean) moved by ``offsets[k]`` standard deviations along component k."""
        offsets = np.asarray(offsets, dtype=np.float64)
        base = self.mean if base is None else np.asarray(base, dtype=np.float64)
        k = offsets.shape[0]
        return (base + (offsets * self.std[:k]) @ self.components[:k]).astype(np.float32)


def pca_projection(points: np.ndarray, n_components: int = 2, seed: int = 0) -> PCAProjection:
    """PCA of ``points`` ``(n_points, latent)`` (scikit-learn, full SVD)."""
    from sklearn.decomposition import PCA

    n_components = min(n_components, *points.shape)
    pca = PCA(n_components=n_components, svd_solver="full", random_state=seed).fit(points)
    return PCAProjection(
        coords=pca.transform(points),
        mean=pca.mean_,
        components=pca.components_,
        std=np.sqrt(pca.explained_variance_),
        explained=pca.explained_variance_ratio_,
    )


def tsne_projection(
    points: np.ndarray, perplexity: float = 30.0, seed: int = 0, max_iter: int = 1000
) -> np.ndarray:
    """2-D t-SNE of ``points`` ``(n_points, latent)``, PCA-initialised and seeded.

    The perplexity (roughly, the number of neighbours each point attends to)
    is capped below a third of the number of points, as t-SNE requires.
    ``max_iter`` is at least 250 (scikit-learn's minimum).
    """
    from sklearn.manifold import TSNE

    perplexity = float(min(perplexity, max((points.shape[0] - 1) / 3.0, 1.0)))
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        learning_rate="auto",
        max_iter=max(int(max_iter), 250),
        random_state=seed,
    )
    return tsne.fit_transform(np.asarray(points, dtype=np.float32))


# --------------------------------------------------------------------------- active units


@dataclass
class UnitStatistics:
    """Per encoder and latent dimension: how much each unit is used.

    Attributes (each ``(n_encoders, latent)``):
        activity: ``Var_x(μ_d(x))``, Burda et al.'s activity statistic.
        posterior_variance: ``E_x[σ²_d(x)]``; ≈ 1 (the prior's) for a collapsed unit.
        kl: ``E_x[KL(q(z_d|x) ‖ N(0,1))]`` in nats.
        active: ``activity > threshold``.
    """

    activity: np.ndarray
    posterior_variance: np.ndarray
    kl: np.ndarray
    active: np.ndarray
    threshold: float
    encoder_names: tuple[str, ...]

    @property
    def n_active(self) -> dict[str, int]:
        return {
            name: int(row.sum()) for name, row in zip(self.encoder_names, self.active, strict=True)
        }

    def active_dims(self, encoder: str | int) -> np.ndarray:
        """Indices of the active dimensions of one encoder, most active first."""
        index = self.encoder_names.index(encoder) if isinstance(encoder, str) else int(encoder)
        order = np.argsort(-self.activity[index])
        return order[self.active[index][order]]

    def units_holding(self, fraction: float = 0.9) -> dict[str, int]:
        """Per encoder, the fewest dimensions whose KL adds up to ``fraction`` of the total."""
        counts = {}
        for name, kl in zip(self.encoder_names, self.kl, strict=True):
            shares = np.cumsum(np.sort(kl)[::-1]) / max(float(kl.sum()), 1e-12)
            counts[name] = int(np.searchsorted(shares, fraction) + 1)
        return counts

    def summary(self) -> str:
        """A Markdown table per encoder: active units, KL and posterior variance."""
        holding = self.units_holding(0.9)
        lines = [
            f"| encoder | latent dims | active (Var μ > {self.threshold:g}) | units holding 90 % of the KL "
            "| KL per frame (nats) | mean σ² of active | mean σ² of inactive |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, name in enumerate(self.encoder_names):
            active = self.active[i]

            def mean_var(chosen: np.ndarray, i: int = i) -> str:
                return f"{self.posterior_variance[i][chosen].mean():.3f}" if chosen.any() else "–"

            lines.append(
                f"| {name} | {active.size} | {int(active.sum())} | {holding[name]} | {self.kl[i].sum():.2f} "
                f"| {mean_var(active)} | {mean_var(~active)} |"
            )
        return "\n".join(lines)


def unit_statistics(
    mu: np.ndarray,
    logvar: np.ndarray,
    *,
    encoder_names: Sequence[str] | None = None,
    threshold: float = ACTIVE_THRESHOLD,
) -> UnitStatistics:
    """Active units (Burda et al. 2016) and per-dimension KL from posterior parameters.

    Args:
        mu, logvar: ``(n_frames, n_encoders, latent)`` (as in :class:`LatentSet`)
            or ``(n_frames, latent)`` for one encoder.
        threshold: activity above which a unit counts as active.
    """
    mu = np.asarray(mu, dtype=np.float64)
    logvar = np.asarray(logvar, dtype=np.float64)
    if mu.ndim == 2:
        mu, logvar = mu[:, None], logvar[:, None]
    if mu.shape[0] < 2:
        raise ValueError("need at least two frames to measure how the posterior mean varies")
    activity = mu.var(axis=0, ddof=1)
    kl = 0.5 * (np.square(mu) + np.exp(logvar) - 1.0 - logvar)
    names = (
        tuple(encoder_names)
        if encoder_names is not None
        else tuple(f"encoder {i}" for i in range(mu.shape[1]))
    )
    return UnitStatistics(
        activity=activity,
        posterior_variance=np.exp(logvar).mean(axis=0),
        kl=kl.mean(axis=0),
        active=activity > threshold,
        threshold=threshold,
        encoder_names=names,
    )


def latent_unit_statistics(codes: LatentSet, threshold: float = ACTIVE_THRESHOLD) -> UnitStatistics:
    """:func:`unit_statistics` of a :class:`LatentSet`, naming its encoders."""
    return unit_statistics(
        codes.mu, codes.logvar, encoder_names=codes.encoder_names, threshold=threshold
    )


# --------------------------------------------------------------------------- decoding


@torch.no_grad()
def decode_latents(
    model: VAENetwork | NeuralSeparator,
    z: np.ndarray,
    *,
    encoder: str | int = 0,
    source: str | None = None,
) -> np.ndarray:
    """Decoder output ``ŷ`` for latent points ``(n_points, latent)`` → ``(n_points, n_bins)``.

    Uses the decoder that reads ``encoder``'s latent (see :func:`decoder_index`).
    The result is the decoder's non-negative relative magnitude, before the
    joint soft mask (see the module docstring).
    """
    network = as_vae(model)
    decoder = network.decoders[decoder_index(network, encoder, source)]
    device = next(network.parameters()).device
    tensor = torch.as_tensor(np.asarray(z, dtype=np.float32)).to(device)
    return decoder(tensor).cpu().numpy()


def interpolate(z0: np.ndarray, z1: np.ndarray, n_steps: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Points on the straight line from ``z0`` to ``z1``.

    Returns:
        ``alphas`` ``(n_steps,)`` from 0 to 1 and the points ``(n_steps, latent)``,
        ``(1 - α) z0 + α z1``; the first is ``z0`` and the last ``z1`` exactly.
    """
    if n_steps < 2:
        raise ValueError("n_steps must be at least 2 (the two endpoints)")
    z0 = np.asarray(z0, dtype=np.float32)
    z1 = np.asarray(z1, dtype=np.float32)
    alphas = np.linspace(0.0, 1.0, n_steps, dtype=np.float32)
    points = (1 - alphas)[:, None] * z0 + alphas[:, None] * z1
    points[0], points[-1] = z0, z1
    return alphas, points


def prior_samples(latent: int, n: int, seed: int = 0) -> np.ndarray:
    """``n`` draws of z ~ N(0, I), ``(n, latent)`` float32."""
    return np.random.default_rng(seed).standard_normal((n, latent)).astype(np.float32)


def prior_trajectory(
    latent: int, n_anchors: int = 6, frames_per_anchor: int = 30, seed: int = 0
) -> np.ndarray:
    """A slowly moving path through the prior, ``(n_anchors - 1) * frames_per_anchor`` frames.

    Independent prior draws every 16 ms frame would sound like rough noise, so
    the path glides between ``n_anchors`` draws. It glides along arcs,
    ``z(t) = cos(πt/2) a + sin(πt/2) b``: for independent standard normal a
    and b every z(t) is again standard normal, so every frame is a genuine
    prior sample. A straight line would pass through points of smaller norm
    than the prior ever produces in 64 dimensions (its midpoint has
    ``‖z‖² ≈ latent / 2``).
    """
    anchors = prior_samples(latent, n_anchors, seed)
    t = np.arange(frames_per_anchor, dtype=np.float32) / frames_per_anchor
    cos, sin = np.cos(np.pi * t / 2)[:, None], np.sin(np.pi * t / 2)[:, None]
    return np.concatenate(
        [cos * a + sin * b for a, b in zip(anchors[:-1], anchors[1:], strict=True)]
    ).astype(np.float32)


def griffin_lim(
    frames: np.ndarray,
    *,
    n_iter: int = 32,
    momentum: float = 0.99,
    seed: int = 0,
    rms: float = REFERENCE_RMS,
    config: STFTConfig = DEFAULT_STFT,
) -> np.ndarray:
    """Audio from magnitude frames ``(n_frames, n_bins)`` alone: fast Griffin-Lim.

    There is no mixture to borrow a phase from when decoding prior samples,
    so the phase is estimated: start from random phases, then alternate
    between the STFT of the current waveform (consistency) and the given
    magnitudes, Griffin & Lim (1984), with the momentum of Perraudin, Balazs &
    Søndergaard (2013) as in ``librosa.griffinlim``. The result is scaled to
    ``rms``, since decoded frames carry no absolute level.
    """
    magnitude = torch.as_tensor(np.asarray(frames, dtype=np.float32))  # (n_frames, n_bins)
    length = (magnitude.shape[0] - 1) * config.hop_length
    generator = torch.Generator().manual_seed(seed)
    angles = torch.polar(
        torch.ones_like(magnitude), 2 * np.pi * torch.rand(magnitude.shape, generator=generator)
    )
    previous = torch.zeros_like(angles)
    for _ in range(n_iter):
        rebuilt = stft(istft(magnitude * angles, length, config), config)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles = accelerated / accelerated.abs().clamp_min(1e-8)
        previous = rebuilt
    wave = istft(magnitude * angles, length, config).numpy()
    level = float(np.sqrt(np.mean(np.square(wave))))
    return (wave * (rms / level if level > 0 else 1.0)).astype(np.float32)


def hold_frame(
    frame: np.ndarray, seconds: float = 0.75, config: STFTConfig = DEFAULT_STFT
) -> np.ndarray:
    """A short sound from one decoded frame: the frame repeated, through :func:`griffin_lim`."""
    n_frames = max(int(seconds * config.sample_rate / config.hop_length), 2)
    wave = griffin_lim(
        np.repeat(np.asarray(frame)[None], n_frames, axis=0), n_iter=16, config=config
    )
    fade = min(len(wave) // 8, 800)
    ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
    wave[:fade] *= ramp
    wave[len(wave) - fade :] *= ramp[::-1]
    return wave


LatentEdit = Callable[[np.ndarray], np.ndarray]
"""Maps posterior means ``(n_items, n_encoders, n_frames, latent)`` to the latents to decode."""


@torch.no_grad()
def resynthesise(
    model: VAENetwork | NeuralSeparator,
    mixtures: np.ndarray,
    edit: LatentEdit | None = None,
    config: STFTConfig = DEFAULT_STFT,
) -> np.ndarray:
    """Separate 16 kHz mixtures after editing their μ-trajectories.

    Each mixture is encoded frame by frame, ``edit`` changes the posterior
    means, the decoders turn them into per-source estimates, the joint soft
    mask shares the mixture STFT out between the sources, and the mixture
    phase is reused. With ``edit=None`` this is exactly ``model.separate``.

    Args:
        mixtures: ``(n_samples,)`` or a batch ``(n_items, n_samples)``.

    Returns:
        ``(n_sources, n_samples)`` or ``(n_items, n_sources, n_samples)``
        float32, at the mixtures' own level.
    """
    network = as_vae(model)
    batch = np.atleast_2d(np.asarray(mixtures, dtype=np.float32))
    scaled, gains = normalise_level(batch)  # as the separator does; gains (items, 1)
    spectrum = stft(torch.from_numpy(scaled), config)  # (items, n_frames, n_bins)
    mu, _ = encode_magnitudes(network, spectrum.abs().numpy())  # (items, frames, enc, latent)
    z = np.ascontiguousarray(mu.transpose(0, 2, 1, 3))  # (items, enc, frames, latent)
    if edit is not None:
        z = np.asarray(edit(z), dtype=np.float32)
    device = next(network.parameters()).device
    estimates = network.decode(
        torch.from_numpy(z).to(device)
    ).cpu()  # (items, sources, frames, bins)
    masks = joint_soft_mask(estimates, source_axis=1)  # (items, sources, frames, bins)
    waves = apply_masks(masks, spectrum, batch.shape[-1], config).numpy() / gains[:, :, None]
    waves = waves.astype(np.float32)
    return waves[0] if np.ndim(mixtures) == 1 else waves


def set_dims(
    dims: Sequence[int] | np.ndarray, value: float = 0.0, encoder: int | None = None
) -> LatentEdit:
    """An edit that pins latent dimensions ``dims`` to ``value`` (0 is the prior mean) in every frame.

    ``encoder=None`` edits every encoder's latent, else only that one.
    """
    dims = np.asarray(dims, dtype=int)

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        encoders = range(z.shape[-3]) if encoder is None else [encoder]
        for e in encoders:
            z[..., e, :, dims] = value
        return z

    return edit


def keep_only_dims(
    dims_per_encoder: Sequence[Sequence[int] | np.ndarray], value: float = 0.0
) -> LatentEdit:
    """An edit that pins every dimension *except* ``dims_per_encoder[e]`` of encoder e to ``value``."""

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        for e, dims in enumerate(dims_per_encoder):
            drop = np.setdiff1d(np.arange(z.shape[-1]), np.asarray(dims, dtype=int))
            z[..., e, :, drop] = value
        return z

    return edit


def shift_along(direction: np.ndarray, amount: float, encoder: int = 0) -> LatentEdit:
    """An edit that adds ``amount · direction`` to encoder ``encoder``'s latent in every frame."""
    step = amount * np.asarray(direction, dtype=np.float32)

    def edit(z: np.ndarray) -> np.ndarray:
        z = z.copy()
        z[..., encoder, :, :] += step
        return z

    return edit


def separation_with_top_units(
    model: VAENetwork | NeuralSeparator,
    sources: np.ndarray,
    stats: UnitStatistics,
    counts: Sequence[int],
) -> dict[int, np.ndarray]:
    """SI-SDR when each encoder keeps only its ``k`` most active units (the rest pinned to 0).

    Args:
        sources: ``(n_items, n_sources, n_samples)`` test items (their sum is the mixture).
        stats: the unit statistics that rank the dimensions.
        counts: the values of ``k`` to try.

    Returns:
        ``k`` → SI-SDR in dB, ``(n_items, n_sources)``.
    """
    from vaesep.metrics import si_sdr

    sources = np.asarray(sources, dtype=np.float32)
    mixtures = sources.sum(axis=1)
    results = {}
    for k in counts:
        ranked = [np.argsort(-stats.activity[e])[:k] for e in range(len(stats.encoder_names))]
        estimates = resynthesise(model, mixtures, keep_only_dims(ranked))
        results[int(k)] = np.stack(
            [si_sdr(ref, est) for ref, est in zip(sources, estimates, strict=True)]
        )
    return results


def frames_db(
    frames: np.ndarray, floor_db: float = -80.0, reference: float | None = None
) -> np.ndarray:
    """Magnitude frames in dB re ``reference`` (default: their overall peak), floored at ``floor_db``."""
    frames = np.asarray(frames, dtype=np.float64)
    reference = float(frames.max()) if reference is None else float(reference)
    return np.maximum(20 * np.log10(np.maximum(frames, 1e-12) / max(reference, 1e-12)), floor_db)


def pick_frame(
    codes: LatentSet,
    *,
    input: str,
    dominant: str | None = None,
    voiced: bool = True,
    by: str = "level_db",
    rank: int = 0,
) -> int:
    """Index (into ``codes``) of a clear example frame.

    Among the frames of ``input`` (voiced ones if asked, with ``dominant`` the
    loudest source if given), the ``rank``-th largest by label ``by``: e.g.
    ``pick_frame(codes, input="mixture", dominant="v", by="margin_db")`` is
    the mixture frame where v leads m by the most.
    """
    labels = codes.labels
    chosen = labels["input"] == input
    if voiced:
        chosen &= labels["voiced"]
    if dominant is not None:
        chosen &= labels["dominant"] == dominant
    candidates = np.flatnonzero(chosen)
    if candidates.size == 0:
        raise ValueError(
            f"no frames of input {input!r} match (voiced={voiced}, dominant={dominant!r})"
        )
    order = candidates[np.argsort(-labels[by][candidates], kind="stable")]
    return int(order[min(rank, order.size - 1)])


def probe_accuracy(
    points: np.ndarray, labels: np.ndarray, *, folds: int = 5, seed: int = 0
) -> float:
    """Cross-validated accuracy of a linear classifier predicting ``labels`` from ``points``.

    A *linear probe*: if a straight cut through the latent space separates
    the classes, the information is there in a simple form. Compare it with
    the share of the most frequent class, what guessing achieves.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(classifier, points, labels, cv=splitter).mean())
