"""Separation as inference: source priors, the inference objective, NMF noise, loading (notebook 06)."""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np
import pytest
import torch

import vaesep
from vaesep.batches import SpectralBatch, ValidationSet
from vaesep.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vaesep.cli import main
from vaesep.compare.inference import (
    infer_item,
    inference_verdict,
    iteration_curve,
    iteration_markdown,
    study_comparison,
)
from vaesep.evaluate import evaluate_separator
from vaesep.models import (
    GenerativeConfig,
    GenerativeNetwork,
    NeuralSeparator,
    VAEConfig,
    VAENetwork,
)
from vaesep.models.generative import DIVIDE_FLOOR, Inference, model_variance, multiplicative_update
from vaesep.priors import OneSource, train_generative, train_prior
from vaesep.train import TrainConfig, train

TINY = {"hidden": 32, "latent": 8}
BUDGET = TrainConfig(epochs=3, steps_per_epoch=20, batch_segments=8, learning_rate=3e-3, patience=3)


@pytest.fixture(scope="module")
def trained(synthetic_dataset):
    """Tiny priors for the synthetic set's two voices, trained for a few seconds."""
    config = GenerativeConfig(source_names=synthetic_dataset.source_names, iterations=10, **TINY)
    network, results = train_generative(synthetic_dataset, config, BUDGET, progress=False, device="cpu")
    return network, results


@pytest.fixture(scope="module")
def items(synthetic_dataset):
    """Magnitudes of the first test mixtures at the priors' level, and their true sources."""
    return ValidationSet(np.asarray(synthetic_dataset.sources("test"))[:3])


def itakura_saito(power: torch.Tensor, variance: torch.Tensor) -> torch.Tensor:
    """``Σ_ft P/V − log(P/V) − 1`` per item: L's likelihood term minus a constant."""
    ratio = (power + DIVIDE_FLOOR) / variance
    return (ratio - torch.log(ratio) - 1.0).sum(dim=(1, 2))


def test_a_prior_sees_only_its_own_source(synthetic_dataset):
    view = OneSource(synthetic_dataset, "high")
    assert view.source_names == ("high",)
    assert list(view.streams("train")) == ["high"]
    np.testing.assert_array_equal(view.sources("valid")[:, 0], synthetic_dataset.sources("valid")[:, 1])
    with pytest.raises(ValueError, match="no source 'noise'.*'low', 'high'"):
        OneSource(synthetic_dataset, "noise")


def test_priors_stop_on_their_validation_loss(trained):
    _, results = trained
    assert set(results) == {"low", "high"}
    for source, result in results.items():
        assert result.network.source_names == (source,)
        assert result.network.config.train_on == "clean" and result.network.config.likelihood == "is"
        losses = result.history["valid_loss"]
        assert result.best_epoch == int(np.argmin(losses))
        assert "valid_sdr" not in result.history  # a prior separates nothing to score


def test_validation_loss_of_a_clean_trained_vae_is_its_training_objective(synthetic_dataset, items):
    """Before, the validation loss scored the masked mixture even for VAEs trained on clean sources."""
    torch.manual_seed(0)
    network = VAENetwork(VAEConfig(source_names=synthetic_dataset.source_names, train_on="clean", context=0, **TINY))
    network.fit_normalisation(items.mixture)
    network.eval()
    with torch.no_grad():
        expected = network.loss(network.training_outputs(SpectralBatch(items.mixture, items.sources)), items.sources)
    assert items.loss(network)["loss"] == pytest.approx(float(expected["loss"]), rel=1e-5)


def test_checkpoints_written_before_select_on_existed_still_resume(synthetic_dataset, tmp_path):
    path = tmp_path / "vae.pt"
    config = dataclasses.replace(BUDGET, epochs=1, steps_per_epoch=2)
    network = VAENetwork(VAEConfig(source_names=synthetic_dataset.source_names, **TINY))
    train(network, synthetic_dataset, config, checkpoint_path=path, progress=False, device="cpu")
    record = load_checkpoint(path)
    del record["train_config"]["select_on"]
    save_checkpoint(path, record)
    result = train(network, synthetic_dataset, dataclasses.replace(config, epochs=2), checkpoint_path=path,
                   progress=False, device="cpu")
    assert result.history["epoch"] == [1, 2]


def test_the_inference_objective_never_rises(trained, items):
    network, _ = trained
    objective = network.infer(items.mixture, iterations=60).objective  # (items, 61)
    steps = objective.diff(dim=1)
    # exact in real arithmetic (rejected Adam steps, majorise-minimise updates); float32 rounding only
    assert (steps <= 1e-5 * objective[:, 1:].abs()).all()
    assert (objective[:, -1] < objective[:, 0] - 1.0).all()  # and it does fall


def test_the_objective_is_the_negative_log_posterior_of_the_docstring(trained, items):
    network, _ = trained
    inference = network.infer(items.mixture[:1], iterations=3)
    power = items.mixture[:1].square()
    floor = 1e-6 * power.mean()
    variance = inference.variances.sum(dim=1) + floor
    by_hand = ((torch.log(variance) + power / variance).sum() + 0.5 * inference.latents.square().sum()) / power.shape[1]
    assert float(inference.objective[0, -1]) == pytest.approx(float(by_hand), rel=1e-5)
    decoded = network.decode(inference.latents)
    assert torch.allclose(inference.variances, inference.gains.unsqueeze(-1) * decoded)


def test_denoising_objective_never_rises_with_an_nmf_source(trained, items):
    network, _ = trained
    config = dataclasses.replace(network.config, nmf_sources=("high",))
    denoiser = GenerativeNetwork.from_priors({"low": network.priors["low"]}, config)
    inference = denoiser.infer(items.mixture, iterations=30)
    steps = inference.objective.diff(dim=1)
    assert (steps <= 1e-5 * inference.objective[:, 1:].abs()).all()
    assert inference.dictionaries.shape == (3, 1, 513, config.n_components)
    # the NMF source's variance is W H, in its place among the sources
    nmf = (inference.dictionaries @ inference.activations).transpose(-1, -2)[:, 0]
    assert torch.allclose(inference.variances[:, 1], nmf)


def test_multiplicative_updates_never_raise_the_divergence():
    generator = torch.Generator().manual_seed(0)
    power = torch.rand(2, 40, 30, generator=generator) ** 4  # (batch, frames, bins), peaky like speech
    decoded = torch.rand(2, 1, 40, 30, generator=generator)
    gains = torch.rand(2, 1, 40, generator=generator) + 0.1
    w = torch.rand(2, 1, 30, 4, generator=generator) + 0.1
    h = torch.rand(2, 1, 4, 40, generator=generator) + 0.1
    floor = torch.full((2, 1, 1), 1e-6)
    divergences = []
    for _ in range(40):
        divergences.append(itakura_saito(power, model_variance(decoded, gains, w, h, floor)))
        gains, w, h = multiplicative_update(power, decoded, gains, w, h, floor)
    divergences = torch.stack(divergences, dim=1)
    assert (divergences.diff(dim=1) <= 1e-5 * divergences[:, 1:]).all()
    assert (divergences[:, -1] < 0.7 * divergences[:, 0]).all()
    assert (gains > 0).all() and (w > 0).all() and (h > 0).all()


def test_with_the_true_variances_the_wiener_filter_is_the_oracle(trained, synthetic_dataset, monkeypatch):
    network, _ = trained
    references = np.array(synthetic_dataset.sources("test")[:1])
    mixture = references.sum(axis=1)
    powers = torch.from_numpy(np.abs(vaesep.spectral.stft(references)) ** 2)  # (1, 2, T, F)

    def true_variances(magnitude, iterations=None):
        # any common scale (the separator works at REFERENCE_RMS) leaves the filter unchanged
        return Inference(powers * 123.0, torch.zeros(1, 1), *[torch.zeros(0)] * 4)

    monkeypatch.setattr(network, "infer", true_variances)
    separated = NeuralSeparator(network).separate(mixture[0], 16000)
    oracle = vaesep.load_model("wiener", source_names=network.source_names)
    expected = oracle.separate(mixture[0], 16000, references=references[0])
    np.testing.assert_allclose(separated, expected, atol=1e-4 * np.abs(expected).max())


def test_inference_beats_the_mixture(trained, synthetic_dataset):
    network, _ = trained
    generative = evaluate_separator(NeuralSeparator(network), synthetic_dataset, "test", progress=False)
    mixture = vaesep.load_model("mixture", source_names=synthetic_dataset.source_names)
    floor = evaluate_separator(mixture, synthetic_dataset, "test", progress=False)
    assert generative.summary()["overall"]["sdr_mean"] > floor.summary()["overall"]["sdr_mean"] + 1.0


def test_an_item_is_separated_alike_alone_and_in_a_batch(trained, items):
    network, _ = trained
    batch = network.infer(items.mixture, iterations=5).variances[1]
    alone = network.infer(items.mixture[1:2], iterations=5).variances[0]
    assert torch.allclose(batch, alone, rtol=1e-4, atol=1e-6 * float(alone.max()))


def test_loads_by_name_and_separates_at_any_rate(trained, synthetic_dataset, tmp_path, monkeypatch):
    network, _ = trained
    monkeypatch.setattr(vaesep.api, "PRETRAINED_DIR", tmp_path)
    Checkpoint.of(network, synthetic_dataset).save(tmp_path / "generative-synthetic.pt")
    assert "generative-synthetic" in vaesep.list_pretrained()
    model = vaesep.load_model("generative-synthetic", device="cpu")
    assert model.source_names == ("low", "high") and model.network.config.iterations == 10
    mixture = np.asarray(synthetic_dataset.mixtures("test"))[0]
    direct = NeuralSeparator(network).separate(mixture, 16000)
    np.testing.assert_allclose(model.separate(mixture, 16000), direct, atol=1e-5)
    assert model.separate(mixture[:22050], 22050).shape == (2, 22050)


def test_iterations_is_a_parameter_and_zero_is_the_encoders_guess(trained, items):
    network, _ = trained
    zero = network.with_iterations(0)
    assert network.config.iterations == 10 and zero.priors is network.priors
    start = zero.infer(items.mixture)
    assert start.objective.shape == (3, 1)
    mu = torch.cat([prior.encode(items.mixture)[0] for prior in network.priors.values()], dim=1)
    assert torch.equal(start.latents, mu)
    assert network.infer(items.mixture).objective.shape == (3, 11)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nmf_sources": ("noise",)}, "nmf_sources .* must be among"),
        ({"nmf_sources": ("low", "high")}, "at least one source needs a prior"),
        ({"source_names": ("low",)}, "at least two distinct source names"),
        ({"source_names": ("s.1", "s.2")}, "without '.'"),
        ({"iterations": -1}, "iterations and start_iterations must be >= 0"),
    ],
)
def test_bad_configurations_are_refused_plainly(changes, message):
    with pytest.raises(ValueError, match=message):
        GenerativeConfig(**{"source_names": ("low", "high"), **changes})


def test_priors_of_another_size_are_refused(trained):
    network, _ = trained
    bigger = dataclasses.replace(network.config, hidden=64)
    with pytest.raises(ValueError, match="prior 'low' has config .* expected"):
        GenerativeNetwork.from_priors(dict(network.priors), bigger)
    with pytest.raises(ValueError, match=r"priors for \['low'\] given; the config needs \['high', 'low'\]"):
        GenerativeNetwork.from_priors({"low": network.priors["low"]}, network.config)


def test_a_prior_checkpoint_names_its_source_and_criterion(synthetic_dataset, tmp_path):
    path = tmp_path / "low.pt"
    train_prior(synthetic_dataset, "low", GenerativeConfig(source_names=("low", "high"), **TINY),
                dataclasses.replace(BUDGET, epochs=1, steps_per_epoch=2), checkpoint_path=path,
                progress=False, device="cpu")
    record = load_checkpoint(path)
    assert record["config"]["source_names"] == ["low"] and record["config"]["train_on"] == "clean"
    assert record["train_config"]["select_on"] == "loss" and record["dataset"]["params"]["source"] == "low"


def test_vaesep_train_generative_writes_a_loadable_model(synthetic_dataset, tmp_path, capsys):
    out = tmp_path / "generative.pt"
    assert main(["train", "--model", "generative", "--data", "synthetic", "--fast", "--epochs", "1",
                 "--steps-per-epoch", "2", "--hidden", "16", "--latent", "4", "--iterations", "3",
                 "--nmf-sources", "high", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "prior low" in printed and "prior high" not in printed
    assert (tmp_path / "generative.prior-low.pt").is_file()
    model = vaesep.load_model(out, device="cpu")
    assert model.network.config.nmf_sources == ("high",) and model.network.config.iterations == 3
    assert main(["train", "--model", "vae", "--data", "synthetic", "--fast", "--nmf-sources", "high",
                 "--out", str(tmp_path / "x.pt")]) != 0
    assert "--nmf-sources do(es) not apply to --model vae" in capsys.readouterr().err


def test_the_iteration_measurement_runs_in_seconds(trained, synthetic_dataset):
    network, _ = trained
    start = time.perf_counter()
    rows = iteration_curve(network, synthetic_dataset, "test", (0, 10), max_items=2)
    assert time.perf_counter() - start < 30.0
    assert [row["iterations"] for row in rows] == [0, 10]
    for row in rows:
        assert row["rtf"] > 0 and np.isfinite(row["sdr_mean"]) and {"sdr_low", "sdr_high"} <= set(row)
    table = iteration_markdown(rows)
    assert table.count("\n") == 3 and "| 10 |" in table


def test_the_study_trains_priors_once_and_picks_the_iterations_on_validation(tmp_path):
    from vaesep.compare import one_run, study
    from vaesep.compare.methods import get_method

    shipped = get_method("generative")
    assert shipped.knob_values == (0, 10, 50, 200)
    assert [set(config) for config in shipped.grid()] == [{"learning_rate"}] * 3  # iterations: not a grid axis
    method = dataclasses.replace(shipped, options=TINY, knob_values=(0, 3))  # tiny, for the test's time
    plan = study.Study(tmp_path / "results", (method,), ("synthetic",), schedule=study.Schedule(1, 2, 1),
                       checkpoints=tmp_path / "runs", fast=True, max_items=2)
    run = study.Run("generative", (("learning_rate", 1e-3),), 0, "synthetic")
    result = json.loads(one_run.execute_run(run, plan).read_text())
    assert result["kind"] == "generative" and result["config"] == {"learning_rate": 1e-3}
    by_iterations = {int(k): v for k, v in result["valid_sdr_by_iterations"].items()}
    assert set(by_iterations) == set(method.knob_values)
    assert result["iterations"] == max(by_iterations, key=by_iterations.get)
    assert result["valid_sdr"] == pytest.approx(by_iterations[result["iterations"]], abs=1e-3)
    assert set(result["prior_curves"]) == {"low", "high"} and result["steps_total"] == 4
    if result["iterations"]:
        assert set(result["test_amortised"]) == {"synthetic"}
    assert one_run.NMF_SOURCES["noise"] == ("noise",)


def test_one_item_is_separated_as_the_separator_does(trained, synthetic_dataset):
    network, _ = trained
    mixture = np.asarray(synthetic_dataset.mixtures("test"))[1]
    estimates, inference = infer_item(network, mixture, 4)
    expected = NeuralSeparator(network.with_iterations(4)).separate(mixture, 16000)
    np.testing.assert_allclose(estimates, expected, atol=1e-4 * np.abs(expected).max())
    assert inference.objective.shape == (1, 5)


def test_the_verdict_is_computed_from_the_measurements():
    def rows(*sdrs):
        return [{"iterations": n, "sdr_mean": s, "rtf": 0.01 * (n + 1), "threads": 2}
                for n, s in zip((0, 10, 50), sdrs, strict=True)]

    better, worse = inference_verdict({"speech/test": rows(5.0, 5.5, 4.0), "noise/test": rows(3.0, 2.0, 1.0)})
    assert "guess scores 5.00 dB" in better and "beats the encoders' guess by 0.50 dB at 10 iterations" in better
    assert "after 50 iterations it scores 4.00 dB" in better and "0.510 at 50" in better and "2 thread(s)" in better
    assert "no number of iterations beats the encoders' guess" in worse


def test_the_study_comparison_reads_the_result_files(tmp_path):
    from vaesep.compare.study import converged_study, tuning_runs

    study = converged_study(tmp_path)
    # vae-authors scores best of all on noise, but learns from clean sources: it is no mixture-trained method
    scores = {"generative": {"dutch": 6.0, "czech": 5.0, "noise": 4.0}, "dnn": {"dutch": 9.0, "czech": 4.5, "noise": 5.0},
              "vae-authors": {"dutch": 5.0, "czech": 1.0, "noise": 5.5}}
    for run in tuning_runs(study):
        if run.method in scores:
            path = run.path(tmp_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            test = {condition: {"sdr_mean": sdr} for condition, sdr in scores[run.method].items()}
            path.write_text(json.dumps({"method": run.method, "domain": "speech", "seed": 0, "config": run.settings,
                                        "valid_sdr": run.settings["learning_rate"], "test": test}))
    czech, noise = study_comparison(tmp_path)
    assert czech.startswith("czech: generative 5.00 dB over 1 seed(s), best mixture-trained (dnn) 4.50 dB")
    assert "difference +0.50 dB; drop from Dutch 0 dB: generative 1.00 dB, dnn 4.50 dB" in czech
    assert "best other method trained on clean audio only (vae-authors) 1.00 dB." in czech
    assert noise.startswith("noise: generative 4.00 dB over 1 seed(s), best mixture-trained (dnn) 5.00 dB")
    assert "difference -1.00 dB; best other method trained on clean audio only (vae-authors) 5.50 dB." in noise
    assert study_comparison(tmp_path / "empty") == []


def test_training_the_assembled_network_says_to_train_its_priors(trained, synthetic_dataset):
    network, _ = trained
    copy = GenerativeNetwork.from_priors(dict(network.priors), network.config)
    with pytest.raises(TypeError, match="train its priors.*vaesep train --model generative"):
        train(copy, synthetic_dataset, dataclasses.replace(BUDGET, epochs=1, steps_per_epoch=1), progress=False,
              device="cpu")


def test_the_inference_benchmark_runs_in_fast_mode(tmp_path, capsys):
    import importlib.util
    import sys
    from pathlib import Path

    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    sys.path.insert(0, str(benchmarks))  # the script imports its neighbour common.py
    try:
        spec = importlib.util.spec_from_file_location("bench_inference", benchmarks / "bench_inference.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = tmp_path / "inference.json"
        assert module.main(["--fast", "--iterations", "0", "2", "--threads", "1", "--json", str(out)]) == 0
    finally:
        sys.path.remove(str(benchmarks))
    record = json.loads(out.read_text())
    assert [row["iterations"] for row in record["rows"]] == [0, 2] and record["fast"] and record["snr_db"] == 0
    assert "| 2 |" in capsys.readouterr().out
