"""What the VAE's encoders write (notebook 03, sections 1 to 3): codes of test frames with labels,
2-D views, active units. With ``variant="per_source"`` encoder s feeds only decoder s, so every
analysis takes one encoder at a time; the ``shared`` variant's one encoder is ``"shared"``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vaesep.api import PRETRAINED_DIR
from vaesep.audio import MIXTURE
from vaesep.checkpoint import load_checkpoint
from vaesep.files import markdown_table, runs_dir
from vaesep.models.vae import VAENetwork
from vaesep.spectral import DEFAULT_STFT, REFERENCE_RMS, normalise_level, stft

ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016): unit d is active when Var_x(μ_d(x)) > 0.01
F0_RANGE = (60.0, 400.0)  # pitch range (Hz) of both speakers of the speech set
VOICED_THRESHOLD = 0.6  # voiced: periodicity at least this and level above -30 dB


def as_vae(model) -> VAENetwork:
    """The :class:`VAENetwork` of a separator from ``load_model``, or the network itself."""
    network = getattr(model, "network", model)
    if not isinstance(network, VAENetwork):
        raise TypeError(f"latent-space analysis needs a VAE, got {type(network).__name__}; load "
                        "one with vaesep.load_model('vae-speech') or from notebook 02's checkpoint")
    return network


def encoder_names(model) -> tuple[str, ...]:
    """One name per encoder: the source names for ``per_source``, ``("shared",)`` otherwise."""
    network = as_vae(model)
    return network.source_names if network.config.variant == "per_source" else ("shared",)


def _steps(path) -> int:
    record = load_checkpoint(path)
    epochs = len((record.get("history") or {}).get("epoch", []))
    return epochs * int((record.get("train_config") or {}).get("steps_per_epoch", 0))


def find_checkpoint(pretrained: str = "vae-speech") -> str:
    """Notebook 02's ``runs_dir()/02_vae.pt`` if it trained at least as long as ``pretrained``
    (a barely trained model makes every analysis describe noise), else ``pretrained``; says so."""
    trained, reference = runs_dir() / "02_vae.pt", _steps(PRETRAINED_DIR / f"{pretrained}.pt")
    shipped = f"USING the shipped {pretrained!r} ({reference:,} training steps)"
    if not trained.is_file():
        print(f"{shipped}: notebook 02 has not run")
        return pretrained
    if (trained_steps := _steps(trained)) >= reference:
        print(f"USING notebook 02's model {trained}: {trained_steps:,} training steps")
        return str(trained)
    print(f"{shipped}, NOT {trained}: that one was trained for only {trained_steps:,} steps, "
          "too few for the analyses below to mean anything")
    return pretrained



def _frames(waves: np.ndarray) -> np.ndarray:
    """``(..., n_samples)`` → ``(..., n_frames, n_fft)`` float64, centred like the STFT's frames."""
    half, hop = DEFAULT_STFT.n_fft // 2, DEFAULT_STFT.hop_length
    pad = [(0, 0)] * (np.ndim(waves) - 1) + [(half, half)]
    padded = np.pad(np.asarray(waves, dtype=np.float64), pad)
    windows = np.lib.stride_tricks.sliding_window_view(padded, DEFAULT_STFT.n_fft, axis=-1)
    return windows[..., ::hop, :]


def frame_level_db(waves: np.ndarray) -> np.ndarray:
    """RMS of each frame ``(..., n_frames)`` in dB re REFERENCE_RMS: 0 dB is a mixture's average."""
    level = np.sqrt(np.mean(np.square(_frames(waves)), axis=-1))
    return 20 * np.log10(np.maximum(level, 1e-8) / REFERENCE_RMS)


def periodicity(waves: np.ndarray) -> np.ndarray:
    """Voicing in [0, 1] per frame: the peak over ``F0_RANGE``'s lags of the Hann-windowed frame's
    normalised autocorrelation over the window's own (Boersma 1993); ~50× faster than pyin."""
    n_fft, rate = DEFAULT_STFT.n_fft, DEFAULT_STFT.sample_rate
    window = np.hanning(n_fft + 1)[:-1]

    def autocorrelation(x: np.ndarray) -> np.ndarray:
        power = np.abs(np.fft.rfft(x, n=2 * n_fft, axis=-1)) ** 2
        return np.fft.irfft(power, n=2 * n_fft, axis=-1)[..., :n_fft]

    r_x, r_w = autocorrelation(_frames(waves) * window), autocorrelation(window)
    lags = slice(int(rate / F0_RANGE[1]), min(int(rate / F0_RANGE[0]), n_fft - 1) + 1)
    ratio = (r_x[..., lags] / np.maximum(r_x[..., :1], 1e-12)) / (r_w[lags] / r_w[0])
    return np.clip(ratio.max(axis=-1), 0.0, 1.0)


@dataclass
class LatentSet:
    """μ and log σ² ``(n_frames, n_encoders, latent)`` of many frames, with ``(n_frames,)`` labels:
    ``input`` (a source or ``"mixture"``), ``item``, ``frame``, ``level_db``, ``periodicity``,
    ``voiced``, ``dominant`` (the loudest source) and ``margin_db`` (its lead over the next)."""

    mu: np.ndarray
    logvar: np.ndarray
    labels: dict[str, np.ndarray]
    encoder_names: tuple[str, ...]
    source_names: tuple[str, ...]

    def __len__(self) -> int:
        return self.mu.shape[0]

    def means(self, encoder: str | int) -> np.ndarray:
        """μ of one encoder, ``(n_frames, latent)``."""
        index = self.encoder_names.index(encoder) if isinstance(encoder, str) else encoder
        return self.mu[:, index]

    def where(self, **conditions: object) -> LatentSet:
        """The frames whose labels equal the given values, e.g. ``codes.where(input="mixture")``."""
        keep = np.ones(len(self), dtype=bool)
        for key, value in conditions.items():
            keep &= self.labels[key] == value
        labels = {key: values[keep] for key, values in self.labels.items()}
        return LatentSet(self.mu[keep], self.logvar[keep], labels, self.encoder_names,
                         self.source_names)


@torch.no_grad()
def _encode(network: VAENetwork, magnitudes: torch.Tensor) -> tuple[np.ndarray, ...]:
    """μ and log σ² ``(items, frames, encoders, latent)`` of ``(items, frames, bins)``."""
    was_training, device = network.training, next(network.parameters()).device
    network.eval()
    parts = [network.encode(magnitudes[i : i + 16].to(device))
             for i in range(0, magnitudes.shape[0], 16)]
    network.train(was_training)
    return tuple(torch.cat([p[k] for p in parts]).transpose(1, 2).cpu().numpy() for k in (0, 1))


def encode_frames(model, sources: np.ndarray, *, frames_per_input: int | None = None,
                  include_sources: bool = True, min_level_db: float | None = -50.0,
                  seed: int = 0) -> LatentSet:
    """Encode every frame of items ``(n_items, n_sources, n_samples)`` fed as each source alone
    (with ``include_sources``) and as mixtures, all by the gain that brings the mixture to the
    training level; frames below ``min_level_db`` dropped, ``frames_per_input`` kept at random."""
    network = as_vae(model)
    sources = np.asarray(sources, dtype=np.float32)
    if sources.shape[1] != network.n_sources:
        raise ValueError(f"sources have {sources.shape[1]} rows, "
                         f"the model separates {network.n_sources}")
    mixtures, gains = normalise_level(sources.sum(axis=1))  # gains (items, 1), as the separator's
    # the mixture's gain: a source alone is what the encoder hears if the other falls silent
    sources = (sources * gains[:, :, None]).astype(np.float32)
    source_levels = frame_level_db(sources)  # (items, sources, frames)
    dominant = np.asarray(network.source_names)[source_levels.argmax(axis=1)]
    ranked = np.sort(source_levels, axis=1)
    margin = (ranked[:, -1] - ranked[:, -2]).reshape(-1)
    inputs = list(zip(network.source_names, sources.transpose(1, 0, 2), strict=True))
    inputs = [*(inputs if include_sources else []), (MIXTURE, mixtures)]
    rng, parts = np.random.default_rng(seed), []
    for name, waves in inputs:  # waves: (items, samples)
        mu, logvar = _encode(network, stft(torch.as_tensor(waves)).abs())
        n_items, n_frames = mu.shape[:2]
        level, voicing = frame_level_db(waves).reshape(-1), periodicity(waves).reshape(-1)
        part = {"mu": mu.reshape(-1, *mu.shape[2:]), "logvar": logvar.reshape(-1, *mu.shape[2:]),
                "input": np.full(n_items * n_frames, name),
                "item": np.repeat(np.arange(n_items), n_frames),
                "frame": np.tile(np.arange(n_frames), n_items),
                "level_db": level, "periodicity": voicing,
                "dominant": (dominant if name == MIXTURE else np.full_like(dominant, name)).ravel(),
                "margin_db": margin, "voiced": (voicing >= VOICED_THRESHOLD) & (level > -30.0)}
        keep = np.arange(n_items * n_frames)
        if min_level_db is not None:
            keep = keep[level > min_level_db]  # digital silence is one point that swamps plots
        if frames_per_input is not None and keep.size > frames_per_input:
            keep = np.sort(rng.choice(keep, frames_per_input, replace=False))
        parts.append({key: value[keep] for key, value in part.items()})
    merged = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return LatentSet(merged.pop("mu").astype(np.float32), merged.pop("logvar").astype(np.float32),
                     merged, encoder_names(network), network.source_names)


def pick_frame(codes: LatentSet, dominant: str) -> int:
    """Index of the voiced mixture frame in which source ``dominant`` leads the others most."""
    labels = codes.labels
    chosen = (labels["input"] == MIXTURE) & labels["voiced"] & (labels["dominant"] == dominant)
    if not chosen.any():
        raise ValueError(f"no voiced mixture frame in which {dominant!r} is the loudest source")
    return int(np.flatnonzero(chosen)[np.argmax(labels["margin_db"][chosen])])



@dataclass
class PCAProjection:
    """PCA of latent means: ``coords`` ``(n_points, k)``, ``mean``, unit ``components`` ``(k,
    latent)``, the ``std`` along each and its ``explained`` share of the variance."""

    coords: np.ndarray
    mean: np.ndarray
    components: np.ndarray
    std: np.ndarray
    explained: np.ndarray

    def point(self, offsets: Sequence[float], base: np.ndarray | None = None) -> np.ndarray:
        """``base`` (default: the mean) moved ``offsets[k]`` standard deviations along PC k."""
        offsets = np.asarray(offsets, dtype=np.float64)
        base = self.mean if base is None else np.asarray(base, dtype=np.float64)
        k = offsets.shape[0]
        return (base + (offsets * self.std[:k]) @ self.components[:k]).astype(np.float32)


def pca_projection(points: np.ndarray, n_components: int = 2, seed: int = 0) -> PCAProjection:
    """PCA of ``points`` ``(n_points, latent)`` (scikit-learn, full SVD)."""
    from sklearn.decomposition import PCA

    pca = PCA(min(n_components, *points.shape), svd_solver="full", random_state=seed).fit(points)
    return PCAProjection(pca.transform(points), pca.mean_, pca.components_,
                         np.sqrt(pca.explained_variance_), pca.explained_variance_ratio_)


def tsne_projection(points: np.ndarray, perplexity: float = 30.0, seed: int = 0,
                    max_iter: int = 1000) -> np.ndarray:
    """2-D t-SNE of ``points``, PCA-initialised; perplexity capped at a third of the points."""
    from sklearn.manifold import TSNE

    perplexity = float(min(perplexity, max((points.shape[0] - 1) / 3.0, 1.0)))
    tsne = TSNE(2, perplexity=perplexity, init="pca", learning_rate="auto",
                max_iter=max(int(max_iter), 250), random_state=seed)  # sklearn needs ≥ 250
    return tsne.fit_transform(np.asarray(points, dtype=np.float32))


def probe_accuracy(points: np.ndarray, labels: np.ndarray, *, folds: int = 5,
                   seed: int = 0) -> float:
    """Cross-validated accuracy of a linear classifier of ``labels`` from ``points``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(classifier, points, labels, cv=splitter).mean())



@dataclass
class UnitStatistics:
    """Per encoder and unit ``(n_encoders, latent)``: ``activity`` Var_x(μ_d(x)) (Burda et al.),
    ``posterior_variance`` E_x[σ²_d] (≈ 1 when collapsed), ``kl`` E_x[KL(q(z_d|x) ‖ N(0, 1))]
    in nats, and ``active`` (activity > ``threshold``)."""

    activity: np.ndarray
    posterior_variance: np.ndarray
    kl: np.ndarray
    active: np.ndarray
    threshold: float
    encoder_names: tuple[str, ...]

    @property
    def n_active(self) -> dict[str, int]:
        pairs = zip(self.encoder_names, self.active, strict=True)
        return {name: int(row.sum()) for name, row in pairs}

    def top_units(self, k: int) -> list[np.ndarray]:
        """Per encoder, the indices of its ``k`` most active units, most active first."""
        return [np.argsort(-activity, kind="stable")[:k] for activity in self.activity]

    def units_holding(self, fraction: float = 0.9) -> dict[str, int]:
        """Per encoder, the fewest units whose KL adds up to ``fraction`` of its total."""
        shares = [np.cumsum(np.sort(kl)[::-1]) / max(float(kl.sum()), 1e-12) for kl in self.kl]
        return {name: int(np.searchsorted(share, fraction) + 1)
                for name, share in zip(self.encoder_names, shares, strict=True)}

    def summary(self) -> str:
        """A Markdown table, one row per encoder: active units, KL and posterior variance."""
        holding = self.units_holding(0.9)
        variances = [[f"{variance[chosen].mean():.3f}" if chosen.any() else "–"
                      for chosen in (active, ~active)]
                     for variance, active in zip(self.posterior_variance, self.active, strict=True)]
        rows = [[name, active.size, int(active.sum()), holding[name], f"{kl.sum():.2f}", *shown]
                for name, active, kl, shown in
                zip(self.encoder_names, self.active, self.kl, variances, strict=True)]
        return markdown_table(["encoder", "latent dims", f"active (Var μ > {self.threshold:g})",
                               "units holding 90 % of the KL", "KL per frame (nats)",
                               "mean σ² of active", "mean σ² of inactive"], rows)


def unit_statistics(mu: np.ndarray, logvar: np.ndarray, *, encoder_names: Sequence[str],
                    threshold: float = ACTIVE_THRESHOLD) -> UnitStatistics:
    """Active units and KL per unit from posterior parameters ``(n_frames, n_encoders, latent)``."""
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    if mu.shape[0] < 2:
        raise ValueError("need at least two frames to measure how the posterior mean varies")
    activity = mu.var(axis=0, ddof=1)
    kl = 0.5 * (np.square(mu) + np.exp(logvar) - 1.0 - logvar)
    return UnitStatistics(activity, np.exp(logvar).mean(axis=0), kl.mean(axis=0),
                          activity > threshold, threshold, tuple(encoder_names))
