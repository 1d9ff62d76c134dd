"""STFT-domain dynamic mixing, the SDR-scored validation set, and the likelihoods' scale behaviour."""

import numpy as np
import pytest
import torch

from vaesep.batches import (
    SpectralBatch,
    StreamSpectra,
    ValidationSet,
    frame_energies,
    stream_spectrum,
)
from vaesep.models import VAEConfig, VAENetwork
from vaesep.spectral import DEFAULT_STFT, REFERENCE_RMS, stft
from vaesep.train import train_step

HOP = DEFAULT_STFT.hop_length


def _streams(seconds=6.0, seed=0):
    rng = np.random.default_rng(seed)
    n = int(seconds * DEFAULT_STFT.sample_rate)
    t = np.arange(n) / DEFAULT_STFT.sample_rate
    low = np.sin(2 * np.pi * 150 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.7 * t)) + 0.05 * rng.standard_normal(n)
    high = np.sin(2 * np.pi * 900 * t + 0.3) * (1 + 0.5 * np.cos(2 * np.pi * 1.3 * t)) + 0.05 * rng.standard_normal(n)
    return [low.astype(np.float32), (0.3 * high).astype(np.float32)]


def test_chunked_stream_spectrum_equals_one_stft(monkeypatch):
    stream = _streams(3.0)[0]
    monkeypatch.setattr("vaesep.batches.STFT_CHUNK_SECONDS", 0.37)
    torch.testing.assert_close(stream_spectrum(stream), stft(torch.from_numpy(stream)), rtol=0, atol=1e-4)


def test_parseval_energy_matches_the_waveform():
    stream = _streams(3.0)[1]
    energy = frame_energies(stream_spectrum(stream).abs()).mean() / HOP
    # exact in the interior; the two reflect-padded edges of a 3 s stream add about 0.3 %
    assert float(energy) == pytest.approx(float(np.mean(stream.astype(np.float64) ** 2)), rel=5e-3)


def test_stft_domain_mixing_equals_the_waveform_path():
    """Frame-aligned segments mixed as spectra = the STFT of the mixed waveform (linearity)."""
    streams = _streams()
    spectra = StreamSpectra(streams)
    rng = np.random.default_rng(3)
    n_frames = 40
    batch = spectra.draw(rng, 4, n_frames, snr_db=5.0)
    # redo the draw's offsets from the same seed, then mix waveforms and take their STFT
    rng = np.random.default_rng(3)
    limits = np.array([s.shape[0] - n_frames + 1 for s in spectra.spectra])
    offsets = rng.integers(0, limits, size=(4, 2))
    for example, (first, second) in enumerate(offsets):
        # a waveform stretch around the segments so that every frame sees real samples
        pad = DEFAULT_STFT.n_fft
        length = (n_frames - 1) * HOP
        piece = [s[o * HOP - pad : o * HOP + length + pad] for s, o in zip(streams, (first, second), strict=True)]
        if min(o * HOP - pad for o in (first, second)) < 0 or any(len(p) != length + 2 * pad for p in piece):
            continue  # at a stream's edge the STFT pads by reflection; interior frames are the claim
        gains = [1 / np.sqrt(np.mean(frame_energies(spectra.magnitudes[i][o : o + n_frames]).numpy() / HOP))
                 for i, o in enumerate((first, second))]
        gains[1] *= 10 ** (-5.0 / 20)
        mixture = gains[0] * piece[0] + gains[1] * piece[1]
        spectrum = stft(torch.from_numpy(mixture.astype(np.float32)))[pad // HOP : pad // HOP + n_frames].abs()
        scale = REFERENCE_RMS / np.sqrt(frame_energies(spectrum).mean().item() / HOP)
        torch.testing.assert_close(batch.mixture[example], spectrum * scale, rtol=1e-4, atol=1e-5)


def test_drawn_levels_follow_the_snr_and_the_reference():
    spectra = StreamSpectra(_streams())
    batch = spectra.draw(np.random.default_rng(0), 16, 50, snr_db=6.0)
    source_energy = frame_energies(batch.sources).mean(dim=-1)  # (n, n_sources)
    np.testing.assert_allclose(10 * torch.log10(source_energy[:, 0] / source_energy[:, 1]), 6.0, atol=1e-3)
    mixture_rms = (frame_energies(batch.mixture).mean(dim=-1) / HOP).sqrt()
    np.testing.assert_allclose(mixture_rms, REFERENCE_RMS, rtol=1e-4)


def test_silent_stretches_are_redrawn():
    streams = _streams()
    streams[1][: len(streams[1]) // 2] = 0.0  # the first half of source 2 is silent
    spectra = StreamSpectra(streams)
    batch = spectra.draw(np.random.default_rng(1), 64, 20)
    assert float(frame_energies(batch.sources[:, 1]).mean(dim=-1).min()) > 0


def test_validation_sdr_of_the_true_masks_is_high_and_of_equal_masks_low():
    streams = _streams()
    items = np.stack([np.stack([s[i * 16000 : (i + 1) * 16000] for s in streams]) for i in range(3)])
    validation = ValidationSet(items)

    class Oracle(torch.nn.Module):
        """Gives fixed masks, whatever the mixture; shaped like a network for the separator."""

        kind, source_names, config = "oracle", ("a", "b"), None

        def __init__(self, masks):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))
            self.masks = masks

        def forward(self, mixture):
            return {"masks": self.masks[: mixture.shape[0]]}

    truth = validation.sources / validation.sources.sum(dim=1, keepdim=True).clamp_min(1e-8)
    assert validation.score(Oracle(truth)) > 10.0
    assert validation.score(Oracle(torch.full_like(truth, 0.5))) < 3.0


def _batch(scale=1.0, seed=0):
    spectra = StreamSpectra(_streams(seed=seed))
    batch = spectra.draw(np.random.default_rng(seed), 8, 30)
    return SpectralBatch(batch.mixture * scale, batch.sources * scale)


def _trained_masks(likelihood, scale, steps=25):
    torch.manual_seed(0)
    network = VAENetwork(VAEConfig(source_names=("a", "b"), hidden=32, latent=8, context=0, likelihood=likelihood))
    batch = _batch(scale)
    network.fit_normalisation(batch.mixture)
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    for _ in range(steps):
        train_step(network, optimizer, batch, epoch=None)
    network.eval()
    return network(batch.mixture)["masks"].detach()


@pytest.fixture
def no_log_floor(monkeypatch):
    """The input features' log floor is an absolute level too; these tests isolate the likelihood."""
    monkeypatch.setattr("vaesep.models.vae.LOG_FLOOR", 1e-12)


@pytest.mark.parametrize("likelihood", ["sigma", "is"])
def test_scale_free_likelihoods_train_the_same_on_rescaled_data(likelihood, no_log_floor):
    difference = (_trained_masks(likelihood, 1.0) - _trained_masks(likelihood, 10.0)).abs().max()
    assert difference < 2e-3, difference


def test_the_unit_variance_likelihood_depends_on_the_level(no_log_floor):
    """With a unit variance, rescaling the data re-weights reconstruction against KL."""
    difference = (_trained_masks("gaussian", 1.0) - _trained_masks("gaussian", 10.0)).abs().max()
    assert difference > 2e-2, difference


def test_bfloat16_and_float32_steps_agree():
    batch = _batch()
    results = {}
    for precision in ("float32", "bfloat16"):
        torch.manual_seed(0)
        network = VAENetwork(VAEConfig(source_names=("a", "b"), hidden=64, latent=16))
        network.fit_normalisation(batch.mixture)
        optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
        torch.manual_seed(1)
        terms = train_step(network, optimizer, batch, epoch=None, precision=precision)
        results[precision] = (terms, network.state_dict())
    # bfloat16 keeps 8 bits of mantissa: losses agree to about 1 %
    for key in ("loss", "reconstruction"):
        assert results["bfloat16"][0][key] == pytest.approx(results["float32"][0][key], rel=1e-2)
    # one Adam step moves each weight by about lr in the gradient's sign: the same sign almost everywhere
    for name, tensor in results["float32"][1].items():
        np.testing.assert_allclose(results["bfloat16"][1][name], tensor, atol=2.5e-3, err_msg=name)


def test_the_authors_scheme_reconstructs_clean_sources():
    batch = _batch()
    network = VAENetwork(VAEConfig(source_names=("a", "b"), hidden=32, latent=8, train_on="clean", context=0))
    outputs = network.training_outputs(batch)
    # each decoder reconstructs its own source from that source alone: no mask involved
    assert outputs["separated"].shape == batch.sources.shape
    assert torch.equal(outputs["separated"], outputs["estimates"])
    with pytest.raises(ValueError, match="per_source"):
        VAEConfig(train_on="clean", variant="shared")


def test_spectra_too_large_for_the_memory_are_refused_with_the_figures(monkeypatch):
    monkeypatch.setattr("os.sysconf", lambda name: 4096 if name == "SC_PAGE_SIZE" else 1000)  # 4 MB of RAM
    with pytest.raises(MemoryError, match="GiB"):
        StreamSpectra(_streams())
