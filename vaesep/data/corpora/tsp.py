"""TSP (McGill): two-speaker mixtures as in Huang et al. (TASLP 2015).

The TSP speech database (P. Kabal, McGill University) holds about 60
Harvard sentences read by each of two dozen speakers (adult women ``F*``,
men ``M*``, children ``C*``), recorded at 48 kHz; McGill distributes the
recordings as ``48k.zip`` and also low-passed 16 kHz (``16k-LP7.zip``) and
8 kHz versions. A file is ``<rate folder>/<speaker>/<speaker><list>_<sentence>.wav``,
e.g. ``48k/FA/FA01_01.wav``.

Huang et al. mix speaker pairs FA–MC, FA–FB and MC–MD at 0 dB, resampled to
16 kHz, and test on the last 10 % of each speaker's audio. Here:

* ``tsp`` is the pair FA–MC; ``tsp-fa-fb`` and ``tsp-mc-md`` the other two
  (sources named after the speakers, the first one is the "target" of
  ``snr_db``); any other pair is one line:
  ``data.register("tsp-fb-mc", TSPBuilder(("FB", "MC")))``.
* Each utterance is decoded, resampled to 16 kHz (soxr) and trimmed of
  leading and trailing silence (40 dB below its loudest frame, our choice,
  as for the default speech set); a speaker's utterances are concatenated in
  file-name order. The last 10 % of that stream is ``test``, the last ninth
  of the rest ``valid`` (another 10 %), the remaining 80 % ``train``; cuts
  fall at sample positions, as in Huang et al.
* Evaluation items are 2 s long (each test split is only ~15 s per speaker,
  so 4 s items would give three or four of them).
* The 48 kHz recordings are used when both are unpacked; ``16k-LP7`` otherwise.

data/README.md, section "TSP".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE
from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.base import CorpusBuilder
from vaesep.data.corpora.errors import layout_error
from vaesep.data.corpora.layout import child, relative_id, require_root
from vaesep.data.corpora.reading import decode_speech_file
from vaesep.data.corpora.streaming import Unit, require_audio
from vaesep.data.mixing import locate
from vaesep.data.registry import BuildRequest

SECTION = "TSP"
HUANG_PAIRS: tuple[tuple[str, str], ...] = (("FA", "MC"), ("FA", "FB"), ("MC", "MD"))
"""The speaker pairs of Huang et al. (2015), in the order of their tables."""
RATE_FOLDERS = ("48k", "16k-LP7")
"""Folders of the McGill archives, preferred first: we resample the 48 kHz originals ourselves."""
FILE_NAME = re.compile(
    r"^(?P<speaker>[A-Z]{2})(?P<list>\d{2})_(?P<sentence>\d{2})\.wav$", re.IGNORECASE
)
TEST_FRACTION = 0.1
VALID_SHARE_OF_REST = 1.0 / 9.0
TRIM_TOP_DB = 40.0


def speaker_files(speaker_dir: Path, speaker: str) -> list[Path]:
    """The speaker's utterances (``FA01_01.wav`` …) in file-name order.

    data/README.md, section "TSP".
    """
    if not speaker_dir.is_dir():
        return []
    return sorted(
        path
        for path in speaker_dir.iterdir()
        if (match := FILE_NAME.match(path.name)) and match["speaker"].upper() == speaker
    )


def split_bounds(n_samples: int) -> dict[str, tuple[int, int]]:
    """Sample ranges of train / valid / test in one speaker's stream.

    The last 10 % is test and the last ninth of the rest valid, so the
    shares are 80 / 10 / 10.

    data/README.md, section "TSP".
    """
    test_start = n_samples - int(round(n_samples * TEST_FRACTION))
    valid_start = test_start - int(round(test_start * VALID_SHARE_OF_REST))
    return {
        "train": (0, valid_start),
        "valid": (valid_start, test_start),
        "test": (test_start, n_samples),
    }


def slice_index(index: Sequence[dict[str, Any]], start: int, stop: int) -> list[dict[str, Any]]:
    """The stream index of ``stream[start:stop]``, offsets re-based to the slice.

    data/README.md, section "TSP".
    """
    pieces, position = [], 0
    for found in locate(index, start, stop - start):
        pieces.append({**found, "stream_offset": position})
        position += found["length"]
    return pieces


class TSPBuilder(CorpusBuilder):
    """Builds ``data.build("tsp", root=...)`` and the other pairs (see the module docstring).

    Args:
        pair: two TSP speaker codes, e.g. ``("FA", "MC")``; the first is the
            target of ``snr_db``.

    data/README.md, section "TSP".
    """

    version = "1"
    splits = ("train", "valid", "test")
    readme_section = SECTION

    def __init__(self, pair: Sequence[str] = HUANG_PAIRS[0]) -> None:
        speakers = tuple(code.upper() for code in pair)
        if len(speakers) != 2 or speakers[0] == speakers[1]:
            raise ValueError(
                f"a TSP pair is two different speaker codes like ('FA', 'MC'), got {pair!r}"
            )
        self.source_names = speakers
        self.corpus = (
            "tsp" if speakers == HUANG_PAIRS[0] else f"tsp-{speakers[0]}-{speakers[1]}".lower()
        )

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "pair": list(self.source_names),
            "segment_seconds": 2.0,
            "trim_top_db": TRIM_TOP_DB,
            "test_fraction": TEST_FRACTION,
            "valid_share_of_rest": VALID_SHARE_OF_REST,
            "max_items": {"valid": 8, "test": 12} if fast else {"valid": None, "test": None},
        }

    def locate(self, root: Path) -> Path:
        """The folder holding the speaker folders: ``root/48k``, ``root/16k-LP7`` or ``root`` itself."""
        candidates = [
            c for c in (child(root, RATE_FOLDERS[0]), child(root, RATE_FOLDERS[1]), root) if c
        ]
        for candidate in candidates:
            if all(self.files_of(candidate, speaker) for speaker in self.source_names):
                return candidate
        nearest = candidates[0]  # a rate folder if one exists: that is where the speakers belong
        speaker = next(s for s in self.source_names if not self.files_of(nearest, s))
        raise layout_error(
            self.corpus,
            root,
            f"{(nearest / speaker).relative_to(root).as_posix()}/ with files like {speaker}01_01.wav",
            f"48k/{speaker}/{speaker}01_01.wav … (or 16k-LP7/…) under the folder you unzipped "
            "48k.zip or 16k-LP7.zip into",
            SECTION,
        )

    @staticmethod
    def files_of(folder: Path, speaker: str) -> list[Path]:
        """The utterances of ``speaker`` in ``folder/<speaker>/`` (folder name in any case)."""
        return speaker_files(child(folder, speaker) or folder / speaker, speaker)

    def split_files(self, split: str, root: Path | None) -> list[str]:
        # every file feeds every split: the splits are stretches of each speaker's stream
        self.require_split(split)
        root = require_root(self.corpus, root, SECTION)
        folder = self.locate(root)
        return sorted(
            relative_id(path, root)
            for speaker in self.source_names
            for path in self.files_of(folder, speaker)
        )

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = require_root(self.corpus, request.root, SECTION)
        folder = self.locate(root)
        settings = request.settings
        units = [
            Unit(relative_id(path, root), (str(path), speaker, settings["trim_top_db"], SECTION))
            for speaker in self.source_names
            for path in self.files_of(folder, speaker)
        ]
        files = self.decode_run(request, writer, "all", units, decode_speech_file)
        require_audio(files, self.corpus, "all", SECTION)
        whole = {s: np.load(files.paths[s], mmap_mode="r") for s in self.source_names}
        bounds = {s: split_bounds(whole[s].shape[0]) for s in self.source_names}
        segment_samples = int(round(settings["segment_seconds"] * SAMPLE_RATE))
        for split in self.splits:
            streams = {s: np.array(whole[s][slice(*bounds[s][split])]) for s in self.source_names}
            stream_index = {
                s: slice_index(files.index[s], *bounds[s][split]) for s in self.source_names
            }
            writer.add_split_with_items(
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                max_items=settings["max_items"],
            )
        writer.note("recordings", relative_id(folder, root) if folder != root else ".")
        writer.note("split_rule", "per speaker: last 10% test, last ninth of the rest valid")
        writer.note("empty_files_skipped", files.empty_files)
