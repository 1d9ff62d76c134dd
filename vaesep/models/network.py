"""What every trainable spectrogram separator shares.

A :class:`MaskingNetwork` maps mixture magnitudes ``(batch, n_frames, n_bins)``
to per-source non-negative estimates, which the joint soft-mask layer of
Huang et al. (2015) turns into masks. The trainer (:mod:`vaesep.train`) only
calls :meth:`MaskingNetwork.forward` and :meth:`MaskingNetwork.loss`, so the
VAE, the autoencoder and the DNN/RNN baselines all train with one loop.
Notebook 02, section "From estimates to masks", explains the layer.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from vaesep.spectral import joint_soft_mask

LOG_FLOOR: float = 1e-3
"""Magnitude floor inside the log of the input features (avoids log(0) in silence)."""

REFERENCE_RMS: float = 0.1
"""Each mixture is scaled to this RMS before the STFT the network sees.

Separation must not depend on how loud a recording is. The masks are
computed on the rescaled magnitudes and applied to the original STFT, so
the output keeps the input's level.
"""


def frames_with_context(features: torch.Tensor, context: int) -> torch.Tensor:
    """Stack each frame with its ``context`` neighbours on either side.

    Args:
        features: ``(batch, n_frames, n_bins)``.
        context: frames on each side; edge frames repeat the first/last frame.

    Returns:
        ``(batch, n_frames, (2 * context + 1) * n_bins)``.
    """
    if context == 0:
        return features
    padded = torch.cat(
        [features[:, :1].expand(-1, context, -1), features, features[:, -1:].expand(-1, context, -1)],
        dim=1,
    )
    n_frames = features.shape[1]
    return torch.cat([padded[:, offset : offset + n_frames] for offset in range(2 * context + 1)], dim=-1)


class MaskingNetwork(nn.Module):
    """Base class: input normalisation, soft-mask output and the shared loss.

    Subclasses set :attr:`kind` (the name saved in checkpoints), take a
    dataclass config with at least ``source_names``, ``n_bins`` and
    ``context``, and implement :meth:`estimate`.
    """

    kind: ClassVar[str] = "base"
    config_class: ClassVar[type]

    def __init__(self, config: Any) -> None:
        super().__init__()
        self.config = config
        n_bins = config.n_bins
        # per-bin statistics of the log-magnitude features, set from training data
        self.register_buffer("feature_mean", torch.zeros(n_bins))
        self.register_buffer("feature_std", torch.ones(n_bins))

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(self.config.source_names)

    @property
    def n_sources(self) -> int:
        return len(self.config.source_names)

    @torch.no_grad()
    def initialise_weights(self) -> None:
        """Draw fresh weights from torch's global generator (seed it first).

        The trainer calls this after seeding, so a run is reproducible from its
        seed whatever the generator's state was when the network was built.
        Subclasses with a specific initialisation override it.
        """
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    @torch.no_grad()
    def fit_normalisation(self, mixture_magnitude: torch.Tensor) -> None:
        """Set the feature mean/std per bin from training mixtures ``(..., n_bins)``."""
        features = torch.log(mixture_magnitude.reshape(-1, mixture_magnitude.shape[-1]) + LOG_FLOOR)
        self.feature_mean.copy_(features.mean(dim=0))
        self.feature_std.copy_(features.std(dim=0).clamp_min(1e-3))

    def features(self, mixture_magnitude: torch.Tensor) -> torch.Tensor:
        """Standardised log-magnitudes with context, ``(batch, n_frames, n_in)``."""
        features = (torch.log(mixture_magnitude + LOG_FLOOR) - self.feature_mean) / self.feature_std
        return frames_with_context(features, self.config.context)

    def estimate(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        """Network outputs for ``(batch, n_frames, n_bins)`` mixture magnitudes.

        Returns a dict with at least ``"estimates"``: non-negative per-source
        magnitudes ``(batch, n_sources, n_frames, n_bins)``; subclasses add
        their own terms (e.g. the VAE's ``"mu"`` and ``"logvar"``).
        """
        raise NotImplementedError

    def forward(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run :meth:`estimate` and add ``"masks"`` and ``"separated"`` magnitudes.

        Args:
            mixture_magnitude: ``(batch, n_frames, n_bins)``.

        Returns:
            dict with ``"masks"`` and ``"separated"``, each
            ``(batch, n_sources, n_frames, n_bins)``, plus the :meth:`estimate` terms.
        """
        if mixture_magnitude.ndim != 3 or mixture_magnitude.shape[-1] != self.config.n_bins:
            raise ValueError(
                f"expected mixture magnitudes of shape (batch, n_frames, {self.config.n_bins}), "
                f"got {tuple(mixture_magnitude.shape)}"
            )
        outputs = self.estimate(mixture_magnitude)
        masks = joint_soft_mask(outputs["estimates"], source_axis=1)
        outputs["masks"] = masks
        outputs["separated"] = masks * mixture_magnitude.unsqueeze(1)
        return outputs

    def training_outputs(self, batch: Any) -> dict[str, torch.Tensor]:
        """What the loss is computed on during training: by default ``forward(batch.mixture)``.

        ``batch`` is a :class:`vaesep.batches.SpectralBatch`. A network trained
        another way (the authors' VAE, on clean sources) overrides this.
        """
        return self(batch.mixture)

    def reconstruction_loss(
        self, separated: torch.Tensor, source_magnitude: torch.Tensor
    ) -> torch.Tensor:
        """Per-frame negative log-likelihood of the true sources, summed over sources and bins.

        Args:
            separated, source_magnitude: ``(batch, n_sources, n_frames, n_bins)``.

        Likelihoods (``config.likelihood``), mean over frames:

        * ``"gaussian"``: unit-variance Gaussian on magnitudes (½ squared error),
          as the authors' code scales it. Its size, and so the meaning of β,
          depends on the loudness convention :data:`REFERENCE_RMS`.
        * ``"laplace"``: unit-scale Laplace (absolute error); same caveat.
        * ``"sigma"``: Gaussian whose variance σ² is set to its maximum-likelihood
          value on the batch, the mean squared error (σ-VAE, Rybkin et al. 2021):
          ½ log σ² per source, frame and bin, up to a constant. Rescaling the
          data adds a constant, so the optimum does not depend on the level. One
          σ² for all bins keeps the loud bins, which dominate SDR, weighted as in
          the squared error (a variance per bin would weight every bin alike).
        * ``"is"``: complex Gaussian on the STFT with variance ŝ² (Itakura–Saito
          divergence between the true and estimated power), the likelihood of
          VAE speech models (Leglaive et al. 2018); scale-invariant too.
        """
        error = separated - source_magnitude
        likelihood = self.config.likelihood
        if likelihood == "gaussian":
            per_frame = 0.5 * error.square().sum(dim=(1, 3))
        elif likelihood == "laplace":
            per_frame = error.abs().sum(dim=(1, 3))
        elif likelihood == "sigma":
            # one variance for every bin, at its maximum-likelihood value on the batch (the mean
            # squared error); the floor is relative to the data's power so it rescales with it
            floor = 1e-6 * source_magnitude.detach().square().mean()
            variance = error.square().mean() + floor
            return 0.5 * separated.shape[1] * separated.shape[3] * torch.log(variance)
        elif likelihood == "is":
            floor = 1e-6 * source_magnitude.detach().square().mean()
            ratio = (source_magnitude.square() + floor) / (separated.square() + floor)
            per_frame = (ratio - torch.log(ratio) - 1.0).sum(dim=(1, 3))
        else:
            raise ValueError(
                f"unknown likelihood {likelihood!r}; use 'gaussian', 'laplace', 'sigma' or 'is'"
            )
        return per_frame.mean()

    def loss(
        self,
        outputs: dict[str, torch.Tensor],
        source_magnitude: torch.Tensor,
        *,
        epoch: int | None = None,
    ) -> dict[str, torch.Tensor]:
        """Training objective; must contain ``"loss"``. Other entries are logged.

        Args:
            outputs: what :meth:`forward` returned.
            source_magnitude: ``(batch, n_sources, n_frames, n_bins)``, the truth.
            epoch: zero-based epoch, for schedules such as KL warm-up;
                ``None`` means after every schedule has finished.
        """
        reconstruction = self.reconstruction_loss(outputs["separated"], source_magnitude)
        return {"loss": reconstruction, "reconstruction": reconstruction}

    def config_dict(self) -> dict[str, Any]:
        """The config as plain Python values (what checkpoints store)."""
        values = dataclasses.asdict(self.config)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}
