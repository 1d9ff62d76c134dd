"""The ``vaesep`` command: its subcommands and options (``vaesep --help``), as one table.

``commands.py`` holds what each subcommand does, ``arguments.py`` the option checks they
share, ``compare.py`` the two views of notebook 04's comparison, ``lab.py`` the course's editions.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import vaesep
from vaesep.cli.arguments import DATA_OPTIONS, NETWORK_OPTIONS, opt, positive_float, positive_int


def commands_table() -> list[tuple[str, str, Any, dict[str, Any], list]]:
    """(name, help, function, parser keywords and defaults, options) of every subcommand."""
    from vaesep.cli import commands, compare, lab

    data = [opt("--data", default="speech", help="data set name (see `vaesep data list`)"),
            *DATA_OPTIONS]
    train_help = ("train any method: the VAE, the autoencoder, Huang et al.'s DNN/DRNN, VAE "
                  "priors, or fit NMF")
    return [
        ("list", "list pretrained models and oracles", commands.list_command, {}, []),
        ("data", "build or list data sets", commands.data_command, {}, []),
        ("train", train_help, commands.train_command, {"description": (
            "Options left out keep each network's defaults (see vaesep.models). Training stops "
            "when the validation SDR has not improved for --patience epochs (--model generative: "
            "each source prior's validation loss).")}, [
            *data,
            opt("--model", choices=("vae", "ae", "dnn", "drnn", "nmf", "generative"), default="vae",
                help="generative: a VAE prior per source, separation by inference (notebook 06)"),
            *NETWORK_OPTIONS,
            opt("--patience", type=positive_int, default=8,
                help="epochs without a better valid SDR"),
            opt("--precision", choices=("float32", "bfloat16"), default="float32"),
            opt("--epochs", type=positive_int, help="maximum epochs (default 100, fast: 2); nmf: "
                "update iterations (default 200, fast: 20)"),
            opt("--steps-per-epoch", type=positive_int, help="default 100 (fast: 10)"),
            opt("--lr", type=positive_float, default=1e-3),
            opt("--device"),
            opt("--out", default="runs/vae.pt", help="training checkpoint (resumable)"),
            opt("--restart", action="store_true", help="ignore an existing checkpoint"),
            opt("--export", help="also write a slim model file here"),
        ]),
        ("separate", "separate audio files into WAV stems", commands.separate_command, {
            "on_interrupt": "the stems listed above are complete and no partial file was left; run "
            "again with the remaining inputs, or with --overwrite"}, [
            opt("model", help="pretrained name or checkpoint path"),
            opt("inputs", nargs="+", help="WAV/FLAC/OGG files"),
            opt("--out-dir", default="separated"),
            opt("--overwrite", action="store_true", help="replace existing stems (never an input)"),
            opt("--device"),
        ]),
        ("evaluate", "score a model on a data split", commands.evaluate_command,
         {"on_interrupt": "nothing was saved"}, [
            opt("model", help="pretrained name, oracle name or checkpoint path"),
            *data,
            opt("--split", default="test"),
            opt("--max-items", type=positive_int, help="score only the first items"),
            opt("--backend", choices=("fast", "mir_eval"), default="fast"),
            opt("--json", help="also write the results here"),
            opt("--device"),
        ]),
        ("reproduce", "run the numbered notebooks headless and collect results/",
         commands.reproduce_command,
         {"on_interrupt": "continue with --start-at NN, NN being the notebook that was running"}, [
            opt("--fast", action="store_true", help="CI variant: small data and budgets"),
            opt("--notebooks", help="notebook folder (default ./notebooks)"),
            opt("--out", default="results", help="results folder (default results/)"),
            opt("--start-at", help="resume from this notebook prefix, e.g. 03"),
            opt("--readme",
                help="also write the notebooks' runtimes into this README's block of the mode"),
        ]),
        *compare.COMMANDS,
        ("lab", "write the student and teacher notebooks", lab.lab_command,
         {"on_interrupt": "run it again with --force"}, lab.OPTIONS),
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vaesep", description=(
        "Monaural source separation with variational autoencoders (Pandey et al. 2018)."))
    parser.add_argument("--version", action="version", version=f"vaesep {vaesep.__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name, help_text, func, settings, options in commands_table():
        command = subparsers.add_parser(name, help=help_text,
                                        description=settings.pop("description", None))
        command.set_defaults(func=func, **settings)
        for flags, keywords in options:
            command.add_argument(*flags, **keywords)
    data_commands = subparsers.choices["data"].add_subparsers(dest="data_command", required=True)
    data_commands.add_parser("list", help="registered data set names")
    # `prepare` is the name data/README.md uses for corpora; both build into the cache
    for name, help_text in (("build", "build a data set into the cache"),
                            ("prepare", "build a corpus you have downloaded (pass --root)")):
        build = data_commands.add_parser(name, help=help_text)
        for flags, keywords in [opt("data", help="data set or corpus name"), *DATA_OPTIONS]:
            build.add_argument(*flags, **keywords)
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

