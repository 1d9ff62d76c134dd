"""vaesep.inspection and the figures of notebooks 01, 02, 04 and 06 (vaesep.plots)."""

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from vaesep import inspection
from vaesep.checkpoint import save_checkpoint
from vaesep.models import NeuralSeparator, VAEConfig, VAENetwork
from vaesep.plots import (
    LiveLossPlot,
    plot_db_histograms,
    plot_f0_histograms,
    plot_harmonic_zoom,
    plot_history,
    plot_iteration_curves,
    plot_kl_schedule,
    plot_masks,
    plot_metric_boxes,
    plot_objective,
    plot_spectrograms,
    plot_split_durations,
    plot_stft_resolutions,
    plot_waveforms,
)
from vaesep.spectral import DEFAULT_STFT, STFTConfig


@pytest.fixture
def vae():
    torch.manual_seed(0)
    return VAENetwork(VAEConfig(source_names=("a", "b"), context=1, hidden=16, latent=4))


def _counts(table: str) -> dict[str, int]:
    """The parameters column of a parameter table, by module."""
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    return {row[0].strip("|` *"): int(row[3].strip("* ").replace(",", "")) for row in rows}


def test_parameter_counts_add_up(vae):
    counts = _counts(inspection.parameter_table(vae))
    total = counts.pop("total")
    assert list(counts) == ["encoders.0", "encoders.1", "decoders.0", "decoders.1"]
    assert sum(counts.values()) == total == sum(p.numel() for p in vae.parameters())
    assert counts["encoders.0"] == (3 * 513 * 16 + 16) + (16 * 8 + 8)


def test_parameter_table_labels_sources(vae):
    table = inspection.parameter_table(vae)
    assert "encoder q(z\\|x) of source a" in table and "decoder of source b" in table
    assert "16×1539" in table and "**total**" in table
    shared = VAENetwork(VAEConfig(source_names=("a", "b"), hidden=8, latent=2, variant="shared"))
    assert "shared by all sources" in inspection.parameter_table(shared)


def test_describe_checkpoint_lists_entries(vae, tmp_path):
    path = save_checkpoint(
        tmp_path / "c.pt",
        {"kind": "vae", "config": vae.config_dict(), "state_dict": vae.state_dict(),
         "history": {"epoch": [1, 2]}, "resume": {"next_epoch": 2, "torch_rng": torch.get_rng_state()}},
    )
    table = inspection.describe_checkpoint(path)
    assert "`state_dict`" in table and "tensors" in table
    assert "`resume.next_epoch`" in table and "`resume.torch_rng`" in table
    assert "dict of 1: epoch" in table
    assert inspection.describe_checkpoint({"kind": "vae", "x": None}).count("\n") == 3
    assert "| 303.07 |" in inspection.describe_checkpoint({"best_valid_loss": 303.0704345703125})


def test_network_outputs_match_the_separator(vae):
    separator = NeuralSeparator(vae)
    rng = np.random.default_rng(0)
    mixture = (0.3 * rng.standard_normal(8_000)).astype(np.float32)
    outputs = inspection.network_outputs(separator, mixture)
    n_frames = DEFAULT_STFT.n_frames(8_000)
    assert outputs["mixture"].shape == (n_frames, 513)
    for key in ("estimates", "masks", "separated"):
        assert outputs[key].shape == (2, n_frames, 513)
    assert outputs["mu"].shape == (2, n_frames, 4)
    np.testing.assert_allclose(outputs["masks"].sum(axis=0), 1.0, atol=1e-4)
    np.testing.assert_allclose(outputs["separated"].sum(axis=0), outputs["mixture"], rtol=1e-4, atol=1e-6)
    # the masks the separator applies are the ones returned
    waves = separator.separate(mixture, 16_000)
    assert waves.shape == (2, 8_000)
    from vaesep.spectral import apply_masks, stft

    expected = apply_masks(outputs["masks"], stft(mixture), 8_000)
    np.testing.assert_allclose(waves, expected, atol=1e-4)
    assert vae.training is False
    with pytest.raises(TypeError):
        inspection.network_outputs(object(), mixture)


def test_network_outputs_keep_training_mode_and_level(vae):
    vae.train()
    rng = np.random.default_rng(1)
    mixture = (0.05 * rng.standard_normal(4_000)).astype(np.float32)
    quiet = inspection.network_outputs(vae, mixture)
    loud = inspection.network_outputs(vae, 10 * mixture)
    assert vae.training
    np.testing.assert_allclose(quiet["masks"], loud["masks"], atol=1e-5)
    np.testing.assert_allclose(10 * quiet["separated"], loud["separated"], rtol=1e-3, atol=1e-5)


def test_data_figures(synthetic_dataset):
    streams = synthetic_dataset.streams("valid")
    low, high = (np.array(streams[name][:32_000]) for name in synthetic_dataset.source_names)
    figures = [
        plot_split_durations(synthetic_dataset),
        plot_f0_histograms({"low": np.array([100.0, 120.0, np.nan]), "high": np.array([250.0]), "none": []}),
        plot_db_histograms({"a": np.array([-3.0, 0.0, 5.0]), "b": []}, xlabel="level (dB)",
                           reference_lines={"0 dB": 0.0}),
        plot_harmonic_zoom({"low": low, "high": high, "mixture": low + high},
                           {"low": np.full(126, 120.0), "high": np.full(126, np.nan)},
                           start=0.5, duration=1.0),
        plot_stft_resolutions(low + high, [STFTConfig(n_fft=256, hop_length=64), DEFAULT_STFT],
                              duration=1.0),
        plot_kl_schedule([0.2, 0.4, 1.0, 1.0]),
    ]
    assert all(isinstance(figure, Figure) for figure in figures)
    assert figures[0].axes[0].get_xlabel().startswith("duration")
    assert "Hz" in figures[1].axes[0].get_xlabel()
    with pytest.raises(ValueError, match="window"):
        plot_harmonic_zoom({"x": low}, start=100.0)


def test_time_frequency_figures_take_time_major_arrays():
    """Spectrograms and masks are given (n_frames, n_bins) and drawn with time across."""
    n_frames = 40
    spectrogram = np.random.default_rng(0).random((n_frames, DEFAULT_STFT.n_bins))
    figure = plot_spectrograms({"array": spectrogram, "wave": np.zeros(8_000, dtype=np.float32) + 0.1})
    image = figure.axes[0].images[0]
    assert image.get_array().shape == (DEFAULT_STFT.n_bins, n_frames)
    assert image.get_extent()[1] == pytest.approx(n_frames * DEFAULT_STFT.hop_length / DEFAULT_STFT.sample_rate)
    assert figure.axes[1].images[0].get_array().shape == (DEFAULT_STFT.n_bins, DEFAULT_STFT.n_frames(8_000))
    masks = plot_masks({"m": spectrogram})
    assert masks.axes[0].images[0].get_array().shape == (DEFAULT_STFT.n_bins, n_frames)


def test_curve_figures():
    history = {"epoch": [1, 2], "train_loss": [3.0, 2.0], "valid_loss": [3.5, 2.5], "train_kl": [1.0, 1.2]}
    figures = [
        plot_waveforms({"a": np.zeros(100), "b": np.ones(100)}, sr=100),
        plot_history(history),
        plot_metric_boxes({"x": [1.0, 2.0, np.nan], "y": [3.0]}, reference_lines={"floor": 0.0}),
        plot_objective({"a": [3.0, 2.0, 1.5]}, sdr={0: 1.0, 2: 3.0}),
        plot_iteration_curves({"a": [{"iterations": 0, "sdr_mean": 1.0, "rtf": 0.1},
                                     {"iterations": 10, "sdr_mean": 2.0, "rtf": 0.5}]}),
    ]
    assert all(isinstance(figure, Figure) for figure in figures)
    assert [axis.get_title() for axis in figures[1].axes] == ["loss", "kl"]
    LiveLossPlot()(1, history)  # outside a notebook: draws nothing, raises nothing
