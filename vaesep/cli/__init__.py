"""The ``vaesep`` command: its subcommands and options (``vaesep --help``).

``commands.py`` holds what each subcommand does, ``arguments.py`` the option
checks they share, ``compare.py`` the two views of notebook 04's comparison.
"""

from __future__ import annotations

import argparse
import os
import sys

import vaesep
from vaesep.cli.arguments import (
    add_data_arguments,
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    seed,
)
from vaesep.cli.commands import (
    _cmd_data,
    _cmd_evaluate,
    _cmd_list,
    _cmd_reproduce,
    _cmd_separate,
    _cmd_train,
)


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
    add_data_arguments(train_parser)
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
    add_data_arguments(evaluate_parser)
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
    reproduce_parser.add_argument("--readme", default=None,
                                  help="also write the notebooks' runtimes into this README's block of the mode")
    reproduce_parser.set_defaults(
        func=_cmd_reproduce,
        on_interrupt="continue with --start-at NN, NN being the notebook that was running",
    )

    # the comparison's two views: vaesep/cli/compare.py
    from vaesep.cli.compare import add_compare_parser, add_study_parser

    add_compare_parser(commands)
    add_study_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    # With torch's two OpenMP threads, idle workers spin; on a 2-core machine shared with other
    # jobs that made training 4-6x slower (1,000-1,500 instead of 5,500 frames/s at a load of
    # 5-7), and passive waiting recovered most of it. Effective only before torch loads, which
    # `import vaesep` does not do; a value the user set is kept. Notebooks run by
    # `vaesep reproduce` inherit it.
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

