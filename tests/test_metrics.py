"""Tests for vaesep.metrics: agreement with mir_eval, known values, silence, I/O."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import scipy.signal

from vaesep.metrics import (
    ITEM_METRICS,
    EvaluationResult,
    SilentSourceError,
    bss_eval,
    compare_markdown,
    evaluate_batch,
    evaluate_item,
    si_sdr,
)

SR = 16_000


def speech_like(n_samples: int, f0: float, rng: np.random.Generator) -> np.ndarray:
    """A voiced-speech stand-in: a vibrato harmonic series under a syllable-rate envelope."""
    t = np.arange(n_samples) / SR
    pitch = f0 * (1 + 0.06 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))
    phase = 2 * np.pi * np.cumsum(pitch) / SR
    voiced = sum(np.sin(h * phase) / h for h in range(1, 25))
    envelope = np.clip(np.sin(2 * np.pi * rng.uniform(1, 3) * t + rng.uniform(0, 6)), 0, None)
    signal = voiced * envelope**2 + 0.02 * rng.standard_normal(n_samples)
    return signal / np.sqrt(np.mean(signal**2))


def sources(n_sources: int, n_samples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([speech_like(n_samples, 110 + 70 * j, rng) for j in range(n_sources)])


def ratio_mask_estimates(references: np.ndarray) -> np.ndarray:
    """What a good mask-based separator returns: soft ratio masks applied to the mixture STFT."""
    stft = {"fs": SR, "nperseg": 1024, "noverlap": 768}
    _, _, source_stfts = scipy.signal.stft(references, **stft)
    _, _, mixture_stft = scipy.signal.stft(references.sum(axis=0), **stft)
    power = np.abs(source_stfts) ** 2
    masks = power / (power.sum(axis=0) + 1e-12)
    _, estimates = scipy.signal.istft(masks * mixture_stft, **stft)
    return estimates[:, : references.shape[1]]


def noisy_estimates(references: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    leakage = 0.5 * np.roll(references, 1, axis=0)
    return references + leakage + rng.standard_normal(references.shape)


def filtered_estimates(references: np.ndarray, seed: int) -> np.ndarray:
    """A short FIR colouring (forgiven by BSS-eval) plus a little noise."""
    rng = np.random.default_rng(seed)
    fir = scipy.signal.firwin(63, 0.6) + 0.1 * rng.standard_normal(63)
    coloured = scipy.signal.lfilter(fir, 1.0, references, axis=-1)
    return coloured + 0.05 * rng.standard_normal(references.shape)


def make_case(kind: str, n_sources: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """References and estimates of one agreement case (1 s for two sources, 0.5 s for three)."""
    references = sources(n_sources, SR if n_sources == 2 else SR // 2, seed)
    make_estimates = {
        "ratio-mask": lambda r: ratio_mask_estimates(r),
        "noisy": lambda r: noisy_estimates(r, seed),
        "filtered": lambda r: filtered_estimates(r, seed),
    }[kind]
    return references, make_estimates(references)


CASES = [("ratio-mask", 2, 0), ("noisy", 2, 1), ("filtered", 2, 2), ("ratio-mask", 3, 3)]


@pytest.mark.parametrize(("kind", "n_sources", "seed"), CASES)
def test_fast_backend_matches_mir_eval(kind: str, n_sources: int, seed: int) -> None:
    references, estimates = make_case(kind, n_sources, seed)
    fast = bss_eval(references, estimates, backend="fast")
    slow = bss_eval(references, estimates, backend="mir_eval")
    for metric in ("sdr", "sir", "sar"):
        assert fast[metric].shape == (references.shape[0],)
        np.testing.assert_allclose(fast[metric], slow[metric], atol=0.01, err_msg=metric)


def test_agreement_cases_span_the_interesting_range() -> None:
    """The agreement test above is only convincing if it covers poor and good separations."""
    sdr_noisy = bss_eval(*make_case("noisy", 2, 1))["sdr"]
    sdr_masked = bss_eval(*make_case("ratio-mask", 2, 0))["sdr"]
    assert np.all(sdr_noisy < 5)
    assert np.all((sdr_masked > 12) & (sdr_masked < 25))


def test_mir_eval_backend_does_not_leak_its_deprecation_warning() -> None:
    references, estimates = make_case("noisy", 2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bss_eval(references[:, :4000], estimates[:, :4000], backend="mir_eval")


def test_perfect_estimate_scores_very_high() -> None:
    references = sources(2, SR, 4)
    scores = bss_eval(references, references.copy())
    assert np.all(scores["sdr"] > 100)
    assert np.all(scores["sar"] > 100)
    assert np.all(si_sdr(references, references.copy()) > 100)


def test_identical_references_fall_back_to_least_squares() -> None:
    """A singular Gram matrix defeats Cholesky; the projections are still defined."""
    rng = np.random.default_rng(20)
    references = np.stack([speech_like(SR // 2, 150, rng)] * 2)
    estimates = references + 0.1 * rng.standard_normal(references.shape)
    both = bss_eval(references, estimates)
    for j in range(2):
        # with one reference duplicated, P_all = P_j: SDR and SAR are the one-source values
        alone = bss_eval(references[j : j + 1], estimates[j : j + 1])
        np.testing.assert_allclose(both["sdr"][j], alone["sdr"], atol=1e-6)
        np.testing.assert_allclose(both["sar"][j], alone["sar"], atol=1e-6)
    assert np.all(both["sir"] > 60)


@pytest.mark.parametrize("scale", [1.0, 2.0, -0.5])
def test_vanishing_interference_rounded_below_zero_gives_infinite_sir(
    scale: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proportional references leave no interference: ‖e_interf‖² is 0 up to rounding.

    Which sign that rounding takes depends on the BLAS, so it is forced here:
    every quadratic form is shifted down by far more than the rounding but far
    less than any real energy, which makes the vanishing term negative on any
    machine. SIR must then be +inf (zero interference), never NaN.
    """
    import vaesep.metrics.scores as scores

    rng = np.random.default_rng(21)
    references = np.stack([speech_like(SR // 2, 150, rng)] * 2)
    references[1] *= scale
    estimates = references + 0.1 * rng.standard_normal(references.shape)
    exact = scores._quadratic
    monkeypatch.setattr(scores, "_quadratic", lambda gram, c: exact(gram, c) - 1e-9)
    result = bss_eval(references, estimates)
    assert np.all(result["sir"] == np.inf)
    assert np.all(np.isfinite(result["sdr"])) and np.all(np.isfinite(result["sar"]))


@pytest.mark.parametrize("n_sources, n_samples", [(1, 1), (1, 511), (2, 10), (2, 1023)])
def test_signals_too_short_for_the_distortion_filters_are_refused(n_sources, n_samples) -> None:
    """A 1-sample estimate with 30 % noise scored SDR = +inf, 500 samples SAR = +inf."""
    rng = np.random.default_rng(30)
    references = rng.standard_normal((n_sources, n_samples))
    estimates = references + 0.3 * rng.standard_normal(references.shape)
    with pytest.raises(ValueError, match=f"at least {n_sources * 512} samples"):
        bss_eval(references, estimates)
    with pytest.raises(ValueError, match="too short for BSS-eval"):
        evaluate_item(references, estimates, references.sum(axis=0))
    longer = rng.standard_normal((n_sources, n_sources * 512))
    assert np.all(np.isfinite(bss_eval(longer, longer + 0.3 * rng.standard_normal(longer.shape))["sdr"]))


@pytest.mark.parametrize("gain_db", [0.0, 6.0])
def test_mixture_as_estimate_scores_its_input_snr(gain_db: float) -> None:
    rng = np.random.default_rng(5)
    # white noise: independent sources, so the 512-tap filters can borrow
    # only ~512 / n_samples of the other source's energy (0.1 dB here)
    references = rng.standard_normal((2, 4 * SR))
    references /= np.sqrt(np.mean(references**2, axis=1, keepdims=True))
    references[0] *= 10 ** (gain_db / 20)
    mixture = references.sum(axis=0)
    item = evaluate_item(references, references + 0.01 * rng.standard_normal((2, 4 * SR)), mixture)
    np.testing.assert_allclose(item["mixture_sdr"], [gain_db, -gain_db], atol=0.15)
    np.testing.assert_allclose(item["mixture_si_sdr"], [gain_db, -gain_db], atol=0.15)
    # the mixture contains nothing but the references: no artifacts, SIR == SDR
    np.testing.assert_allclose(item["mixture_sir"], item["mixture_sdr"], atol=1e-6)
    assert "mixture_sar" not in item


def test_si_sdr_is_scale_invariant_and_exact_for_orthogonal_noise() -> None:
    references = sources(2, SR, 6)
    rng = np.random.default_rng(6)
    noise = rng.standard_normal(references.shape)
    # make the noise orthogonal to its reference, so the answer is known in closed form
    noise -= (np.sum(noise * references, axis=1) / np.sum(references**2, axis=1))[
        :, None
    ] * references
    noise *= np.sqrt(np.sum(references**2, axis=1) / np.sum(noise**2, axis=1))[:, None]
    noise *= 10 ** (-np.array([10.0, 20.0]) / 20)[:, None]
    estimates = references + noise
    np.testing.assert_allclose(si_sdr(references, estimates), [10.0, 20.0], atol=1e-9)
    for gain in (1e-3, 0.5, 7.0, -2.0):
        np.testing.assert_allclose(si_sdr(references, gain * estimates), [10.0, 20.0], atol=1e-9)
    # a gain changes plain SNR, which is why SI-SDR exists
    assert not np.allclose(bss_eval(references, 0.5 * estimates)["sdr"], [10.0, 20.0], atol=0.5)


@pytest.mark.parametrize("backend", ["fast", "mir_eval"])
def test_nsdr_and_si_sdri_are_gains_over_the_mixture(backend: str) -> None:
    references = sources(2, SR // 4, 8)
    estimates = noisy_estimates(references, 8)
    mixture = references.sum(axis=0)
    item = evaluate_item(references, estimates, mixture, backend=backend)
    mixture_rows = np.stack([mixture, mixture])
    own = bss_eval(references, estimates, backend=backend)
    baseline = bss_eval(references, mixture_rows, backend=backend)
    np.testing.assert_allclose(item["sdr"], own["sdr"], atol=1e-9)
    np.testing.assert_allclose(item["mixture_sdr"], baseline["sdr"], atol=1e-9)
    np.testing.assert_allclose(item["nsdr"], own["sdr"] - baseline["sdr"], atol=1e-9)
    np.testing.assert_allclose(
        item["si_sdri"],
        si_sdr(references, estimates) - si_sdr(references, mixture_rows),
        atol=1e-9,
    )
    assert item["skipped"] is None and item["n_samples"] == SR // 4


def _row(item: int, source: str, n_samples: int, value: float) -> dict:
    row = {"item": item, "source": source, "n_samples": n_samples, "skipped": None}
    row.update({metric: value for metric in ITEM_METRICS})
    return row


def test_gnsdr_is_the_length_weighted_mean() -> None:
    rows = [
        _row(0, "a", 1000, 10.0),
        _row(0, "b", 1000, 4.0),
        _row(1, "a", 3000, 2.0),
        _row(1, "b", 3000, 0.0),
        {**_row(2, "a", 9000, math.nan), "skipped": "silent_reference"},
        {**_row(2, "b", 9000, math.nan), "skipped": "silent_reference"},
    ]
    summary = EvaluationResult(rows, ("a", "b")).summary()
    a = summary["per_source"]["a"]
    assert a["gnsdr"] == pytest.approx((10 * 1000 + 2 * 3000) / 4000)  # 4.0
    assert a["nsdr_mean"] == pytest.approx(6.0)  # unweighted, for contrast
    assert a["gsir"] == a["gsar"] == pytest.approx(4.0)
    overall = summary["overall"]
    assert overall["gnsdr"] == pytest.approx((10e3 + 4e3 + 2 * 3e3 + 0) / 8000)
    assert overall["sdr_median"] == pytest.approx(3.0)
    assert (summary["n_items"], summary["n_evaluated"], summary["n_skipped_silent"]) == (3, 2, 1)


def test_silent_reference_gives_nan_item_and_is_skipped_in_aggregates() -> None:
    references = np.stack([sources(2, SR // 2, seed) for seed in (9, 10, 11)])
    estimates = np.stack([noisy_estimates(r, 12) for r in references])
    references[1, 0] = 0.0  # item 1: the first source is digital silence
    mixtures = references.sum(axis=1)

    with pytest.raises(SilentSourceError, match="silent"):
        bss_eval(references[1], estimates[1])
    with pytest.raises(SilentSourceError, match="silent"):
        si_sdr(references[1], estimates[1])
    item = evaluate_item(references[1], estimates[1], mixtures[1])
    assert item["skipped"] == "silent_reference"
    assert all(np.isnan(item[metric]).all() for metric in ITEM_METRICS)

    result = evaluate_batch(references, estimates, mixtures, source_names=("v", "m"))
    summary = result.summary()
    assert summary["n_skipped_silent"] == 1
    assert summary["skipped_reasons"] == {"silent_reference": 1}
    kept = [evaluate_item(references[n], estimates[n], mixtures[n]) for n in (0, 2)]
    expected = np.mean([k["sdr"][0] for k in kept])
    assert summary["per_source"]["v"]["sdr_mean"] == pytest.approx(expected)
    assert "1 skipped" in result.to_markdown()


def test_silent_estimate_warns_and_is_skipped() -> None:
    references = sources(2, SR // 2, 13)
    estimates = references.copy()
    estimates[1] = 0.0
    with pytest.warns(RuntimeWarning, match="silent"):
        item = evaluate_item(references, estimates, references.sum(axis=0))
    assert item["skipped"] == "silent_estimate"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda r: bss_eval(r[0], r[0]), r"\(n_sources, n_samples\)"),
        (lambda r: bss_eval(r, r[:, :-1]), r"\(n_sources, n_samples\) = \(2, 800\)"),
        (lambda r: bss_eval(r, r[:1]), r"\(n_sources, n_samples\) = \(2, 800\)"),
        (lambda r: si_sdr(r[None], r[None]), r"\(n_sources, n_samples\)"),
        (lambda r: evaluate_item(r, r, r), r"\(n_samples,\) = \(800,\)"),
        (lambda r: evaluate_batch(r, r, r), r"\(n_items, n_sources, n_samples\)"),
        (lambda r: evaluate_batch(r[None], r[None, :1], r[None, 0]), r"\(n_items, n_sources, n_samples\)"),
        (lambda r: evaluate_batch(r[None], r[None], r), r"\(n_items, n_samples\) = \(1, 800\)"),
    ],
)
def test_bad_shapes_name_the_expected_shape(call, expected: str) -> None:
    references = sources(2, 800, 15)
    with pytest.raises(ValueError, match=expected):
        call(references)


def test_nan_input_is_refused() -> None:
    references = sources(2, 800, 16)
    broken = references.copy()
    broken[1, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        bss_eval(references, broken)
    with pytest.raises(ValueError, match=r"NaN.*item\(s\) \[0\]"):
        evaluate_batch(references[None], broken[None], references.sum(axis=0)[None])
    with pytest.raises(ValueError, match="backend"):
        bss_eval(references, references, backend="museval")  # type: ignore[arg-type]


def test_json_file_is_strict(tmp_path) -> None:
    references = np.stack([sources(2, SR // 2, seed) for seed in (17, 18)])
    estimates = np.stack([noisy_estimates(r, 19) for r in references])
    estimates[1] = references[1]  # perfect: ratios above 100 dB must survive
    mixtures = references.sum(axis=1)
    references_with_silence = np.concatenate([references, np.zeros((1, 2, SR // 2))])
    estimates = np.concatenate([estimates, estimates[:1]])
    mixtures = np.concatenate([mixtures, mixtures[:1]])
    result = evaluate_batch(
        references_with_silence,
        estimates,
        mixtures,
        source_names=("v", "m"),
        metadata={"split": "test-cs", "snr_db": np.float32(0.0), "seed": 3},
    )
    result.per_item[2]["sir"] = math.inf  # what bss_eval reports for an exactly zero error

    path = result.to_json(tmp_path / "scores.json")
    strict = json.loads(path.read_text(), parse_constant=lambda token: pytest.fail(token))
    assert strict["summary"]["n_skipped_silent"] == 1
    assert list(tmp_path.iterdir()) == [path]  # the temporary file was moved, not left
    assert strict["source_names"] == ["v", "m"] and strict["backend"] == "fast"
    assert strict["metadata"] == {"split": "test-cs", "snr_db": 0.0, "seed": 3}
    assert len(strict["per_item"]) == len(result.per_item)
    for original, written in zip(result.per_item, strict["per_item"], strict=True):
        assert written.keys() == original.keys()
        for key, value in original.items():
            if isinstance(value, float) and not math.isfinite(value):
                assert written[key] is None, key  # undefined or infinite: null
            elif isinstance(value, float):
                assert written[key] == pytest.approx(value), key
            else:
                assert written[key] == value, key


def test_markdown_tables() -> None:
    rows = [_row(0, "v", 100, 1.234), _row(0, "m", 100, 5.678)]
    result = EvaluationResult(rows, ("v", "m"), metadata={"split": "test-cs", "seed": 0})
    table = result.to_markdown(title="VAE")
    assert table.startswith("### VAE")
    assert "| v | 1 | 1.23 | 1.23 |" in table and "| all | 2 | 3.46 |" in table
    assert "split: test-cs" in table

    other = EvaluationResult([_row(0, "v", 100, 0.0), _row(0, "m", 100, 1.0)], ("v", "m"))
    comparison = compare_markdown({"mixture": other, "VAE": result}, metrics=("sdr",))
    lines = comparison.splitlines()
    assert lines[0] == "| method | items | SDR mean | SDR median | GNSDR | GSIR | GSAR |"
    assert lines[2] == "| mixture | 1 | 0.50 | 0.50 | 0.50 | 0.50 | 0.50 |"
    assert lines[3] == "| VAE | 1 | 3.46 | 3.46 | 3.46 | 3.46 | 3.46 |"
    with pytest.raises(ValueError, match="unknown metrics"):
        compare_markdown({"VAE": result}, metrics=("pesq",))


def test_sar_of_an_unprocessed_mixture_is_reported_as_undefined():
    from vaesep.metrics import evaluate_batch

    rng = np.random.default_rng(11)
    references = rng.standard_normal((2, 2, 8000))
    mixtures = references.sum(axis=1)
    floor = evaluate_batch(references, np.repeat(mixtures[:, None], 2, axis=1), mixtures)
    assert all(np.isnan(row["sar"]) for row in floor.per_item)
    assert "—" in floor.to_markdown()
    noisy = evaluate_batch(references, references + 0.1 * rng.standard_normal(references.shape), mixtures)
    assert all(np.isfinite(row["sar"]) for row in noisy.per_item)
