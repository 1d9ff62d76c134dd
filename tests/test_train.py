"""The training loop: learning, determinism, resume, early stopping and the NaN guard."""

import numpy as np
import pytest
import torch

from vaesep.checkpoint import CheckpointError, load_checkpoint
from vaesep.models import VAEConfig, VAENetwork
from vaesep.train import TrainConfig, TrainingDiverged, train

SMALL = {"hidden": 32, "latent": 8, "context": 1}


def _network(dataset, **overrides):
    return VAENetwork(VAEConfig(source_names=dataset.source_names, **{**SMALL, **overrides}))


def _config(**overrides):
    values = {"epochs": 3, "steps_per_epoch": 8, "batch_segments": 8, "segment_seconds": 0.5,
              "learning_rate": 3e-3}
    return TrainConfig(**{**values, **overrides})


def test_training_raises_the_validation_sdr(synthetic_dataset):
    result = train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=6), progress=False)
    reconstruction, sdr = result.history["valid_reconstruction"], result.history["valid_sdr"]
    assert reconstruction[-1] < 0.9 * reconstruction[0], reconstruction
    assert sdr[-1] > sdr[0] + 1.0, sdr
    assert len(result.history["epoch"]) == 6 and result.stopped == "epochs"
    assert result.history["step"] == [8 * epoch for epoch in range(1, 7)]


def test_early_stopping_follows_the_validation_sdr(synthetic_dataset, monkeypatch):
    """On a fixture whose SDR peaks at the third epoch, that epoch's weights are kept."""
    peaked = iter([1.0, 2.0, 3.0, 2.5, 2.0, 1.5, 1.0, 0.5])
    monkeypatch.setattr("vaesep.train.ValidationSet.score", lambda self, network: next(peaked))
    snapshots = []
    network = _network(synthetic_dataset)
    result = train(network, synthetic_dataset, _config(epochs=8, patience=3), progress=False,
                   on_epoch_end=lambda epoch, history: snapshots.append(
                       {k: v.detach().clone() for k, v in network.state_dict().items()}))
    assert result.stopped == "early_stopping" and result.best_epoch == 2
    assert result.history["epoch"] == [1, 2, 3, 4, 5, 6]
    for name, tensor in result.network.state_dict().items():
        assert torch.equal(tensor, snapshots[2][name]), name


def test_a_non_finite_validation_loss_stops_training(synthetic_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr("vaesep.train.ValidationSet.score", lambda self, network: float("nan"))
    path = tmp_path / "run.pt"
    with pytest.raises(TrainingDiverged, match="learning rate"):
        train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=2), checkpoint_path=path, progress=False)
    assert not path.exists()  # nothing invalid is written


def test_same_seed_same_weights(synthetic_dataset):
    first = train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=1), progress=False)
    second = train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=1), progress=False)
    other = train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=1, seed=1), progress=False)
    for name, tensor in first.network.state_dict().items():
        assert torch.equal(tensor, second.network.state_dict()[name]), name
    assert not all(
        torch.equal(t, other.network.state_dict()[n]) for n, t in first.network.state_dict().items()
    )


def test_interrupted_training_resumes_to_the_same_result(synthetic_dataset, tmp_path):
    straight = train(_network(synthetic_dataset), synthetic_dataset, _config(), progress=False)

    class Interrupt(Exception):
        pass

    def stop_after_first_epoch(epoch, history):
        if epoch == 0:
            raise Interrupt

    path = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        train(_network(synthetic_dataset), synthetic_dataset, _config(), checkpoint_path=path,
              progress=False, on_epoch_end=stop_after_first_epoch)
    assert load_checkpoint(path)["resume"]["next_epoch"] == 1
    resumed = train(_network(synthetic_dataset), synthetic_dataset, _config(), checkpoint_path=path, progress=False)
    assert resumed.history["epoch"] == [1, 2, 3]
    np.testing.assert_allclose(resumed.history["valid_loss"], straight.history["valid_loss"], rtol=1e-5)
    # a run that used up its epochs can be extended; asking for the same epochs again is a no-op
    again = train(_network(synthetic_dataset), synthetic_dataset, _config(), checkpoint_path=path, progress=False)
    assert again.history["epoch"] == [1, 2, 3]
    longer = train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=4), checkpoint_path=path,
                   progress=False)
    assert longer.history["epoch"] == [1, 2, 3, 4]


def test_resume_with_another_config_is_refused(synthetic_dataset, tmp_path):
    path = tmp_path / "run.pt"
    train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=1), checkpoint_path=path, progress=False)
    with pytest.raises(CheckpointError, match="network config differs"):
        train(_network(synthetic_dataset, hidden=16), synthetic_dataset, _config(epochs=2),
              checkpoint_path=path, progress=False)


def test_early_stopping_stops(synthetic_dataset):
    # a learning rate of zero never improves on the first epoch's validation loss
    result = train(_network(synthetic_dataset), synthetic_dataset,
                   _config(epochs=10, learning_rate=0.0, patience=2), progress=False)
    assert result.stopped == "early_stopping" and len(result.history["epoch"]) == 3


def test_nan_loss_stops_with_advice(synthetic_dataset):
    network = _network(synthetic_dataset)
    with torch.no_grad():
        network.decoders[0].net[0].weight.fill_(float("nan"))
    network.initialise_weights = lambda: None  # keep the NaN weights
    with pytest.raises(TrainingDiverged, match="learning rate"):
        train(network, synthetic_dataset, _config(epochs=1), progress=False)


def test_mismatched_sources_are_refused(synthetic_dataset):
    network = VAENetwork(VAEConfig(source_names=("a", "b"), **SMALL))
    with pytest.raises(ValueError, match="source_names"):
        train(network, synthetic_dataset, _config(epochs=1), progress=False)


def test_an_early_stopped_run_is_final(synthetic_dataset, tmp_path):
    path = tmp_path / "run.pt"
    config = _config(epochs=10, learning_rate=0.0, patience=1)
    first = train(_network(synthetic_dataset), synthetic_dataset, config, checkpoint_path=path, progress=False)
    assert first.stopped == "early_stopping" and load_checkpoint(path)["resume"] is None
    again = train(_network(synthetic_dataset), synthetic_dataset, _config(epochs=20, learning_rate=0.0, patience=1),
                  checkpoint_path=path, progress=False)
    assert again.history["epoch"] == first.history["epoch"]
