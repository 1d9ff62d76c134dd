"""Floor and ceiling: the unprocessed mixture and the oracle masks.

Oracles are given the true sources and show what a mask-based method could
reach at best; the mixture itself shows what doing nothing scores. Notebook
01, section "Oracle masks: the ceiling", listens to each of them.
"""

from __future__ import annotations

import numpy as np
import torch

from vaesep.models.base import MaskSeparator, Separator
from vaesep.spectral import ideal_binary_mask, ideal_ratio_mask, wiener_mask


class MixtureSeparator(Separator):
    """The floor: returns the unprocessed mixture as the estimate of every source."""

    name = "mixture"

    def __init__(self, source_names: tuple[str, ...] = ("s1", "s2")) -> None:
        self.source_names = tuple(source_names)

    def separate_batch(
        self, mixtures: np.ndarray, references: np.ndarray | None = None
    ) -> np.ndarray:
        mixtures = np.asarray(mixtures, dtype=np.float32)
        return np.repeat(mixtures[:, None, :], self.n_sources, axis=1)


class _OracleMask(MaskSeparator):
    needs_references = True

    def __init__(self, source_names: tuple[str, ...] = ("s1", "s2")) -> None:
        self.source_names = tuple(source_names)

    def _mask(self, reference_magnitudes: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def estimate_masks(
        self,
        mixture_magnitude: torch.Tensor,
        reference_magnitudes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if reference_magnitudes is None:
            raise ValueError(f"{self.name} needs the true sources (references=...)")
        return self._mask(reference_magnitudes)


class IdealBinaryMask(_OracleMask):
    """Oracle ceiling: each bin goes wholly to the source that is loudest in it."""

    name = "ibm"

    def _mask(self, reference_magnitudes: torch.Tensor) -> torch.Tensor:
        return ideal_binary_mask(reference_magnitudes)


class IdealRatioMask(_OracleMask):
    """Oracle ceiling of any joint soft-mask model: ``|S_i| / Σ_j |S_j|``."""

    name = "irm"

    def _mask(self, reference_magnitudes: torch.Tensor) -> torch.Tensor:
        return ideal_ratio_mask(reference_magnitudes)


class WienerMask(_OracleMask):
    """Oracle Wiener-like mask ``|S_i|² / Σ_j |S_j|²``."""

    name = "wiener"

    def _mask(self, reference_magnitudes: torch.Tensor) -> torch.Tensor:
        return wiener_mask(reference_magnitudes)
