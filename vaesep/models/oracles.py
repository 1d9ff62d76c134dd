"""Floor and ceiling: the unprocessed mixture, and the masks of the true sources.

The oracles are given the true sources and show what masking with the mixture's phase
reaches when the masks are right (no one of them is a bound: the best one measured is the
ceiling); the mixture itself shows what doing nothing scores.
Notebook 01, section "Oracle masks: the ceiling", listens to each of them.
"""

from __future__ import annotations

import numpy as np
import torch

from vaesep.audio import MIXTURE, as_mono_float, fit_length, resample
from vaesep.models.separator import Separator
from vaesep.spectral import ideal_binary_mask, ideal_ratio_mask, wiener_mask


class _Oracle(Separator):
    """Masks computed from the true sources, which no real system has (notebook 01)."""

    needs_references = True

    def _references(self, references: np.ndarray | None, n_samples: int, sr: int, work_length: int) -> np.ndarray:
        if references is None:
            raise ValueError(
                f"{self.name} is an oracle: pass the true sources as references=array of shape ({self.n_sources}, {n_samples})"
            )
        references = np.asarray(references)
        if references.shape != (self.n_sources, n_samples):
            raise ValueError(
                f"references have shape {references.shape}; expected ({self.n_sources}, {n_samples}) = (n_sources, len(mixture))"
            )
        converted = [resample(as_mono_float(r, name="reference"), sr, self.sample_rate) for r in references]
        return np.stack([fit_length(r, work_length) for r in converted])[None]

    def masks(self, mixture_magnitude: torch.Tensor, reference_magnitudes: torch.Tensor | None) -> torch.Tensor:
        if reference_magnitudes is None:
            raise ValueError(f"{self.name} needs the true sources (references=...)")
        return self.oracle_mask(reference_magnitudes)


class IdealBinaryMask(_Oracle):
    """Each bin goes wholly to the source that is loudest in it."""

    name = "ibm"
    oracle_mask = staticmethod(ideal_binary_mask)


class IdealRatioMask(_Oracle):
    """``|S_i| / Σ_j |S_j|``: the reference oracle of every joint soft-mask model (its output from
    perfect estimates), not a bound: the Wiener-like mask, also a soft mask, can score higher."""

    name = "irm"
    oracle_mask = staticmethod(ideal_ratio_mask)


class WienerMask(_Oracle):
    """``|S_i|² / Σ_j |S_j|²``."""

    name = "wiener"
    oracle_mask = staticmethod(wiener_mask)


class MixtureSeparator(Separator):
    """The floor: the unprocessed mixture as the estimate of every source."""

    name = MIXTURE

    def separate_batch(self, mixtures: np.ndarray, references: np.ndarray | None = None) -> np.ndarray:
        return np.repeat(np.asarray(mixtures, dtype=np.float32)[:, None, :], self.n_sources, axis=1)
