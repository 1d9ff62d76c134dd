"""Argument types and output checks shared by every ``vaesep`` subcommand.

A bad option fails in a second with a message naming the flag, never after a long run.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

from vaesep.runtime import fast_mode

MAX_SEED = 2**32 - 1  # the largest seed numpy and torch both take


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


def writable_folder(folder: str | Path, flag: str) -> Path:
    """Create ``folder`` if needed and prove that files can be made in it.

    Commands call it before any work, so a bad output option fails in a second
    with a message naming ``flag``, not with a traceback after a long run.
    """
    import tempfile

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{flag} {folder} is a file, not a folder; choose a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(
            f"cannot write to {flag} {folder} ({exc.strerror}); choose a folder you can write to"
        ) from None
    return folder


def writable_file(path: str | Path, flag: str) -> Path:
    """:func:`writable_folder` for the folder of an output file; the file itself may exist."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{flag} {path} is a folder; give a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise ValueError(f"cannot write to {flag} {path}: {path.parent} is a file, not a folder")
    writable_folder(path.parent, flag)
    return path


def add_data_arguments(parser: argparse.ArgumentParser, *, with_name: bool = True) -> None:
    """The options that choose and build a data set; ``with_name=False``: the name is positional."""
    if with_name:
        parser.add_argument("--data", default="speech", help="data set name (see `vaesep data list`)")
    parser.add_argument("--seed", type=seed, default=0, help="data set seed (default 0)")
    parser.add_argument("--snr-db", type=finite_float, default=0.0, help="mixing SNR in dB")
    parser.add_argument("--root", default=None, help="corpus root, for corpora that need one")
    parser.add_argument("--noise-dir", default=None, help="timit only: your own noise recordings")
    parser.add_argument("--fast", action="store_true", help="small fast-mode data and budgets")


def build_data(args: argparse.Namespace):
    from vaesep import data
    from vaesep.data.corpora.speech import NOISE_DIR_ENV

    if args.noise_dir:
        os.environ[NOISE_DIR_ENV] = args.noise_dir
    return data.build(args.data, seed=args.seed, snr_db=args.snr_db, fast=args.fast or fast_mode(), root=args.root)
