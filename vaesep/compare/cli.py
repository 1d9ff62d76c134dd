"""``vaesep compare``: the comparison from the command line.

``vaesep compare`` trains every learned method with 3 seeds and evaluates
all methods on the six conditions; ``--fast`` runs the CI variant (synthetic
data, tiny budget, one seed); ``--pretrained`` evaluates the shipped models
instead of training. Interrupt it at any time: the next call continues.
Notebook 04, section "Running the comparison".
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from vaesep.cli import positive_int, seed, writable_folder
from vaesep.compare.conditions import FULL_CONDITIONS, get_condition
from vaesep.compare.methods import METHODS, Budget, get_method
from vaesep.compare.report import ComparisonReport, is_custom, run_comparison
from vaesep.compare.runner import CompareConfig, checkpoint_path
from vaesep.compare.shipping import export_compact, pretrained_name
from vaesep.files import fill_block
from vaesep.runtime import fast_mode

README_START = "<!-- vaesep-compare:start -->"
README_END = "<!-- vaesep-compare:end -->"
"""Markers around the README block that ``vaesep compare --readme`` rewrites."""


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _list_of(item, what: str):
    """An argparse ``type`` for a non-empty comma-separated list, each part checked by ``item``."""

    def parse(text: str) -> tuple:
        names = _names(text)
        if not names:
            raise argparse.ArgumentTypeError(f"give at least one {what}, comma-separated")
        if len(set(names)) != len(names):
            raise argparse.ArgumentTypeError(f"a {what} is listed twice in {text!r}")
        try:
            return tuple(item(name) for name in names)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _known(lookup):
    return lambda name: lookup(name).name


def add_compare_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``compare`` on the ``vaesep`` command's subparsers; returns the new parser."""
    parser = subparsers.add_parser(
        "compare", help="train/load every method and evaluate them all (the paper's comparison)"
    )
    parser.add_argument(
        "--methods",
        type=_list_of(_known(get_method), "method"),
        default=tuple(m.name for m in METHODS),
        help="comma-separated method names (default: all)",
    )
    parser.add_argument(
        "--conditions",
        type=_list_of(_known(get_condition), "condition"),
        default=None,
        help=f"comma-separated conditions (default: {','.join(FULL_CONDITIONS)}; fast: synthetic)",
    )
    parser.add_argument(
        "--seeds",
        type=_list_of(seed, "seed"),
        default=None,
        help="training seeds (default 0,1,2; fast: 0)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="CI variant: fast data, tiny budget, one seed"
    )
    parser.add_argument(
        "--pretrained", action="store_true", help="evaluate the shipped models, train nothing"
    )
    parser.add_argument("--epochs", type=positive_int, default=None)
    parser.add_argument("--steps-per-epoch", type=positive_int, default=None)
    parser.add_argument("--batch-segments", type=positive_int, default=None)
    parser.add_argument(
        "--max-items", type=positive_int, help="evaluate only the first items per split"
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=1, help="parallel tasks, 1 CPU thread each (default 1)"
    )
    parser.add_argument("--backend", choices=("fast", "mir_eval"), default="fast")
    parser.add_argument(
        "--out", default=None, help="checkpoints and per-run results (default runs/compare)"
    )
    parser.add_argument(
        "--export-pretrained",
        action="store_true",
        help="ship the seed-0 speech models into vaesep/pretrained as <method>-speech",
    )
    parser.add_argument(
        "--readme",
        default=None,
        help=f"rewrite the block between {README_START} and {README_END} in this file",
    )
    parser.set_defaults(func=command)
    return parser


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    """The :class:`CompareConfig` the command-line options describe."""
    fast = args.fast or fast_mode()
    budget = Budget.tiny() if fast else Budget()
    overrides = {
        "epochs": args.epochs,
        "steps_per_epoch": args.steps_per_epoch,
        "batch_segments": args.batch_segments,
    }
    budget = dataclasses.replace(budget, **{k: v for k, v in overrides.items() if v is not None})
    default_conditions = (
        ("dutch", "czech") if args.pretrained else ("synthetic",) if fast else FULL_CONDITIONS
    )
    return CompareConfig(
        methods=args.methods,
        conditions=args.conditions or default_conditions,
        seeds=args.seeds or ((0,) if fast or args.pretrained else (0, 1, 2)),
        budget=budget,
        fast=fast,
        pretrained=args.pretrained,
        max_items=args.max_items,
        out_dir=args.out,
        jobs=args.jobs,
        backend=args.backend,
    )


def export_speech_models(config: CompareConfig, *, seed: int = 0) -> list[Path]:
    """Ship the ``seed`` speech model of every learned method (see :mod:`vaesep.compare.shipping`)."""
    from vaesep.compare.methods import get_method
    from vaesep.compare.shipping import shipped_path

    written = []
    for name in config.methods:
        if not get_method(name).learned:
            continue
        source = checkpoint_path(config, "speech", name, seed)
        if source.is_file():
            written.append(
                export_compact(
                    source, shipped_path(name, "speech"), name=pretrained_name(name, "speech")
                )
            )
    return written


def update_readme(path: str | Path, report: ComparisonReport) -> Path:
    """Replace the text between :data:`README_START` and :data:`README_END` with the headline and conclusion."""
    return fill_block(path, README_START, README_END, f"{report.headline_markdown()}\n\n{report.conclusion()}")


def command(args: argparse.Namespace) -> int:
    """Run ``vaesep compare`` with parsed arguments; prints the headline and where the tables went."""
    config = config_from_args(args)
    if args.readme and (config.fast or config.pretrained or is_custom(config)):
        # README quotes the whole comparison; a partial or fast run must not replace it
        raise ValueError(
            "--readme rewrites README's comparison, so it needs the full run: drop --readme, or "
            "run `vaesep compare` without --fast, --pretrained, --methods, --conditions, --seeds, "
            "--max-items or budget options"
        )
    if args.readme:  # a README without the block would fail only after the whole run
        fill_block(args.readme, README_START, README_END, None)
    if args.out:
        writable_folder(args.out, "--out")
    report = run_comparison(config, save=False)
    tables = report.save()
    print(report.headline_markdown())
    print()
    print(report.conclusion())
    print(f"\ntables: {tables}")
    if args.export_pretrained:
        for path in export_speech_models(config):
            print(f"shipped {path}")
    if args.readme:
        print(f"updated {update_readme(args.readme, report)}")
    return 0
