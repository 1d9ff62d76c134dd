"""The ``vaesep`` command: thin wrappers over the library functions.

Every subcommand calls the same functions the notebooks call; nothing is
computed here that the library does not also offer.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import vaesep
from vaesep.runtime import fast_mode


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="speech", help="data set name (see `vaesep data list`)")
    parser.add_argument("--seed", type=int, default=0, help="data set seed (default 0)")
    parser.add_argument("--snr-db", type=float, default=0.0, help="mixing SNR in dB (default 0)")
    parser.add_argument("--root", default=None, help="corpus root, for corpora that need one")
    parser.add_argument("--noise-dir", default=None, help="timit only: your own noise recordings")
    parser.add_argument("--fast", action="store_true", help="small fast-mode data and budgets")


def _build_data(args: argparse.Namespace):
    from vaesep import data
    from vaesep.data.corpora.timit import NOISE_DIR_ENV

    if getattr(args, "noise_dir", None):
        os.environ[NOISE_DIR_ENV] = args.noise_dir

    return data.build(
        args.data,
        seed=args.seed,
        snr_db=args.snr_db,
        fast=args.fast or fast_mode(),
        root=args.root,
    )


def _cmd_list(args: argparse.Namespace) -> int:
    from vaesep.api import ORACLES

    print("pretrained:", ", ".join(vaesep.list_pretrained()) or "(none)")
    print("oracles:   ", ", ".join(sorted(ORACLES)))
    return 0


def _cmd_data(args: argparse.Namespace) -> int:
    from vaesep import data

    if args.data_command == "list":
        for name in data.available():
            print(name)
        return 0
    dataset = _build_data(args)
    print(dataset.describe())
    print(f"cached at {dataset.path}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from vaesep.api import export_model
    from vaesep.models import VAEConfig, VAENetwork
    from vaesep.train import TrainConfig, train

    dataset = _build_data(args)
    fast = args.fast or fast_mode()
    network = VAENetwork(
        VAEConfig(
            source_names=dataset.source_names,
            context=args.context,
            hidden=args.hidden,
            latent=args.latent,
            variant=args.variant,
            deterministic=args.model == "ae",
            likelihood=args.likelihood,
            beta=args.beta,
        )
    )
    config = TrainConfig(
        epochs=2 if fast else args.epochs,
        steps_per_epoch=10 if fast else args.steps_per_epoch,
        seed=args.seed,
        learning_rate=args.lr,
    )
    result = train(network, dataset, config, checkpoint_path=args.out, resume=not args.restart, device=args.device)
    best = result.best_epoch
    print(
        f"best epoch {best + 1} of {len(result.history['epoch'])} ({result.stopped}); "
        f"valid loss {result.history['valid_loss'][best]:.4g}; checkpoint {args.out}"
    )
    if args.export:
        print(f"exported {export_model(args.out, args.export)}")
    return 0


def _cmd_separate(args: argparse.Namespace) -> int:
    import soundfile as sf

    from vaesep.audio import as_mono_float, save_audio

    model = vaesep.load_model(args.model, device=args.device)
    out_dir = Path(args.out_dir)
    for path in map(Path, args.inputs):
        if not path.is_file():
            raise SystemExit(f"vaesep separate: no such file: {path}")
        signal, sr = sf.read(str(path), dtype="float32", always_2d=True)
        estimates = model.separate(as_mono_float(signal, name=str(path)), sr)
        for source, estimate in zip(model.source_names, estimates, strict=True):
            print(save_audio(out_dir / f"{path.stem}_{source}.wav", estimate, sr))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from vaesep.evaluate import evaluate_separator

    dataset = _build_data(args)
    model = vaesep.load_model(args.model, device=args.device, source_names=dataset.source_names)
    result = evaluate_separator(model, dataset, args.split, max_items=args.max_items, backend=args.backend)
    title = f"{model.name} on {dataset.name}/{args.split}, SNR {args.snr_db:+g} dB, seed {args.seed}"
    print(result.to_markdown(title=title))
    if args.json:
        result.to_json(args.json)
        print(f"wrote {args.json}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from vaesep.reproduce import reproduce

    runs = reproduce(
        fast=args.fast or fast_mode(),
        notebooks_dir=args.notebooks,
        out_dir=args.out,
        start_at=args.start_at,
    )
    return 0 if runs and all(run.ok for run in runs) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaesep",
        description="Monaural source separation with variational autoencoders (Pandey et al. 2018).",
    )
    parser.add_argument("--version", action="version", version=f"vaesep {vaesep.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list pretrained models and oracles").set_defaults(func=_cmd_list)

    data_parser = commands.add_parser("data", help="build or list data sets")
    data_commands = data_parser.add_subparsers(dest="data_command", required=True)
    data_commands.add_parser("list", help="registered data set names")
    # `prepare` is the name data/README.md uses for corpora; both build into the cache
    for command, help_text in (
        ("build", "build a data set into the cache"),
        ("prepare", "build a corpus you have downloaded (pass --root)"),
    ):
        build_parser_ = data_commands.add_parser(command, help=help_text)
        build_parser_.add_argument("data", help="data set or corpus name")
        build_parser_.add_argument("--seed", type=int, default=0)
        build_parser_.add_argument("--snr-db", type=float, default=0.0)
        build_parser_.add_argument("--root", default=None, help="corpus root folder")
        build_parser_.add_argument("--noise-dir", default=None, help="timit only: your own noises")
        build_parser_.add_argument("--fast", action="store_true")
    data_parser.set_defaults(func=_cmd_data)

    train_parser = commands.add_parser("train", help="train a VAE (or autoencoder)")
    _add_data_arguments(train_parser)
    train_parser.add_argument("--model", choices=("vae", "ae"), default="vae")
    train_parser.add_argument("--variant", choices=("per_source", "shared"), default="per_source")
    train_parser.add_argument("--context", type=int, default=2)
    train_parser.add_argument("--hidden", type=int, default=128)
    train_parser.add_argument("--latent", type=int, default=64)
    train_parser.add_argument("--beta", type=float, default=1.0)
    train_parser.add_argument("--likelihood", choices=("gaussian", "laplace"), default="gaussian")
    train_parser.add_argument("--epochs", type=int, default=12)
    train_parser.add_argument("--steps-per-epoch", type=int, default=100)
    train_parser.add_argument("--lr", type=float, default=1e-3)
    train_parser.add_argument("--device", default=None)
    train_parser.add_argument("--out", default="runs/vae.pt", help="training checkpoint (resumable)")
    train_parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    train_parser.add_argument("--export", default=None, help="also write a slim model file here")
    train_parser.set_defaults(func=_cmd_train)

    separate_parser = commands.add_parser("separate", help="separate audio files into WAV stems")
    separate_parser.add_argument("model", help="pretrained name or checkpoint path")
    separate_parser.add_argument("inputs", nargs="+", help="WAV/FLAC/OGG files")
    separate_parser.add_argument("--out-dir", default="separated")
    separate_parser.add_argument("--device", default=None)
    separate_parser.set_defaults(func=_cmd_separate)

    evaluate_parser = commands.add_parser("evaluate", help="score a model on a data split")
    evaluate_parser.add_argument("model", help="pretrained name, oracle name or checkpoint path")
    _add_data_arguments(evaluate_parser)
    evaluate_parser.add_argument("--split", default="test")
    evaluate_parser.add_argument("--max-items", type=int, default=None)
    evaluate_parser.add_argument("--backend", choices=("fast", "mir_eval"), default="fast")
    evaluate_parser.add_argument("--json", default=None, help="also write the results here")
    evaluate_parser.add_argument("--device", default=None)
    evaluate_parser.set_defaults(func=_cmd_evaluate)

    reproduce_parser = commands.add_parser(
        "reproduce", help="run the numbered notebooks headless and collect results/"
    )
    reproduce_parser.add_argument("--fast", action="store_true", help="CI variant: small data and budgets")
    reproduce_parser.add_argument("--notebooks", default=None, help="notebook folder (default ./notebooks)")
    reproduce_parser.add_argument("--out", default="results", help="results folder (default results/)")
    reproduce_parser.add_argument("--start-at", default=None, help="resume from this notebook prefix, e.g. 03")
    reproduce_parser.set_defaults(func=_cmd_reproduce)

    # the comparison's options live next to its code (vaesep/compare/cli.py)
    from vaesep.compare import add_compare_parser

    add_compare_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        # data builds and training keep their progress on disk; the same command continues
        print(f"\nvaesep {args.command}: interrupted; run the same command again to continue",
              file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # errors from the library already say what to do; no traceback for them
        print(f"vaesep {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
