"""From a mixture to its stems: STFT → masks → inverse STFT, in one method.

Every separator, the VAE, the baselines and the oracles, is a :class:`Separator`;
they differ only in where their masks come from (:meth:`Separator.masks`). The
whole method is :meth:`Separator.separate_batch`; :meth:`Separator.separate` only
brings any audio to 16 kHz mono and back. With one interface for every method, a
comparison is one loop (notebook 04). Notebook 02, "Separating test mixtures".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from vaesep.audio import SAMPLE_RATE, as_mono_float, check_sample_rate, fit_length, resample
from vaesep.spectral import DEFAULT_STFT, apply_masks, normalise_level, stft


class Separator:
    """Separates mixtures by masking their STFT; subclasses say where the masks come from."""

    name: str = "separator"  # its label in tables and plots ("vae-speech", "irm")
    source_names: tuple[str, ...] = ()  # in output order
    needs_references: bool = False  # the oracles are given the true sources
    sample_rate: int = SAMPLE_RATE
    stft_config = DEFAULT_STFT
    chunk_frames: int = 2048  # about 33 s: longer mixtures are separated in overlapping chunks
    mask_context: int = 0  # frames either side of a frame that its mask depends on

    def __init__(self, source_names: tuple[str, ...] = ("s1", "s2")) -> None:
        self.source_names = tuple(source_names)

    @property
    def n_sources(self) -> int:
        return len(self.source_names)

    def masks(self, mixture_magnitude: torch.Tensor, reference_magnitudes: torch.Tensor | None) -> torch.Tensor:
        """Masks ``(batch, n_sources, n_frames, n_bins)`` from magnitudes ``(batch, n_frames, n_bins)``.

        ``reference_magnitudes`` (oracles only): the true sources, ``(batch, n_sources, n_frames, n_bins)``.
        """
        raise NotImplementedError

    @torch.no_grad()
    def separate_batch(self, mixtures: np.ndarray, references: np.ndarray | None = None) -> np.ndarray:
        """Separate equal-length 16 kHz mixtures ``(batch, n_samples)`` → ``(batch, n_sources, n_samples)``.

        ``references``: oracles only, the true sources ``(batch, n_sources, n_samples)``.
        """
        # np.array copies: data sets hand out read-only memory maps, which torch will not wrap
        mixtures = torch.from_numpy(np.array(mixtures, dtype=np.float32))
        scaled, gain = normalise_level(mixtures)  # the level the networks were trained at; gain (batch, 1)
        n_samples, hop = scaled.shape[-1], self.stft_config.hop_length
        stems = torch.empty(scaled.shape[0], self.n_sources, n_samples)
        # Long mixtures go in chunks that overlap by a margin, of which only the middle is kept: the
        # masks of frame-wise models (context frames either side) then equal those of one pass.
        step, margin = self.chunk_frames * hop, self.chunk_margin()
        for start in range(0, n_samples, step):
            low, high = max(0, start - margin), min(n_samples, start + step + margin)
            spectrum = stft(scaled[:, low:high], self.stft_config)  # (batch, n_frames, n_bins), complex
            truth = None
            if references is not None:  # (batch, n_sources, n_frames, n_bins)
                truth = stft(torch.from_numpy(np.array(references[..., low:high], dtype=np.float32)), self.stft_config).abs()
            masks = self.masks(spectrum.abs(), truth).to(spectrum.device)  # (batch, n_sources, n_frames, n_bins)
            waves = apply_masks(masks, spectrum, high - low, self.stft_config)  # (batch, n_sources, high - low)
            stop = min(start + step, n_samples)
            stems[..., start:stop] = waves[..., start - low : stop - low]
        return (stems / gain.unsqueeze(1)).float().numpy()  # back to the input's level

    def chunk_margin(self) -> int:
        """Overlap of chunks in samples that makes chunked masks equal one-pass masks.

        A sample depends on the frames covering it (``n_fft / 2`` either side), their masks on
        ``mask_context`` more frames, their spectra on ``n_fft / 2`` more samples; one extra hop
        keeps reflect-padded edge frames out of reach. A multiple of the hop, so chunk frames
        fall on one-pass frames (recurrent networks see the margin as warm-up).
        """
        return self.stft_config.n_fft + (self.mask_context + 1) * self.stft_config.hop_length

    def separate(self, mixture: np.ndarray, sr: int, *, references: np.ndarray | None = None) -> np.ndarray:
        """Separate one mixture ``(n_samples,)`` at rate ``sr`` (Hz) → ``(n_sources, n_samples)`` float32 at ``sr``.

        Float or 8/16/32-bit PCM (:func:`vaesep.audio.as_mono_float`); multichannel is averaged.
        ``references``: oracles only, the true sources at ``sr``, ``(n_sources, n_samples)``.
        """
        mono = as_mono_float(mixture, name="mixture")
        n_samples, sr = mono.shape[0], check_sample_rate(sr)
        work = resample(mono, sr, self.sample_rate)
        if work.shape[0] == 0:
            raise ValueError(
                f"mixture of {n_samples} sample(s) at {sr} Hz is shorter than one sample at "
                f"{self.sample_rate} Hz; nothing to separate"
            )
        work_length = max(work.shape[0], self.stft_config.n_fft)  # the STFT needs half a frame: pad, crop after
        work = fit_length(work, work_length)
        stems = self.separate_batch(work[None], self._references(references, n_samples, sr, work_length))[0]
        if sr == self.sample_rate and work_length == n_samples:
            return stems
        # filled source by source, so that only one resampled source is ever extra in memory
        output = np.empty((len(stems), n_samples), dtype=np.float32)
        for row, stem in zip(output, stems, strict=True):
            row[:] = fit_length(resample(stem, self.sample_rate, sr), n_samples)
        return output

    def _references(self, references: np.ndarray | None, n_samples: int, sr: int, work_length: int) -> np.ndarray | None:
        """The true sources at the working rate and length: oracles only (:mod:`vaesep.models.oracles`)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, source_names={self.source_names!r})"


class NeuralSeparator(Separator):
    """A trained network (VAE, DNN, RNN, NMF, generative) as a separator, in eval mode on ``device``;
    ``info`` holds the checkpoint's metadata (data set, training configuration, history)."""

    def __init__(self, network: Any, *, name: str | None = None, info: dict[str, Any] | None = None, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.name = name or network.kind
        self.source_names = network.source_names
        self.info = dict(info or {})
        self.mask_context = int(getattr(network.config, "context", 0))  # NMF, generative: none

    def masks(self, mixture_magnitude: torch.Tensor, reference_magnitudes: torch.Tensor | None = None) -> torch.Tensor:
        return self.network(mixture_magnitude.to(self.device))["masks"]
