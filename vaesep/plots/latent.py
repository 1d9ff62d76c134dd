"""Figures of the latent space (notebook 03, sections 2 to 5); :mod:`vaesep.latent` computes them.
A decoded frame has no absolute level (the soft mask sees only ratios): frames are shown in dB
re a peak."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from vaesep.audio import MIXTURE
from vaesep.latent import LatentSet, UnitStatistics
from vaesep.plots import with_title
from vaesep.spectral import DEFAULT_STFT

FREQUENCIES = DEFAULT_STFT.bin_frequencies()
MAX_FREQUENCY = 4000.0  # Hz; the harmonics that tell speakers apart lie below
INPUT_COLOURS = {"v": "tab:blue", "m": "tab:orange", MIXTURE: "tab:grey"}  # other sources: tab10
COLOURINGS = {"input": "what the encoder was fed", "dominant": "loudest speaker in the frame",
              "level_db": "frame level (dB re mixture average)",
              "periodicity": "periodicity (voicing)"}


def frames_db(frames: np.ndarray, reference: float | None = None) -> np.ndarray:
    """Magnitude frames in dB re ``reference`` (default: their peak), floored at -80 dB."""
    frames = np.asarray(frames, dtype=np.float64)
    reference = float(frames.max()) if reference is None else float(reference)
    return np.maximum(20 * np.log10(np.maximum(frames, 1e-12) / max(reference, 1e-12)), -80.0)


def _spectrum_axes(axes, decibels: np.ndarray, top: float) -> None:
    """Frequency across up to 4 kHz; dB from just under the quietest shown bin to ``top``."""
    shown = np.asarray(decibels)[..., FREQUENCIES <= MAX_FREQUENCY]
    floor = float(max(-80.0, np.floor((shown.min() - 6.0) / 10.0) * 10.0))
    for axis in np.ravel(axes):
        axis.set(xlim=(0, MAX_FREQUENCY), ylim=(floor, top))


def plot_projections(projections: Mapping[str, np.ndarray], codes: LatentSet,
                     colour_by: Sequence[str] = ("input", "level_db", "periodicity"), *,
                     title: str | None = None) -> Figure:
    """A row per projection (title → ``(len(codes), 2)``), a column per label to colour by."""
    n_rows, n_cols = len(projections), len(colour_by)
    figure = Figure(figsize=(3.6 * n_cols + 0.6, 3.3 * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, n_cols, squeeze=False)
    order = [*codes.source_names, MIXTURE]
    cells = product(enumerate(projections.items()), enumerate(colour_by))
    for (row, (name, coords)), (col, key) in cells:
        axis, values, coords = axes[row, col], codes.labels[key], np.asarray(coords)
        if values.dtype.kind in "OUS":  # categories: a legend
            for label in [n for n in order if n in set(values.tolist())]:
                axis.scatter(*coords[values == label].T, s=6.0, alpha=0.6, linewidths=0,
                             label=label,
                             color=INPUT_COLOURS.get(label, f"C{order.index(label) % 10}"))
            axis.legend(markerscale=3, fontsize="small", loc="best")
        else:  # continuous: a colour bar
            limits = (0.0, 1.0) if key == "periodicity" else np.percentile(values, [2, 98])
            points = axis.scatter(*coords.T, c=values, s=6.0, alpha=0.8, linewidths=0,
                                  cmap="viridis" if key == "periodicity" else "magma",
                                  vmin=limits[0], vmax=limits[1])
            figure.colorbar(points, ax=axis, shrink=0.85)
        axis.set(xticks=[], yticks=[], ylabel=name if col == 0 else "")
        if row == 0:
            axis.set_title(COLOURINGS.get(key, key), fontsize="medium")
    return with_title(figure, title)


def plot_active_units(stats: UnitStatistics, *, title: str | None = None) -> Figure:
    """Per encoder, units sorted by activity (active ones green): activity, then KL and σ²."""
    n_encoders = len(stats.encoder_names)
    figure = Figure(figsize=(5.2 * n_encoders, 5.2), layout="constrained")
    axes = figure.subplots(2, n_encoders, squeeze=False, sharex=True)
    for e, name in enumerate(stats.encoder_names):
        order = np.argsort(-stats.activity[e])
        ranks, top, bottom = np.arange(order.size), axes[0, e], axes[1, e]
        colours = np.where(stats.active[e][order], "tab:green", "tab:grey")
        top.bar(ranks, np.maximum(stats.activity[e][order], 1e-8), color=colours, width=0.85)
        top.set_yscale("log")
        top.axhline(stats.threshold, color="black", linestyle="--", linewidth=1,
                    label=f"threshold {stats.threshold:g}")
        top.set(ylabel="activity Var$_x$(μ$_d$)",
                title=f"encoder {name}: {int(stats.active[e].sum())} of {order.size} units active")
        top.legend(fontsize="small")
        bottom.bar(ranks, stats.kl[e][order], color=colours, width=0.85)
        bottom.set(ylabel="mean KL (nats/frame)", xlabel="latent dimension, sorted by activity")
        twin = bottom.twinx()
        twin.plot(ranks, stats.posterior_variance[e][order], color="tab:red", linewidth=1)
        twin.set_ylabel("mean σ²$_d$", color="tab:red")
        twin.set_ylim(0, max(1.2, float(stats.posterior_variance[e].max()) * 1.05))
    return with_title(figure, title)


def plot_interpolation(frames: np.ndarray, alphas: np.ndarray, *,
                       endpoint_labels: tuple[str, str] = ("z₀", "z₁"),
                       title: str | None = None) -> Figure:
    """Frames decoded at evenly spaced ``alphas`` along a line, as an image and as spectra."""
    decibels = frames_db(frames)
    figure = Figure(figsize=(11, 3.8), layout="constrained")
    image_axis, line_axis = figure.subplots(1, 2, width_ratios=[1, 1.3])
    _spectrum_axes(line_axis, decibels, 3)
    half = (alphas[1] - alphas[0]) / 2
    image = image_axis.imshow(decibels.T, origin="lower", aspect="auto", cmap="magma",
                              interpolation="nearest", vmin=line_axis.get_ylim()[0], vmax=0,
                              extent=(alphas[0] - half, alphas[-1] + half, 0, FREQUENCIES[-1]))
    image_axis.set(ylim=(0, MAX_FREQUENCY), ylabel="frequency (Hz)",
                   xlabel=f"α  ({endpoint_labels[0]} → {endpoint_labels[1]})")
    figure.colorbar(image, ax=image_axis, label="dB re max")
    palette = matplotlib.colormaps["coolwarm"]
    for i, (alpha, row) in enumerate(zip(alphas, decibels, strict=True)):
        end = i in (0, len(alphas) - 1)
        line_axis.plot(FREQUENCIES, row, color=palette(float(alpha)),
                       linewidth=1.4 if end else 0.7, label=f"α = {alpha:.2f}" if end else None)
    line_axis.set(xlabel="frequency (Hz)", ylabel="decoded level (dB re max)")
    line_axis.legend(fontsize="small")
    return with_title(figure, title)


def plot_decoded_frames(frame_sets: Mapping[str, np.ndarray], *,
                        title: str | None = None) -> Figure:
    """A panel per named set of decoded frames, each in dB re its peak, their median thick."""
    decibels = {name: np.stack([frames_db(frame) for frame in np.asarray(frames)])
                for name, frames in frame_sets.items()}
    figure = Figure(figsize=(4.6 * len(decibels), 3.4), layout="constrained")
    axes = figure.subplots(1, len(decibels), sharey=True, squeeze=False)[0]
    _spectrum_axes(axes, np.concatenate(list(decibels.values())), 3)
    for index, (axis, (name, values)) in enumerate(zip(axes, decibels.items(), strict=True)):
        for row in values:
            colour = ("tab:purple", "tab:green", "tab:blue")[index % 3]
            axis.plot(FREQUENCIES, row, color=colour, linewidth=0.6, alpha=0.5)
        axis.plot(FREQUENCIES, np.median(values, axis=0), color="black", linewidth=1.4,
                  label="median")
        axis.set(title=f"{name} ({len(values)} frames)", xlabel="frequency (Hz)")
        axis.legend(fontsize="small", loc="upper right")
    axes[0].set_ylabel("decoded level (dB re each frame's peak)")
    return with_title(figure, title)


def plot_frame_grid(frames: np.ndarray, row_labels: Sequence[str], column_labels: Sequence[str],
                    reference: np.ndarray, *, title: str | None = None) -> Figure:
    """Decoded frames ``(n_rows, n_cols, n_bins)`` in dB re ``reference``, drawn faintly in each."""
    frames, peak = np.asarray(frames), float(np.max(reference))
    n_rows, n_cols = frames.shape[:2]
    figure = Figure(figsize=(2.6 * n_cols + 0.4, 1.9 * n_rows + 0.5), layout="constrained")
    axes = figure.subplots(n_rows, n_cols, squeeze=False, sharex=True, sharey=True)
    _spectrum_axes(axes, frames_db(frames, reference=peak), 10)
    for (r, c), axis in np.ndenumerate(axes):
        axis.plot(FREQUENCIES, frames_db(reference, reference=peak), color="0.75", linewidth=0.8)
        axis.plot(FREQUENCIES, frames_db(frames[r, c], reference=peak), color="tab:purple",
                  linewidth=0.9)
        axis.set_title(column_labels[c] if r == 0 else "", fontsize="small")
        axis.set_ylabel(f"{row_labels[r]}\ndB" if c == 0 else "", fontsize="small")
        axis.set_xlabel("frequency (Hz)" if r == n_rows - 1 else "")
    return with_title(figure, title)
