"""The paper's model: an MLP variational autoencoder on magnitude frames, and its ELBO.

Pandey, Kumar & Namboodiri (2018) encode a mixture frame into a Gaussian latent and
decode a separated source from it (the authors' sizes: 513 → 128 → 64-d latent → 128 →
513 per source). Notebook 02, "The model, from the ELBO", derives the loss term by term
and where we depart from the paper: the ELBO on the *separated* magnitudes (after the
joint soft mask of Huang et al. 2015) with β warmed up; standardised log-magnitude
inputs with context frames; z = μ at test time. ``deterministic=True`` is the paper's
plain autoencoder baseline.

:class:`MaskingNetwork`, what every trained separator shares (features, soft mask,
likelihoods), comes first; the DNN/RNN baselines reuse it. Shapes: mixtures
``(batch, n_frames, n_bins)``, per source ``(batch, n_sources, n_frames, n_bins)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from vaesep.spectral import joint_soft_mask

LOG_FLOOR: float = 1e-3
"""Magnitude floor inside the log of the input features (avoids log(0) in silence)."""


def frames_with_context(features: torch.Tensor, context: int) -> torch.Tensor:
    """Each frame with ``context`` neighbours either side (edges repeated), side by side:
    ``(batch, n_frames, n_bins)`` → ``(batch, n_frames, (2 * context + 1) * n_bins)``."""
    if context == 0:
        return features
    first, last = features[:, :1], features[:, -1:]
    padded = torch.cat([first.expand(-1, context, -1), features, last.expand(-1, context, -1)], dim=1)
    n_frames = features.shape[1]
    return torch.cat([padded[:, offset : offset + n_frames] for offset in range(2 * context + 1)], dim=-1)


class Network(nn.Module):
    """Every network: a config dataclass naming its sources, a ``kind`` (its name in checkpoints),
    and ``forward(mixture_magnitude)`` giving a dict with at least ``"masks"``."""

    kind: ClassVar[str] = "base"
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(self.config.source_names)

    @property
    def n_sources(self) -> int:
        return len(self.config.source_names)

    def config_dict(self) -> dict[str, Any]:
        """The config as plain Python values: what checkpoints store."""
        return {key: list(value) if isinstance(value, tuple) else value for key, value in dataclasses.asdict(self.config).items()}


class MaskingNetwork(Network):
    """A network trained by gradient steps (the trainer calls :meth:`training_outputs` and :meth:`loss`).

    Subclasses implement :meth:`estimate`; their config has ``source_names``, ``n_bins``,
    ``context`` and ``likelihood``.
    """

    def __init__(self, config: Any) -> None:
        super().__init__(config)
        # per-bin statistics of the log-magnitude features, set from training mixtures
        self.register_buffer("feature_mean", torch.zeros(config.n_bins))
        self.register_buffer("feature_std", torch.ones(config.n_bins))

    @torch.no_grad()
    def initialise_weights(self) -> None:
        """Fresh weights from torch's global generator; the trainer seeds it first, so runs repeat."""
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    @torch.no_grad()
    def fit_normalisation(self, mixture_magnitude: torch.Tensor) -> None:
        """Set the per-bin feature mean and std from training mixtures ``(..., n_bins)``."""
        features = torch.log(mixture_magnitude.reshape(-1, mixture_magnitude.shape[-1]) + LOG_FLOOR)  # (frames, n_bins)
        self.feature_mean.copy_(features.mean(dim=0))
        self.feature_std.copy_(features.std(dim=0).clamp_min(1e-3))

    def features(self, mixture_magnitude: torch.Tensor) -> torch.Tensor:
        """Standardised log-magnitudes with context, ``(batch, n_frames, n_in)``."""
        features = (torch.log(mixture_magnitude + LOG_FLOOR) - self.feature_mean) / self.feature_std
        return frames_with_context(features, self.config.context)

    def estimate(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        """At least ``"estimates"``: non-negative per-source magnitudes; subclasses add their own terms."""
        raise NotImplementedError

    def forward(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        """:meth:`estimate`, plus ``"masks"`` (the joint soft mask) and ``"separated"`` = masks ⊙ |X|."""
        if mixture_magnitude.ndim != 3 or mixture_magnitude.shape[-1] != self.config.n_bins:
            raise ValueError(
                f"expected mixture magnitudes of shape (batch, n_frames, {self.config.n_bins}), "
                f"got {tuple(mixture_magnitude.shape)}"
            )
        outputs = self.estimate(mixture_magnitude)
        outputs["masks"] = joint_soft_mask(outputs["estimates"], source_axis=1)
        outputs["separated"] = outputs["masks"] * mixture_magnitude.unsqueeze(1)
        return outputs

    def training_outputs(self, batch: Any) -> dict[str, torch.Tensor]:
        """What the loss is computed on: ``forward(batch.mixture)`` (a :class:`~vaesep.batches.SpectralBatch`)."""
        return self(batch.mixture)

    def reconstruction_loss(self, separated: torch.Tensor, source_magnitude: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of the true sources per frame (sum over sources and bins, mean over frames).

        ``config.likelihood`` (notebook 02, "The likelihood has a scale"):
        ``"gaussian"``: unit variance, ½ squared error as the authors' code has it, so its size
        (and β's meaning) depends on :data:`~vaesep.spectral.REFERENCE_RMS`; ``"laplace"``:
        absolute error, likewise; ``"sigma"``: a Gaussian whose one σ² is its maximum-likelihood
        value on the batch (σ-VAE, Rybkin et al. 2021), ½ log MSE per source, frame and bin, so a
        rescaling only adds a constant; ``"is"``: a complex Gaussian on the STFT with variance
        ŝ² (Itakura–Saito, Leglaive et al. 2018), scale-free.
        """
        error = separated - source_magnitude
        likelihood = self.config.likelihood
        if likelihood in ("sigma", "is"):  # a floor relative to the data's power rescales with it
            floor = 1e-6 * source_magnitude.detach().square().mean()
        if likelihood == "gaussian":
            per_frame = 0.5 * error.square().sum(dim=(1, 3))
        elif likelihood == "laplace":
            per_frame = error.abs().sum(dim=(1, 3))
        elif likelihood == "sigma":
            return 0.5 * separated.shape[1] * separated.shape[3] * torch.log(error.square().mean() + floor)
        elif likelihood == "is":
            ratio = (source_magnitude.square() + floor) / (separated.square() + floor)
            per_frame = (ratio - torch.log(ratio) - 1.0).sum(dim=(1, 3))
        else:
            raise ValueError(f"unknown likelihood {likelihood!r}; use 'gaussian', 'laplace', 'sigma' or 'is'")
        return per_frame.mean()

    def loss(self, outputs: dict[str, torch.Tensor], source_magnitude: torch.Tensor, *, epoch: int | None = None) -> dict[str, torch.Tensor]:
        """The objective under ``"loss"``, other entries logged; ``epoch`` (zero-based) drives
        schedules such as the KL warm-up, ``None`` meaning after every schedule has finished."""
        reconstruction = self.reconstruction_loss(outputs["separated"], source_magnitude)
        return {"loss": reconstruction, "reconstruction": reconstruction}


@dataclasses.dataclass
class VAEConfig:
    """Hyperparameters of :class:`VAENetwork`; saved inside every checkpoint."""

    source_names: tuple[str, ...] = ("v", "m")
    n_bins: int = 513
    # ±2 frames (±32 ms) is our addition, after Huang et al.'s context windows; 0: the authors' sizes
    context: int = 2
    hidden: int = 128
    layers: int = 1  # hidden layers in the encoder and in the decoder (the authors: 1)
    latent: int = 64
    variant: str = "per_source"
    # "mixture": the encoders see mixtures, the loss scores the masked sources (ours); "clean": each
    # source's VAE encodes and rebuilds that source's clean frames, never a mixture (the authors'
    # code); at test time both encode the mixture
    train_on: str = "mixture"
    deterministic: bool = False
    likelihood: str = "gaussian"
    beta: float = 1.0
    kl_warmup_epochs: int = 5

    def __post_init__(self) -> None:
        self.source_names = tuple(self.source_names)
        if self.variant not in ("per_source", "shared"):
            raise ValueError(f"variant must be 'per_source' or 'shared', got {self.variant!r}")
        if self.train_on not in ("mixture", "clean"):
            raise ValueError(f"train_on must be 'mixture' or 'clean', got {self.train_on!r}")
        # one clean-trained VAE alone is a source prior (separation by inference, notebook 06)
        if len(self.source_names) < (1 if self.train_on == "clean" else 2):
            raise ValueError("a separator needs at least two source names (one is enough with train_on='clean': a source prior)")
        if self.train_on == "clean" and self.variant != "per_source":
            raise ValueError("train_on='clean' trains one VAE per source: use variant='per_source'")
        if min(self.hidden, self.latent, self.n_bins, self.layers) < 1 or self.context < 0:
            raise ValueError("hidden, latent and n_bins must be positive and context non-negative")


def _mlp(n_in: int, hidden: int, n_out: int, layers: int = 1) -> nn.Sequential:
    """``layers`` hidden ReLU layers of ``hidden`` units, then a linear output."""
    sizes = [n_in] + [hidden] * layers
    blocks: list[nn.Module] = []
    for n_from, n_to in zip(sizes[:-1], sizes[1:], strict=True):
        blocks += [nn.Linear(n_from, n_to), nn.ReLU()]
    return nn.Sequential(*blocks, nn.Linear(hidden, n_out))


class Encoder(nn.Module):
    """q(z | x): features ``(..., n_in)`` → μ and log σ², each ``(..., latent)``."""

    def __init__(self, n_in: int, hidden: int, latent: int, layers: int = 1) -> None:
        super().__init__()
        self.net = _mlp(n_in, hidden, 2 * latent, layers)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net(features).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)  # bounded so exp() cannot overflow early in training


class Decoder(nn.Module):
    """p(y | z): latent ``(..., latent)`` → non-negative magnitudes ``(..., n_bins)``."""

    def __init__(self, latent: int, hidden: int, n_bins: int, layers: int = 1) -> None:
        super().__init__()
        self.net = _mlp(latent, hidden, n_bins, layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.net(z))


class VAENetwork(MaskingNetwork):
    """The VAE separator: encoders, decoders, and the negative ELBO as its loss.

    ``mu`` and ``logvar`` are ``(batch, n_encoders, n_frames, latent)``, with
    ``n_encoders`` = ``n_sources`` for ``per_source`` and 1 for ``shared``.
    """

    kind = "vae"
    config_class = VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        n_in = (2 * config.context + 1) * config.n_bins
        n_encoders = self.n_sources if config.variant == "per_source" else 1
        self.encoders = nn.ModuleList(Encoder(n_in, config.hidden, config.latent, config.layers) for _ in range(n_encoders))
        self.decoders = nn.ModuleList(
            Decoder(config.latent, config.hidden, config.n_bins, config.layers) for _ in range(self.n_sources)
        )
        self.initialise_weights()

    @torch.no_grad()
    def initialise_weights(self) -> None:
        """Every weight from N(0, 0.01²) and zero biases, as in the authors' code."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)

    def encode(self, magnitude: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """μ and log σ² from ``(batch, n_frames, n_bins)`` (every encoder reads the mixture)
        or ``(batch, n_encoders, n_frames, n_bins)`` (one input each: clean sources)."""
        if magnitude.ndim == 4:
            posteriors = [encoder(self.features(magnitude[:, i])) for i, encoder in enumerate(self.encoders)]
        else:
            features = self.features(magnitude)
            posteriors = [encoder(features) for encoder in self.encoders]
        mu, logvar = (torch.stack(values, dim=1) for values in zip(*posteriors, strict=True))
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(batch, n_encoders, n_frames, latent)`` → ``(batch, n_sources, n_frames, n_bins)``.

        With the shared variant every decoder head reads the one latent.
        """
        latents = [z[:, min(i, z.shape[1] - 1)] for i in range(self.n_sources)]
        return torch.stack([decoder(latent) for decoder, latent in zip(self.decoders, latents, strict=True)], dim=1)

    def sample_latent(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = μ + σ·ε while training a VAE (the reparameterisation trick), else z = μ."""
        if self.training and not self.config.deterministic:
            return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return mu

    def estimate(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(mixture_magnitude)
        return {"estimates": self.decode(self.sample_latent(mu, logvar)), "mu": mu, "logvar": logvar}

    def training_outputs(self, batch: Any) -> dict[str, torch.Tensor]:
        """``train_on="clean"`` (the authors' scheme): each VAE rebuilds its own clean source, no mask."""
        if self.config.train_on == "mixture":
            return self(batch.mixture)
        outputs = self.estimate(batch.sources)  # each encoder reads its own source
        return {**outputs, "separated": outputs["estimates"]}

    def kl_weight(self, epoch: int | None) -> float:
        """β times the warm-up factor ``min(1, (epoch + 1) / kl_warmup_epochs)``; β if epoch is None."""
        if self.config.deterministic:
            return 0.0
        if epoch is None:
            return self.config.beta
        return self.config.beta * min(1.0, (epoch + 1) / max(self.config.kl_warmup_epochs, 1))

    @staticmethod
    def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(μ, σ²) ‖ N(0, I)) in nats per frame: summed over latent dims and encoders, mean over batch and frames."""
        kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)  # (batch, n_encoders, n_frames, latent)
        return kl.sum(dim=(1, 3)).mean()

    def loss(self, outputs: dict[str, torch.Tensor], source_magnitude: torch.Tensor, *, epoch: int | None = None) -> dict[str, torch.Tensor]:
        """The negative ELBO per frame: reconstruction + β_epoch · KL."""
        reconstruction = self.reconstruction_loss(outputs["separated"], source_magnitude)
        kl = self.kl_divergence(outputs["mu"], outputs["logvar"])
        return {"loss": reconstruction + self.kl_weight(epoch) * kl, "reconstruction": reconstruction, "kl": kl}
