"""What every corpus loader shares: no default root, a layout check, resumable decoding.

A corpus builder is a :class:`~vaesep.data.DatasetBuilder` (the contract is
in :mod:`vaesep.data.registry`) whose files the user downloads. It adds

* :meth:`CorpusBuilder.locate`, which finds the corpus inside the folder the
  user passed or raises :class:`~vaesep.data.corpora.CorpusLayoutError`
  naming the first missing file or folder;
* :meth:`CorpusBuilder.decode_run`, which decodes a list of files into
  on-disk streams in the build's resume directory
  (:func:`~vaesep.data.corpora.streaming.decode_streams`).

Notebook 01, section "Bring your own corpus"; data/README.md, section "Real corpora".
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from pathlib import Path

from vaesep.data.cache import DatasetWriter
from vaesep.data.corpora.errors import file_error
from vaesep.data.corpora.layout import require_root
from vaesep.data.corpora.reading import DecodedUnit
from vaesep.data.corpora.sphere import SphereError, is_sphere, read_header
from vaesep.data.corpora.streaming import StreamFiles, Unit, decode_streams
from vaesep.data.registry import BuildRequest, DatasetBuilder
from vaesep.data.splits import hash_order


class CorpusBuilder(DatasetBuilder):
    """Base class of the loaders for downloaded corpora.

    Attributes:
        corpus: the registered name used in messages, e.g. ``"tsp"``.
        readme_section: the ``data/README.md`` section describing the corpus.
    """

    corpus: str = ""
    readme_section: str = ""

    def default_root(self) -> Path | None:
        return None  # corpora live wherever the user unpacked them

    @abc.abstractmethod
    def locate(self, root: Path) -> Path:
        """The corpus folder inside ``root`` (``root`` itself or a sub-folder the archive creates).

        Raises:
            CorpusLayoutError: naming the first expected file or folder that is missing.
        """

    def check_system_data(self, root: Path | None) -> None:
        self.locate(require_root(self.corpus, root, self.readme_section))

    def decode_run(
        self,
        request: BuildRequest,
        writer: DatasetWriter,
        run: str,
        units: Sequence[Unit],
        function: Callable[..., DecodedUnit],
        sources: Sequence[str] | None = None,
    ) -> StreamFiles:
        """Decode ``units`` into one stream per source, resumably (``run`` names the sub-folder).

        ``sources`` defaults to all of :attr:`source_names`; a loader that
        fills some sources otherwise (TIMIT's noise) names the decoded ones.
        """
        return decode_streams(
            writer.resume_dir() / run,
            units,
            function,
            self.source_names if sources is None else sources,
            progress=request.progress,
            desc=f"{self.corpus} {run}",
        )


def audio_seconds(path: Path, section: str) -> float:
    """Duration of a corpus file from its header alone (SPHERE, WAV, FLAC).

    data/README.md, section "Real corpora".
    """
    import soundfile as sf

    try:
        if is_sphere(path):
            fields, _ = read_header(path)
            return int(fields["sample_count"]) / int(fields["sample_rate"])
        return float(sf.info(str(path)).duration)
    except (SphereError, KeyError, RuntimeError, OSError, ValueError) as exc:
        raise file_error(path, f"unreadable header ({exc})", section) from None


def first_seconds_in_hash_order(
    files: Sequence[tuple[str, Path]], seconds: float | None, section: str
) -> list[tuple[str, Path]]:
    """A deterministic subset of ``files`` holding about ``seconds`` of audio.

    Files are taken in hash order of their ids (:func:`vaesep.data.splits.hash_order`,
    so no speaker or chapter is favoured) until their header durations reach
    ``seconds``, then returned in id order. ``None`` keeps every file.

    Args:
        files: ``(id, path)`` pairs.
        seconds: the audio wanted; the last file may overshoot it.

    data/README.md, section "Real corpora".
    """
    if seconds is None:
        return sorted(files)
    by_id = dict(files)
    chosen, total = [], 0.0
    for file_id in hash_order(by_id):
        if total >= seconds:
            break
        chosen.append((file_id, by_id[file_id]))
        total += audio_seconds(by_id[file_id], section)
    return sorted(chosen)
