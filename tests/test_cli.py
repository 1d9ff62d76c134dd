"""The `vaesep` command on the synthetic data: train, evaluate, separate, errors."""

import json

import numpy as np
import pytest
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


@pytest.mark.parametrize(
    ("model", "options"),
    [
        ("ae", ["--hidden", "16", "--latent", "4"]),
        ("vae", ["--hidden", "16", "--latent", "4", "--likelihood", "is", "--precision", "bfloat16"]),
        ("vae", ["--hidden", "16", "--latent", "4", "--train-on", "clean", "--context", "0"]),
        ("dnn", ["--hidden", "16", "--layers", "2", "--gamma", "0.05"]),
        ("drnn", ["--hidden", "16", "--layers", "2", "--recurrent-layer", "1"]),
        ("nmf", ["--n-components", "4", "--epochs", "3"]),
    ],
)
def test_train_trains_every_method(tmp_path, capsys, model, options):
    import vaesep

    checkpoint = tmp_path / f"{model}.pt"
    assert main(["train", "--data", "synthetic", "--model", model, *options, "--out", str(checkpoint)]) == 0
    separator = vaesep.load_model(checkpoint)
    assert separator.separate(np.ones(4000, dtype=np.float32) * 0.1, 16_000).shape == (2, 4000)
    assert str(checkpoint) in capsys.readouterr().out


def test_train_refuses_options_of_another_method(tmp_path, capsys):
    assert main(["train", "--data", "synthetic", "--model", "dnn", "--beta", "2", "--out", str(tmp_path / "x.pt")]) == 2
    assert "--beta" in capsys.readouterr().err


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "nothing.pt"), "--data", "synthetic"]) == 2
    assert "unknown model" in capsys.readouterr().err
    assert main(["data", "build", "no-such-set"]) == 2
    assert "available" in capsys.readouterr().err.lower()


# --- separate: nothing the user owns is overwritten, bad inputs are refused before any work ---

def write_tone(path, seconds=1.0, sr=16_000):
    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    return path


def no_separation(monkeypatch):
    """Make any call of vaesep.load_model fail the test: the checks must come first."""
    import vaesep

    def refuse(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(vaesep, "load_model", refuse)


def test_separate_never_overwrites_an_input(tmp_path, capsys):
    song = write_tone(tmp_path / "song.wav")
    stem_input = write_tone(tmp_path / "song_v.wav", seconds=0.5)  # named like song's stem
    before = stem_input.read_bytes()
    for extra in ([], ["--overwrite"]):
        assert main(["separate", "vae-speech", str(song), str(stem_input),
                     "--out-dir", str(tmp_path), *extra]) == 2
        assert "overwrite input files" in capsys.readouterr().err
        assert stem_input.read_bytes() == before
    assert not (tmp_path / "song_m.wav").exists()  # refused before any work


def test_separate_refuses_existing_stems_unless_overwrite(tmp_path, capsys):
    song, out = write_tone(tmp_path / "song.wav"), tmp_path / "out"
    out.mkdir()
    mine = out / "song_v.wav"
    mine.write_bytes(b"my own file")
    assert main(["separate", "vae-speech", str(song), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(mine) in err and "--overwrite" in err
    assert mine.read_bytes() == b"my own file" and not (out / "song_m.wav").exists()

    assert main(["separate", "vae-speech", str(song), "--out-dir", str(out), "--overwrite"]) == 0
    audio, sr = sf.read(mine)
    assert sr == 16_000 and audio.shape == (16_000,)
    assert sorted(p.name for p in out.iterdir()) == ["song_m.wav", "song_v.wav"]  # no temp files


def test_separate_refuses_inputs_with_the_same_stem(tmp_path, capsys, monkeypatch):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = write_tone(tmp_path / "a" / "x.wav"), write_tone(tmp_path / "b" / "x.wav")
    no_separation(monkeypatch)  # the names alone decide, before the model is loaded
    out = tmp_path / "out"
    code = main(["separate", "vae-speech", str(first), str(second), "--out-dir", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and str(first) in err and str(second) in err and "--out-dir" in err
    assert not any(out.glob("*.wav"))


def test_separate_checks_the_output_folder_before_any_work(tmp_path, capsys, monkeypatch):
    song, blocker = write_tone(tmp_path / "song.wav"), tmp_path / "a-file"
    blocker.write_text("")
    no_separation(monkeypatch)
    for out_dir, says in ((blocker, "is a file"), (blocker / "sub", "cannot write")):
        assert main(["separate", "vae-speech", str(song), "--out-dir", str(out_dir)]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: sf.write(path, np.zeros(0, np.float32), 16_000), "is empty"),
        (lambda path: path.write_text("not audio"), "not audio"),
        (lambda path: path.mkdir(), "is a folder"),
        (lambda path: None, "no such file"),
        (lambda path: sf.write(path, np.full(100, np.nan, np.float32), 16_000, "FLOAT"), "NaN"),
        (lambda path: sf.write(path, np.zeros((100, 9), np.float32), 16_000), "8 channels"),
    ],
    ids=["empty", "text", "folder", "missing", "nan", "channels"],
)
def test_separate_refuses_bad_inputs(tmp_path, capsys, monkeypatch, make, says):
    bad, good = tmp_path / "bad.wav", write_tone(tmp_path / "good.wav")
    make(bad)
    no_separation(monkeypatch)  # a bad second input is found before the first is separated
    argv = ["separate", "vae-speech", str(good), str(bad), "--out-dir", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and str(bad) in err
    assert "NaN" not in err or says == "NaN"  # an empty file was once reported as NaN


def test_separate_warns_about_a_truncated_file(tmp_path, capsys):
    whole = write_tone(tmp_path / "whole.wav")
    sf.write(whole, sf.read(whole, dtype="int16")[0], 16_000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: 44 + 16_000])  # header of 1 s, half of the samples
    assert main(["separate", "vae-speech", str(cut), "--out-dir", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "truncated" in err and "1.00 s" in err and "0.50 s" in err
    assert main(["separate", "vae-speech", str(whole), "--out-dir", str(tmp_path / "o")]) == 0
    assert "truncated" not in capsys.readouterr().err


def test_separate_refuses_an_oracle_before_any_work(tmp_path, capsys, monkeypatch):
    no_separation(monkeypatch)
    song = write_tone(tmp_path / "s.wav")
    assert main(["separate", "irm", str(song), "--out-dir", str(tmp_path)]) == 2
    assert "vaesep evaluate irm" in capsys.readouterr().err


def test_interrupted_separate_leaves_no_partial_file(tmp_path, capsys, monkeypatch):
    first, second = write_tone(tmp_path / "one.wav"), write_tone(tmp_path / "two.wav")
    out = tmp_path / "o"
    real_write = sf.write
    writes = []

    def write_then_interrupt(file, data, *args, **kwargs):
        writes.append(file)
        if len(writes) == 3:  # the first stem of the second input: Ctrl-C half-way through
            real_write(file, data[: len(data) // 2], *args, **kwargs)
            raise KeyboardInterrupt
        real_write(file, data, *args, **kwargs)

    monkeypatch.setattr(sf, "write", write_then_interrupt)
    assert main(["separate", "vae-speech", str(first), str(second), "--out-dir", str(out)]) == 130
    assert sorted(p.name for p in out.iterdir()) == ["one_m.wav", "one_v.wav"]
    assert "--overwrite" in capsys.readouterr().err


def test_fast_mode_keeps_budgets_given_on_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VAESEP_FAST", "1")
    assert main(["train", "--data", "synthetic", "--hidden", "8", "--latent", "2", "--epochs", "1",
                 "--steps-per-epoch", "3", "--out", str(tmp_path / "run.pt")]) == 0
    assert "of 1 (" in capsys.readouterr().out  # "best epoch 1 of 1": fast mode's 2 did not win


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "irm", "--max-items", "0"],
        ["evaluate", "irm", "--max-items", "-1"],
        ["evaluate", "irm", "--seed", "-1"],
        ["evaluate", "irm", "--snr-db", "nan"],
        ["data", "build", "synthetic", "--seed", str(2**40)],
        ["train", "--epochs", "0"],
        ["train", "--steps-per-epoch", "-3"],
        ["train", "--lr", "0"],
        ["train", "--lr", "inf"],
        ["train", "--hidden", "0"],
        ["train", "--beta", "-1"],
        ["compare", "--methods", ""],
        ["compare", "--methods", "vae,nope"],
        ["compare", "--methods", "vae,vae"],
        ["compare", "--conditions", ","],
        ["compare", "--seeds", "0,-1"],
        ["compare", "--jobs", "0"],
        ["compare", "--max-items", "-1"],
    ],
    ids=" ".join,
)
def test_bad_numbers_and_names_are_argument_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "error: argument --" in err
    assert any(word in err for word in ("expected", "unknown", "at least one", "twice"))


# --- reproduce ---


def tiny_notebooks(folder):
    import nbformat

    folder.mkdir()
    for name in ("01_first.ipynb", "02_second.ipynb"):
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
        nbformat.write(notebook, folder / name)
    return folder


def test_reproduce_refuses_a_start_that_names_no_notebook(tmp_path, capsys):
    notebooks, out = tiny_notebooks(tmp_path / "nb"), tmp_path / "results"
    out.mkdir()
    (out / "summary.md").write_text("the last full run\n")
    for start in ("99", "3", "x"):
        argv = ["reproduce", "--notebooks", str(notebooks), "--out", str(out), "--start-at", start]
        assert main(argv) == 2
        assert "01_first.ipynb" in capsys.readouterr().err  # the message lists what exists
    assert (out / "summary.md").read_text() == "the last full run\n"
    assert not (out / "executed").exists()


def test_resumed_reproduce_keeps_the_earlier_runs_in_its_summary(tmp_path):
    notebooks, out = tiny_notebooks(tmp_path / "nb"), tmp_path / "results"
    base = ["reproduce", "--fast", "--notebooks", str(notebooks), "--out", str(out)]
    assert main(base) == 0
    assert main([*base, "--start-at", "02"]) == 0
    runs = json.loads((out / "summary.json").read_text())["runs"]
    assert [run["notebook"] for run in runs] == ["01_first.ipynb", "02_second.ipynb"]
    assert "| 01_first.ipynb | ok |" in (out / "summary.md").read_text()


def test_reproduce_writes_its_runtimes_into_the_readme_block_of_its_mode(tmp_path, capsys):
    notebooks, out, readme = tiny_notebooks(tmp_path / "nb"), tmp_path / "results", tmp_path / "README.md"
    from vaesep.reproduce import readme_markers

    fast_start, fast_end = readme_markers(True)
    full_start, full_end = readme_markers(False)
    readme.write_text(f"# x\n{fast_start}\nold fast\n{fast_end}\n{full_start}\nold full\n{full_end}\n")
    assert main(["reproduce", "--fast", "--notebooks", str(notebooks), "--out", str(out), "--readme", str(readme)]) == 0
    text = readme.read_text()
    assert "old fast" not in text and "old full" in text  # only the block of the mode that ran
    assert "| `01_first` |" in text and "| `02_second` |" in text and "| **all** |" in text
    assert "`vaesep reproduce --fast` at commit" in text


def test_reproduce_refuses_a_readme_without_the_block_before_running(tmp_path, capsys):
    notebooks, out, readme = tiny_notebooks(tmp_path / "nb"), tmp_path / "results", tmp_path / "README.md"
    readme.write_text("# no block\n")
    assert main(["reproduce", "--fast", "--notebooks", str(notebooks), "--out", str(out), "--readme", str(readme)]) == 2
    assert "no <!-- vaesep-runtimes-fast:start -->" in capsys.readouterr().err
    assert not (out / "executed").exists() and readme.read_text() == "# no block\n"


def test_reproduce_runs_kernels_without_the_tcp_warning(tmp_path, capfd):
    """The kernels talk over local sockets, so their log has no 'running over TCP' warning."""
    notebooks, out = tiny_notebooks(tmp_path / "nb"), tmp_path / "results"
    assert main(["reproduce", "--fast", "--notebooks", str(notebooks), "--out", str(out)]) == 0
    captured = capfd.readouterr()
    assert "TCP" not in captured.err + captured.out
    assert "Parent appears to have exited" not in captured.err + captured.out


def test_interrupted_reproduce_says_how_to_continue(tmp_path, capsys, monkeypatch):
    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("vaesep.reproduce.reproduce", interrupted)
    assert main(["reproduce", "--out", str(tmp_path)]) == 130
    assert "--start-at" in capsys.readouterr().err  # a plain rerun would start from 01 again


def test_notebook_05_keeps_its_files_in_the_results_folder(tmp_path, monkeypatch):
    """`vaesep reproduce --out` points VAESEP_RESULTS_DIR elsewhere; notebook 05 must follow."""
    from pathlib import Path

    import jupytext

    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "05_listening_test.py"
    monkeypatch.setenv("VAESEP_RESULTS_DIR", str(tmp_path / "out"))
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    code = [cell for cell in jupytext.read(notebook).cells if cell.cell_type == "code"]
    parameters = next(i for i, cell in enumerate(code) if "parameters" in cell.metadata.get("tags", []))
    for cell in code[: parameters + 2]:  # the set-up cells, the parameters and the values derived from them
        exec(cell.source, namespace)
    for name in ("LISTENING_DIR", "RESULTS_DIR", "SIMULATED_DIR"):
        assert Path(namespace[name]).resolve().is_relative_to(tmp_path / "out"), name


# --- output options are checked before the work they would come after ---


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["train", "--data", "synthetic", "--out", "{file}/run.pt"], "cannot write to --out"),
        (["train", "--data", "synthetic", "--out", "{dir}"], "--out {dir} is a folder"),
        (["train", "--data", "synthetic", "--export", "{file}/x.pt"], "cannot write to --export"),
        (["evaluate", "irm", "--data", "synthetic", "--json", "{file}/r.json"], "--json"),
        (["reproduce", "--out", "{file}"], "--out {file} is a file"),
        (["compare", "--fast", "--out", "{file}"], "--out {file} is a file"),
        (["compare", "--readme", "{file}"], "block to fill"),
    ],
    ids=[
        "train-out-in-a-file",
        "train-out-is-a-folder",
        "train-export-in-a-file",
        "evaluate-json-in-a-file",
        "reproduce-out-is-a-file",
        "compare-out-is-a-file",
        "compare-readme-without-block",
    ],
)
def test_output_options_are_checked_before_any_work(argv, says, tmp_path, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("work started before the output options were checked")

    monkeypatch.setattr("vaesep.cli.commands.build_data", no_work)
    monkeypatch.setattr("vaesep.reproduce.reproduce", no_work)
    monkeypatch.setattr("vaesep.cli.compare.execute", no_work)
    monkeypatch.setenv("VAESEP_FAST", "0")  # --readme is only allowed in full mode
    (tmp_path / "file").write_text("no README block here\n")
    (tmp_path / "dir").mkdir()
    places = {"file": tmp_path / "file", "dir": tmp_path / "dir"}
    assert main([arg.format(**places) for arg in argv]) == 2
    assert says.format(**places) in capsys.readouterr().err
