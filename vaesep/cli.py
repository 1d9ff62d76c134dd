"""The ``vaesep`` command: thin wrappers over the library functions.

Every subcommand calls the same functions the notebooks call; nothing is
computed here that the library does not also offer.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path

import vaesep
from vaesep.cli_files import (
    check_input,
    refuse_shared_names,
    stem_paths,
    writable_file,
    writable_folder,
)
from vaesep.runtime import fast_mode

MAX_SEED = 2**32 - 1
"""Largest seed accepted (numpy and torch both take it)."""


def _checked(convert: Callable[[str], float], accept: Callable[[float], bool], wanted: str):
    """An argparse ``type`` that converts with ``convert`` and refuses values ``accept`` rejects."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value

    return parse


# counts, budgets and seeds: a 0 or negative value is always a typo, never "all" or "none"
positive_int = _checked(int, lambda v: v > 0, "a positive integer")
non_negative_int = _checked(int, lambda v: v >= 0, "an integer >= 0")
seed = _checked(int, lambda v: 0 <= v <= MAX_SEED, f"a seed between 0 and {MAX_SEED}")
positive_float = _checked(float, lambda v: math.isfinite(v) and v > 0, "a positive number")
non_negative_float = _checked(float, lambda v: math.isfinite(v) and v >= 0, "a finite number >= 0")
finite_float = _checked(float, math.isfinite, "a finite number")


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="speech", help="data set name (see `vaesep data list`)")
    parser.add_argument("--seed", type=seed, default=0, help="data set seed (default 0)")
    parser.add_argument("--snr-db", type=finite_float, default=0.0, help="mixing SNR in dB")
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


TRAIN_OPTIONS = ("context", "hidden", "layers", "latent", "variant", "beta", "likelihood", "gamma",
                 "train_on", "recurrent_layer", "n_components", "nmf_sources", "iterations")
"""Network options ``vaesep train`` passes on when given; each network keeps its own defaults otherwise."""


def _cmd_train(args: argparse.Namespace) -> int:
    from vaesep.api import export_model
    from vaesep.models import fit_nmf, network_classes, save_nmf
    from vaesep.priors import train_generative
    from vaesep.train import TrainConfig, train

    writable_file(args.out, "--out")
    if args.export:
        writable_file(args.export, "--export")
    kind = "vae" if args.model == "ae" else args.model
    network_class = network_classes()[kind]
    known = set(network_class.config_class.__dataclass_fields__)
    given = {name: getattr(args, name) for name in TRAIN_OPTIONS if getattr(args, name) is not None}
    unknown = sorted(set(given) - known)
    if unknown:
        flags = ", ".join("--" + name.replace("_", "-") for name in unknown)
        raise ValueError(f"{flags} do(es) not apply to --model {args.model}")
    if args.model == "ae":
        given["deterministic"] = True
    dataset = _build_data(args)
    config = network_class.config_class(source_names=dataset.source_names, **given)
    fast = args.fast or fast_mode()
    if kind == "nmf":
        fit = fit_nmf(dataset, config, seed=args.seed, iterations=args.epochs or (20 if fast else 200),
                      seconds_per_source=30.0 if fast else 120.0)
        save_nmf(fit, args.out, dataset)
        print(f"fitted {config.n_components} atoms per source; checkpoint {args.out}")
    else:
        # fast mode only changes the defaults: budgets given on the command line are kept
        train_config = TrainConfig(
            epochs=args.epochs or (2 if fast else 100),
            steps_per_epoch=args.steps_per_epoch or (10 if fast else 100),
            patience=args.patience,
            seed=args.seed,
            learning_rate=args.lr,
            precision=args.precision,
        )
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
            print(
                f"best epoch {best + 1} of {len(result.history['epoch'])} ({result.stopped}); "
                f"valid SDR {result.history['valid_sdr'][best]:.2f} dB; checkpoint {args.out}"
            )
    if args.export:
        print(f"exported {export_model(args.out, args.export)}")
    return 0


def _cmd_separate(args: argparse.Namespace) -> int:
    from vaesep.api import ORACLES
    from vaesep.audio import load_audio, save_audio

    if args.model in ORACLES:
        raise ValueError(
            f"{args.model} is an oracle: it needs the true sources, which a mixture file does not "
            f"have; score it on a data set instead (vaesep evaluate {args.model} --data speech)"
        )
    # every check that can fail runs before the first separation, so a bad argument
    # never costs a long run, and nothing is written unless all of it can be
    inputs = {path: check_input(path) for path in map(Path, args.inputs)}
    refuse_shared_names(list(inputs))
    out_dir = writable_folder(args.out_dir, "--out-dir")
    model = vaesep.load_model(args.model, device=args.device)
    planned = stem_paths(list(inputs), out_dir, model.source_names, overwrite=args.overwrite)
    for path, stems in planned.items():
        sr = inputs[path].samplerate
        estimates = model.separate(load_audio(path, sr), sr)
        for stem, estimate in zip(stems, estimates, strict=True):
            print(save_audio(stem, estimate, sr))
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from vaesep.evaluate import evaluate_separator

    if args.json:
        writable_file(args.json, "--json")
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

    writable_folder(args.out, "--out")
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
        build_parser_.add_argument("--seed", type=seed, default=0)
        build_parser_.add_argument("--snr-db", type=finite_float, default=0.0)
        build_parser_.add_argument("--root", default=None, help="corpus root folder")
        build_parser_.add_argument("--noise-dir", default=None, help="timit only: your own noises")
        build_parser_.add_argument("--fast", action="store_true")
    data_parser.set_defaults(func=_cmd_data)

    train_parser = commands.add_parser(
        "train",
        help="train any method: the VAE, the autoencoder, Huang et al.'s DNN/DRNN, VAE priors, or fit NMF",
        description="Options left out keep each network's defaults (see vaesep.models). "
        "Training stops when the validation SDR has not improved for --patience epochs "
        "(--model generative: each source prior's validation loss).",
    )
    _add_data_arguments(train_parser)
    train_parser.add_argument("--model", choices=("vae", "ae", "dnn", "drnn", "nmf", "generative"), default="vae",
                              help="generative: a VAE prior per source, separation by inference (notebook 06)")
    train_parser.add_argument("--variant", choices=("per_source", "shared"), default=None, help="vae")
    train_parser.add_argument("--train-on", choices=("mixture", "clean"), default=None,
                              help="vae: clean = the authors' scheme (each VAE on its own clean source)")
    train_parser.add_argument("--context", type=non_negative_int, default=None, help="frames either side")
    train_parser.add_argument("--hidden", type=positive_int, default=None, help="units per hidden layer")
    train_parser.add_argument("--layers", type=positive_int, default=None, help="hidden layers")
    train_parser.add_argument("--latent", type=positive_int, default=None, help="vae: latent dimensions")
    train_parser.add_argument("--beta", type=non_negative_float, default=None, help="vae: KL weight")
    train_parser.add_argument("--likelihood", choices=("gaussian", "laplace", "sigma", "is"), default=None,
                              help="vae/dnn: gaussian = unit variance (authors' scaling); sigma, is: scale-free")
    train_parser.add_argument("--gamma", type=non_negative_float, default=None,
                              help="dnn/drnn: discriminative weight (0 = MSE)")
    train_parser.add_argument("--recurrent-layer", type=positive_int, default=None, help="drnn")
    train_parser.add_argument("--n-components", type=positive_int, default=None,
                              help="nmf: atoms per source; generative: components of each --nmf-sources model")
    train_parser.add_argument("--nmf-sources", nargs="+", default=None, metavar="SOURCE",
                              help="generative: sources modelled by NMF on each mixture, no prior (noise: noise)")
    train_parser.add_argument("--iterations", type=non_negative_int, default=None,
                              help="generative: inference iterations per mixture")
    train_parser.add_argument("--patience", type=positive_int, default=8, help="epochs without a better valid SDR")
    train_parser.add_argument("--precision", choices=("float32", "bfloat16"), default="float32")
    train_parser.add_argument(
        "--epochs", type=positive_int, default=None,
        help="maximum epochs (default 100, fast: 2); nmf: update iterations (default 200, fast: 20)"
    )
    train_parser.add_argument(
        "--steps-per-epoch", type=positive_int, default=None, help="default 100 (fast: 10)"
    )
    train_parser.add_argument("--lr", type=positive_float, default=1e-3)
    train_parser.add_argument("--device", default=None)
    train_parser.add_argument("--out", default="runs/vae.pt", help="training checkpoint (resumable)")
    train_parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    train_parser.add_argument("--export", default=None, help="also write a slim model file here")
    train_parser.set_defaults(func=_cmd_train)

    separate_parser = commands.add_parser("separate", help="separate audio files into WAV stems")
    separate_parser.add_argument("model", help="pretrained name or checkpoint path")
    separate_parser.add_argument("inputs", nargs="+", help="WAV/FLAC/OGG files")
    separate_parser.add_argument("--out-dir", default="separated")
    separate_parser.add_argument(
        "--overwrite", action="store_true", help="replace existing stems (never an input)"
    )
    separate_parser.add_argument("--device", default=None)
    separate_parser.set_defaults(
        func=_cmd_separate,
        on_interrupt="the stems listed above are complete and no partial file was left; run again "
        "with the remaining inputs, or with --overwrite",
    )

    evaluate_parser = commands.add_parser("evaluate", help="score a model on a data split")
    evaluate_parser.add_argument("model", help="pretrained name, oracle name or checkpoint path")
    _add_data_arguments(evaluate_parser)
    evaluate_parser.add_argument("--split", default="test")
    evaluate_parser.add_argument(
        "--max-items", type=positive_int, default=None, help="score only the first items"
    )
    evaluate_parser.add_argument("--backend", choices=("fast", "mir_eval"), default="fast")
    evaluate_parser.add_argument("--json", default=None, help="also write the results here")
    evaluate_parser.add_argument("--device", default=None)
    evaluate_parser.set_defaults(func=_cmd_evaluate, on_interrupt="nothing was saved")

    reproduce_parser = commands.add_parser(
        "reproduce", help="run the numbered notebooks headless and collect results/"
    )
    reproduce_parser.add_argument("--fast", action="store_true", help="CI variant: small data and budgets")
    reproduce_parser.add_argument("--notebooks", default=None, help="notebook folder (default ./notebooks)")
    reproduce_parser.add_argument("--out", default="results", help="results folder (default results/)")
    reproduce_parser.add_argument("--start-at", default=None, help="resume from this notebook prefix, e.g. 03")
    reproduce_parser.set_defaults(
        func=_cmd_reproduce,
        on_interrupt="continue with --start-at NN, NN being the notebook that was running",
    )

    # the comparison's options live next to its code (vaesep/compare/cli.py)
    from vaesep.compare.cli import add_compare_parser, add_study_parser

    add_compare_parser(commands)
    add_study_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    # With torch's default two OpenMP threads, idle workers spin; on a 2-core machine shared with
    # other jobs that made training 4-6x slower, and passive waiting recovered most of it
    # (benchmarks/README.md, "Thread settings"). Effective only before torch loads, which
    # `import vaesep` does not do; a value the user set is kept. Notebooks run by `vaesep
    # reproduce` inherit it.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        # data builds, training and comparisons keep their progress on disk; the other
        # commands say what was kept
        hint = getattr(args, "on_interrupt", "run the same command again to continue")
        print(f"\nvaesep {args.command}: interrupted; {hint}", file=sys.stderr)
        return 130
    except (ValueError, OSError, RuntimeError) as exc:
        # errors from the library already say what to do; no traceback for them
        print(f"vaesep {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
