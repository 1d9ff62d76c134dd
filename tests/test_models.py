"""The VAE network, the Separator interface, checkpoints and the public API."""

import numpy as np
import pytest
import torch

import vaesep
from vaesep.api import export_model
from vaesep.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from vaesep.models import IdealRatioMask, MixtureSeparator, NeuralSeparator, VAEConfig, VAENetwork
from vaesep.models.vae import frames_with_context


def _tiny_batch(seed=0, n_frames=40):
    """Two fixed spectral shapes per source and their sum: a set a small VAE can memorise."""
    generator = torch.Generator().manual_seed(seed)
    sources = torch.rand(4, 2, n_frames, 513, generator=generator) ** 4
    return sources.sum(dim=1), sources


def test_context_frames_repeat_edges():
    features = torch.arange(3.0).reshape(1, 3, 1)
    stacked = frames_with_context(features, 1)
    assert stacked.shape == (1, 3, 3)
    assert stacked[0].tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 2]]


@pytest.mark.parametrize("variant", ["per_source", "shared"])
def test_output_shapes_and_masks(variant):
    network = VAENetwork(VAEConfig(variant=variant, context=1, hidden=32, latent=8))
    mixture, _ = _tiny_batch(n_frames=7)
    outputs = network(mixture)
    assert outputs["masks"].shape == (4, 2, 7, 513)
    n_encoders = 2 if variant == "per_source" else 1
    assert outputs["mu"].shape == (4, n_encoders, 7, 8)
    torch.testing.assert_close(outputs["masks"].sum(dim=1), torch.ones(4, 7, 513), atol=1e-5, rtol=0)
    torch.testing.assert_close(outputs["separated"].sum(dim=1), mixture, atol=1e-4, rtol=1e-4)


def test_wrong_input_shape_says_what_is_expected():
    network = VAENetwork(VAEConfig(hidden=8, latent=4))
    with pytest.raises(ValueError, match=r"\(batch, n_frames, 513\)"):
        network(torch.zeros(2, 10, 257))


@pytest.mark.parametrize("deterministic", [False, True])
def test_overfits_a_tiny_set(deterministic):
    torch.manual_seed(0)
    network = VAENetwork(VAEConfig(hidden=32, latent=8, deterministic=deterministic, beta=0.01))
    mixture, sources = _tiny_batch(n_frames=8)
    network.fit_normalisation(mixture)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    first = None
    for step in range(150):
        terms = network.loss(network(mixture), sources, epoch=step)
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        first = first if first is not None else float(terms["reconstruction"].detach())
    network.eval()
    with torch.no_grad():
        final = float(network.loss(network(mixture), sources)["reconstruction"])
    assert final < first / 5, (first, final)
    if deterministic:
        assert "kl" in terms and network.kl_weight(3) == 0.0


def test_kl_warmup_and_closed_form():
    network = VAENetwork(VAEConfig(beta=2.0, kl_warmup_epochs=4, hidden=8, latent=4))
    assert [network.kl_weight(e) for e in range(5)] == [0.5, 1.0, 1.5, 2.0, 2.0]
    assert network.kl_weight(None) == 2.0
    mu, logvar = torch.zeros(1, 1, 1, 4), torch.zeros(1, 1, 1, 4)
    assert float(VAENetwork.kl_divergence(mu, logvar)) == 0.0
    mu[..., 0] = 2.0  # KL of N(2, 1) from N(0, 1) is 2²/2
    assert float(VAENetwork.kl_divergence(mu, logvar)) == pytest.approx(2.0)


def _small_separator(context=1):
    torch.manual_seed(3)
    network = VAENetwork(VAEConfig(hidden=16, latent=4, context=context))
    for parameter in network.parameters():
        parameter.data.normal_(0, 0.3)
    return NeuralSeparator(network, name="tiny")


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100])
def test_separate_keeps_rate_and_length(sr):
    separator = _small_separator()
    # tones well inside every rate's band, so resampling to 16 kHz and back is near-lossless
    t = np.arange(int(sr * 0.7) + 3) / sr
    mixture = (0.1 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 1700 * t)).astype(np.float32)
    estimates = separator.separate(mixture, sr)
    assert estimates.shape == (2, mixture.shape[0]) and estimates.dtype == np.float32
    # the joint soft mask splits the mixture: the estimates add back up to it
    np.testing.assert_allclose(estimates[:, 400:-400].sum(axis=0), mixture[400:-400], atol=2e-3)


def test_separate_int16_stereo_and_tiny_input():
    separator = _small_separator()
    rng = np.random.default_rng(1)
    pcm = (rng.standard_normal((12_000, 2)) * 3000).astype(np.int16)
    assert separator.separate(pcm, 16000).shape == (2, 12_000)
    assert separator.separate(rng.standard_normal(50).astype(np.float32), 16000).shape == (2, 50)


def test_separation_is_level_independent():
    separator = _small_separator()
    mixture = np.random.default_rng(2).standard_normal(8000).astype(np.float32)
    quiet, loud = separator.separate(mixture * 0.01, 16000), separator.separate(mixture, 16000)
    np.testing.assert_allclose(quiet * 100, loud, atol=1e-4)


@pytest.mark.parametrize(
    "bad, sr, message",
    [
        (np.full(1000, np.nan, dtype=np.float32), 16000, "NaN"),
        (np.zeros(0, dtype=np.float32), 16000, "empty"),
        (np.zeros((4, 4, 100), dtype=np.float32), 16000, "dimensions"),
        (np.zeros(1000, dtype=np.float32), -1, "range"),
    ],
)
def test_separate_rejects_bad_input(bad, sr, message):
    with pytest.raises(ValueError, match=message):
        _small_separator().separate(bad, sr)


def test_oracle_needs_references_of_the_right_shape():
    oracle = IdealRatioMask(("a", "b"))
    with pytest.raises(ValueError, match="references"):
        oracle.separate(np.zeros(2000, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match=r"\(2, 2000\)"):
        oracle.separate(np.zeros(2000, dtype=np.float32), 16000, references=np.zeros((2, 10)))


def test_oracle_and_floor_on_a_known_mixture():
    rng = np.random.default_rng(4)
    t = np.arange(16000) / 16000
    low = np.sin(2 * np.pi * 150 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    high = rng.standard_normal(16000) * 0.3
    references = np.stack([low, high]).astype(np.float32)
    mixture = references.sum(axis=0)
    irm = IdealRatioMask(("low", "high")).separate(mixture, 16000, references=references)
    floor = MixtureSeparator(("low", "high")).separate(mixture, 16000)
    error_irm = np.mean((irm - references) ** 2)
    error_floor = np.mean((floor - references) ** 2)
    assert error_irm < error_floor / 20


def test_checkpoint_reload_gives_identical_outputs(tmp_path):
    separator = _small_separator()
    network = separator.network
    path = save_checkpoint(
        tmp_path / "m.pt",
        {"kind": network.kind, "config": network.config_dict(), "state_dict": network.state_dict()},
    )
    loaded = vaesep.load_model(path, device="cpu")
    mixture = np.random.default_rng(5).standard_normal(9000).astype(np.float32)
    np.testing.assert_array_equal(loaded.separate(mixture, 16000), separator.separate(mixture, 16000))
    assert loaded.source_names == ("v", "m")
    slim = export_model(path, tmp_path / "slim.pt", name="slim")
    assert vaesep.load_model(slim).name == "slim"


def test_bad_checkpoints_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown model"):
        vaesep.load_model(tmp_path / "missing.pt")
    truncated = tmp_path / "truncated.pt"
    separator = _small_separator()
    good = save_checkpoint(
        tmp_path / "good.pt",
        {"kind": "vae", "config": separator.network.config_dict(), "state_dict": separator.network.state_dict()},
    )
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="not a readable vaesep checkpoint"):
        vaesep.load_model(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a vaesep checkpoint"):
        load_checkpoint(foreign)
    unknown_kind = save_checkpoint(tmp_path / "kind.pt", {"kind": "gan", "config": {}, "state_dict": {}})
    with pytest.raises(CheckpointError, match="gan"):
        vaesep.load_model(unknown_kind)


def test_pickled_code_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    evil = tmp_path / "evil.pt"
    torch.save({"format": "vaesep-checkpoint", "kind": "vae", "config": {}, "state_dict": Payload()}, evil)
    with pytest.raises(CheckpointError):
        load_checkpoint(evil)


def test_oracles_load_by_name():
    oracle = vaesep.load_model("irm", source_names=("v", "m"))
    assert oracle.needs_references and oracle.source_names == ("v", "m")


@pytest.mark.parametrize(
    "sr, error, message",
    [
        (True, TypeError, "sample rate in Hz"),  # was taken as 1 Hz: 512 M samples, OOM
        (2**40, ValueError, "outside the supported range"),  # was std::bad_alloc
        (16, ValueError, "did you mean 16000"),  # a kHz slip that ran silently
        (44.1, ValueError, "did you mean 44100"),
        (1000, ValueError, "outside the supported range"),
        (1_000_000, ValueError, "outside the supported range"),
        (16000.5, ValueError, "whole number"),
        (float("nan"), ValueError, "finite"),
        ("16000", TypeError, "sample rate in Hz"),
        (None, TypeError, "sample rate in Hz"),
    ],
)
def test_separate_refuses_implausible_sample_rates(sr, error, message):
    with pytest.raises(error, match=message):
        _small_separator().separate(np.zeros(32_000, dtype=np.float32), sr)


def test_separate_takes_whole_float_and_numpy_sample_rates():
    separator = _small_separator()
    mixture = np.random.default_rng(7).standard_normal(8000).astype(np.float32)
    expected = separator.separate(mixture, 16000)
    np.testing.assert_array_equal(separator.separate(mixture, 16000.0), expected)
    np.testing.assert_array_equal(separator.separate(mixture, np.int64(16000)), expected)


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.arange(8000, dtype=np.int64), TypeError, "int64"),  # came out near-silent (1e-15)
        (list(range(-4000, 4000)), TypeError, "list of ints"),
        (np.arange(8000, dtype=np.uint64), TypeError, "uint64"),  # came out at -1 (wrong centre)
        (np.zeros((0, 2), dtype=np.float32), ValueError, "empty"),  # said "contains NaN"
        (np.ones((2, 2), dtype=np.float32), ValueError, "cannot be told apart"),
        (np.full(100, 1e300), ValueError, "float32 range"),  # said "NaN or infinite"
        (np.ones(1, dtype=np.float32), ValueError, "shorter than one sample"),  # at 44.1 kHz: zeros
    ],
)
def test_separate_refuses_input_that_only_looks_like_audio(bad, error, message):
    with pytest.raises(error, match=message):
        _small_separator().separate(bad, 44100)


def test_pcm_integer_types_and_float_lists_separate_alike():
    separator = _small_separator()
    wave = 0.3 * np.sin(np.arange(8000) * 0.05)
    for bits, dtype in ((8, np.int8), (16, np.int16), (32, np.int32)):
        pcm = np.round(wave * 2 ** (bits - 1)).astype(dtype)
        # the same numbers as floats at full scale ±1 separate identically
        expected = separator.separate((pcm / 2 ** (bits - 1)).astype(np.float32), 16000)
        np.testing.assert_allclose(separator.separate(pcm, 16000), expected, rtol=1e-5, atol=1e-7)
    expected = separator.separate(wave.astype(np.float32), 16000)
    np.testing.assert_array_equal(separator.separate(wave.tolist(), 16000), expected)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _small_separator(context=1),
        lambda: _small_separator(context=4),
        lambda: IdealRatioMask(("a", "b")),
    ],
)
def test_long_inputs_in_sample_chunks_match_one_pass(make):
    separator = make()
    rng = np.random.default_rng(8)
    references = rng.standard_normal((2, 16000 * 3)).astype(np.float32) * [[1.0], [0.3]]
    mixture = references.sum(axis=0).astype(np.float32)
    refs = references if separator.needs_references else None
    whole = separator.separate(mixture, 16000, references=refs)
    separator.chunk_frames = 29  # force many chunks, with an odd size
    np.testing.assert_allclose(separator.separate(mixture, 16000, references=refs), whole, atol=1e-6)


def test_long_inputs_never_reach_the_stft_whole(monkeypatch):
    """Memory: STFTs, masks and inverse STFTs are held for one chunk at a time."""
    import vaesep.models.separator as separator_module

    seen = []
    real_stft = separator_module.stft

    def recording_stft(signal, config):
        seen.append(signal.shape[-1])
        return real_stft(signal, config)

    monkeypatch.setattr(separator_module, "stft", recording_stft)
    separator = _small_separator()
    separator.chunk_frames = 50
    mixture = np.random.default_rng(9).standard_normal(16000 * 4).astype(np.float32)
    estimates = separator.separate(mixture, 16000)
    assert estimates.shape == (2, 16000 * 4)
    hop = separator.stft_config.hop_length
    assert seen and max(seen) <= 50 * hop + 2 * separator.chunk_margin()


def _saved_small_model(tmp_path, name="m.pt", **changes):
    network = _small_separator().network
    record = {"kind": network.kind, "config": network.config_dict(), "state_dict": network.state_dict()}
    return save_checkpoint(tmp_path / name, {**record, **changes})


def test_files_that_are_not_checkpoints_are_explained(tmp_path):
    import soundfile as sf

    wav = tmp_path / "song.wav"
    sf.write(wav, np.zeros(1600, np.float32), 16000)
    with pytest.raises(CheckpointError, match="is an audio file.*list_pretrained"):  # was IndexError
        vaesep.load_model(wav)
    text = tmp_path / "notes.txt"
    text.write_text("some notes\n")
    with pytest.raises(CheckpointError, match="not a readable vaesep checkpoint.*list_pretrained"):  # was KeyError
        vaesep.load_model(text)


def test_flipped_weight_bytes_are_refused(tmp_path):
    path = _saved_small_model(tmp_path)
    weights = load_checkpoint(path)["state_dict"]
    largest = max(weights.values(), key=lambda tensor: tensor.numel())
    raw = bytearray(path.read_bytes())
    start = raw.find(largest.numpy().tobytes())  # torch stores tensors uncompressed
    assert start > 0
    raw[start + 100] ^= 0x40
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="do not match the sha256"):
        vaesep.load_model(path)


@pytest.mark.parametrize("bad_value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_on_load_and_export(tmp_path, bad_value):
    network = _small_separator().network
    weights = {key: value.clone() for key, value in network.state_dict().items()}
    weights["encoders.0.net.0.weight"][0, 0] = bad_value
    path = _saved_small_model(tmp_path, state_dict=weights)
    with pytest.raises(CheckpointError, match="NaN or infinite weights"):  # wrote all-NaN stems before
        vaesep.load_model(path)
    with pytest.raises(CheckpointError, match="NaN or infinite weights"):
        export_model(path, tmp_path / "exported.pt")
    assert not (tmp_path / "exported.pt").exists()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"state_dict": None}, "holds no weights"),  # was a raw TypeError
        ({"config": None}, "does not build a 'vae' network"),
        ({"config": {"hidden": "many"}}, "does not build a 'vae' network"),
        ({"format_version": "two"}, "format 'two'"),
    ],
)
def test_incomplete_checkpoints_get_clear_errors(tmp_path, changes, message):
    with pytest.raises(CheckpointError, match=message):
        vaesep.load_model(_saved_small_model(tmp_path, **changes))


def test_checkpoints_without_a_hash_still_load(tmp_path):
    """Files written before hashes were stored (users' own trainings) load unverified."""
    path = _saved_small_model(tmp_path)
    record = load_checkpoint(path)
    assert record.pop("weights_sha256")
    old = tmp_path / "old.pt"
    torch.save(record, old)
    mixture = np.random.default_rng(10).standard_normal(4000).astype(np.float32)
    np.testing.assert_array_equal(
        vaesep.load_model(old).separate(mixture, 16000), vaesep.load_model(path).separate(mixture, 16000)
    )


def test_every_written_and_shipped_checkpoint_carries_a_verified_hash(tmp_path):
    from vaesep.checkpoint import weights_sha256

    path = _saved_small_model(tmp_path)
    compact = export_model(path, tmp_path / "compact.pt", name="compact", half=True)  # float16 weights
    for written in (path, compact):
        record = load_checkpoint(written)
        assert record["weights_sha256"] == weights_sha256(record["state_dict"])
    assert load_checkpoint(compact)["state_dict"]["feature_mean"].dtype == torch.float16
    for name in vaesep.list_pretrained():
        assert "weights_sha256" in load_checkpoint(vaesep.api.PRETRAINED_DIR / f"{name}.pt"), name


def test_model_names_of_the_wrong_type_or_spelling_get_help():
    with pytest.raises(TypeError, match="string or a path"):
        vaesep.load_model(None)
    with pytest.raises(ValueError, match="Did you mean 'vae-speech'"):
        vaesep.load_model("Vae-Speech")


@pytest.mark.parametrize("names", ["ab", (), ("a", "a"), ("a", 3)])
def test_oracle_source_names_must_be_distinct_names(names):
    with pytest.raises(ValueError, match="source_names must be a tuple"):  # "ab" became ("a", "b")
        vaesep.load_model("irm", source_names=names)


def test_unknown_device_is_named():
    with pytest.raises(ValueError, match="unknown device 'tpu'.*'cpu'"):
        vaesep.load_model("vae-speech", device="tpu")


# Separations of one fixed synthetic mixture by every shipped model: per source, the RMS and the
# inner product with a fixed random probe. Measured when the converged seed-0 models of the study
# (issue 12) replaced the 200-step ones; vae-matched and vae-shared are still the 200-step models,
# whose values the redesign of issue 14 reproduced to the last bit. Loading and separating the
# shipped files must keep giving them (up to float rounding).
SHIPPED_SIGNATURES = {
    "ae-speech": ((0.02702420605, -1.791314176), (0.03631183305, 0.00602777425)),
    "dnn-discrim-speech": ((0.02499483713, 0.7379165377), (0.03652151989, -2.523280807)),
    "dnn-speech": ((0.02223823113, 0.5905629955), (0.03420137333, -2.375926876)),
    "drnn-discrim-speech": ((0.02354415631, 3.097127682), (0.0378576738, -4.882491397)),
    "drnn-speech": ((0.02374000131, -1.773479104), (0.03531125635, -0.01188548058)),
    "generative-noise": ((0.03027123534, 5.102343456), (0.03087525412, -6.887707698)),
    "generative-speech": ((0.0464709959, -3.385465622), (0.007688770927, 1.600103173)),
    "nmf-speech": ((0.03289549321, -4.186047105), (0.02653881581, 2.40068369)),
    "vae-authors-speech": ((0.03811720632, -4.334301241), (0.02155853679, 2.754230071)),
    "vae-large-speech": ((0.02639642894, -3.465929021), (0.03552974287, 1.680566207)),
    "vae-matched-speech": ((0.03004946268, -3.722539802), (0.03410210651, 1.937174969)),
    "vae-shared-speech": ((0.02931497032, -3.280712861), (0.03395003225, 1.495349302)),
    "vae-speech": ((0.03551257533, -7.182682058), (0.03082676448, 5.39734619)),
    "vae-unit-speech": ((0.03395577032, -6.750097863), (0.03231451597, 4.964741319)),
}


def _signature_mixture() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2024)
    t = np.arange(2 * 16000) / 16000
    low = sum(np.sin(2 * np.pi * h * 130 * t * (1 + 0.02 * np.sin(2 * np.pi * 3 * t))) / h for h in range(1, 12))
    high = sum(np.sin(2 * np.pi * h * 240 * t) / h for h in range(1, 8)) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2)
    mixture = (0.05 * low + 0.03 * high + 0.002 * rng.standard_normal(t.size)).astype(np.float32)
    return mixture, rng.standard_normal(t.size)


@pytest.mark.parametrize("name", sorted(SHIPPED_SIGNATURES))
def test_shipped_models_separate_as_they_always_did(name):
    assert sorted(SHIPPED_SIGNATURES) == vaesep.list_pretrained()
    mixture, probe = _signature_mixture()
    estimates = vaesep.load_model(name, device="cpu").separate(mixture, 16000).astype(np.float64)
    measured = [(np.sqrt(np.mean(estimate**2)), estimate @ probe) for estimate in estimates]
    np.testing.assert_allclose(measured, SHIPPED_SIGNATURES[name], rtol=1e-5)


def test_checkpoints_of_nmf_and_generative_models_written_as_masking_networks_still_load(tmp_path):
    """Before issue 14 NMF and the generative model stored context=0 and unused feature statistics."""
    from vaesep.models import GenerativeConfig, GenerativeNetwork, build_network

    nmf = vaesep.load_model("nmf-speech").network  # the shipped file is of the older layout
    stored = load_checkpoint(vaesep.api.PRETRAINED_DIR / "nmf-speech.pt")
    assert stored["config"]["context"] == 0 and "feature_mean" in stored["state_dict"]
    assert not hasattr(nmf.config, "context") and "feature_mean" not in nmf.state_dict()
    network = GenerativeNetwork(GenerativeConfig(hidden=8, latent=4, iterations=2))
    old_layout = {**network.state_dict(), "feature_mean": torch.zeros(513), "feature_std": torch.ones(513)}
    path = save_checkpoint(tmp_path / "generative.pt", {"kind": "generative", "config": {**network.config_dict(), "context": 0}, "state_dict": old_layout})
    loaded = vaesep.load_model(path).network
    for key, value in network.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    with pytest.raises(CheckpointError, match="does not know"):
        build_network("nmf", {**stored["config"], "context": 1})  # only the fixed 0 is converted
