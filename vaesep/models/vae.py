"""The paper's model: an MLP variational autoencoder on magnitude frames.

Pandey, Kumar & Namboodiri (2018) encode a mixture spectrogram frame into a
Gaussian latent and decode the separated source from it. The sizes follow
the authors' released code (513 → 128 → 64-d latent → 128 → 513 per source).
Where the paper is silent, the choices below are ours, and notebook 02,
section "The model, from the ELBO", states each of them:

* the ELBO is the textbook one (Kingma & Welling 2014): a Gaussian or
  Laplace likelihood of the *separated* magnitudes (after the joint soft
  mask, as in Huang et al. 2015) plus β·KL(q(z|x) ‖ N(0, I)), with β
  warmed up linearly over the first epochs;
* the encoder sees standardised log-magnitudes of the frame and, by default,
  two context frames on each side;
* ``variant="per_source"`` trains one VAE per source (the authors' code),
  ``variant="shared"`` one encoder and latent with a decoder head per source;
* at test time z = μ (no sampling), as the authors do;
* ``deterministic=True`` drops sampling and KL: the same network as a plain
  autoencoder, the paper's "autoencoder" baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vaesep.models.network import MaskingNetwork


@dataclass
class VAEConfig:
    """Hyperparameters of :class:`VAENetwork`; saved inside every checkpoint."""

    source_names: tuple[str, ...] = ("v", "m")
    n_bins: int = 513
    # two frames either side (±32 ms) is our addition, after Huang et al.'s context
    # windows; context=0 gives exactly the authors' layer sizes
    context: int = 2
    hidden: int = 128
    # hidden layers in the encoder and in the decoder (the authors: 1; 3 matches the DNN)
    layers: int = 1
    latent: int = 64
    variant: str = "per_source"
    # "mixture": encoders see the mixture, the loss scores the masked sources (ours);
    # "clean": each source's VAE encodes and reconstructs that source's clean frames, the
    # mixture is never seen in training (the authors' released code); at test time both
    # encode the mixture
    train_on: str = "mixture"
    deterministic: bool = False
    likelihood: str = "gaussian"
    beta: float = 1.0
    kl_warmup_epochs: int = 5

    def __post_init__(self) -> None:
        self.source_names = tuple(self.source_names)
        if self.variant not in ("per_source", "shared"):
            raise ValueError(f"variant must be 'per_source' or 'shared', got {self.variant!r}")
        # one clean-trained VAE alone is a source prior (separation by inference, notebook 06)
        if len(self.source_names) < (1 if self.train_on == "clean" else 2):
            raise ValueError(
                "a separator needs at least two source names (one is enough with train_on='clean': a source prior)"
            )
        if self.train_on not in ("mixture", "clean"):
            raise ValueError(f"train_on must be 'mixture' or 'clean', got {self.train_on!r}")
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
        # bounded so exp() cannot overflow in the first steps of training
        return mu, logvar.clamp(-12.0, 8.0)


class Decoder(nn.Module):
    """p(y | z): latent ``(..., latent)`` → non-negative magnitudes ``(..., n_bins)``."""

    def __init__(self, latent: int, hidden: int, n_bins: int, layers: int = 1) -> None:
        super().__init__()
        self.net = _mlp(latent, hidden, n_bins, layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return nn.functional.softplus(self.net(z))


class VAENetwork(MaskingNetwork):
    """The VAE separator network.

    Input ``(batch, n_frames, n_bins)`` mixture magnitudes; outputs per-source
    estimates ``(batch, n_sources, n_frames, n_bins)`` and the posterior
    parameters ``mu``/``logvar`` of shape ``(batch, n_encoders, n_frames, latent)``
    where ``n_encoders`` is ``n_sources`` for ``per_source`` and 1 for ``shared``.
    """

    kind = "vae"
    config_class = VAEConfig

    def __init__(self, config: VAEConfig) -> None:
        super().__init__(config)
        n_in = (2 * config.context + 1) * config.n_bins
        n_encoders = self.n_sources if config.variant == "per_source" else 1
        self.encoders = nn.ModuleList(
            Encoder(n_in, config.hidden, config.latent, config.layers) for _ in range(n_encoders)
        )
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

    def encode(self, mixture_magnitude: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior parameters, each ``(batch, n_encoders, n_frames, latent)``.

        ``mixture_magnitude`` is ``(batch, n_frames, n_bins)``, seen by every
        encoder, or ``(batch, n_encoders, n_frames, n_bins)``, one input per encoder.
        """
        if mixture_magnitude.ndim == 4:
            posteriors = [encoder(self.features(mixture_magnitude[:, i])) for i, encoder in enumerate(self.encoders)]
        else:
            features = self.features(mixture_magnitude)
            posteriors = [encoder(features) for encoder in self.encoders]
        mu = torch.stack([p[0] for p in posteriors], dim=1)
        logvar = torch.stack([p[1] for p in posteriors], dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Per-source magnitudes ``(batch, n_sources, n_frames, n_bins)``.

        Args:
            z: ``(batch, n_encoders, n_frames, latent)``; with the shared
                variant every decoder head reads the one latent.
        """
        latents = [z[:, min(i, z.shape[1] - 1)] for i in range(self.n_sources)]
        return torch.stack([decoder(latent) for decoder, latent in zip(self.decoders, latents, strict=True)], dim=1)

    def sample_latent(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = μ + σ·ε while training a VAE (the reparameterisation trick), else μ."""
        if self.training and not self.config.deterministic:
            return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return mu

    def estimate(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.encode(mixture_magnitude)
        estimates = self.decode(self.sample_latent(mu, logvar))
        return {"estimates": estimates, "mu": mu, "logvar": logvar}

    def training_outputs(self, batch) -> dict[str, torch.Tensor]:
        """The authors' scheme (``train_on="clean"``): each VAE reconstructs its own clean source.

        ``"separated"`` is then the decoder output itself (no mixture, so no mask).
        """
        if self.config.train_on == "mixture":
            return self(batch.mixture)
        mu, logvar = self.encode(batch.sources)
        estimates = self.decode(self.sample_latent(mu, logvar))
        return {"estimates": estimates, "separated": estimates, "mu": mu, "logvar": logvar}

    def kl_weight(self, epoch: int | None) -> float:
        """β times the warm-up factor ``min(1, (epoch + 1) / kl_warmup_epochs)``; β if epoch is None."""
        if self.config.deterministic:
            return 0.0
        if epoch is None:
            return self.config.beta
        warmup = max(self.config.kl_warmup_epochs, 1)
        return self.config.beta * min(1.0, (epoch + 1) / warmup)

    @staticmethod
    def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(μ, σ²) ‖ N(0, I)) per frame, summed over latent dims and encoders.

        Args:
            mu, logvar: ``(batch, n_encoders, n_frames, latent)``.

        Returns:
            mean over batch and frames of the closed-form KL, in nats.
        """
        kl = 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)
        return kl.sum(dim=(1, 3)).mean()

    def loss(
        self,
        outputs: dict[str, torch.Tensor],
        source_magnitude: torch.Tensor,
        *,
        epoch: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Negative ELBO per frame: reconstruction + β_epoch · KL."""
        reconstruction = self.reconstruction_loss(outputs["separated"], source_magnitude)
        kl = self.kl_divergence(outputs["mu"], outputs["logvar"])
        total = reconstruction + self.kl_weight(epoch) * kl
        return {"loss": total, "reconstruction": reconstruction, "kl": kl}
