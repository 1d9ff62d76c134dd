"""The `vaesep` command on the synthetic data: train, evaluate, separate, errors."""

import json

import numpy as np
import soundfile as sf

from vaesep.cli import main


def test_train_evaluate_separate_round_trip(tmp_path, capsys):
    checkpoint, exported = tmp_path / "run.pt", tmp_path / "tiny.pt"
    assert main(["train", "--data", "synthetic", "--hidden", "16", "--latent", "4",
                 "--out", str(checkpoint), "--export", str(exported)]) == 0
    assert checkpoint.is_file() and exported.is_file()

    results = tmp_path / "results.json"
    assert main(["evaluate", str(exported), "--data", "synthetic", "--json", str(results)]) == 0
    table = capsys.readouterr().out
    assert "SDR mean" in table and "split: test" in table
    assert json.loads(results.read_text())["per_item"]

    mixture = np.random.default_rng(0).standard_normal(22_050).astype(np.float32) * 0.1
    sf.write(tmp_path / "mix.wav", mixture, 22_050)
    assert main(["separate", str(exported), str(tmp_path / "mix.wav"), "--out-dir", str(tmp_path / "out")]) == 0
    stems = sorted((tmp_path / "out").glob("mix_*.wav"))
    assert [s.name for s in stems] == ["mix_high.wav", "mix_low.wav"]
    audio, sr = sf.read(stems[0])
    assert sr == 22_050 and audio.shape == (22_050,)


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nothing.pt"), "--data", "synthetic"]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["data", "build", "no-such-set"]) == 2
    assert "available" in capsys.readouterr().err.lower()
