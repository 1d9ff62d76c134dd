"""LibriSpeech: women against men, a larger free two-speaker set.

Source ``female`` is the split's utterances by women, ``male`` by men (sex from
``SPEAKERS.TXT``), so dynamic mixing pairs a random woman with a random man.
``train`` is ``train-clean-100`` (about 23 GB of streams when built whole),
``valid`` ``dev-clean``, ``test`` ``test-clean``, of which only about 0.5 and
1 hour per sex is decoded, files taken in hash order.
data/README.md, section "LibriSpeech", has the corpus, its layout and our choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaesep.data.builder import BuildRequest, DatasetWriter
from vaesep.data.corpora.base import (
    CorpusBuilder,
    child,
    decode_speech_file,
    find_corpus_dir,
    first_seconds_in_hash_order,
    layout_error,
    relative_id,
    subdir,
)  # fmt: skip

SECTION = "LibriSpeech"
SPEAKERS_FILE = "SPEAKERS.TXT"
DEFAULT_SUBSETS: Mapping[str, str] = {"train": "train-clean-100", "valid": "dev-clean", "test": "test-clean"}
SEX_TO_SOURCE = {"F": "female", "M": "male"}
TRIM_TOP_DB = 40.0


def read_speaker_sexes(path: Path) -> dict[str, str]:
    """``SPEAKERS.TXT`` → speaker id → ``"F"`` or ``"M"``. Lines are ``ID | SEX | SUBSET |
    MINUTES | NAME`` and names may contain ``|``, so a line is split at most four times."""
    sexes = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        fields = [field.strip() for field in line.split("|", 4)]
        if len(fields) >= 2 and fields[0].isdigit() and fields[1] in SEX_TO_SOURCE:
            sexes[fields[0]] = fields[1]
    return sexes


class LibriSpeechBuilder(CorpusBuilder):
    """Builds ``data.build("librispeech", root=...)``; ``subsets``: split → subset folder,
    ``train_hours_per_source``: cap the training audio per sex (None: the whole subset)."""

    version = "1"
    corpus = "librispeech"
    readme_section = SECTION
    source_names = ("female", "male")
    splits = ("train", "valid", "test")

    def __init__(self, subsets: Mapping[str, str] = DEFAULT_SUBSETS, train_hours_per_source: float | None = None):
        if set(subsets) != set(self.splits):
            raise ValueError(f"subsets must map each of {self.splits} to a subset folder")
        self.subsets = dict(subsets)
        self.train_hours_per_source = train_hours_per_source

    def settings(self, fast: bool) -> dict[str, Any]:
        return {
            "subsets": dict(self.subsets),
            "segment_seconds": 4.0,
            "trim_top_db": TRIM_TOP_DB,
            "hours_per_source": {
                "train": 0.05 if fast else self.train_hours_per_source,
                "valid": 0.02 if fast else 0.5,
                "test": 0.02 if fast else 1.0,
            },
            "max_items": {"valid": 8, "test": 12} if fast else {"valid": 200, "test": 400},
        }

    def locate(self, root: Path) -> Path:
        """The ``LibriSpeech`` folder (``root`` or ``root/LibriSpeech``) with SPEAKERS.TXT and the subsets."""
        folder = find_corpus_dir(root, lambda f: child(f, SPEAKERS_FILE) is not None, ("LibriSpeech",))
        if folder is None:
            raise layout_error(
                self.corpus, root, SPEAKERS_FILE, "LibriSpeech/SPEAKERS.TXT and LibriSpeech/<subset>/<speaker>/"
                "<chapter>/*.flac (every openslr archive unpacks into LibriSpeech/)", SECTION,
            )  # fmt: skip
        for subset in self.subsets.values():
            if child(folder, subset) is None:
                raise layout_error(
                    self.corpus, root, f"{relative_id(folder / subset, root)}/",
                    f"LibriSpeech/{subset}/<speaker>/<chapter>/*.flac (unpack {subset}.tar.gz "
                    "next to the others)", SECTION,
                )  # fmt: skip
        return folder

    def files_by_source(self, root: Path, split: str) -> dict[str, list[tuple[str, Path]]]:
        """``(id, path)`` of every utterance of ``split`` per source (sex), sorted; readers
        missing from SPEAKERS.TXT are left out (their sex is unknown)."""
        folder = self.locate(root)
        sexes = read_speaker_sexes(subdir(folder, SPEAKERS_FILE))
        subset_dir = subdir(folder, self.subsets[split])
        files: dict[str, list[tuple[str, Path]]] = {source: [] for source in self.source_names}
        for speaker_dir in sorted(p for p in subset_dir.iterdir() if p.is_dir() and p.name in sexes):
            source = SEX_TO_SOURCE[sexes[speaker_dir.name]]
            files[source] += [(relative_id(p, root), p) for p in sorted(speaker_dir.glob("*/*.flac"))]
        for source, found in files.items():
            if not found:
                raise layout_error(
                    self.corpus, root, f"any {source} reader's .flac in {self.subsets[split]}/",
                    f"LibriSpeech/{self.subsets[split]}/<speaker>/<chapter>/<speaker>-<chapter>-"
                    "<utterance>.flac, readers listed in SPEAKERS.TXT", SECTION,
                )  # fmt: skip
        return files

    def split_files(self, split: str, root: Path | None) -> list[str]:
        self.require_split(split)
        root = self.require_root(root)
        return sorted(i for files in self.files_by_source(root, split).values() for i, _ in files)

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = self.require_root(request.root)
        settings = request.settings
        for split in self.splits:
            hours = settings["hours_per_source"][split]
            seconds = None if hours is None else hours * 3600.0
            units = [
                (file_id, (str(path), source, settings["trim_top_db"], SECTION))
                for source, files in self.files_by_source(root, split).items()
                for file_id, path in first_seconds_in_hash_order(files, seconds, SECTION)
            ]
            streams, index, empty = self.decode_split(request, writer, split, units, decode_speech_file)
            writer.add_split_with_items(
                split, streams=streams, stream_index=index, request=request, max_items=settings["max_items"],
            )  # fmt: skip
            writer.note(f"empty_files_skipped_{split}", empty)
        writer.note("subsets", dict(self.subsets))
        writer.note("pairing", "female stream vs male stream; readers' sex from SPEAKERS.TXT")
