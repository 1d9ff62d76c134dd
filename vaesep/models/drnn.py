"""Huang et al.'s deep recurrent network: the DNN with one hidden layer recurrent over time.

In Huang et al. (2015) a DRNN is the DNN of :mod:`vaesep.models.dnn` in
which one hidden layer also receives its own output from the previous
frame, ``h_t = ReLU(W x_t + U h_{t−1} + b)``: an Elman layer with ReLU,
running forwards in time (causal). Their best singing-voice model put the
recurrence at the 2nd of 3 hidden layers ("DRNN-2"), which is our default.
Notebook 04, section "The baselines".

The trainer hands every :class:`~vaesep.models.network.MaskingNetwork`
whole segments ``(batch, n_frames, n_bins)``, so the recurrence runs over
the frames of each 1-s training segment, and at test time over a whole
item (the state starts at zero for each one).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vaesep.models.dnn import DNNConfig, DNNNetwork


@dataclass
class DRNNConfig(DNNConfig):
    """:class:`~vaesep.models.dnn.DNNConfig` plus the position of the recurrent layer.

    Attributes:
        recurrent_layer: 1-based index of the hidden layer that is recurrent
            (Huang et al.'s best: 2 of 3).
    """

    recurrent_layer: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.recurrent_layer <= self.layers:
            raise ValueError(
                f"recurrent_layer must be one of the hidden layers 1..{self.layers}, got {self.recurrent_layer}"
            )


class _ElmanReLU(nn.Module):
    """One recurrent ReLU layer over time: ``(batch, n_frames, n_in)`` → ``(batch, n_frames, hidden)``."""

    def __init__(self, n_in: int, hidden: int) -> None:
        super().__init__()
        self.rnn = nn.RNN(n_in, hidden, nonlinearity="relu", batch_first=True)

    def forward(self, sequence: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(sequence)
        return output


class DRNNNetwork(DNNNetwork):
    """Deep RNN of Huang et al. (2015); shapes and loss as :class:`~vaesep.models.dnn.DNNNetwork`."""

    kind = "drnn"
    config_class = DRNNConfig

    def _hidden_layer(self, index: int, n_in: int) -> nn.Module:
        if index + 1 == self.config.recurrent_layer:
            return _ElmanReLU(n_in if index == 0 else self.config.hidden, self.config.hidden)
        return super()._hidden_layer(index, n_in)
