"""The one interface every separator follows: VAE, baselines and oracles.

A separator takes a mixture waveform at any rate and returns one waveform per
source at the same rate and length. Subclasses implement only
:meth:`Separator.separate_batch` (16 kHz, equal-length batches); mask-based
ones implement only :meth:`MaskSeparator.estimate_masks`. Because every method
sits behind this interface, a comparison is one loop (notebook 04).
"""

from __future__ import annotations

import abc

import numpy as np
import torch

from vaesep.audio import SAMPLE_RATE, as_mono_float, fit_length, resample
from vaesep.spectral import DEFAULT_STFT, STFTConfig, apply_masks, stft


class Separator(abc.ABC):
    """Base class of all separators.

    Attributes:
        name: short identifier used in tables and plots (e.g. ``"vae"``, ``"irm"``).
        source_names: one name per separated source, in output order.
        sample_rate: the rate the method works at internally (Hz).
        needs_references: True for oracles, which are given the true sources.
    """

    name: str = "separator"
    source_names: tuple[str, ...] = ()
    sample_rate: int = SAMPLE_RATE
    needs_references: bool = False
    stft_config: STFTConfig = DEFAULT_STFT

    @property
    def n_sources(self) -> int:
        return len(self.source_names)

    def separate(
        self,
        mixture: np.ndarray,
        sr: int,
        *,
        references: np.ndarray | None = None,
    ) -> np.ndarray:
        """Separate one mixture.

        Args:
            mixture: waveform, shape ``(n_samples,)`` (float or integer PCM; a
                2-D multichannel array is averaged to mono first).
            sr: its sample rate in Hz; any rate is accepted.
            references: oracles only: the true sources at ``sr``, shape
                ``(n_sources, n_samples)``.

        Returns:
            ``float32`` array, shape ``(n_sources, n_samples)``, at rate ``sr``.
        """
        mono = as_mono_float(mixture, name="mixture")
        n_samples = mono.shape[0]
        if not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise ValueError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
        work = resample(mono, int(sr), self.sample_rate)
        # the STFT needs at least half a frame; pad very short inputs, crop afterwards
        work_length = max(work.shape[0], self.stft_config.n_fft)
        work = fit_length(work, work_length)
        reference_batch = None
        if self.needs_references:
            if references is None:
                raise ValueError(
                    f"{self.name} is an oracle: pass the true sources as "
                    f"references=array of shape ({self.n_sources}, {n_samples})"
                )
            references = np.asarray(references)
            if references.shape != (self.n_sources, n_samples):
                raise ValueError(
                    f"references have shape {references.shape}; expected "
                    f"({self.n_sources}, {n_samples}) = (n_sources, len(mixture))"
                )
            reference_batch = np.stack(
                [
                    fit_length(resample(as_mono_float(r, name="reference"), int(sr), self.sample_rate), work_length)
                    for r in references
                ]
            )[None]
        estimates = self.separate_batch(work[None], reference_batch)[0]
        return np.stack(
            [fit_length(resample(e, self.sample_rate, int(sr)), n_samples) for e in estimates]
        ).astype(np.float32)

    @abc.abstractmethod
    def separate_batch(
        self, mixtures: np.ndarray, references: np.ndarray | None = None
    ) -> np.ndarray:
        """Separate a batch of equal-length mixtures at :attr:`sample_rate`.

        Args:
            mixtures: ``float32``, shape ``(batch, n_samples)``.
            references: oracles only, shape ``(batch, n_sources, n_samples)``.

        Returns:
            ``float32``, shape ``(batch, n_sources, n_samples)``.
        """

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, source_names={self.source_names!r})"


class MaskSeparator(Separator):
    """A separator that masks the mixture STFT and reuses the mixture phase."""

    @abc.abstractmethod
    def estimate_masks(
        self,
        mixture_magnitude: torch.Tensor,
        reference_magnitudes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Masks for each source.

        Args:
            mixture_magnitude: ``(batch, n_bins, n_frames)``.
            reference_magnitudes: oracles only, ``(batch, n_sources, n_bins, n_frames)``.

        Returns:
            real masks, ``(batch, n_sources, n_bins, n_frames)``.
        """

    @torch.no_grad()
    def separate_batch(
        self, mixtures: np.ndarray, references: np.ndarray | None = None
    ) -> np.ndarray:
        # np.array copies: data sets hand out read-only memory maps, which torch will not wrap
        mixture_tensor = torch.from_numpy(np.array(mixtures, dtype=np.float32))
        mixture_stft = stft(mixture_tensor, self.stft_config)
        reference_magnitudes = None
        if references is not None:
            reference_magnitudes = stft(
                torch.from_numpy(np.array(references, dtype=np.float32)), self.stft_config
            ).abs()
        masks = self.estimate_masks(mixture_stft.abs(), reference_magnitudes)
        waves = apply_masks(masks.to(mixture_stft.device), mixture_stft, mixtures.shape[-1], self.stft_config)
        return waves.cpu().numpy().astype(np.float32)
