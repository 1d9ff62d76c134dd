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
import re
from pathlib import Path

from vaesep.compare.conditions import FULL_CONDITIONS
from vaesep.compare.methods import METHODS, Budget
from vaesep.compare.report import ComparisonReport, run_comparison
from vaesep.compare.runner import CompareConfig, checkpoint_path
from vaesep.compare.shipping import export_compact, pretrained_name
from vaesep.runtime import fast_mode

README_START = "<!-- vaesep-compare:start -->"
README_END = "<!-- vaesep-compare:end -->"
"""Markers around the README block that ``vaesep compare --readme`` rewrites."""


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def add_compare_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``compare`` on the ``vaesep`` command's subparsers; returns the new parser."""
    parser = subparsers.add_parser(
        "compare", help="train/load every method and evaluate them all (the paper's comparison)"
    )
    parser.add_argument(
        "--methods",
        type=_names,
        default=tuple(m.name for m in METHODS),
        help="comma-separated method names (default: all)",
    )
    parser.add_argument(
        "--conditions",
        type=_names,
        default=None,
        help=f"comma-separated conditions (default: {','.join(FULL_CONDITIONS)}; fast: synthetic)",
    )
    parser.add_argument(
        "--seeds",
        type=lambda text: tuple(int(s) for s in _names(text)),
        default=None,
        help="training seeds (default 0,1,2; fast: 0)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="CI variant: fast data, tiny budget, one seed"
    )
    parser.add_argument(
        "--pretrained", action="store_true", help="evaluate the shipped models, train nothing"
    )
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--steps-per-epoch", type=int, default=None)
    parser.add_argument("--batch-segments", type=int, default=None)
    parser.add_argument(
        "--max-items", type=int, default=None, help="evaluate only the first items per split"
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="parallel tasks, one CPU thread each (default 1)"
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
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"{path} has no {README_START} … {README_END} block to fill")
    block = f"{README_START}\n{report.headline_markdown()}\n\n{report.conclusion()}\n{README_END}"
    path.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
    return path


def command(args: argparse.Namespace) -> int:
    """Run ``vaesep compare`` with parsed arguments; prints the headline and where the tables went."""
    config = config_from_args(args)
    report = run_comparison(config)
    print(report.headline_markdown())
    print()
    print(report.conclusion())
    if args.export_pretrained:
        for path in export_speech_models(config):
            print(f"shipped {path}")
    if args.readme:
        print(f"updated {update_readme(args.readme, report)}")
    return 0
