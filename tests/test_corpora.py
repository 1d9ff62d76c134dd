"""Tests of the corpus loaders on tiny synthetic stand-ins in each corpus's real layout.

Every test writes its own miniature corpus (TSP file naming at 48 kHz,
stereo MIR-1K clips, NIST SPHERE TIMIT files, MUSDB18-HQ stems, LibriSpeech
FLAC with SPEAKERS.TXT) and checks splits, pairing, levels, error messages
and that an interrupted build leaves nothing behind. Nothing needs the real corpora or the network.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from vaesep import data
from vaesep.audio import resample
from vaesep.data import DatasetWriter
from vaesep.data.builder import get_builder
from vaesep.data.corpora import CorpusFileError, CorpusLayoutError, base, speech
from vaesep.data.corpora.base import NpyVectorAppender, read_corpus_audio
from vaesep.data.decode import ordered_map

CORPORA = ("tsp", "tsp-fa-fb", "tsp-mc-md", "mir1k", "timit", "musdb18", "librispeech")


def voice_like(seconds: float, rate: int, f0: float, amplitude: float, seed: int) -> np.ndarray:
    """A harmonic tone with a syllable-rate envelope, padded with 0.1 s of near-silence each side."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k for k in (1, 2, 3))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(2, 5) * t)
    signal = amplitude * tone * envelope / 1.8 + 0.002 * rng.standard_normal(t.size)
    pad = 1e-4 * rng.standard_normal(int(0.1 * rate))
    return np.concatenate([pad, signal, pad])


def level_ratio_db(sources: np.ndarray) -> np.ndarray:
    """Level of source 0 over source 1 per item, in dB; sources ``(n, 2, n_samples)``."""
    power = np.mean(np.square(sources, dtype=np.float64), axis=-1)
    return 10.0 * np.log10(power[:, 0] / power[:, 1])


def build(name: str, root: Path, cache: Path, **kwargs: Any) -> data.BuiltDataset:
    return data.build(name, root=root, cache_dir=cache, progress=False, **kwargs)


# ---------------------------------------------------------------- stand-ins in the real layouts


def write_tsp(root: Path, speakers: tuple[str, ...] = ("FA", "MC"), files: int = 20) -> Path:
    """``root/48k/<SPK>/<SPK><list>_<sentence>.wav``, 48 kHz 16-bit, 2 s sentences."""
    for number, speaker in enumerate(speakers):
        folder = root / "48k" / speaker
        folder.mkdir(parents=True)
        for index in range(files):
            name = f"{speaker}{index // 10 + 1:02d}_{index % 10 + 1:02d}.wav"
            audio = voice_like(2.0, 48000, 120.0 + 60 * number, 0.3, seed=100 * number + index)
            sf.write(folder / name, audio, 48000, subtype="PCM_16")
    return root


MIR1K_SINGERS = {"abjones": 5, "amy": 4, "Ani": 2, "khair": 2}


def write_mir1k(root: Path, singers: dict[str, int] = MIR1K_SINGERS) -> Path:
    """``root/MIR-1K/Wavfile/<singer>_<song>_<clip>.wav``: 16 kHz stereo, accompaniment left, voice right."""
    folder = root / "MIR-1K" / "Wavfile"
    folder.mkdir(parents=True)
    for number, (singer, clips) in enumerate(singers.items()):
        for clip in range(1, clips + 1):
            voice = voice_like(8.5, 16000, 300.0, 0.4, seed=10 * number + clip)
            accompaniment = voice_like(8.5, 16000, 80.0, 0.1, seed=500 + 10 * number + clip)
            sf.write(
                folder / f"{singer}_1_{clip:02d}.wav",
                np.stack([accompaniment, voice], axis=1),
                16000,
                subtype="PCM_16",
            )
    return root


def write_sphere(path: Path, samples: np.ndarray, coding: str | None = None) -> None:
    """A 16 kHz 16-bit little-endian SPHERE file with a 1024-byte header, as on the TIMIT disc."""
    pcm = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2")
    lines = [
        "NIST_1A",
        "   1024",
        "database_id -s5 TIMIT",
        "database_version -s3 1.0",
        f"utterance_id -s{len(path.stem) + 6} {path.parent.name.lower()[1:]}_{path.stem.lower()}",
        "channel_count -i 1",
        f"sample_count -i {pcm.size}",
        "sample_rate -i 16000",
        f"sample_min -i {int(pcm.min())}",
        f"sample_max -i {int(pcm.max())}",
        "sample_n_bytes -i 2",
        "sample_byte_format -s2 01",
        "sample_sig_bits -i 16",
    ]
    if coding is not None:
        lines.append(f"sample_coding -s{len(coding)} {coding}")
    header = ("\n".join(lines + ["end_head"]) + "\n").encode("ascii").ljust(1024, b" ")
    path.write_bytes(header + pcm.tobytes())


TIMIT_UTTERANCES = ("SA1", "SA2", "SI1027", "SX37", "SX127")


def write_timit(root: Path, train: int = 10, test: int = 3) -> Path:
    """``root/TIMIT/TRAIN|TEST/DR<n>/<speaker>/<utterance>.WAV`` with SPHERE headers."""
    for part, count in (("TRAIN", train), ("TEST", test)):
        for index in range(count):
            speaker = f"{'FM'[index % 2]}{'ABCDEFGHIJKLMNOP'[index]}JF0"
            folder = root / "TIMIT" / part / f"DR{index % 8 + 1}" / speaker
            folder.mkdir(parents=True)
            for number, utterance in enumerate(TIMIT_UTTERANCES):
                audio = voice_like(2.5, 16000, 110.0 + 15 * index, 0.3, seed=1000 * index + number)
                write_sphere(folder / f"{utterance}.WAV", audio)
    return root


def write_noise_folder(root: Path) -> Path:
    """A user noise folder with ``train/``, ``valid/`` and ``test/`` recordings."""
    rng = np.random.default_rng(7)
    for split in ("train", "valid", "test"):
        (root / split).mkdir(parents=True)
        sf.write(root / split / f"{split}_hum.wav", 0.1 * rng.standard_normal(3 * 16000), 16000)
    return root


MUSDB_TRACKS = {
    "train": (
        "Actions - One Minute Smile",
        "A Classic Education - NightOwl",
        "Aimee Norwich - Child",
    ),
    "test": ("AM Contra - Heart Peripheral", "Al James - Schoolboy Facination"),
}
STEM_TONES = {
    "vocals": (440.0, 0.3),
    "drums": (90.0, 0.2),
    "bass": (55.0, 0.2),
    "other": (700.0, 0.1),
}


def write_musdb(root: Path, seconds: float = 8.2) -> Path:
    """MUSDB18-HQ: ``root/train|test/<track>/{mixture,vocals,drums,bass,other}.wav``, 44.1 kHz stereo."""
    for part, tracks in MUSDB_TRACKS.items():
        for number, track in enumerate(tracks):
            folder = root / part / track
            folder.mkdir(parents=True)
            stems = {
                stem: np.stack(
                    [voice_like(seconds, 44100, f0, amplitude, seed=number * 10 + k)] * 2, axis=1
                )
                for k, (stem, (f0, amplitude)) in enumerate(STEM_TONES.items())
            }
            for stem, audio in {**stems, "mixture": sum(stems.values())}.items():
                sf.write(folder / f"{stem}.wav", audio, 44100, subtype="PCM_16")
    return root


LIBRI_READERS = {  # id: (sex, subset)
    "19": ("F", "train-clean-100"),
    "26": ("M", "train-clean-100"),
    "32": ("F", "train-clean-100"),
    "60": ("M", "train-clean-100"),
    "84": ("F", "dev-clean"),
    "174": ("M", "dev-clean"),
    "121": ("F", "test-clean"),
    "237": ("M", "test-clean"),
}


def write_librispeech(root: Path, utterances: int = 4) -> Path:
    """``root/LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` and SPEAKERS.TXT."""
    corpus = root / "LibriSpeech"
    lines = [
        "; Some pipe(|) separated metadata about all LibriVox readers",
        ";ID  |SEX| SUBSET           |MINUTES| NAME",
    ]
    for speaker, (sex, subset) in LIBRI_READERS.items():
        # reader 60's real name contains a pipe, which a naive split gets wrong
        name = "|CBW|Simon" if speaker == "60" else f"Reader {speaker}"
        lines.append(f"{speaker:<5}| {sex} | {subset:<17}| 25.00 | {name}")
        folder = corpus / subset / speaker / "1000"
        folder.mkdir(parents=True)
        f0 = 220.0 if sex == "F" else 110.0
        for utterance in range(utterances):
            audio = voice_like(4.0, 16000, f0, 0.3, seed=int(speaker) * 10 + utterance)
            sf.write(folder / f"{speaker}-1000-{utterance:04d}.flac", audio, 16000, format="FLAC")
    (corpus / "SPEAKERS.TXT").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# ---------------------------------------------------------------- registry and clear errors


def test_corpora_are_registered_next_to_the_offline_sets() -> None:
    assert set(CORPORA) <= set(data.available())
    assert data.available()[:4] == ["speech", "chorales", "noise", "synthetic"]


@pytest.mark.parametrize("name", CORPORA)
def test_missing_root_says_how_to_pass_one(name: str, tmp_path: Path) -> None:
    with pytest.raises(CorpusLayoutError, match="--root") as caught:
        data.build(name, cache_dir=tmp_path, progress=False)
    assert "data/README.md" in str(caught.value)
    assert isinstance(caught.value, data.MissingSystemDataError)


@pytest.mark.parametrize(
    ("name", "missing"),
    [
        ("tsp", "48k/FA/FA01_01.wav"),
        ("mir1k", "Wavfile/"),
        ("timit", "TRAIN/"),
        ("musdb18", "train/"),
        ("librispeech", "SPEAKERS.TXT"),
    ],
)
def test_wrong_root_names_what_is_missing(name: str, missing: str, tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    with pytest.raises(CorpusLayoutError) as caught:
        build(name, tmp_path / "corpus", tmp_path / "cache")
    message = str(caught.value)
    assert missing in message and "data/README.md, section" in message


# ---------------------------------------------------------------- TSP


def test_tsp_splits_each_speaker_80_10_10_and_mixes_at_0_db(tmp_path: Path) -> None:
    root = write_tsp(tmp_path / "tsp")
    built = build("tsp", root, tmp_path / "cache", fast=False)
    assert built.source_names == ("FA", "MC")
    for speaker in built.source_names:
        seconds = {split: built.duration_seconds(split)[speaker] for split in built.splits}
        total = sum(seconds.values())
        assert seconds["test"] / total == pytest.approx(0.1, abs=1e-3)
        assert seconds["valid"] / total == pytest.approx(0.1, abs=1e-3)
        # 20 sentences of 2 s at 48 kHz (plus 0.2 s of pads, mostly trimmed), resampled to 16 kHz
        assert 40.0 < total <= 44.0
    # the test split is the *end* of each speaker's stream: its last file is the last sentence
    assert built.stream_index("test")["FA"][-1]["file"] == "48k/FA/FA02_10.wav"
    assert built.stream_index("train")["MC"][0]["file"] == "48k/MC/MC01_01.wav"
    np.testing.assert_allclose(level_ratio_db(np.asarray(built.sources("test"))), 0.0, atol=1e-3)
    item = built.items("test")[0]["sources"]
    assert item["FA"]["files"][0]["file"].startswith("48k/FA/")
    assert item["MC"]["files"][0]["file"].startswith("48k/MC/")


def test_tsp_pairs_of_huang_et_al_and_custom_pairs(tmp_path: Path) -> None:
    root = write_tsp(tmp_path / "tsp", speakers=("FA", "FB"), files=20)
    built = build("tsp-fa-fb", root, tmp_path / "cache", fast=True)
    assert built.source_names == ("FA", "FB")
    with pytest.raises(CorpusLayoutError, match="48k/MC/ with files like MC01_01.wav"):
        build("tsp", root, tmp_path / "cache")
    assert speech.TSPBuilder(("fb", "fa")).corpus == "tsp-fb-fa"
    with pytest.raises(ValueError, match="two different speaker codes"):
        speech.TSPBuilder(("FA", "FA"))


def test_tsp_split_bounds_are_last_tenth_then_a_ninth_of_the_rest() -> None:
    bounds = speech.split_bounds(900)
    assert bounds == {"train": (0, 720), "valid": (720, 810), "test": (810, 900)}


# ---------------------------------------------------------------- MIR-1K


def test_mir1k_uses_the_drnn_split_and_the_right_channel_as_voice(tmp_path: Path) -> None:
    root = write_mir1k(tmp_path)
    built = build("mir1k", root, tmp_path / "cache", fast=False)
    assert built.source_names == ("voice", "accompaniment")
    train_valid = data.split_files("mir1k", "train", root=root) + data.split_files(
        "mir1k", "valid", root=root
    )
    test = data.split_files("mir1k", "test", root=root)
    assert len(train_valid) == 9 and len(test) == 4
    assert all(Path(f).name.split("_")[0] in ("abjones", "amy") for f in train_valid)
    assert not {Path(f).name.split("_")[0] for f in test} & {"abjones", "amy"}
    assert len(data.split_files("mir1k", "valid", root=root)) == 1  # ceil(9 / 9)
    # the voice was written louder (0.4 vs 0.1) on the right channel
    levels = built.stream_rms("train")
    assert levels["voice"] / levels["accompaniment"] == pytest.approx(4.0, rel=0.1)
    sources = np.asarray(built.sources("test"))
    np.testing.assert_allclose(level_ratio_db(sources), 0.0, atol=1e-3)
    # items are cut inside one clip: two 4 s items per 8.7 s clip
    items = built.items("test")
    assert len(items) == 2 * len(test)
    for item in items:
        files = {f["file"] for s in item["sources"].values() for f in s["files"]}
        assert files == {item["file"]}


def test_mir1k_reports_mono_and_truncated_clips_by_name(tmp_path: Path) -> None:
    root = write_mir1k(tmp_path / "mono")
    mono = root / "MIR-1K" / "Wavfile" / "khair_1_01.wav"
    sf.write(mono, np.zeros(16000), 16000)
    with pytest.raises(CorpusFileError, match="khair_1_01.wav: expected 2 channels"):
        build("mir1k", root, tmp_path / "cache")
    root = write_mir1k(tmp_path / "cut")
    clip = root / "MIR-1K" / "Wavfile" / "Ani_1_02.wav"
    clip.write_bytes(clip.read_bytes()[:-5000])
    with pytest.raises(CorpusFileError) as caught:
        build("mir1k", root, tmp_path / "cache")
    assert "Ani_1_02.wav: truncated" in str(caught.value)
    assert "data/README.md" in str(caught.value)


# ---------------------------------------------------------------- TIMIT


def test_sphere_files_decode_to_their_exact_samples(tmp_path: Path) -> None:
    signal = voice_like(0.5, 16000, 200.0, 0.5, seed=3)
    write_sphere(tmp_path / "SX37.WAV", signal)
    decoded, rate = read_corpus_audio(tmp_path / "SX37.WAV", "TIMIT")
    assert rate == 16000 and decoded.shape == (signal.size, 1)
    pcm = np.clip(np.round(signal * 32767), -32768, 32767).astype(np.int16)
    np.testing.assert_array_equal(decoded[:, 0], pcm.astype(np.float32) / 32768)  # 16-bit PCM, exactly


def test_timit_splits_by_speaker_without_sa_and_uses_the_given_noises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_timit(tmp_path / "corpus")
    monkeypatch.setenv("VAESEP_NOISE_DIR", str(write_noise_folder(tmp_path / "noises")))
    built = build("timit", root, tmp_path / "cache", fast=False)
    assert built.source_names == ("speech", "noise")
    files = {split: data.split_files("timit", split, root=root) for split in built.splits}
    speakers = {split: {Path(f).parent.name for f in found} for split, found in files.items()}
    assert speakers["valid"] and not speakers["valid"] & speakers["train"]
    assert len(speakers["train"] | speakers["valid"]) == 10 and len(speakers["test"]) == 3
    assert all("/TEST/" in f for f in files["test"]) and all("/TRAIN/" in f for f in files["train"])
    assert not any(Path(f).stem.startswith("SA") for found in files.values() for f in found)
    noise_files = {p["file"] for p in built.stream_index("test")["noise"]}
    assert noise_files == {"test/test_hum.wav"}
    np.testing.assert_allclose(level_ratio_db(np.asarray(built.sources("test"))), 0.0, atol=1e-3)
    assert built.manifest["notes"]["noise"]["source"] == "folder"


def test_timit_reads_lower_case_and_converted_copies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_timit(tmp_path / "upper", train=10, test=2)
    lower = tmp_path / "lower"
    for path in sorted(root.rglob("*")):
        target = lower / path.relative_to(root).as_posix().lower()
        if path.is_dir():
            target.mkdir(parents=True)
            continue
        target.write_bytes(path.read_bytes())
        audio, rate = sf.read(path)
        sf.write(target.with_name(target.name + ".wav"), audio, rate)  # as in converted copies
    builder = get_builder("timit")
    upper_files = builder.split_files("test", root)
    assert builder.split_files("test", lower) == [f.lower() for f in upper_files]  # originals win
    for original in lower.rglob("*.wav"):
        if not original.name.endswith(".wav.wav"):
            original.unlink()
    monkeypatch.setenv("VAESEP_NOISE_DIR", str(write_noise_folder(tmp_path / "noises")))
    built = build("timit", lower, tmp_path / "cache", fast=True)
    assert built.stream_index("test")["speech"][0]["file"].endswith(".wav.wav")


def test_timit_names_compressed_and_truncated_sphere_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAESEP_NOISE_DIR", str(write_noise_folder(tmp_path / "noises")))
    root = write_timit(tmp_path / "shorten")
    packed = root / "TIMIT" / "TEST" / "DR1" / "FAJF0" / "SX37.WAV"
    write_sphere(packed, np.zeros(100), coding="pcm,embedded-shorten-v2.00")
    with pytest.raises(CorpusFileError) as caught:
        build("timit", root, tmp_path / "cache")
    assert "FAJF0/SX37.WAV" in str(caught.value) and "shorten" in str(caught.value)
    assert "sph2pipe" in str(caught.value)
    root = write_timit(tmp_path / "cut")
    cut = root / "TIMIT" / "TRAIN" / "DR2" / "MBJF0" / "SI1027.WAV"
    cut.write_bytes(cut.read_bytes()[:5000])
    with pytest.raises(CorpusFileError, match=r"MBJF0/SI1027.WAV: truncated"):
        build("timit", root, tmp_path / "cache")


def test_timit_without_noises_names_both_ways_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAESEP_NOISE_DIR", str(tmp_path / "one-file"))
    (tmp_path / "one-file").mkdir()
    sf.write(tmp_path / "one-file" / "hum.wav", np.zeros(1600), 16000)
    root = write_timit(tmp_path / "corpus", train=2, test=1)
    with pytest.raises(CorpusLayoutError, match="train/, valid/ and test/ sub-folders"):
        build("timit", root, tmp_path / "cache")
    monkeypatch.delenv("VAESEP_NOISE_DIR")
    monkeypatch.setattr("vaesep.data.noise.SONIC_PI_SAMPLES", tmp_path / "nowhere")
    with pytest.raises(data.MissingSystemDataError, match="sonic-pi-samples.*VAESEP_NOISE_DIR"):
        get_builder("timit").check_system_data(root)


# ---------------------------------------------------------------- MUSDB18


def test_musdb18_vocals_against_the_sum_of_the_other_stems(tmp_path: Path) -> None:
    root = write_musdb(tmp_path / "musdb18hq")
    built = build("musdb18", tmp_path, tmp_path / "cache", fast=False)  # finds the wrapper folder
    assert built.source_names == ("vocals", "accompaniment")
    assert data.split_files("musdb18", "valid", root=tmp_path) == [
        "musdb18hq/train/Actions - One Minute Smile"
    ]
    assert len(data.split_files("musdb18", "train", root=tmp_path)) == 2
    track = root / "train" / "A Classic Education - NightOwl"
    stems = {
        stem: resample(
            sf.read(track / f"{stem}.wav", dtype="float32")[0].mean(axis=1), 44100, 16000
        )
        for stem in STEM_TONES
    }
    piece = next(
        p for p in built.stream_index("train")["accompaniment"] if p["file"].endswith("NightOwl")
    )
    window = slice(piece["stream_offset"], piece["stream_offset"] + piece["length"])
    expected = stems["drums"] + stems["bass"] + stems["other"]
    np.testing.assert_allclose(built.streams("train")["accompaniment"][window], expected, atol=1e-5)
    np.testing.assert_allclose(built.streams("train")["vocals"][window], stems["vocals"], atol=1e-6)
    sources = np.asarray(built.sources("test"))
    np.testing.assert_allclose(level_ratio_db(sources), 0.0, atol=1e-3)
    assert len(built.items("test")) == 2 * 2  # two 4 s items in each 8.4 s test track


def test_musdb18_missing_stem_and_compressed_stems_are_named(tmp_path: Path) -> None:
    root = write_musdb(tmp_path / "hq", seconds=1.0)
    (root / "test" / "Al James - Schoolboy Facination" / "bass.wav").unlink()
    with pytest.raises(CorpusLayoutError, match="test/Al James - Schoolboy Facination/bass.wav"):
        build("musdb18", root, tmp_path / "cache")
    compressed = tmp_path / "stems"
    for part in ("train", "test"):
        (compressed / part).mkdir(parents=True)
        (compressed / part / "Actions - One Minute Smile.stem.mp4").write_bytes(b"")
    with pytest.raises(CorpusLayoutError, match="compressed MUSDB18.*MUSDB18-HQ.*musdbconvert"):
        build("musdb18", compressed, tmp_path / "cache")


# ---------------------------------------------------------------- LibriSpeech


def test_librispeech_pairs_women_with_men_from_speakers_txt(tmp_path: Path) -> None:
    root = write_librispeech(tmp_path)
    built = build("librispeech", root, tmp_path / "cache", fast=False)
    assert built.source_names == ("female", "male")
    sexes = {speaker: sex for speaker, (sex, _) in LIBRI_READERS.items()}
    for split, subset in (
        ("train", "train-clean-100"),
        ("valid", "dev-clean"),
        ("test", "test-clean"),
    ):
        index = built.stream_index(split)
        for source, sex in (("female", "F"), ("male", "M")):
            readers = {Path(p["file"]).name.split("-")[0] for p in index[source]}
            assert readers and all(sexes[r] == sex for r in readers)
            assert all(p["file"].startswith(f"LibriSpeech/{subset}/") for p in index[source])
    assert "60" in {Path(p["file"]).name.split("-")[0] for p in built.stream_index("train")["male"]}
    np.testing.assert_allclose(level_ratio_db(np.asarray(built.sources("test"))), 0.0, atol=1e-3)


def test_librispeech_missing_subset_is_named(tmp_path: Path) -> None:
    root = write_librispeech(tmp_path, utterances=1)
    for flac in (root / "LibriSpeech" / "dev-clean").rglob("*.flac"):
        flac.unlink()
    with pytest.raises(CorpusLayoutError, match="reader's .flac in dev-clean/"):
        build("librispeech", root, tmp_path / "cache")
    (root / "LibriSpeech" / "test-clean").rename(root / "LibriSpeech" / "elsewhere")
    with pytest.raises(CorpusLayoutError, match="LibriSpeech/test-clean/ is missing"):
        build("librispeech", root, tmp_path / "cache")


# ---------------------------------------------------------------- streaming and resuming


def test_appender_writes_the_same_bytes_as_numpy(tmp_path: Path) -> None:
    appender = NpyVectorAppender(tmp_path / "stream.npy")
    appender.append(np.arange(5, dtype=np.float32))
    appender.append(np.arange(5, 8, dtype=np.float64))  # stored as float32 like the rest
    appender.close()
    np.save(tmp_path / "saved.npy", np.array([0, 1, 2, 3, 4, 5, 6, 7], dtype=np.float32))
    assert (tmp_path / "stream.npy").read_bytes() == (tmp_path / "saved.npy").read_bytes()


def test_writer_keeps_a_stream_written_in_place_and_refuses_partial_views(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, ("a", "b"))
    for source in ("a", "b"):
        np.save(writer.stream_path("train", source), np.ones(1000, dtype=np.float32))
    streams = {s: np.load(writer.stream_path("train", s), mmap_mode="r") for s in ("a", "b")}
    written = writer.stream_path("train", "a").stat().st_mtime_ns
    writer.add_split("train", streams=streams)
    assert writer.stream_path("train", "a").stat().st_mtime_ns == written
    assert writer.stream_rms["train"]["a"] == pytest.approx(1.0)
    np.save(writer.stream_path("valid", "a"), np.ones(1000, dtype=np.float32))
    own_file = np.load(writer.stream_path("valid", "a"), mmap_mode="r")
    with pytest.raises(ValueError, match="partial"):  # saving it would overwrite what it reads
        writer.add_split("valid", streams={"a": own_file[10:], "b": streams["b"]})


def test_parallel_decoding_keeps_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAESEP_DATA_WORKERS", "2")
    paths = []
    for index in range(9):
        paths.append(tmp_path / f"u{index}.flac")
        sf.write(paths[-1], np.full(160 * (index + 1), 0.1), 16000, format="FLAC")
    arguments = [(str(p), "s", "TSP") for p in paths]
    lengths = [audio["s"].size for audio, _ in ordered_map(base.decode_speech_file, arguments)]
    assert lengths == [160 * (index + 1) for index in range(9)]


def counting(
    original: Callable[..., Any], calls: list[str], fail_at: int | None
) -> Callable[..., Any]:
    """``original`` that records each call and raises at call number ``fail_at`` (like Ctrl-C)."""

    @functools.wraps(original)  # same module and name: the checkpoint must still match
    def wrapper(*arguments: Any) -> Any:
        if fail_at is not None and len(calls) == fail_at:
            raise KeyboardInterrupt
        calls.append(arguments[0])
        return original(*arguments)

    return wrapper


def test_interrupted_prepare_leaves_nothing_and_a_rerun_builds_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAESEP_DATA_WORKERS", "1")
    root = write_tsp(tmp_path / "tsp")
    first: list[str] = []
    monkeypatch.setattr(speech.TSPBuilder, "decoder", staticmethod(counting(base.decode_speech_file, first, 25)))
    with pytest.raises(KeyboardInterrupt):
        build("tsp", root, tmp_path / "cache", fast=True)
    assert len(first) == 25
    assert os.listdir(tmp_path / "cache" / "tsp") == []  # no half-built folder, no temporary one
    monkeypatch.setattr(speech.TSPBuilder, "decoder", staticmethod(base.decode_speech_file))
    rerun = build("tsp", root, tmp_path / "cache", fast=True)
    fresh = build("tsp", root, tmp_path / "fresh", fast=True)
    assert fresh.manifest_hash == rerun.manifest_hash
    assert os.listdir(tmp_path / "cache" / "tsp") == [rerun.path.name]
    for split in fresh.splits:
        for source, stream in fresh.streams(split).items():
            np.testing.assert_array_equal(stream, rerun.streams(split)[source])
