"""Training batches drawn in the STFT domain, and the validation set scored by SDR.

Dynamic mixing (notebook 02, "From waveforms to training frames") draws fresh pairings every
step. The STFT is linear, so :class:`StreamSpectra` transforms each training stream once and
cuts mixtures out of the spectra (offsets in whole hops), instead of an STFT per step. Levels
follow :func:`vaesep.data.random_segments` (unit-energy segments, the others ``snr_db`` below
the first, near-silent ones redrawn, the mixture at :data:`~vaesep.spectral.REFERENCE_RMS`),
with energies from the spectra by Parseval.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from vaesep.data.mixing import MAX_REDRAWS, SILENCE_BELOW_DB
from vaesep.metrics.scores import ReferenceSubspaces
from vaesep.models import Network, NeuralSeparator
from vaesep.spectral import DEFAULT_STFT, STFTConfig, reference_gain, spectrogram_batch

STFT_CHUNK_SECONDS = 60.0  # stream length transformed per call, to bound temporary memory


def frame_energies(magnitude: torch.Tensor, config: STFTConfig = DEFAULT_STFT) -> torch.Tensor:
    """Waveform energy per frame of a one-sided magnitude spectrogram ``(..., n_frames, n_bins)``
    (Parseval: ``n_fft`` times the windowed energy; the squared windows overlap-add to 1.5)."""
    power = magnitude.square()
    # one-sided: every bin but DC and Nyquist stands for two bins of the full spectrum
    full = 2.0 * power.sum(dim=-1) - power[..., 0] - power[..., -1]
    return full / (config.n_fft * 1.5)


def stream_spectrum(stream: np.ndarray, config: STFTConfig = DEFAULT_STFT) -> torch.Tensor:
    """``stft(stream)``, ``(n_frames, n_bins)``, computed in chunks that overlap by a window."""
    hop = config.hop_length
    # the reflect padding of a centred STFT, once; then frame f is padded[f*hop : f*hop + n_fft]
    padded = np.pad(np.asarray(stream, dtype=np.float32), config.n_fft // 2, mode="reflect")
    frames_per_chunk = max(1, int(STFT_CHUNK_SECONDS * config.sample_rate) // hop)
    n_frames = config.n_frames(len(stream))
    out = torch.empty(n_frames, config.n_bins, dtype=torch.complex64)
    window = torch.hann_window(config.n_fft)
    for first in range(0, n_frames, frames_per_chunk):
        last = min(n_frames, first + frames_per_chunk)
        piece = torch.from_numpy(padded[first * hop : (last - 1) * hop + config.n_fft])
        spec = torch.stft(piece, config.n_fft, hop, window=window, center=False, return_complex=True)
        out[first:last] = spec.T  # torch's (n_bins, frames) turned round, as vaesep.spectral.stft does
    return out


BYTES_PER_FRAME = DEFAULT_STFT.n_bins * (8 + 4)  # complex64 + float32 magnitude: 1.4 GB per hour


@dataclass
class SpectralBatch:
    """Magnitudes the network trains on."""

    mixture: torch.Tensor  # (batch, n_frames, n_bins)
    sources: torch.Tensor  # (batch, n_sources, n_frames, n_bins)

    @property
    def n_frames(self) -> int:
        return self.mixture.shape[0] * self.mixture.shape[1]


class StreamSpectra:
    """Training streams (one waveform per source) as spectra to cut mixtures from, every source
    at its own random offset (new pairings every draw, stems of music included)."""

    def __init__(self, streams: list[np.ndarray]) -> None:
        # refuse, with the figures, spectra that would take more than half the RAM
        needed = sum(len(stream) for stream in streams) // DEFAULT_STFT.hop_length * BYTES_PER_FRAME
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        if needed > 0.5 * total:
            raise MemoryError(
                f"the training streams' spectra need {needed / 2**30:.1f} GiB, more than half of "
                f"this machine's {total / 2**30:.1f} GiB: build the data set with fewer training "
                "minutes (the corpus loaders' caps, data/README.md) or train on a machine with "
                "more memory"
            )
        self.spectra = [stream_spectrum(stream) for stream in streams]
        # magnitudes kept too: |g S| = g |S| spares an abs() of every source at every step
        self.magnitudes = [spectrum.abs() for spectrum in self.spectra]
        energies = [frame_energies(magnitude).double().numpy() for magnitude in self.magnitudes]
        # cumulative energies: a segment's energy is one subtraction
        self.cumulative = [np.concatenate([[0.0], e.cumsum()]) for e in energies]
        self.silence = np.array([e.mean() for e in energies]) * 10 ** (SILENCE_BELOW_DB / 10)

    def draw(self, rng: np.random.Generator, n: int, n_frames: int, snr_db: float = 0.0) -> SpectralBatch:
        """``n`` fresh mixtures of ``n_frames`` frames, levels as in the module docstring."""
        limits = np.array([s.shape[0] - n_frames + 1 for s in self.spectra])
        if limits.min() <= 0:
            raise ValueError(f"segments of {n_frames} frames do not fit in the training streams")
        n_sources = len(self.spectra)
        offsets = np.zeros((n, n_sources), dtype=np.int64)
        redraw = np.ones(n, dtype=bool)
        for _ in range(MAX_REDRAWS):
            offsets[redraw] = rng.integers(0, limits, size=(int(redraw.sum()), n_sources))
            # mean energy per frame of every segment, (n, n_sources)
            energy = np.stack(
                [(c[o + n_frames] - c[o]) / n_frames for c, o in zip(self.cumulative, offsets.T, strict=True)], axis=1
            )
            redraw = (energy < self.silence).any(axis=1)
            if not redraw.any():
                break
        else:
            raise ValueError(f"{MAX_REDRAWS} draws were all near-silent; use longer segments")
        # unit energy per segment, then every source after the first snr_db below the first
        gains = 1.0 / np.sqrt(energy)
        gains[:, 1:] *= 10.0 ** (-snr_db / 20.0)

        def gather(arrays: list[torch.Tensor]) -> torch.Tensor:  # -> (n, n_sources, n_frames, n_bins)
            return torch.stack([torch.stack([a[o : o + n_frames] for a, o in zip(arrays, row, strict=True)]) for row in offsets.tolist()])

        gains = torch.from_numpy(gains).float()[:, :, None, None]  # (n, n_sources, 1, 1)
        mixture = (gather(self.spectra) * gains).sum(dim=1).abs()  # (n, n_frames, n_bins)
        level = (frame_energies(mixture).mean(dim=-1) / DEFAULT_STFT.hop_length).sqrt()  # (n,) RMS
        scale = reference_gain(level)  # the mixture at REFERENCE_RMS, as normalise_level does for waveforms
        sources = gather(self.magnitudes) * (gains * scale[:, None, None, None])
        return SpectralBatch(mixture * scale[:, None, None], sources)


class ValidationSet:
    """Fixed validation items ``(n_items, n_sources, n_samples)``, scored every epoch by BSS-eval
    SDR on the path every separation takes (``Separator.separate_batch``); why SDR: vaesep.train."""

    def __init__(self, references: np.ndarray) -> None:
        references = np.asarray(references, dtype=np.float32)
        self.mixtures = references.sum(axis=1)  # (n_items, n_samples)
        self.mixture, self.sources = spectrogram_batch(references)
        self.subspaces = [ReferenceSubspaces(item.astype(np.float64)) for item in references]

    @torch.no_grad()
    def loss(self, network: Network, *, batch_items: int = 16) -> dict[str, float]:
        """Mean training-loss terms in eval mode (z = μ), with the full KL weight."""
        was_training = network.training
        network.eval()
        device, n_items, totals = next(network.parameters()).device, len(self.mixture), {}
        for start in range(0, n_items, batch_items):
            batch = SpectralBatch(self.mixture[start : start + batch_items].to(device), self.sources[start : start + batch_items].to(device))
            for key, value in network.loss(network.training_outputs(batch), batch.sources).items():
                totals[key] = totals.get(key, 0.0) + float(value) * (batch.mixture.shape[0] / n_items)
        network.train(was_training)
        return totals

    def score(self, network: Network, *, batch_items: int = 16) -> float:
        """Mean BSS-eval SDR over items and sources (dB) of ``network``'s separation."""
        was_training = network.training
        separator = NeuralSeparator(network, device=next(network.parameters()).device)  # eval mode
        sdrs = []
        for start in range(0, len(self.subspaces), batch_items):
            estimates = separator.separate_batch(self.mixtures[start : start + batch_items])
            for subspaces, estimate in zip(self.subspaces[start : start + batch_items], estimates, strict=True):
                sdrs.append(subspaces.ratios(estimate.astype(np.float64))[0])
        network.train(was_training)
        return float(np.mean(sdrs))
