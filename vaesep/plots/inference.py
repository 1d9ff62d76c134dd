"""Separation by inference: the objective per iteration, SDR and cost against iterations.

Notebook 06, sections "The objective falling" and "What inference costs".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure


def plot_objective(
    objectives: Mapping[str, Sequence[float]],
    sdr: Mapping[int, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The negative log-posterior L per frame at each iteration, one line per label.

    Args:
        objectives: label → L at the start and after each iteration.
        sdr: iteration count → SDR (dB) of the estimate there, drawn on a second axis.
    """
    figure = Figure(figsize=(7.5, 3.2), layout="constrained")
    axis = figure.subplots()
    for label, values in objectives.items():
        axis.plot(np.arange(len(values)), values, label=label)
    axis.set_xlabel("inference iteration")
    axis.set_ylabel("L, negative log-posterior per frame")
    if sdr:
        twin = axis.twinx()
        twin.plot(list(sdr), list(sdr.values()), "o--", color="tab:red", label="SDR")
        twin.set_ylabel("SDR (dB)", color="tab:red")
    axis.legend(loc="upper right")
    if title:
        figure.suptitle(title)
    return figure


def plot_iteration_curves(curves: Mapping[str, list[dict[str, Any]]], title: str | None = None) -> Figure:
    """SDR and real-time factor against iterations, from :func:`vaesep.compare.inference.iteration_curve`."""
    figure = Figure(figsize=(10.0, 3.2), layout="constrained")
    sdr_axis, cost_axis = figure.subplots(1, 2)
    for label, rows in curves.items():
        counts = [row["iterations"] for row in rows]
        sdr_axis.plot(counts, [row["sdr_mean"] for row in rows], "o-", label=label)
        cost_axis.plot(counts, [row["rtf"] for row in rows], "o-", label=label)
    for axis, name in ((sdr_axis, "SDR (dB)"), (cost_axis, "real-time factor (s per s of audio)")):
        axis.set_xscale("symlog", linthresh=10)  # 0 stays on the axis, 10 to 200 spread out
        axis.set_xlabel("inference iterations")
        axis.set_ylabel(name)
        axis.legend()
    if title:
        figure.suptitle(title)
    return figure
