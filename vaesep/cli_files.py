"""The command line's checks on the files it is given, run before any work starts.

Inputs must be audio that libsndfile decodes (a cut-off copy is warned about);
output folders must be writable; stems must overwrite neither an input nor, without
``--overwrite``, an earlier result. A bad option then fails in a second, with a
message naming it, instead of after a long separation or training run
(README, section "Using the library").
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def check_input(path: Path):
    """Refuse an input that is missing, a folder, not audio, empty or undecodable; returns its info.

    The whole file is decoded once here and again when it is separated: decoding
    is fast next to separating, and holding every input in memory is not.
    """
    import soundfile as sf

    from vaesep.audio import load_audio

    if path.is_dir():
        raise ValueError(f"{path} is a folder; pass the audio files in it (e.g. {path}/*.wav)")
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        info = sf.info(str(path))
    except sf.SoundFileError as exc:
        raise ValueError(
            f"{path} is not audio that libsndfile can read ({exc}); vaesep reads WAV, FLAC and "
            f"OGG/Vorbis: convert other formats first (ffmpeg -i {path} {path.stem}-converted.wav)"
        ) from None
    if info.frames == 0:
        raise ValueError(f"{path} is empty: it holds no samples")
    # a cut FLAC, NaN samples or too many channels show only when the samples are read
    _warn_if_truncated(path, info, len(load_audio(path, info.samplerate)))
    return info


_UNKNOWN_LENGTH = {0x7FFFFFFF, 0xFFFFFFFF}
"""WAV data sizes that streaming writers leave when the length is not known yet."""


def _warn_if_truncated(path: Path, info, n_read: int) -> None:
    """Say so when a file holds fewer samples than its header announces (a cut-off copy)."""
    import soundfile as sf

    present = n_read / info.samplerate
    announced = info.frames / info.samplerate
    with sf.SoundFile(str(path)) as stream:
        log = stream.extra_info
    # libsndfile reads a WAV whose data chunk is cut short without an error; only its log
    # says "data : <bytes in the header> (should be <bytes present>)"
    cut = re.search(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", log, re.MULTILINE)
    if cut and int(cut[1]) not in _UNKNOWN_LENGTH and int(cut[1]) > int(cut[2]) > 0:
        announced = present * int(cut[1]) / int(cut[2])
    if announced > present:
        print(
            f"vaesep separate: warning: {path} is truncated: its header announces "
            f"{announced:.2f} s but only {present:.2f} s are present; separating what is there",
            file=sys.stderr,
        )


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


def refuse_shared_names(inputs: list[Path]) -> None:
    """Two inputs with one file stem (``a/x.wav``, ``b/x.flac``) would write the same stems.

    They are refused rather than renamed, so stem names stay predictable.
    """
    by_stem: dict[str, list[Path]] = {}
    for path in inputs:
        by_stem.setdefault(path.stem.casefold(), []).append(path)  # casefold: macOS, Windows
    clashes = [paths for paths in by_stem.values() if len(paths) > 1]
    if clashes:
        listed = "; ".join(" and ".join(map(str, paths)) for paths in clashes)
        raise ValueError(
            f"inputs with the same name would overwrite each other's stems: {listed}; "
            "separate them in separate calls with different --out-dir"
        )


def stem_paths(
    inputs: list[Path], out_dir: Path, sources: tuple[str, ...], *, overwrite: bool
) -> dict[Path, list[Path]]:
    """Where each input's stems go; an input is never overwritten, not even with ``overwrite``."""
    planned = {path: [out_dir / f"{path.stem}_{name}.wav" for name in sources] for path in inputs}
    stems = [stem for paths in planned.values() for stem in paths]
    inputs_hit = sorted(
        {str(stem) for stem in stems for path in inputs if stem.exists() and stem.samefile(path)}
    )
    if inputs_hit:
        raise ValueError(
            f"the stems would overwrite input files: {', '.join(inputs_hit)}; choose another "
            "--out-dir"
        )
    folders = [str(stem) for stem in stems if stem.is_dir()]
    if folders:
        raise ValueError(
            f"these output names are folders: {', '.join(folders)}; choose another --out-dir"
        )
    existing = [str(stem) for stem in stems if stem.exists()]
    if existing and not overwrite:
        raise ValueError(
            f"these output files exist already: {', '.join(existing)}; pass --overwrite to replace "
            "them, or choose another --out-dir"
        )
    return planned
