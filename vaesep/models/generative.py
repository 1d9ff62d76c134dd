"""Separation as inference: VAE source priors and the mixture's likelihood (notebook 06).

Every other separator is trained on mixtures. This one has a generative model of
each source, trained on that source alone (:mod:`vaesep.priors`), and separates by
*inference*: it looks for the latent codes whose decoded sources explain the mixture
(Leglaive, Girin & Horaud 2018; Bando et al. 2018). Notebook 06, "From the generative
model to the objective", derives what the code below computes term by term::

    X_ft = Σ_i S_ift,   S_ift ~ CN(0, g_it · v_ift),   v_ift = d_i(z_it)_f²,   z_it ~ N(0, I),   g_it > 0

so ``X_ft ~ CN(0, V_ft)``. A source without a prior (the noise in denoising) is NMF
fitted on the mixture itself, ``[W_n H_n]_ft`` in place of ``g_it v_ift``. Inference
minimises the negative log-posterior per frame, up to constants (``log V + P / V`` is
the Itakura–Saito divergence of ``P`` and ``V`` plus a constant)::

    L(z, g, W, H) = (1/T) [ Σ_ft ( log V_ft + P_ft / V_ft ) + ½ Σ_it ‖z_it‖² ]
    V_ft = Σ_i g_it v_ift + Σ_n [W_n H_n]_ft + ε,    P_ft = |X_ft|²,   ε = 10⁻⁶ · mean_ft P_ft

:meth:`GenerativeNetwork.infer`, as that section tells it: start from each prior's encoder,
``z_it = μ_i(X_t)``, gains ``ĝ_t = mean_f (P_ft / Σ_i v_ift) · n_priors / n_sources``, NMF from a
seeded ``W`` uniform in [0.5, 1.5] and a flat ``H``, then ``start_iterations`` multiplicative
updates; each iteration takes one Adam step on ``z`` per item (a step that raises L is taken
back and the step size halved) and one :func:`multiplicative_update`, so L never rises. The
Wiener filter ``Ŝ_ift = (g_it v_ift / (V_ft − ε + 10⁻⁸)) · X_ft`` is the joint soft mask of the
variances, so the network loads and separates like any other.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping

import torch
from torch import nn

from vaesep.models.nmf import DIVIDE_FLOOR
from vaesep.models.vae import Network, VAEConfig, VAENetwork
from vaesep.spectral import joint_soft_mask

FLOOR_RATIO: float = 1e-6
"""ε of the variance model, relative to the mixture's mean power (keeps log V finite)."""

ADAM_BETAS: tuple[float, float] = (0.9, 0.999)


@dataclasses.dataclass
class GenerativeConfig:
    """Sources, prior sizes and inference settings of :class:`GenerativeNetwork`."""

    source_names: tuple[str, ...] = ("v", "m")
    nmf_sources: tuple[str, ...] = ()  # no prior: NMF fitted on each mixture (denoising: ("noise",))
    n_bins: int = 513  # n_bins, hidden, layers, latent: the sizes of every prior VAE
    hidden: int = 128
    layers: int = 1
    latent: int = 64
    iterations: int = 50  # inference iterations per mixture
    step_size: float = 0.02  # Adam's initial step size on z
    n_components: int = 16  # K per NMF source
    start_iterations: int = 20  # updates of gains and NMF before the first iteration
    seed: int = 0  # of the random start of W

    def __post_init__(self) -> None:
        self.source_names = tuple(self.source_names)
        self.nmf_sources = tuple(self.nmf_sources)
        if len(self.source_names) < 2 or len(set(self.source_names)) != len(self.source_names):
            raise ValueError(f"a separator needs at least two distinct source names, got {self.source_names}")
        if not set(self.nmf_sources) <= set(self.source_names):
            raise ValueError(f"nmf_sources {self.nmf_sources} must be among source_names {self.source_names}")
        if len(self.nmf_sources) == len(self.source_names):
            raise ValueError("at least one source needs a prior; nmf_sources names them all")
        if any(not name or "." in name for name in self.source_names):
            raise ValueError(f"source names must be non-empty and without '.' (they name the priors), got {self.source_names}")
        if min(self.n_bins, self.hidden, self.layers, self.latent, self.n_components) < 1:
            raise ValueError("n_bins, hidden, layers, latent and n_components must be positive")
        if self.iterations < 0 or self.start_iterations < 0 or not self.step_size > 0:
            raise ValueError("iterations and start_iterations must be >= 0 and step_size positive")

    @property
    def prior_sources(self) -> tuple[str, ...]:
        return tuple(name for name in self.source_names if name not in self.nmf_sources)

    def prior_config(self, name: str) -> VAEConfig:
        """The VAE of one prior: this source alone, trained on its clean frames (:mod:`vaesep.priors`)."""
        return VAEConfig(
            source_names=(name,), n_bins=self.n_bins, context=0, hidden=self.hidden,
            layers=self.layers, latent=self.latent, train_on="clean", likelihood="is",
        )


@dataclasses.dataclass
class Inference:
    """What :meth:`GenerativeNetwork.infer` found for a batch of mixtures."""

    variances: torch.Tensor  # (batch, n_sources, n_frames, n_bins): g v of priors, W H of NMF sources
    objective: torch.Tensor  # (batch, iterations + 1): L at the start and after each iteration
    latents: torch.Tensor  # (batch, n_priors, n_frames, latent): z
    gains: torch.Tensor  # (batch, n_priors, n_frames): g
    dictionaries: torch.Tensor  # (batch, n_nmf, n_bins, K): W
    activations: torch.Tensor  # (batch, n_nmf, K, n_frames): H


def negative_log_posterior(power: torch.Tensor, variance: torch.Tensor, latents: torch.Tensor) -> torch.Tensor:
    """L per item ``(batch,)``: ``(1/T) [Σ_ft (log V_ft + P_ft / V_ft) + ½ Σ_it ‖z_it‖²]``, from
    ``P`` and ``V`` (with ε) ``(batch, n_frames, n_bins)`` and ``z`` ``(batch, n_priors, n_frames, latent)``."""
    likelihood = (torch.log(variance) + power / variance).sum(dim=(1, 2))
    prior = 0.5 * latents.square().sum(dim=(1, 2, 3))
    return (likelihood + prior) / power.shape[1]


def model_variance(
    decoded: torch.Tensor, gains: torch.Tensor, dictionaries: torch.Tensor, activations: torch.Tensor,
    floor: torch.Tensor,
) -> torch.Tensor:
    """``V_ft = Σ_i g_it v_ift + Σ_n [W_n H_n]_ft + ε``, ``(batch, n_frames, n_bins)``; shapes as in
    :class:`Inference`, ``v`` like ``variances`` for the priors, ``ε`` ``(batch, 1, 1)``."""
    return (gains.unsqueeze(-1) * decoded).sum(dim=1) + nmf_variances(dictionaries, activations).sum(dim=1) + floor


def nmf_variances(dictionaries: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    """``[W_n H_n]ᵀ`` as ``(batch, n_nmf, n_frames, n_bins)``."""
    return (dictionaries @ activations).transpose(-1, -2)


def multiplicative_update(
    power: torch.Tensor, decoded: torch.Tensor, gains: torch.Tensor, dictionaries: torch.Tensor,
    activations: torch.Tensor, floor: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One update of the gains and every ``H_n`` together, then of every ``W_n`` (``v`` fixed).

    With ``V`` from :func:`model_variance` and ``P`` the mixture power::

        g_it ← g_it [Σ_f v_ift P_ft V_ft⁻² / Σ_f v_ift V_ft⁻¹]^½
        H_n  ← H_n ⊙ [W_nᵀ (P ⊙ V⁻²)ᵀ / W_nᵀ (V⁻¹)ᵀ]^½
        W_n  ← W_n ⊙ [(P ⊙ V⁻²)ᵀ H_nᵀ / (V⁻¹)ᵀ H_nᵀ]^½      (V recomputed first)

    (+10⁻¹² in each denominator): majorise-minimise steps for the Itakura–Saito divergence
    (Févotte & Idier 2011; gains as in Leglaive et al. 2018), so L never increases.
    Returns the new ``(gains, W, H)``.
    """

    def inverse_powers(w: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inverse = 1.0 / model_variance(decoded, gains, w, h, floor)  # V⁻¹, (b, T, F)
        return power * inverse.square(), inverse

    weighted, inverse = inverse_powers(dictionaries, activations)
    new_gains = gains * torch.sqrt(
        (decoded * weighted.unsqueeze(1)).sum(-1) / ((decoded * inverse.unsqueeze(1)).sum(-1) + DIVIDE_FLOOR)
    )
    w_t = dictionaries.transpose(-1, -2)  # (b, n, K, F)
    weighted_t, inverse_t = weighted.transpose(1, 2).unsqueeze(1), inverse.transpose(1, 2).unsqueeze(1)  # (b, 1, F, T)
    activations = activations * torch.sqrt((w_t @ weighted_t) / (w_t @ inverse_t + DIVIDE_FLOOR))
    gains = new_gains
    weighted, inverse = inverse_powers(dictionaries, activations)
    h_t = activations.transpose(-1, -2)  # (b, n, T, K)
    weighted_t, inverse_t = weighted.transpose(1, 2).unsqueeze(1), inverse.transpose(1, 2).unsqueeze(1)
    dictionaries = dictionaries * torch.sqrt((weighted_t @ h_t) / (inverse_t @ h_t + DIVIDE_FLOOR))
    return gains, dictionaries, activations


class GenerativeNetwork(Network):
    """VAE source priors (and NMF sources) that separate mixture magnitudes ``(batch, n_frames, n_bins)``,
    at the priors' training level, by inference; estimates are the source variances."""

    kind = "generative"
    config_class = GenerativeConfig

    def __init__(self, config: GenerativeConfig) -> None:
        super().__init__(config)
        self.priors = nn.ModuleDict({name: VAENetwork(config.prior_config(name)) for name in config.prior_sources})

    @classmethod
    def from_priors(cls, priors: Mapping[str, VAENetwork], config: GenerativeConfig) -> GenerativeNetwork:
        """Assemble trained priors (one single-source VAE each, :func:`vaesep.priors.train_prior`)."""
        network = cls(config)
        if set(priors) != set(config.prior_sources):
            raise ValueError(f"priors for {sorted(priors)} given; the config needs {sorted(config.prior_sources)}")
        for name, prior in priors.items():
            if prior.config != config.prior_config(name):
                raise ValueError(
                    f"prior {name!r} has config {prior.config}; expected {config.prior_config(name)} "
                    "(train it with vaesep.priors.train_prior and the same sizes)"
                )
            network.priors[name].load_state_dict(prior.state_dict())
        return network.eval()

    def with_iterations(self, iterations: int) -> GenerativeNetwork:
        """The same network (its priors shared, not copied) running ``iterations`` inference iterations."""
        view = copy.copy(self)
        view.config = dataclasses.replace(self.config, iterations=int(iterations))
        return view

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """``v_ift = d_i(z_it)²``, ``(batch, n_priors, n_frames, n_bins)``, from ``(batch, n_priors, n_frames, latent)``."""
        decoded = [prior.decode(latents[:, i : i + 1]) for i, prior in enumerate(self.priors.values())]
        return torch.cat(decoded, dim=1).square()

    def infer(self, mixture_magnitude: torch.Tensor, iterations: int | None = None) -> Inference:
        """The inference of the module docstring on ``(batch, n_frames, n_bins)``; ``iterations`` overrides the config's."""
        config = self.config
        iterations = config.iterations if iterations is None else int(iterations)
        if iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}")
        power = mixture_magnitude.detach().square()
        batch, n_frames, n_bins = power.shape
        floor = FLOOR_RATIO * power.mean(dim=(1, 2), keepdim=True)  # ε, (b, 1, 1)
        n_priors, n_nmf, n_sources = len(self.priors), len(config.nmf_sources), len(config.source_names)
        with torch.no_grad():
            # amortised start: each prior's encoder reads the mixture
            latents = torch.cat([prior.encode(mixture_magnitude)[0] for prior in self.priors.values()], dim=1)
            decoded = self.decode(latents)
            shared = (power / decoded.sum(dim=1).clamp_min(DIVIDE_FLOOR)).mean(dim=-1)  # ĝ_t, (b, T)
            gains = (shared * n_priors / n_sources).unsqueeze(1).expand(-1, n_priors, -1).clone()
            # one draw for every item, so an item's result does not depend on its batch
            generator = torch.Generator().manual_seed(config.seed)
            dictionaries = torch.rand(n_nmf, n_bins, config.n_components, generator=generator) + 0.5
            dictionaries = dictionaries.to(power.device).expand(batch, -1, -1, -1).clone()
            frame_power = power.mean(dim=-1)[:, None, None, :]  # (b, 1, 1, T)
            activations = frame_power / (config.n_components * n_sources)
            activations = activations.expand(-1, n_nmf, config.n_components, -1).clone()
            for _ in range(config.start_iterations):
                gains, dictionaries, activations = multiplicative_update(power, decoded, gains, dictionaries, activations, floor)

        def objective(z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
            return negative_log_posterior(power, model_variance(v, gains, dictionaries, activations, floor), z)

        with torch.no_grad():
            history = [objective(latents, decoded)]
        step_size = torch.full((batch, 1, 1, 1), float(config.step_size), device=power.device)
        moment, square = torch.zeros_like(latents), torch.zeros_like(latents)
        for k in range(1, iterations + 1):
            with torch.enable_grad():
                z = latents.clone().requires_grad_(True)
                (gradient,) = torch.autograd.grad(objective(z, self.decode(z)).sum(), [z])
            with torch.no_grad():
                moment.mul_(ADAM_BETAS[0]).add_((1 - ADAM_BETAS[0]) * gradient)
                square.mul_(ADAM_BETAS[1]).add_((1 - ADAM_BETAS[1]) * gradient.square())
                m_hat, s_hat = moment / (1 - ADAM_BETAS[0] ** k), square / (1 - ADAM_BETAS[1] ** k)
                proposed = latents - step_size * m_hat / (s_hat.sqrt() + 1e-8)
                proposed_decoded = self.decode(proposed)
                # a step that raised L is taken back and the item's step size halved
                keep = (objective(proposed, proposed_decoded) <= history[-1]).view(-1, 1, 1, 1)
                step_size = torch.where(keep, step_size, 0.5 * step_size)
                latents = torch.where(keep, proposed, latents)
                decoded = torch.where(keep, proposed_decoded, decoded)
                gains, dictionaries, activations = multiplicative_update(power, decoded, gains, dictionaries, activations, floor)
                history.append(objective(latents, decoded))
        parts = dict(zip(self.priors, (gains.unsqueeze(-1) * decoded).unbind(1), strict=True))
        parts.update(zip(config.nmf_sources, nmf_variances(dictionaries, activations).unbind(1), strict=True))
        variances = torch.stack([parts[name] for name in config.source_names], dim=1)
        return Inference(variances, torch.stack(history, dim=1), latents, gains, dictionaries, activations)

    def forward(self, mixture_magnitude: torch.Tensor) -> dict[str, torch.Tensor]:
        """The inference's variances as ``"estimates"`` and their joint soft mask, the Wiener filter, as ``"masks"``."""
        inference = self.infer(mixture_magnitude)
        masks = joint_soft_mask(inference.variances, source_axis=1)
        return {"estimates": inference.variances, "objective": inference.objective, "masks": masks}
