"""Tests of vaesep.data: determinism, caching, splits, mixing and frames."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from vaesep import data
from vaesep.audio import rms
from vaesep.data import registry
from vaesep.data.cache import MANIFEST
from vaesep.data.noise import NOISE_FILES
from vaesep.data.speech import check_czech_held_out, language_of
from vaesep.spectral import stft


def level_ratio_db(sources: np.ndarray) -> np.ndarray:
    """Measured level of source 0 over source 1 per example, in dB; sources (n, 2, n_samples)."""
    power = np.mean(np.square(sources, dtype=np.float64), axis=-1)
    return 10.0 * np.log10(power[:, 0] / power[:, 1])


class _ToneBuilder(data.DatasetBuilder):
    """A tiny generated set whose streams are silent in their first half."""

    source_names = ("tone", "hiss")
    splits = ("train", "test")

    def build(self, request: registry.BuildRequest, writer: data.DatasetWriter) -> None:
        rng = request.rng("noise")
        t = np.arange(4 * 16000) / 16000
        silent_half = (t >= 2.0).astype(np.float32)
        streams = {
            "tone": (np.sin(2 * np.pi * 220 * t) * silent_half).astype(np.float32),
            "hiss": (rng.standard_normal(t.size) * silent_half).astype(np.float32),
        }
        writer.add_split("train", streams=streams)
        sources, items = data.mixing.cut_evaluation_items(
            streams, segment_samples=8000, snr_db=request.snr_db, rng=request.rng("items")
        )
        writer.add_split("test", streams=streams, sources=sources, items=items)


class _FailingBuilder(_ToneBuilder):
    """Writes one split, then dies as an interrupted build would."""

    def build(self, request: registry.BuildRequest, writer: data.DatasetWriter) -> None:
        writer.add_split(
            "train", streams={"tone": np.ones(100, np.float32), "hiss": np.ones(100, np.float32)}
        )
        raise KeyboardInterrupt


@pytest.fixture
def isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register builders without leaking them into other tests."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))


# ---------------------------------------------------------------- registry and errors


def test_available_lists_the_builtin_sets() -> None:
    assert {"speech", "chorales", "noise", "synthetic"} <= set(data.available())


def test_unknown_name_raises_value_error_listing_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="available data sets: .*synthetic"):
        data.build("no-such-set", cache_dir=tmp_path)


@pytest.mark.parametrize("name", ["speech", "noise"])
def test_missing_system_data_names_the_install_command(name: str, tmp_path: Path) -> None:
    with pytest.raises(data.MissingSystemDataError, match="apt-get install") as caught:
        data.build(name, root=tmp_path, cache_dir=tmp_path / "cache", progress=False)
    assert isinstance(caught.value, RuntimeError)
    assert "install-system-data.sh" in str(caught.value)


def test_missing_fluidsynth_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no fluidsynth program anywhere
    with pytest.raises(data.MissingSystemDataError, match="apt-get install -y fluidsynth"):
        data.build("chorales", cache_dir=tmp_path / "cache", progress=False)


def test_missing_music21_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from vaesep.data import chorales

    monkeypatch.setitem(sys.modules, "music21", None)  # as if not installed: import fails
    with pytest.raises(ModuleNotFoundError, match=re.escape('pip install "vaesep[music]"')):
        chorales.chorale_ids()


def test_missing_speech_packages_are_named(tmp_path: Path) -> None:
    (tmp_path / "city" / "nl").mkdir(parents=True)
    (tmp_path / "city" / "nl" / "vit-m-x.ogg").write_bytes(b"")
    with pytest.raises(data.MissingSystemDataError) as caught:
        data.split_files("speech", "test", root=tmp_path)
    assert "fillets-ng-data-cs" in str(caught.value)
    assert "fillets-ng-data-nl" not in str(caught.value)


# ---------------------------------------------------------------- determinism and cache


def test_same_seed_gives_identical_arrays_and_manifest(tmp_path: Path) -> None:
    first = data.build("synthetic", seed=3, fast=True, cache_dir=tmp_path / "a", progress=False)
    second = data.build("synthetic", seed=3, fast=True, cache_dir=tmp_path / "b", progress=False)
    assert (first.path / MANIFEST).read_bytes() == (second.path / MANIFEST).read_bytes()
    assert first.manifest_hash == second.manifest_hash
    for split in first.evaluation_splits:
        np.testing.assert_array_equal(first.sources(split), second.sources(split))
    for name, stream in first.streams("train").items():
        np.testing.assert_array_equal(stream, second.streams("train")[name])


def test_different_seed_gives_different_mixtures(tmp_path: Path) -> None:
    first = data.build("synthetic", seed=0, fast=True, cache_dir=tmp_path, progress=False)
    second = data.build("synthetic", seed=1, fast=True, cache_dir=tmp_path, progress=False)
    assert first.path != second.path
    assert first.mixtures("test").shape == second.mixtures("test").shape
    assert not np.allclose(first.mixtures("test"), second.mixtures("test"))


def test_cached_build_is_reused_without_rebuilding(tmp_path: Path) -> None:
    first = data.build("synthetic", fast=True, cache_dir=tmp_path, progress=False)
    manifest_time = (first.path / MANIFEST).stat().st_mtime_ns
    started = time.perf_counter()
    second = data.build("synthetic", fast=True, cache_dir=tmp_path, progress=False)
    assert time.perf_counter() - started < 2.0
    assert second.path == first.path
    assert (second.path / MANIFEST).stat().st_mtime_ns == manifest_time


@pytest.mark.parametrize("damage", ["flip bytes", "delete"])
def test_corrupted_cache_is_detected_and_rebuilt(tmp_path: Path, damage: str) -> None:
    built = data.build("synthetic", fast=True, cache_dir=tmp_path, progress=False)
    original = np.array(built.sources("test"))
    target = built.path / "sources_test.npy"
    if damage == "delete":
        target.unlink()
    else:
        raw = bytearray(target.read_bytes())
        raw[-16:] = bytes(b ^ 0xFF for b in raw[-16:])  # same size, different content
        target.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="failed verification"):
        rebuilt = data.build("synthetic", fast=True, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(rebuilt.sources("test"), original)
    assert rebuilt.manifest_hash == built.manifest_hash


def test_interrupted_build_leaves_nothing_and_next_build_recovers(
    tmp_path: Path, isolated_registry: None
) -> None:
    data.register("test-tone", _FailingBuilder())
    with pytest.raises(KeyboardInterrupt):
        data.build("test-tone", cache_dir=tmp_path, progress=False)
    assert [
        p.name for p in (tmp_path / "test-tone").iterdir() if not p.name.endswith(".lock")
    ] == []
    # a leftover temporary dir from a killed process (no chance to clean up) is removed
    data.register("test-tone", _ToneBuilder(), replace=True)
    key = data.cache.dataset_key(
        "test-tone", "1", {"seed": 0, "snr_db": 0.0, "fast": True, "root": None}
    )
    leftover = tmp_path / "test-tone" / f".{key}.partial-999999"
    (leftover / "junk").mkdir(parents=True)
    built = data.build("test-tone", fast=True, cache_dir=tmp_path, progress=False)
    assert built.path.name == key
    assert not leftover.exists()
    assert built.sources("test").shape[1:] == (2, 8000)


def test_register_rejects_duplicates_and_non_builders(isolated_registry: None) -> None:
    with pytest.raises(ValueError, match="already registered"):
        data.register("synthetic", _ToneBuilder())
    with pytest.raises(TypeError, match="DatasetBuilder"):
        data.register("bad", lambda request, writer: None)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the handle


def test_synthetic_layout_and_describe(synthetic_dataset: data.BuiltDataset) -> None:
    ds = synthetic_dataset
    assert ds.source_names == ("low", "high")
    assert ds.sample_rate == 16000
    assert ds.splits == ("train", "valid", "test")
    sources = ds.sources("test")
    assert sources.dtype == np.float32 and isinstance(sources, np.memmap)
    assert sources.shape == (6, 2, 32000)
    np.testing.assert_allclose(ds.mixtures("test"), sources.sum(axis=1), atol=1e-6)
    assert len(ds.items("test")) == 6
    assert ds.duration_seconds("train") == {"low": 30.0, "high": 30.0}
    table = ds.describe()
    assert "train" in table and "test" in table and "low (min)" in table
    with pytest.raises(ValueError, match="random_segments"):
        ds.sources("train")
    with pytest.raises(ValueError, match="no split"):
        ds.streams("test_cs")


def test_fixed_items_have_the_requested_snr(tmp_path: Path) -> None:
    ds = data.build("synthetic", snr_db=4.5, fast=True, cache_dir=tmp_path, progress=False)
    measured = level_ratio_db(np.asarray(ds.sources("valid")))
    np.testing.assert_allclose(measured, 4.5, atol=0.01)
    np.testing.assert_allclose([rms(s) for s in ds.sources("valid")[:, 0]], 1.0, rtol=1e-4)


# ---------------------------------------------------------------- dynamic mixing


@pytest.mark.parametrize("snr_db", [0.0, 5.0, -3.0])
def test_random_segments_shape_and_snr(synthetic_dataset: data.BuiltDataset, snr_db: float) -> None:
    batch = data.random_segments(
        synthetic_dataset, "train", 32, 0.5, rng=np.random.default_rng(1), snr_db=snr_db
    )
    assert batch.shape == (32, 2, 8000) and batch.dtype == np.float32
    np.testing.assert_allclose(level_ratio_db(batch), snr_db, atol=0.01)


def test_random_segments_are_seeded_and_fresh(synthetic_dataset: data.BuiltDataset) -> None:
    def draw(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return data.random_segments(synthetic_dataset, "train", 8, 0.25, rng=rng)

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.allclose(draw(7), draw(8))


def test_random_segments_skip_silent_stretches(tmp_path: Path, isolated_registry: None) -> None:
    data.register("test-tone", _ToneBuilder())
    ds = data.build("test-tone", cache_dir=tmp_path, progress=False)
    batch = data.random_segments(ds, "train", 64, 0.25, rng=np.random.default_rng(0))
    assert np.isfinite(batch).all()
    np.testing.assert_allclose(level_ratio_db(batch), 0.0, atol=0.01)
    items = ds.items("test")  # fixed items also avoid the silent first half
    assert all(item["sources"]["tone"]["stream_offset"] >= 2 * 16000 for item in items)


# ---------------------------------------------------------------- frames


def test_frame_dataset_shapes_values_and_context_edges() -> None:
    rng = np.random.default_rng(0)
    sources = rng.standard_normal((3, 2, 4000)).astype(np.float32)
    frames = data.FrameDataset(sources, context=2)
    per_item = 4000 // 256 + 1
    assert len(frames) == 3 * per_item
    mixture, target = frames[0]
    assert mixture.shape == (5, 513) and target.shape == (2, 513)
    assert frames.mixture_magnitude.shape == (3 * per_item, 513)
    assert frames.source_magnitude.shape == (3 * per_item, 2, 513)
    expected = np.abs(stft(sources.sum(axis=1)))  # (items, frames, bins)
    np.testing.assert_allclose(frames.mixture_magnitude.numpy(), expected.reshape(-1, 513), atol=1e-4)
    first_of_item_1 = per_item
    assert frames.context_index[first_of_item_1].tolist() == [per_item] * 3 + [
        per_item + 1,
        per_item + 2,
    ]
    last_of_item_0 = per_item - 1
    assert (
        frames.context_index[last_of_item_0].tolist()
        == [per_item - 3, per_item - 2] + [per_item - 1] * 3
    )
    mixture, _ = frames[last_of_item_0]
    assert torch.equal(mixture[2], mixture[4])  # repeated edge frame, not the next item's
    assert data.FrameDataset(sources)[5][0].shape == (1, 513)


# ---------------------------------------------------------------- real data (Debian packages)


@pytest.mark.system_data
def test_dutch_splits_are_disjoint_and_czech_is_held_out(
    skip_without_system_data: Callable[[str], None],
) -> None:
    skip_without_system_data("speech")
    splits = {
        split: set(data.split_files("speech", split))
        for split in ("train", "valid", "test", "test_cs")
    }
    assert not splits["train"] & splits["valid"]
    assert not splits["train"] & splits["test"]
    assert not splits["valid"] & splits["test"]
    for split in ("train", "valid", "test"):
        assert {language_of(f) for f in splits[split]} == {"nl"}
    assert {language_of(f) for f in splits["test_cs"]} == {"cs"}
    dutch = sum(len(splits[s]) for s in ("train", "valid", "test"))
    assert 0.75 < len(splits["train"]) / dutch < 0.85


def test_czech_in_training_is_refused() -> None:
    plan = {"train": {"v": ["city/nl/a-v.ogg", "city/cs/b-v.ogg"]}, "test_cs": {"v": []}}
    with pytest.raises(RuntimeError, match="never enter train"):
        check_czech_held_out(plan)


@pytest.mark.system_data
def test_speech_fast_build(speech_dataset: data.BuiltDataset) -> None:
    ds = speech_dataset
    assert ds.source_names == ("v", "m")
    assert ds.splits == ("train", "valid", "test", "test_cs")
    assert ds.sources("test").shape == (12, 2, 64000)
    assert ds.sources("test_cs").shape == (12, 2, 64000)
    for split in ("train", "valid", "test"):
        for pieces in ds.stream_index(split).values():
            assert {language_of(p["file"]) for p in pieces} == {"nl"}
    for item in ds.items("test_cs"):
        for speaker, entry in item["sources"].items():
            assert all(language_of(f["file"]) == "cs" for f in entry["files"])
            assert all(f"-{speaker}" in f["file"] for f in entry["files"])
    assert 170 < ds.duration_seconds("train")["v"] < 200  # fast mode: about 3 minutes


@pytest.mark.system_data
def test_noise_test_recordings_are_unseen(
    speech_dataset: data.BuiltDataset, skip_without_system_data: Callable[[str], None]
) -> None:
    skip_without_system_data("noise")
    assert not set(NOISE_FILES["train"]) & set(NOISE_FILES["test"])
    ds = data.build("noise", fast=True, progress=False)
    assert ds.source_names == ("speech", "noise")
    used = {f["file"] for item in ds.items("test") for f in item["sources"]["noise"]["files"]}
    assert used <= set(NOISE_FILES["test"])
    np.testing.assert_allclose(level_ratio_db(np.asarray(ds.sources("test"))), 0.0, atol=0.01)


@pytest.mark.system_data
def test_chorales_fast_build_is_aligned_music(
    skip_without_system_data: Callable[[str], None],
) -> None:
    skip_without_system_data("chorales")
    ds = data.build("chorales", fast=True, progress=False)
    assert ds.source_names == ("melody", "accompaniment")
    streams = ds.streams("test")
    assert streams["melody"].shape == streams["accompaniment"].shape
    for item in ds.items("test"):
        offsets = {entry["stream_offset"] for entry in item["sources"].values()}
        assert len(offsets) == 1  # both stems from the same moment of the same chorale
    train_ids = {p["file"] for p in ds.stream_index("train")["melody"]}
    test_ids = {p["file"] for p in ds.stream_index("test")["melody"]}
    assert train_ids and test_ids and not train_ids & test_ids
    assert json.loads((ds.path / MANIFEST).read_text())["params"]["fast"] is True
