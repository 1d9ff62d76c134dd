"""The ``vaesep`` command: its subcommands and options (``vaesep --help``).

``commands.py`` holds what each subcommand does, ``arguments.py`` the option
checks they share, ``compare.py`` the two views of notebook 04's comparison.
"""

from __future__ import annotations

import argparse
import os
import sys

import vaesep
from vaesep.cli import commands
from vaesep.cli.arguments import (
    add_data_arguments,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaesep",
        description="Monaural source separation with variational autoencoders (Pandey et al. 2018).",
    )
    parser.add_argument("--version", action="version", version=f"vaesep {vaesep.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)

    subparsers.add_parser("list", help="list pretrained models and oracles").set_defaults(
        func=commands.list_command
    )

    data = subparsers.add_parser("data", help="build or list data sets")
    data.set_defaults(func=commands.data_command)
    data_commands = data.add_subparsers(dest="data_command", required=True)
    data_commands.add_parser("list", help="registered data set names")
    # `prepare` is the name data/README.md uses for corpora; both build into the cache
    for command, help_text in (
        ("build", "build a data set into the cache"),
        ("prepare", "build a corpus you have downloaded (pass --root)"),
    ):
        build = data_commands.add_parser(command, help=help_text)
        build.add_argument("data", help="data set or corpus name")
        add_data_arguments(build, with_name=False)

    train = subparsers.add_parser(
        "train",
        help="train any method: the VAE, the autoencoder, Huang et al.'s DNN/DRNN, VAE priors, or fit NMF",
        description="Options left out keep each network's defaults (see vaesep.models). "
        "Training stops when the validation SDR has not improved for --patience epochs "
        "(--model generative: each source prior's validation loss).",
    )
    train.set_defaults(func=commands.train_command)
    add_data_arguments(train)
    add = train.add_argument
    add("--model", choices=("vae", "ae", "dnn", "drnn", "nmf", "generative"), default="vae",
        help="generative: a VAE prior per source, separation by inference (notebook 06)")
    # the network options: None keeps the network's default (commands.TRAIN_OPTIONS)
    add("--variant", choices=("per_source", "shared"), help="vae")
    add("--train-on", choices=("mixture", "clean"),
        help="vae: clean = the authors' scheme (each VAE on its own clean source)")
    add("--context", type=non_negative_int, help="frames either side")
    add("--hidden", type=positive_int, help="units per hidden layer")
    add("--layers", type=positive_int, help="hidden layers")
    add("--latent", type=positive_int, help="vae: latent dimensions")
    add("--beta", type=non_negative_float, help="vae: KL weight")
    add("--likelihood", choices=("gaussian", "laplace", "sigma", "is"),
        help="vae/dnn: gaussian = unit variance (authors' scaling); sigma, is: scale-free")
    add("--gamma", type=non_negative_float, help="dnn/drnn: discriminative weight (0 = MSE)")
    add("--recurrent-layer", type=positive_int, help="drnn")
    add("--n-components", type=positive_int,
        help="nmf: atoms per source; generative: components of each --nmf-sources model")
    add("--nmf-sources", nargs="+", metavar="SOURCE",
        help="generative: sources modelled by NMF on each mixture, no prior (noise: noise)")
    add("--iterations", type=non_negative_int, help="generative: inference iterations per mixture")
    add("--patience", type=positive_int, default=8, help="epochs without a better valid SDR")
    add("--precision", choices=("float32", "bfloat16"), default="float32")
    add("--epochs", type=positive_int,
        help="maximum epochs (default 100, fast: 2); nmf: update iterations (default 200, fast: 20)")
    add("--steps-per-epoch", type=positive_int, help="default 100 (fast: 10)")
    add("--lr", type=positive_float, default=1e-3)
    add("--device")
    add("--out", default="runs/vae.pt", help="training checkpoint (resumable)")
    add("--restart", action="store_true", help="ignore an existing checkpoint")
    add("--export", help="also write a slim model file here")

    separate = subparsers.add_parser("separate", help="separate audio files into WAV stems")
    separate.set_defaults(
        func=commands.separate_command,
        on_interrupt="the stems listed above are complete and no partial file was left; run again "
        "with the remaining inputs, or with --overwrite",
    )
    separate.add_argument("model", help="pretrained name or checkpoint path")
    separate.add_argument("inputs", nargs="+", help="WAV/FLAC/OGG files")
    separate.add_argument("--out-dir", default="separated")
    separate.add_argument("--overwrite", action="store_true", help="replace existing stems (never an input)")
    separate.add_argument("--device")

    evaluate = subparsers.add_parser("evaluate", help="score a model on a data split")
    evaluate.set_defaults(func=commands.evaluate_command, on_interrupt="nothing was saved")
    evaluate.add_argument("model", help="pretrained name, oracle name or checkpoint path")
    add_data_arguments(evaluate)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--max-items", type=positive_int, help="score only the first items")
    evaluate.add_argument("--backend", choices=("fast", "mir_eval"), default="fast")
    evaluate.add_argument("--json", help="also write the results here")
    evaluate.add_argument("--device")

    reproduce = subparsers.add_parser("reproduce", help="run the numbered notebooks headless and collect results/")
    reproduce.set_defaults(
        func=commands.reproduce_command,
        on_interrupt="continue with --start-at NN, NN being the notebook that was running",
    )
    reproduce.add_argument("--fast", action="store_true", help="CI variant: small data and budgets")
    reproduce.add_argument("--notebooks", help="notebook folder (default ./notebooks)")
    reproduce.add_argument("--out", default="results", help="results folder (default results/)")
    reproduce.add_argument("--start-at", help="resume from this notebook prefix, e.g. 03")
    reproduce.add_argument("--readme", help="also write the notebooks' runtimes into this README's block of the mode")

    # the comparison's two views: vaesep/cli/compare.py
    from vaesep.cli.compare import add_compare_parser, add_study_parser

    add_compare_parser(subparsers)
    add_study_parser(subparsers)
    from vaesep.cli.lab import add_lab_parser  # the course's two editions of the notebooks

    add_lab_parser(subparsers)
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
