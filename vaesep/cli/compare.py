"""``vaesep study`` and ``vaesep compare``: the two views of the comparison from the command line.

``vaesep study`` runs the comparison at convergence into ``results/converged`` and writes its
summary; ``vaesep compare`` runs the matched 200-step view (``--pretrained``: scores the
shipped models) and writes ``results/04_comparison*``. Both resume. Notebook 04 explains both.
"""

from __future__ import annotations

import argparse
import dataclasses

from vaesep.cli.arguments import comma_list, opt, positive_int, seed, writable
from vaesep.compare import inference, report
from vaesep.compare.conditions import FULL_CONDITIONS, get_condition
from vaesep.compare.methods import CONVERGED_METHODS, MATCHED_METHODS, get_method
from vaesep.compare.study import Study, converged_study, execute, matched_study, ship_models
from vaesep.files import fill_block, save_table
from vaesep.runtime import fast_mode

COMPARE_START, COMPARE_END = "<!-- vaesep-compare:start -->", "<!-- vaesep-compare:end -->"
"""Markers around the README block that ``vaesep compare --readme`` rewrites."""
STUDY_BLOCKS = ((report.README_START, report.README_END),
                (inference.INFERENCE_START, inference.INFERENCE_END))


def study_command(args: argparse.Namespace) -> int:
    fast = args.fast or fast_mode()
    if args.readme:
        if fast:
            raise ValueError("--readme quotes the full study: drop --fast (or VAESEP_FAST)")
        for start, end in STUDY_BLOCKS:
            fill_block(args.readme, start, end, None)  # a missing block fails now, not after hours
    out = args.out or ("runs/fast/converged" if fast else "results/converged")
    study = converged_study(out, fast=fast, jobs=args.jobs)
    if not args.report_only:
        execute(study)
    print(f"wrote {report.write_summary(study)}")
    if args.readme:
        blocks = (report.readme_block(study), inference.readme_block(study.out))
        for (start, end), block in zip(STUDY_BLOCKS, blocks, strict=True):
            print(f"rewrote {fill_block(args.readme, start, end, block)}")
    if args.ship:
        # a fast run's models are CI-sized: they never replace the shipped ones
        for path in ship_models(study, *([study.out / "shipped"] if fast else [])):
            print(f"shipped {path}")
    return 0


def study_from_args(args: argparse.Namespace) -> Study:
    """The matched-budget :class:`Study` the ``vaesep compare`` options describe."""
    return matched_study(
        args.out, fast=args.fast or fast_mode(), shipped=args.pretrained, methods=args.methods, seeds=args.seeds,
        conditions=args.conditions or (("dutch", "czech") if args.pretrained else None),
        max_items=args.max_items, jobs=args.jobs)


def table_name(study: Study) -> str:
    """``04_comparison`` plus ``_pretrained``/``_fast``/``_custom``: no other run overwrites README's tables."""

    def scope(s: Study) -> tuple:
        return {m.name for m in s.methods}, set(s.conditions), set(s.seeds), s.max_items

    custom = not (study.fast or study.shipped) and scope(study) != scope(matched_study("."))
    return "04_comparison" + "_pretrained" * study.shipped + "_fast" * study.fast + "_custom" * custom


def matched_only(study: Study) -> tuple:
    """The learned methods of the 200-step view whose shipped name the study at convergence does
    not also ship: a converged ``dnn-speech`` is never replaced by a 200-step one."""
    taken = {stem for m in CONVERGED_METHODS for stem in (m.ship_variants or {0: m.ship_as or m.name}).values()}
    return tuple(m for m in study.methods if m.learned and (m.ship_as or m.name) not in taken)


def compare_command(args: argparse.Namespace) -> int:
    study = study_from_args(args)
    if args.readme:
        if table_name(study) != "04_comparison":  # README quotes the whole comparison
            raise ValueError(
                "--readme rewrites README's comparison, so it needs the full run: drop --readme, or run "
                "`vaesep compare` without --fast, --pretrained, --methods, --conditions, --seeds or --max-items")
        fill_block(args.readme, COMPARE_START, COMPARE_END, None)  # a missing block fails now, not after the run
    if args.out:
        writable(args.out, "--out", folder=True)
    execute(study)
    runs = report.load_runs(study.out)
    contrasts = report.contrast_sentences(runs, study)
    headline = "\n\n".join([
        report.results_markdown(runs, study),
        report.bullets(report.verdict_sentences(runs, study)),
        *(["One-ingredient contrasts (mean SDR differences): " + "; ".join(contrasts) + "."] if contrasts else []),
    ])
    print(headline)
    tables = save_table(report.comparison_markdown(runs, study), table_name(study), report.summary_data(runs, study))
    print(f"\ntables: {tables}")
    if args.export_pretrained:
        for path in ship_models(dataclasses.replace(study, methods=matched_only(study))):
            print(f"shipped {path}")
    if args.readme:
        print(f"updated {fill_block(args.readme, COMPARE_START, COMPARE_END, headline)}")
    return 0


COMMANDS = [
    ("study", "the comparison at convergence: tune every method, then seeds and domains "
     "(resumable)", study_command, {"description": "Runs what is not done yet (a result file per "
                                    "run under --out), then writes summary.md, summary.json and "
                                    "learning_curves.png there. Interrupt it at any time."}, [
        opt("--jobs", type=positive_int, default=2, help="runs in parallel, one thread each"),
        opt("--out", default=None,
            help="result folder (default results/converged; fast: runs/fast/converged)"),
        opt("--fast", action="store_true",
            help="CI variant: fast data, tiny budgets, one learning rate"),
        opt("--report-only", action="store_true",
            help="only rewrite the summary from the files there"),
        opt("--readme", default=None,
            help="also rewrite this README's study block (full run only)"),
        opt("--ship", action="store_true", help="export the seed-0 speech model of each selected "
            "configuration into vaesep/pretrained"),
    ]),
    ("compare", "every method at a matched 200-step budget, 3 seeds (or the shipped models)",
     compare_command, {}, [
        opt("--methods", type=comma_list(lambda n: get_method(n, MATCHED_METHODS).name, "method"),
            default=None, help="comma-separated method names (default: all)"),
        opt("--conditions", type=comma_list(lambda n: get_condition(n).name, "condition"),
            default=None, help=f"comma-separated conditions (default: {','.join(FULL_CONDITIONS)}; "
            "fast: synthetic)"),
        opt("--seeds", type=comma_list(seed, "seed"), default=None,
            help="training seeds (default 0,1,2; fast: 0)"),
        opt("--fast", action="store_true", help="CI variant: fast data, tiny budget, one seed"),
        opt("--pretrained", action="store_true", help="score the shipped models, train nothing"),
        opt("--max-items", type=positive_int, help="score only the first items per split"),
        opt("--jobs", type=positive_int, default=1,
            help="runs in parallel, 1 CPU thread each (default 1)"),
        opt("--out", default=None, help="result files and checkpoints (default: results/matched, "
            "its checkpoints in runs/compare; --fast, --pretrained: runs/compare)"),
        opt("--export-pretrained", action="store_true",
            help="ship the seed-0 speech models of the 200-step VAEs (vae-matched, vae-shared) "
            "into vaesep/pretrained; the other methods ship from `vaesep study --ship`"),
        opt("--readme", default=None,
            help=f"rewrite the block between {COMPARE_START} and {COMPARE_END} in this "
            "file"),
    ]),
]
"""The two views' rows of :func:`vaesep.cli.commands_table`."""
