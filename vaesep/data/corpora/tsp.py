"""TSP (McGill): two-speaker mixtures as in Huang et al. (TASLP 2015).

``tsp`` is the pair FA–MC, ``tsp-fa-fb`` and ``tsp-mc-md`` the other pairs
(the first speaker is the target of ``snr_db``). Each speaker's utterances
(``48k/<speaker>/<speaker><list>_<sentence>.wav``, or ``16k-LP7``) are
resampled, trimmed and concatenated in file-name order; the last 10 % of that
stream is ``test``, the last ninth of the rest ``valid``. Items are 2 s.
data/README.md, section "TSP".
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.data.builder import BuildRequest, DatasetWriter
from vaesep.data.corpora.base import (
    CorpusBuilder,
    child,
    decode_speech_file,
    layout_error,
    relative_id,
    subdir,
)
from vaesep.data.mixing import locate

SECTION = "TSP"
HUANG_PAIRS: tuple[tuple[str, str], ...] = (("FA", "MC"), ("FA", "FB"), ("MC", "MD"))
RATE_FOLDERS = ("48k", "16k-LP7")  # preferred first: we resample the 48 kHz originals ourselves
FILE_NAME = re.compile(r"^(?P<speaker>[A-Z]{2})\d{2}_\d{2}\.wav$", re.IGNORECASE)
TEST_FRACTION = 0.1
VALID_SHARE_OF_REST = 1.0 / 9.0
TRIM_TOP_DB = 40.0


def speaker_files(folder: Path, speaker: str) -> list[Path]:
    """The utterances in ``folder/<speaker>/`` (any case), in file-name order."""
    speaker_dir = subdir(folder, speaker)
    if not speaker_dir.is_dir():
        return []
    return sorted(
        p for p in speaker_dir.iterdir() if (m := FILE_NAME.match(p.name)) and m["speaker"].upper() == speaker
    )


def split_bounds(n_samples: int) -> dict[str, tuple[int, int]]:
    """Sample ranges of train / valid / test in one speaker's stream: 80 / 10 / 10 %."""
    test_start = n_samples - int(round(n_samples * TEST_FRACTION))
    valid_start = test_start - int(round(test_start * VALID_SHARE_OF_REST))
    return {"train": (0, valid_start), "valid": (valid_start, test_start), "test": (test_start, n_samples)}


def slice_index(index: Sequence[dict[str, Any]], start: int, stop: int) -> list[dict[str, Any]]:
    """The stream index of ``stream[start:stop]``, offsets re-based to the slice."""
    pieces, position = [], 0
    for found in locate(index, start, stop - start):
        pieces.append({**found, "stream_offset": position})
        position += found["length"]
    return pieces


class TSPBuilder(CorpusBuilder):
    """``data.build("tsp", root=...)`` and the other pairs; ``pair``: two speaker codes."""

    version = "1"
    readme_section = SECTION

    def __init__(self, pair: Sequence[str] = HUANG_PAIRS[0]) -> None:
        speakers = tuple(code.upper() for code in pair)
        if len(speakers) != 2 or speakers[0] == speakers[1]:
            raise ValueError(f"a TSP pair is two different speaker codes like ('FA', 'MC'), got {pair!r}")
        self.source_names = speakers
        self.corpus = "tsp" if speakers == HUANG_PAIRS[0] else f"tsp-{speakers[0]}-{speakers[1]}".lower()

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "pair": list(self.source_names), "segment_seconds": 2.0, "trim_top_db": TRIM_TOP_DB,
            "test_fraction": TEST_FRACTION, "valid_share_of_rest": VALID_SHARE_OF_REST,
            "max_items": {"valid": 8, "test": 12} if fast else {"valid": None, "test": None},
        }  # fmt: skip

    def locate(self, root: Path) -> Path:
        """The folder holding the speaker folders: ``root/48k``, ``root/16k-LP7`` or ``root``."""
        candidates = [c for c in (child(root, RATE_FOLDERS[0]), child(root, RATE_FOLDERS[1]), root) if c]
        for candidate in candidates:
            if all(speaker_files(candidate, speaker) for speaker in self.source_names):
                return candidate
        nearest = candidates[0]  # a rate folder if one exists: that is where the speakers belong
        speaker = next(s for s in self.source_names if not speaker_files(nearest, s))
        raise layout_error(
            self.corpus, root, f"{relative_id(nearest / speaker, root)}/ with files like {speaker}01_01.wav",
            f"48k/{speaker}/{speaker}01_01.wav … (or 16k-LP7/…) under the folder you unzipped "
            "48k.zip or 16k-LP7.zip into", SECTION,
        )  # fmt: skip

    def split_files(self, split: str, root: Path | None) -> list[str]:
        # every file feeds every split: the splits are stretches of each speaker's stream
        self.require_split(split)
        folder = self.locate(root := self.require_root(root))
        return sorted(relative_id(p, root) for s in self.source_names for p in speaker_files(folder, s))

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = self.require_root(request.root)
        folder, settings = self.locate(root), request.settings
        units = [
            (relative_id(path, root), (str(path), speaker, settings["trim_top_db"], SECTION))
            for speaker in self.source_names
            for path in speaker_files(folder, speaker)
        ]
        with tempfile.TemporaryDirectory(prefix=".decoded-", dir=writer.directory) as scratch:
            paths = {s: Path(scratch) / f"{s}.npy" for s in self.source_names}
            whole, index, empty = self.decode_split(request, writer, "all", units, decode_speech_file, paths=paths)
            for split in self.splits:
                bounds = {s: split_bounds(whole[s].shape[0])[split] for s in self.source_names}
                writer.add_split_with_items(
                    split, request=request, max_items=settings["max_items"],
                    streams={s: np.array(whole[s][slice(*bounds[s])]) for s in self.source_names},
                    stream_index={s: slice_index(index[s], *bounds[s]) for s in self.source_names},
                )  # fmt: skip
            del whole
        writer.note("recordings", relative_id(folder, root) if folder != root else ".")
        writer.note("split_rule", "per speaker: last 10% test, last ninth of the rest valid")
        writer.note("empty_files_skipped", empty)
