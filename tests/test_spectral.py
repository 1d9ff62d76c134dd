"""STFT round trip, the one layout, the level convention and the mask definitions (vaesep.spectral)."""

import numpy as np
import pytest
import torch

from vaesep import spectral


def test_round_trip_error_below_1e5():
    signal = np.random.default_rng(0).standard_normal((2, 16_000 * 3 + 123)).astype(np.float32) * 0.3
    restored = spectral.istft(spectral.stft(signal), signal.shape[-1])
    assert restored.shape == signal.shape
    assert np.max(np.abs(restored - signal)) < 1e-5


def test_stft_shape_matches_config():
    config = spectral.DEFAULT_STFT
    spec = spectral.stft(np.zeros(16_000, dtype=np.float32))
    assert spec.shape == (config.n_frames(16_000), config.n_bins) == (63, 513)  # one row per frame


def test_torch_input_stays_torch_and_batched():
    batch = torch.randn(3, 2, 4000)
    spec = spectral.stft(batch)
    assert isinstance(spec, torch.Tensor) and spec.shape == (3, 2, 16, 513)
    # every item and source is transformed alone: batching changes nothing
    torch.testing.assert_close(spec[1, 0], spectral.stft(batch[1, 0]))


def test_masks_sum_to_one_and_binary_is_binary():
    # away from zero: EPS in the denominator matters only for near-silent bins
    magnitudes = (np.random.default_rng(1).random((2, 10, 513)) + 0.05).astype(np.float32)
    for mask_fn in (spectral.ideal_ratio_mask, spectral.wiener_mask, spectral.joint_soft_mask):
        masks = mask_fn(magnitudes)
        np.testing.assert_allclose(masks.sum(axis=0), 1.0, atol=1e-5)
    binary = spectral.ideal_binary_mask(magnitudes)
    assert set(np.unique(binary)) <= {0.0, 1.0}
    np.testing.assert_array_equal(binary[0], magnitudes[0] >= magnitudes[1])


def test_wiener_is_sharper_than_ratio():
    magnitudes = np.array([[[3.0]], [[1.0]]], dtype=np.float32)
    assert spectral.wiener_mask(magnitudes)[0, 0, 0] == pytest.approx(0.9, abs=1e-6)
    assert spectral.ideal_ratio_mask(magnitudes)[0, 0, 0] == pytest.approx(0.75, abs=1e-6)


def test_apply_masks_with_unit_masks_returns_mixture():
    mixture = np.random.default_rng(2).standard_normal(8000).astype(np.float32)
    masks = np.full((2, 32, 513), 0.5, dtype=np.float32)
    separated = spectral.apply_masks(masks, spectral.stft(mixture), mixture.shape[0])
    np.testing.assert_allclose(separated.sum(axis=0), mixture, atol=1e-5)


def test_bad_shapes_raise_clear_errors():
    with pytest.raises(ValueError, match="too short"):
        spectral.stft(np.zeros(100, dtype=np.float32))
    with pytest.raises(ValueError, match="n_bins"):
        spectral.istft(np.zeros((10, 100), dtype=np.complex64), 1000)
    with pytest.raises(ValueError, match="do not match"):
        spectral.apply_masks(np.ones((2, 5, 513)), np.ones((6, 513), dtype=np.complex64), 1000)


def test_normalise_level_brings_every_mixture_to_the_reference_and_back():
    rng = np.random.default_rng(3)
    mixtures = rng.standard_normal((3, 4000)).astype(np.float32) * np.array([[1e-3], [1.0], [30.0]], dtype=np.float32)
    mixtures[2, :] = 0.0  # silence keeps its level: gain 1
    scaled, gain = spectral.normalise_level(mixtures)
    assert scaled.dtype == np.float32 and gain.shape == (3, 1)
    np.testing.assert_allclose(np.sqrt(np.mean(scaled[:2].astype(np.float64) ** 2, axis=-1)), spectral.REFERENCE_RMS, rtol=1e-6)
    assert gain[2, 0] == 1.0 and not scaled[2].any()
    np.testing.assert_allclose(scaled / gain, mixtures, rtol=1e-6, atol=1e-12)
    tensor_scaled, tensor_gain = spectral.normalise_level(torch.from_numpy(mixtures))
    np.testing.assert_array_equal(tensor_scaled.numpy(), scaled)
    np.testing.assert_array_equal(tensor_gain.numpy(), gain)


def test_importing_the_package_changes_nothing_and_loads_no_torch():
    import subprocess
    import sys

    code = (
        "import os, sys; before = dict(os.environ); import vaesep, vaesep.cli; "
        "assert dict(os.environ) == before; assert 'torch' not in sys.modules; "
        "assert callable(vaesep.load_model); print('torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"  # the first use of load_model brings torch in
