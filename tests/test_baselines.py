"""The baselines of notebook 04: Huang et al.'s DNN/DRNN, supervised NMF, and the oracle ordering."""

import numpy as np
import pytest
import torch

import vaesep
from vaesep.evaluate import evaluate_separator
from vaesep.models import (
    DNNConfig,
    DNNNetwork,
    DRNNConfig,
    DRNNNetwork,
    NeuralSeparator,
    NMFConfig,
    VAEConfig,
    VAENetwork,
    fit_nmf,
    save_nmf,
)
from vaesep.models.nmf import learn_dictionary
from vaesep.train import TrainConfig, train

SMALL = {"hidden": 32, "layers": 2, "context": 1}
QUICK = TrainConfig(
    epochs=4, steps_per_epoch=8, batch_segments=8, segment_seconds=0.5, learning_rate=3e-3
)


def _parameters(network: torch.nn.Module) -> int:
    return sum(p.numel() for p in network.parameters())


@pytest.mark.parametrize(
    ("network_class", "config_class", "gamma"),
    [
        (DNNNetwork, DNNConfig, 0.0),
        (DNNNetwork, DNNConfig, 0.05),
        (DRNNNetwork, DRNNConfig, 0.0),
        (DRNNNetwork, DRNNConfig, 0.05),
    ],
)
def test_huang_networks_learn_and_beat_the_mixture(
    synthetic_dataset, network_class, config_class, gamma
):
    network = network_class(
        config_class(source_names=synthetic_dataset.source_names, gamma=gamma, **SMALL)
    )
    result = train(network, synthetic_dataset, QUICK, progress=False, device="cpu")
    reconstruction = result.history["valid_reconstruction"]
    assert reconstruction[-1] < 0.9 * reconstruction[0], reconstruction
    scores = evaluate_separator(
        NeuralSeparator(result.network), synthetic_dataset, max_items=3, progress=False
    )
    assert scores.summary()["overall"]["nsdr_mean"] > 0.5


def test_discriminative_loss_is_huangs_equation():
    generator = torch.Generator().manual_seed(0)
    separated, sources = torch.rand(2, 3, 2, 5, 7, generator=generator)
    gamma = 0.05
    network = DNNNetwork(DNNConfig(n_bins=7, gamma=gamma))
    s1, s2, e1, e2 = sources[:, 0], sources[:, 1], separated[:, 0], separated[:, 1]
    per_frame = 0.5 * (
        (e1 - s1).square().sum(-1)
        - gamma * (e1 - s2).square().sum(-1)
        + (e2 - s2).square().sum(-1)
        - gamma * (e2 - s1).square().sum(-1)
    )
    terms = network.loss({"separated": separated}, sources)
    torch.testing.assert_close(terms["loss"], per_frame.mean())


def test_drnn_recurrence_is_causal_and_reaches_past_the_context():
    network = DRNNNetwork(DRNNConfig(n_bins=9, hidden=8, layers=3, context=1)).eval()
    frames = torch.rand(1, 12, 9) + 0.1
    changed = frames.clone()
    changed[:, 2] *= 3.0
    with torch.no_grad():
        before, after = network(frames)["estimates"], network(changed)["estimates"]
    moved = (before - after).abs().sum(dim=(0, 1, 3))
    assert torch.all(moved[:1] == 0)  # frames before 2 − context never see it
    assert moved[8:].sum() > 0  # frames far beyond the context window do, through the recurrence


def test_sizes_are_matched_to_the_vae():
    vae = _parameters(VAENetwork(VAEConfig()))
    for network in (
        DNNNetwork(DNNConfig()),
        DRNNNetwork(DRNNConfig()),
        VAENetwork(VAEConfig(deterministic=True)),
    ):
        assert abs(_parameters(network) - vae) / vae < 0.1, type(network).__name__


def test_nmf_reconstruction_error_falls_monotonically():
    generator = torch.Generator().manual_seed(0)
    atoms = torch.rand(40, 5, generator=generator)
    target = atoms @ torch.rand(5, 60, generator=generator) + 0.01
    dictionary, history = learn_dictionary(target, 6, 60, generator=generator)
    steps = np.diff(history)
    assert np.all(steps <= 1e-6 * history[0]), steps.max()
    assert history[-1] < 0.2 * history[0]
    torch.testing.assert_close(dictionary.sum(dim=0), torch.ones(6))


def test_nmf_beats_the_mixture_and_reloads_by_path(synthetic_dataset, tmp_path):
    fit = fit_nmf(
        synthetic_dataset,
        NMFConfig(n_components=8, iterations=30),
        seconds_per_source=10.0,
        iterations=40,
        seed=0,
    )
    curve = fit.history[f"divergence_{synthetic_dataset.source_names[0]}"]
    assert curve[-1] < curve[0]
    path = save_nmf(fit, tmp_path / "nmf.pt", synthetic_dataset)
    model = vaesep.load_model(path, device="cpu")
    assert model.source_names == synthetic_dataset.source_names
    scores = evaluate_separator(model, synthetic_dataset, max_items=3, progress=False)
    assert scores.summary()["overall"]["nsdr_mean"] > 1.0
    mixture = synthetic_dataset.mixtures("test")[0]
    direct = NeuralSeparator(fit.network).separate(mixture, synthetic_dataset.sample_rate)
    np.testing.assert_allclose(
        model.separate(mixture, synthetic_dataset.sample_rate), direct, atol=1e-5
    )


def test_oracle_ordering_on_the_fixture(synthetic_dataset):
    names = synthetic_dataset.source_names
    means = {
        name: evaluate_separator(
            vaesep.load_model(name, source_names=names),
            synthetic_dataset,
            max_items=3,
            progress=False,
        ).summary()["overall"]["sdr_mean"]
        for name in ("mixture", "irm", "ibm", "wiener")
    }
    assert means["irm"] >= means["mixture"] + 3.0, means
    assert min(means["ibm"], means["wiener"]) > means["mixture"], means
