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

from vaesep.audio import SAMPLE_RATE, as_mono_float, check_sample_rate, fit_length, resample
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
            mixture: waveform, shape ``(n_samples,)``: float, or 8/16/32-bit
                integer PCM (scaled as :func:`vaesep.audio.as_mono_float`
                explains); a 2-D multichannel array is averaged to mono first.
            sr: its sample rate in Hz, an integer from 4000 to 384000
                (:func:`vaesep.audio.check_sample_rate`).
            references: oracles only: the true sources at ``sr``, shape
                ``(n_sources, n_samples)``.

        Returns:
            ``float32`` array, shape ``(n_sources, n_samples)``, at rate ``sr``.

        Memory grows with the length only through the input, the output and
        one copy of each at the working rate: long mixtures are resampled in
        blocks and mask separators work in chunks (:attr:`MaskSeparator.chunk_frames`).
        """
        mono = as_mono_float(mixture, name="mixture")
        n_samples = mono.shape[0]
        sr = check_sample_rate(sr)
        work = resample(mono, sr, self.sample_rate)
        if work.shape[0] == 0:
            raise ValueError(
                f"mixture of {n_samples} sample(s) at {sr} Hz is shorter than one sample at "
                f"{self.sample_rate} Hz; nothing to separate"
            )
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
                    fit_length(resample(as_mono_float(r, name="reference"), sr, self.sample_rate), work_length)
                    for r in references
                ]
            )[None]
        estimates = self.separate_batch(work[None], reference_batch)[0]
        if sr == self.sample_rate and work_length == n_samples:
            return estimates.astype(np.float32, copy=False)
        # filled source by source so that only one resampled source is ever extra
        output = np.empty((len(estimates), n_samples), dtype=np.float32)
        for row, estimate in zip(output, estimates, strict=True):
            row[:] = fit_length(resample(estimate, self.sample_rate, sr), n_samples)
        return output

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
    """A separator that masks the mixture STFT and reuses the mixture phase.

    Mixtures longer than :attr:`chunk_frames` STFT frames are separated in
    chunks that overlap by :meth:`chunk_margin` samples on either side; only
    each chunk's middle is kept. A mask that depends on at most
    :attr:`mask_context` frames either side (the oracles, NMF, the frame-wise
    networks) then comes out as in one pass, up to float rounding, while the
    STFTs and masks in memory stay those of one chunk. Recurrent networks,
    whose state spans the whole input, see the margin as warm-up only.
    """

    chunk_frames: int = 2048
    """STFT frames (about 33 s at 16 kHz) above which a mixture is separated in chunks."""

    @property
    def mask_context(self) -> int:
        """Frames either side of a frame that its mask depends on (0: frame by frame)."""
        return 0

    def chunk_margin(self) -> int:
        """Overlap, in samples, that makes chunked masks equal to one-pass masks.

        An output sample depends on the frames whose window covers it
        (``n_fft / 2`` either side), their masks on ``mask_context`` frames
        more, and those frames' spectra on ``n_fft / 2`` further samples; one
        extra hop keeps the chunks' reflect-padded edge frames out of reach.
        A multiple of the hop, so chunks' frames fall on the one-pass frames.
        """
        return self.stft_config.n_fft + (self.mask_context + 1) * self.stft_config.hop_length

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

    def separate_batch(
        self, mixtures: np.ndarray, references: np.ndarray | None = None
    ) -> np.ndarray:
        n_samples = mixtures.shape[-1]
        step = self.chunk_frames * self.stft_config.hop_length
        if n_samples <= step:
            return self._separate_chunk(mixtures, references)
        margin = self.chunk_margin()
        separated = np.empty((mixtures.shape[0], self.n_sources, n_samples), dtype=np.float32)
        for start in range(0, n_samples, step):
            low, high = max(0, start - margin), min(n_samples, start + step + margin)
            chunk = self._separate_chunk(
                mixtures[..., low:high], None if references is None else references[..., low:high]
            )
            stop = min(start + step, n_samples)
            separated[..., start:stop] = chunk[..., start - low : stop - low]
        return separated

    @torch.no_grad()
    def _separate_chunk(
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
