"""Latent-space analysis (vaesep.latent), its figures and the explorer widget (notebook 03)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from vaesep import latent
from vaesep.latent import decoding
from vaesep.models import NeuralSeparator, VAEConfig, VAENetwork
from vaesep.plots import latent as latent_plots

SR = 16000
LATENT = 6


def _network(variant: str = "per_source", seed: int = 0) -> VAENetwork:
    """A small random VAE whose weights are large enough that decodings differ visibly."""
    torch.manual_seed(seed)
    network = VAENetwork(VAEConfig(hidden=16, latent=LATENT, context=1, variant=variant))
    with torch.no_grad():
        for parameter in network.parameters():
            if parameter.ndim == 2:
                parameter.normal_(0.0, 0.3)
    return network.eval()


def _sources(n_items: int = 2, seconds: float = 0.5, seed: int = 0) -> np.ndarray:
    """Two "speakers": a low and a high harmonic tone with noise, ``(n_items, 2, n_samples)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    items = []
    for _ in range(n_items):
        low = sum(np.sin(2 * np.pi * 120 * h * t) / h for h in range(1, 6))
        high = sum(np.sin(2 * np.pi * 240 * h * t) / h for h in range(1, 4))
        envelope = (np.sin(2 * np.pi * 2 * t + rng.uniform(0, 6)) > 0).astype(float)
        items.append([low * envelope + 0.01 * rng.standard_normal(t.size), high])
    return np.asarray(items, dtype=np.float32) * 0.1


@pytest.fixture(scope="module")
def codes() -> latent.LatentSet:
    return latent.encode_frames(_network(), _sources(), min_level_db=None)


def test_encode_frames_shapes_and_labels(codes: latent.LatentSet) -> None:
    n_frames = _sources().shape[-1] // 256 + 1
    assert codes.encoder_names == ("v", "m")
    assert codes.mu.shape == codes.logvar.shape == (3 * 2 * n_frames, 2, LATENT)
    assert {name: len(codes.where(input=name)) for name in ("v", "m", "mixture")} == {
        "v": 2 * n_frames, "m": 2 * n_frames, "mixture": 2 * n_frames
    }
    for key in (
        "input",
        "item",
        "frame",
        "level_db",
        "periodicity",
        "voiced",
        "dominant",
        "margin_db",
    ):
        assert codes.labels[key].shape == (len(codes),)
    assert codes.means("m").shape == (len(codes), LATENT)
    alone = codes.where(input="m")
    assert set(alone.labels["dominant"].tolist()) == {"m"}
    # the steady high tone is periodic; the gated low one is silent half the time
    assert np.median(alone.labels["periodicity"]) > 0.9
    labels, frame = codes.labels, latent.pick_frame(codes, dominant="m")
    candidates = (labels["input"] == "mixture") & labels["voiced"] & (labels["dominant"] == "m")
    assert candidates[frame] and labels["margin_db"][frame] == labels["margin_db"][candidates].max()
    with pytest.raises(ValueError, match="no voiced mixture frame"):
        latent.pick_frame(codes, dominant="nobody")


def test_encode_frames_subsamples_and_shared_variant() -> None:
    shared = latent.encode_frames(
        _network("shared"), _sources(), frames_per_input=7, include_sources=False
    )
    assert shared.encoder_names == ("shared",)
    assert shared.mu.shape == (7, 1, LATENT)
    assert set(shared.labels["input"].tolist()) == {"mixture"}
    separator = NeuralSeparator(_network("shared"))
    assert latent.as_vae(separator) is separator.network
    with pytest.raises(TypeError):
        latent.as_vae(torch.nn.Linear(2, 2))  # type: ignore[arg-type]


def test_mixture_codes_are_what_the_separator_encodes() -> None:
    """Scaled once to the training level, whatever the input level: the separator's own μ."""
    from vaesep.inspection import network_outputs

    network, sources = _network(), _sources(n_items=1)
    codes = latent.encode_frames(network, sources, include_sources=False, min_level_db=None)
    louder = latent.encode_frames(network, 10 * sources, include_sources=False, min_level_db=None)
    tolerance = 1e-4 * np.abs(codes.mu).max()  # float32 rounding, amplified by the large random weights
    np.testing.assert_allclose(louder.mu, codes.mu, atol=tolerance)
    inside = network_outputs(network, sources[0].sum(axis=0))["mu"]  # (encoders, frames, latent)
    np.testing.assert_allclose(codes.mu, inside.transpose(1, 0, 2), atol=tolerance)


def test_active_units_on_a_constructed_case() -> None:
    rng = np.random.default_rng(0)
    n, d = 2000, 10
    mu = np.zeros((n, d))
    mu[:, :3] = rng.normal(0.0, [1.0, 0.5, 0.2], size=(n, 3))  # variances 1, 0.25, 0.04: active
    mu[:, 3:5] = rng.normal(0.0, 0.05, size=(n, 2))  # variance 0.0025: below 0.01
    logvar = np.zeros((n, d))  # the collapsed dims sit exactly at the prior
    logvar[:, :3] = np.log(0.1)
    stats = latent.unit_statistics(mu[:, None], logvar[:, None], encoder_names=["only"])
    assert stats.n_active == {"only": 3}
    assert list(stats.top_units(3)[0]) == [0, 1, 2]
    np.testing.assert_allclose(stats.kl[0, 5:], 0.0, atol=1e-12)
    np.testing.assert_allclose(stats.posterior_variance[0, 3:], 1.0)
    expected_kl0 = 0.5 * (mu[:, 0].var() + 0.1 - 1 - np.log(0.1))
    assert stats.kl[0, 0] == pytest.approx(expected_kl0, rel=1e-2)
    assert stats.units_holding(0.9)["only"] <= 3
    assert "| only | 10 | 3 |" in stats.summary()


def test_decoding_pairs_each_encoder_with_its_decoder(codes: latent.LatentSet) -> None:
    network = _network()
    points = codes.means("v")[[0, -1]]
    decoded = decoding.decode_latents(network, points, encoder="v")
    assert decoded.shape == (2, 513) and not np.allclose(decoded[0], decoded[-1])
    np.testing.assert_allclose(decoded, decoding.decode_latents(network, points, encoder=0))
    assert not np.allclose(decoded, decoding.decode_latents(network, points, encoder="m"))
    # per_source pairs encoder m with decoder m only
    with pytest.raises(ValueError):
        decoding.decode_latents(network, points, encoder="m", source="v")


def test_resynthesis_without_edit_is_the_separator() -> None:
    network = _network()
    network.fit_normalisation(torch.rand(4, 513))
    mixture = _sources(1)[0].sum(axis=0)
    separated = NeuralSeparator(network).separate(mixture, SR)
    resynthesised = decoding.resynthesise(network, mixture)
    assert resynthesised.shape == separated.shape == (2, mixture.size)
    np.testing.assert_allclose(resynthesised, separated, atol=1e-3 * np.abs(separated).max())
    edited = decoding.resynthesise(network, mixture[None], decoding.keep_only_dims([[], []]))
    assert edited.shape == (1, 2, mixture.size) and not np.allclose(edited[0], resynthesised)


def test_griffin_lim_makes_sound_at_the_training_level() -> None:
    frames = decoding.decode_latents(_network(), np.random.default_rng(1).standard_normal((8, LATENT)))
    wave = decoding.griffin_lim(frames, n_iter=2)
    assert wave.ndim == 1 and np.sqrt(np.mean(wave**2)) == pytest.approx(0.1, rel=1e-3)


def test_projections_and_probe(codes: latent.LatentSet) -> None:
    pca = latent.pca_projection(codes.means("v"), n_components=3)
    assert pca.coords.shape == (len(codes), 3) and pca.explained[0] >= pca.explained[1]
    np.testing.assert_allclose(pca.point([0, 0, 0]), pca.mean, atol=1e-6)
    few = codes.means("v")[:12]
    assert latent.tsne_projection(few, perplexity=30, seed=0).shape == (12, 2)
    separable = np.r_[np.zeros((20, 2)), np.ones((20, 2)) * 5] + np.random.default_rng(0).normal(
        size=(40, 2)
    )
    assert latent.probe_accuracy(separable, np.repeat(["a", "b"], 20)) > 0.9


def test_figures(codes: latent.LatentSet) -> None:
    coords = latent.pca_projection(codes.means("v")).coords
    stats = latent.unit_statistics(codes.mu, codes.logvar, encoder_names=codes.encoder_names)
    frames = decoding.decode_latents(_network(), codes.means("v")[:4])
    figures = [
        latent_plots.plot_projections({"PCA": coords}, codes, ("input", "level_db")),
        latent_plots.plot_active_units(stats),
        latent_plots.plot_interpolation(frames, np.linspace(0, 1, 4)),
        latent_plots.plot_decoded_frames({"some": frames[:2], "others": frames[2:]}),
        latent_plots.plot_frame_grid(frames.reshape(2, 2, -1), ["r1", "r2"], ["c1", "c2"], frames[0]),
    ]
    assert all(isinstance(figure, Figure) for figure in figures)


def test_explorer_builds_headless_and_redraws(codes: latent.LatentSet) -> None:
    from vaesep.widgets.latent import LatentExplorer

    explorer = LatentExplorer(
        _network(), codes, encoder="v", n_directions=2, bases={"first frame": codes.means("v")[0]}
    )
    before_image = explorer.image.value
    explorer.sliders[0].value = 2.5  # the observer redraws
    assert explorer.image.value != before_image
    np.testing.assert_allclose(explorer.latent(), explorer.pca.point([2.5, 0.0]), atol=1e-6)
    before_image = explorer.image.value
    explorer.base_menu.value = "first frame"
    assert explorer.image.value != before_image
    np.testing.assert_allclose(
        explorer.latent(), explorer.pca.point([2.5, 0.0], base=codes.means("v")[0]), atol=1e-6
    )
    explorer.reset()
    assert np.all(explorer.offsets == 0.0)
    assert explorer.play(seconds=0.2).ndim == 1 and len(explorer.player.children) == 1
    grid = explorer.static_figure(values=(-1.0, 1.0))
    assert isinstance(grid, Figure) and len(grid.axes) == 4


def test_notebook_03_analyses_a_quickly_trained_checkpoint_only_if_nothing_better_exists(tmp_path, monkeypatch, capsys):
    """A fast-mode or one-epoch checkpoint of notebook 02 is passed over for the shipped model."""
    from vaesep.api import PRETRAINED_DIR
    from vaesep.checkpoint import load_checkpoint, save_checkpoint
    from vaesep.files import runs_dir

    monkeypatch.setenv("VAESEP_RUNS_DIR", str(tmp_path))
    assert latent.find_checkpoint() == "vae-speech"
    assert "notebook 02 has not run" in capsys.readouterr().out
    record = load_checkpoint(PRETRAINED_DIR / "vae-speech.pt")
    trained = runs_dir() / "02_vae.pt"
    trained.parent.mkdir(parents=True, exist_ok=True)
    for epochs, expected in ((1, "vae-speech"), (len(record["history"]["epoch"]), str(trained))):
        quick = {**record, "history": {**record["history"], "epoch": list(range(1, epochs + 1))}}
        save_checkpoint(trained, quick)
        assert latent.find_checkpoint() == expected
        said = capsys.readouterr().out
        assert said.startswith("USING") and ("NOT" in said) == (expected == "vae-speech"), said
