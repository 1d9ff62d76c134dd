"""Magnitude frames for frame-wise models (the paper's MLPs see one frame at a time).

Notebook 02, section "From waveforms to training frames".
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from vaesep.spectral import DEFAULT_STFT, STFTConfig, stft

_STFT_BATCH_ITEMS = 16  # items per STFT call: bounds the complex intermediate's memory


class FrameDataset(Dataset):
    """Mixture and source magnitude frames of a batch of fixed items.

    All STFTs are computed once, in batches, when the data set is created.
    ``dataset[i]`` gives frame ``i`` of the concatenation of all items; a
    trainer that wants to avoid per-example Python calls can index the
    tensors directly: ``ds.mixture_magnitude[ds.context_index[batch]]``.

    Args:
        sources: ``(n_items, n_sources, n_samples)`` float, e.g.
            ``BuiltDataset.sources("valid")`` or :func:`vaesep.data.random_segments` output.
        context: neighbouring frames on each side to include with the mixture frame.
        stft_config: analysis settings.

    Attributes:
        mixture_magnitude: ``(n_frames_total, n_bins)`` float32 tensor.
        source_magnitude: ``(n_frames_total, n_sources, n_bins)`` float32 tensor.
        context_index: ``(n_frames_total, 2*context+1)`` int64 rows of
            ``mixture_magnitude`` for each frame and its neighbours; at an
            item's edges the first/last frame is repeated (frames never
            reach into the neighbouring item).
        item_of_frame / frame_in_item: ``(n_frames_total,)`` int64, where each row came from.
        n_frames_per_item: frames per item, ``n_samples // hop + 1``.
    """

    def __init__(
        self, sources: np.ndarray, context: int = 0, stft_config: STFTConfig = DEFAULT_STFT
    ) -> None:
        sources = np.asarray(sources, dtype=np.float32)
        if sources.ndim != 3:
            raise ValueError(
                f"sources must have shape (n_items, n_sources, n_samples), got {sources.shape}"
            )
        if context < 0:
            raise ValueError(f"context must be >= 0, got {context}")
        n_items, n_sources, n_samples = sources.shape
        self.context = int(context)
        self.stft_config = stft_config
        self.n_sources = n_sources
        self.n_frames_per_item = stft_config.n_frames(n_samples)
        mixture_parts, source_parts = [], []
        with torch.no_grad():
            for start in range(0, n_items, _STFT_BATCH_ITEMS):
                chunk = torch.from_numpy(np.array(sources[start : start + _STFT_BATCH_ITEMS]))
                source_mag = stft(chunk, stft_config).abs()  # (b, n_sources, n_frames, n_bins)
                mixture_mag = stft(chunk.sum(dim=1), stft_config).abs()  # (b, n_frames, n_bins)
                mixture_parts.append(mixture_mag.reshape(-1, stft_config.n_bins))
                source_parts.append(
                    source_mag.transpose(1, 2).reshape(-1, n_sources, stft_config.n_bins)
                )
        self.mixture_magnitude = torch.cat(mixture_parts).contiguous()
        self.source_magnitude = torch.cat(source_parts).contiguous()
        frames = torch.arange(self.n_frames_per_item)
        self.item_of_frame = torch.arange(n_items).repeat_interleave(self.n_frames_per_item)
        self.frame_in_item = frames.repeat(n_items)
        offsets = torch.arange(-self.context, self.context + 1)
        neighbours = (self.frame_in_item[:, None] + offsets[None, :]).clamp(
            0, self.n_frames_per_item - 1
        )
        self.context_index = self.item_of_frame[:, None] * self.n_frames_per_item + neighbours

    @property
    def n_bins(self) -> int:
        return self.stft_config.n_bins

    def __len__(self) -> int:
        return int(self.mixture_magnitude.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Frame ``index`` with its context.

        Returns:
            ``(mixture_frames (2*context+1, n_bins), source_frames (n_sources, n_bins))``.
        """
        return self.mixture_magnitude[self.context_index[index]], self.source_magnitude[index]
