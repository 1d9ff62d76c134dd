"""Argument types and output checks shared by every ``vaesep`` subcommand.

A bad option fails in a second with a message naming the flag, never after a long run.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vaesep.runtime import fast_mode

MAX_SEED = 2**32 - 1  # the largest seed numpy and torch both take


def opt(*flags: str, **keywords: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One row of an option table: ``parser.add_argument(*flags, **keywords)``."""
    return flags, keywords


def _checked(convert: Callable[[str], Any], accept: Callable[[Any], bool], wanted: str):
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


def comma_list(item: Callable[[str], Any], what: str):
    """An argparse ``type`` for a non-empty comma-separated list, each part checked by ``item``."""

    def parse(text: str) -> tuple:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        if not names:
            raise argparse.ArgumentTypeError(f"give at least one {what}, comma-separated")
        if len(set(names)) != len(names):
            raise argparse.ArgumentTypeError(f"a {what} is listed twice in {text!r}")
        try:
            return tuple(item(name) for name in names)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


DATA_OPTIONS = [
    opt("--seed", type=seed, default=0, help="data set seed (default 0)"),
    opt("--snr-db", type=finite_float, default=0.0, help="mixing SNR in dB"),
    opt("--root", default=None, help="corpus root, for corpora that need one"),
    opt("--noise-dir", default=None, help="timit only: your own noise recordings"),
    opt("--fast", action="store_true", help="small fast-mode data and budgets"),
]
"""The options that choose and build a data set (after ``--data`` or a positional name)."""

NETWORK_OPTIONS = [
    opt("--variant", choices=("per_source", "shared"), help="vae"),
    opt("--train-on", choices=("mixture", "clean"),
        help="vae: clean = the authors' scheme (each VAE on its own clean source)"),
    opt("--context", type=non_negative_int, help="frames either side"),
    opt("--hidden", type=positive_int, help="units per hidden layer"),
    opt("--layers", type=positive_int, help="hidden layers"),
    opt("--latent", type=positive_int, help="vae: latent dimensions"),
    opt("--beta", type=non_negative_float, help="vae: KL weight"),
    opt("--likelihood", choices=("gaussian", "laplace", "sigma", "is"),
        help="vae/dnn: gaussian = unit variance (authors' scaling); sigma, is: scale-free"),
    opt("--gamma", type=non_negative_float,
        help="dnn/drnn: discriminative weight (0 = MSE)"),
    opt("--recurrent-layer", type=positive_int, help="drnn"),
    opt("--n-components", type=positive_int,
        help="nmf: atoms per source; generative: components of each --nmf-sources model"),
    opt("--nmf-sources", nargs="+", metavar="SOURCE",
        help="generative: sources modelled by NMF on each mixture, no prior "
        "(noise: noise)"),
    opt("--iterations", type=non_negative_int,
        help="generative: inference iterations per mixture"),
]
"""``vaesep train``'s network options: passed on when given, else each network keeps its default."""

def writable(path: str | Path, flag: str, *, folder: bool = False) -> Path:
    """Prove that ``path`` (a file, or with ``folder`` a folder, created) can be written, before any
    work: a bad output option fails in a second with a message naming ``flag``."""
    path = Path(path)
    if not folder and path.is_dir():
        raise ValueError(f"{flag} {path} is a folder; give a file name")
    if not folder and path.parent.exists() and not path.parent.is_dir():
        raise ValueError(f"cannot write to {flag} {path}: {path.parent} is a file, not a folder")
    where = path if folder else path.parent
    if where.exists() and not where.is_dir():
        raise ValueError(f"{flag} {where} is a file, not a folder; choose a folder")
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=where):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write to {flag} {where} ({exc.strerror}); choose a folder you "
                         "can write to") from None
    return path


def build_data(args: argparse.Namespace):
    """The data set the data options of ``args`` describe (built into the cache on first use)."""
    from vaesep import data
    from vaesep.data.corpora.speech import NOISE_DIR_ENV

    if args.noise_dir:
        os.environ[NOISE_DIR_ENV] = args.noise_dir
    return data.build(args.data, seed=args.seed, snr_db=args.snr_db, fast=args.fast or fast_mode(), root=args.root)
