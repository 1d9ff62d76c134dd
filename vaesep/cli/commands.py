"""What each ``vaesep`` subcommand does: thin wrappers over the library functions.

Every command calls the functions the notebooks call; nothing is computed here
that the library does not also offer.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import vaesep
from vaesep.cli.arguments import NETWORK_OPTIONS, build_data, writable
from vaesep.runtime import fast_mode


def list_command(args: argparse.Namespace) -> int:
    from vaesep.api import ORACLES

    print("pretrained:", ", ".join(vaesep.list_pretrained()) or "(none)")
    print("oracles:   ", ", ".join(sorted(ORACLES)))
    return 0


def data_command(args: argparse.Namespace) -> int:
    from vaesep import data

    if args.data_command == "list":
        print("\n".join(data.available()))
        return 0
    dataset = build_data(args)
    print(f"{dataset.describe()}\ncached at {dataset.path}")
    return 0




def train_command(args: argparse.Namespace) -> int:
    from vaesep.api import export_model
    from vaesep.models import fit_nmf, network_classes, save_nmf
    from vaesep.priors import train_generative
    from vaesep.train import TrainConfig, train

    for path, flag in ((args.out, "--out"), (args.export, "--export")):
        if path:
            writable(path, flag)
    kind = "vae" if args.model == "ae" else args.model
    network_class = network_classes()[kind]
    names = (flags[0][2:].replace("-", "_") for flags, _ in NETWORK_OPTIONS)
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    if unknown := sorted(set(given) - set(network_class.config_class.__dataclass_fields__)):
        flags = ", ".join("--" + name.replace("_", "-") for name in unknown)
        raise ValueError(f"{flags} do(es) not apply to --model {args.model}")
    if args.model == "ae":
        given["deterministic"] = True
    dataset = build_data(args)
    config = network_class.config_class(source_names=dataset.source_names, **given)
    fast = args.fast or fast_mode()
    if kind == "nmf":
        fit = fit_nmf(dataset, config, seed=args.seed, iterations=args.epochs or (20 if fast else 200),
                      seconds_per_source=30.0 if fast else 120.0)
        save_nmf(fit, args.out, dataset)
        print(f"fitted {config.n_components} atoms per source; checkpoint {args.out}")
    else:
        # fast mode only changes the defaults: budgets given on the command line are kept
        train_config = TrainConfig(epochs=args.epochs or (2 if fast else 100),
                                   steps_per_epoch=args.steps_per_epoch or (10 if fast else 100),
                                   patience=args.patience, seed=args.seed, learning_rate=args.lr,
                                   precision=args.precision)
        if kind == "generative":
            # a prior per source, each stopped on its own validation loss (vaesep.priors)
            _, results = train_generative(dataset, config, train_config, checkpoint_path=args.out,
                                          resume=not args.restart, device=args.device)
            for source, result in results.items():
                loss = result.history["valid_loss"][result.best_epoch]
                print(f"prior {source}: best epoch {result.best_epoch + 1} of {len(result.history['epoch'])} "
                      f"({result.stopped}); valid loss {loss:.1f} per frame")
            print(f"checkpoint {args.out}; the priors' training checkpoints are beside it")
        else:
            result = train(network_class(config), dataset, train_config, checkpoint_path=args.out,
                           resume=not args.restart, device=args.device)
            best = result.best_epoch
            print(f"best epoch {best + 1} of {len(result.history['epoch'])} ({result.stopped}); "
                  f"valid SDR {result.history['valid_sdr'][best]:.2f} dB; checkpoint {args.out}")
    if args.export:
        print(f"exported {export_model(args.out, args.export)}")
    return 0


def _check_input(path: Path):
    """Refuse an input that is missing, a folder, not audio, empty or undecodable; returns its info.
    (It is decoded here and again when separated: holding every input in memory costs more.)"""
    import soundfile as sf

    from vaesep.audio import load_audio

    if path.is_dir():
        raise ValueError(f"{path} is a folder; pass the audio files in it (e.g. {path}/*.wav)")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        info = sf.info(str(path))
    except sf.SoundFileError as exc:
        raise ValueError(
            f"{path} is not audio that libsndfile can read ({exc}); vaesep reads WAV, FLAC and "
            f"OGG/Vorbis: convert other formats first (ffmpeg -i {path} {path.stem}-converted.wav)"
        ) from None
    if info.frames == 0:
        raise ValueError(f"{path} is empty: it holds no samples")
    # a cut FLAC, NaN samples or too many channels show only when the samples are read
    present = len(load_audio(path, info.samplerate)) / info.samplerate
    announced = info.frames / info.samplerate
    with sf.SoundFile(str(path)) as stream:
        log = stream.extra_info
    # libsndfile reads a WAV whose data chunk is cut short without an error; only its log
    # says "data : <bytes in the header> (should be <bytes present>)". Streaming writers that
    # do not know the length yet leave 0x7FFFFFFF or 0xFFFFFFFF there: not a cut.
    cut = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", log, re.MULTILINE)
    if cut and int(cut[1]) not in (0x7FFFFFFF, 0xFFFFFFFF) and int(cut[1]) > int(cut[2]) > 0:
        announced = present * int(cut[1]) / int(cut[2])
    if announced > present:
        print(f"vaesep separate: warning: {path} is truncated: its header announces {announced:.2f} s "
              f"but only {present:.2f} s are present; separating what is there", file=sys.stderr)
    return info


def _stem_paths(inputs: list[Path], out_dir: Path, sources: tuple[str, ...], *, overwrite: bool):
    """Where each input's stems go; an input is never overwritten, not even with ``overwrite``."""
    planned = {path: [out_dir / f"{path.stem}_{name}.wav" for name in sources] for path in inputs}
    stems = [stem for paths in planned.values() for stem in paths]
    if hit := sorted({str(stem) for stem in stems for path in inputs
                      if stem.exists() and stem.samefile(path)}):
        raise ValueError(f"the stems would overwrite input files: {', '.join(hit)}; choose another --out-dir")
    if folders := [str(stem) for stem in stems if stem.is_dir()]:
        raise ValueError(f"these output names are folders: {', '.join(folders)}; choose another --out-dir")
    existing = [str(stem) for stem in stems if stem.exists()]
    if existing and not overwrite:
        raise ValueError(f"these output files exist already: {', '.join(existing)}; pass --overwrite to "
                         "replace them, or choose another --out-dir")
    return planned


def separate_command(args: argparse.Namespace) -> int:
    from vaesep.api import ORACLES
    from vaesep.audio import load_audio, save_audio

    if args.model in ORACLES:
        raise ValueError(
            f"{args.model} is an oracle: it needs the true sources, which a mixture file does not "
            f"have; score it on a data set instead (vaesep evaluate {args.model} --data speech)"
        )
    # every check that can fail runs before the first separation, so a bad argument
    # never costs a long run, and nothing is written unless all of it can be
    inputs = {path: _check_input(path) for path in map(Path, args.inputs)}
    # two inputs with one stem (a/x.wav, b/x.flac) would write the same stems: refused rather
    # than renamed, so stem names stay predictable; casefold for macOS and Windows
    by_stem: dict[str, list[Path]] = {}
    for path in inputs:
        by_stem.setdefault(path.stem.casefold(), []).append(path)
    if clashes := "; ".join(" and ".join(map(str, paths)) for paths in by_stem.values()
                            if len(paths) > 1):
        raise ValueError(f"inputs with the same name would overwrite each other's stems: {clashes}; "
                         "separate them in separate calls with different --out-dir")
    out_dir = writable(args.out_dir, "--out-dir", folder=True)
    model = vaesep.load_model(args.model, device=args.device)
    planned = _stem_paths(list(inputs), out_dir, model.source_names, overwrite=args.overwrite)
    for path, stems in planned.items():
        sr = inputs[path].samplerate
        estimates = model.separate(load_audio(path, sr), sr)
        for stem, estimate in zip(stems, estimates, strict=True):
            print(save_audio(stem, estimate, sr))
    return 0


def evaluate_command(args: argparse.Namespace) -> int:
    from vaesep.evaluate import evaluate_separator

    if args.json:
        writable(args.json, "--json")
    dataset = build_data(args)
    model = vaesep.load_model(args.model, device=args.device, source_names=dataset.source_names)
    result = evaluate_separator(model, dataset, args.split, max_items=args.max_items, backend=args.backend)
    title = f"{model.name} on {dataset.name}/{args.split}, SNR {args.snr_db:+g} dB, seed {args.seed}"
    print(result.to_markdown(title=title))
    if args.json:
        result.to_json(args.json)
        print(f"wrote {args.json}")
    return 0


def reproduce_command(args: argparse.Namespace) -> int:
    from vaesep.files import fill_block
    from vaesep.reproduce import readme_markers, reproduce

    writable(args.out, "--out", folder=True)
    fast = args.fast or fast_mode()
    if args.readme:
        fill_block(args.readme, *readme_markers(fast), None)  # a missing block fails now, not after the run
    runs = reproduce(fast=fast, notebooks_dir=args.notebooks, out_dir=args.out, start_at=args.start_at,
                     readme=args.readme)
    return 0 if runs and all(run.ok for run in runs) else 1
