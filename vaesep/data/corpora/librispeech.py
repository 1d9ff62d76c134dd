"""LibriSpeech: female vs male two-speaker mixtures, a larger free speech set.

LibriSpeech (Panayotov et al., 2015) is about 1000 hours of read English
audiobooks at 16 kHz, as FLAC:
``LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utterance>.flac``,
with ``LibriSpeech/SPEAKERS.TXT`` giving each reader's sex (``F``/``M``) in
pipe-separated lines (``;`` starts a comment). Its subsets are speaker-disjoint.

Here (our choices):

* ``train`` is ``train-clean-100`` (251 speakers, ~100 h), ``valid``
  ``dev-clean`` and ``test`` ``test-clean`` (40 speakers each);
  ``LibriSpeechBuilder(subsets=...)`` picks others (``train-clean-360`` …);
* the sources are ``female`` and ``male``: each is the concatenation of the
  split's utterances by readers of that sex (trimmed like the default speech
  set, 40 dB), so dynamic mixing pairs a random woman with a random man at
  every step, and the fixed items are female/male pairs too; ``snr_db`` is
  the female-to-male ratio;
* valid and test decode only what their items need: about 0.5 and 1 hour
  per sex, files taken in hash order so every reader can appear; items are
  capped at 200 (valid) and 400 (test).

All of ``train-clean-100`` becomes about 23 GB of float32 streams in the cache.

data/README.md, section "LibriSpeech".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaesep.audio import SAMPLE_RATE
from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.base import CorpusBuilder, first_seconds_in_hash_order
from vaesep.data.corpora.errors import layout_error
from vaesep.data.corpora.layout import child, find_corpus_dir, relative_id, require_root
from vaesep.data.corpora.reading import decode_speech_file
from vaesep.data.corpora.streaming import Unit, publish_all, require_audio
from vaesep.data.registry import BuildRequest

SECTION = "LibriSpeech"
SPEAKERS_FILE = "SPEAKERS.TXT"
DEFAULT_SUBSETS: Mapping[str, str] = {
    "train": "train-clean-100",
    "valid": "dev-clean",
    "test": "test-clean",
}
SEX_TO_SOURCE = {"F": "female", "M": "male"}
TRIM_TOP_DB = 40.0


def read_speaker_sexes(path: Path) -> dict[str, str]:
    """``SPEAKERS.TXT`` → speaker id → ``"F"`` or ``"M"``.

    Lines are ``ID | SEX | SUBSET | MINUTES | NAME``; names may themselves
    contain ``|``, so a line is split at most four times.

    data/README.md, section "LibriSpeech".
    """
    sexes = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        fields = [field.strip() for field in line.split("|", 4)]
        if len(fields) >= 2 and fields[0].isdigit() and fields[1] in SEX_TO_SOURCE:
            sexes[fields[0]] = fields[1]
    return sexes


class LibriSpeechBuilder(CorpusBuilder):
    """Builds ``data.build("librispeech", root=...)`` (see the module docstring).

    Args:
        subsets: split → LibriSpeech subset folder, default :data:`DEFAULT_SUBSETS`.
        train_hours_per_source: cap the training audio per sex (None: the whole subset).

    data/README.md, section "LibriSpeech".
    """

    version = "1"
    corpus = "librispeech"
    readme_section = SECTION
    source_names = ("female", "male")
    splits = ("train", "valid", "test")

    def __init__(
        self,
        subsets: Mapping[str, str] = DEFAULT_SUBSETS,
        train_hours_per_source: float | None = None,
    ) -> None:
        if set(subsets) != set(self.splits):
            raise ValueError(f"subsets must map each of {self.splits} to a subset folder")
        self.subsets = dict(subsets)
        self.train_hours_per_source = train_hours_per_source

    def settings(self, fast: bool) -> dict[str, Any]:
        train_hours = 0.05 if fast else self.train_hours_per_source
        return {
            "subsets": dict(self.subsets),
            "segment_seconds": 4.0,
            "trim_top_db": TRIM_TOP_DB,
            "hours_per_source": {
                "train": train_hours,
                "valid": 0.02 if fast else 0.5,
                "test": 0.02 if fast else 1.0,
            },
            "max_items": {"valid": 8, "test": 12} if fast else {"valid": 200, "test": 400},
        }

    def locate(self, root: Path) -> Path:
        """The ``LibriSpeech`` folder: ``root`` or ``root/LibriSpeech``, with SPEAKERS.TXT and the subsets."""
        folder = find_corpus_dir(
            root, lambda f: child(f, SPEAKERS_FILE) is not None, ("LibriSpeech",)
        )
        if folder is None:
            raise layout_error(
                self.corpus, root, SPEAKERS_FILE,
                "LibriSpeech/SPEAKERS.TXT and LibriSpeech/<subset>/<speaker>/<chapter>/*.flac "
                "(every openslr archive unpacks into LibriSpeech/)", SECTION,
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
        """``(id, path)`` of every utterance of ``split``, per source (sex), sorted."""
        folder = self.locate(root)
        sexes = read_speaker_sexes(child(folder, SPEAKERS_FILE) or folder / SPEAKERS_FILE)
        subset_dir = child(folder, self.subsets[split]) or folder / self.subsets[split]
        files: dict[str, list[tuple[str, Path]]] = {source: [] for source in self.source_names}
        for speaker_dir in sorted(p for p in subset_dir.iterdir() if p.is_dir()):
            sex = sexes.get(speaker_dir.name)
            if sex is None:
                continue  # not in SPEAKERS.TXT: sex unknown, so it cannot be paired
            files[SEX_TO_SOURCE[sex]] += [
                (relative_id(path, root), path) for path in sorted(speaker_dir.glob("*/*.flac"))
            ]
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
        root = require_root(self.corpus, root, SECTION)
        return sorted(i for files in self.files_by_source(root, split).values() for i, _ in files)

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        root = require_root(self.corpus, request.root, SECTION)
        settings = request.settings
        segment_samples = int(round(settings["segment_seconds"] * SAMPLE_RATE))
        for split in self.splits:
            hours = settings["hours_per_source"][split]
            units = [
                Unit(file_id, (str(path), source, settings["trim_top_db"], SECTION))
                for source, files in self.files_by_source(root, split).items()
                for file_id, path in first_seconds_in_hash_order(
                    files, None if hours is None else hours * 3600.0, SECTION
                )
            ]
            files = self.decode_run(request, writer, split, units, decode_speech_file)
            require_audio(files, self.corpus, split, SECTION)
            streams, stream_index = publish_all(writer, split, files)
            writer.add_split_with_items(
                split,
                streams=streams,
                stream_index=stream_index,
                request=request,
                segment_samples=segment_samples,
                max_items=settings["max_items"],
            )
            writer.note(f"empty_files_skipped_{split}", files.empty_files)
        writer.note("subsets", dict(self.subsets))
        writer.note("pairing", "female stream vs male stream; readers' sex from SPEAKERS.TXT")
