"""Music: Bach chorales, soprano melody vs alto+tenor+bass accompaniment.

The four-part chorales of the ``music21`` corpus are written out as two MIDI files per chorale
(soprano alone; alto, tenor and bass together), each rendered to its own audio stem by
``fluidsynth`` with the FluidR3 General MIDI soundfont: the exact ground truth that recorded
music never has, the mixture being their sum. Our choices (the paper used MIR-1K, which we
cannot ship): GM 53 "Choir Aahs" sings the soprano, GM 49 "String Ensemble 1" plays the rest,
both sustained and overlapping in pitch, so as in singing-voice separation timbre and register
tell them apart; 90 quarter notes per minute; the 363 corpus files with exactly the parts
Soprano, Alto, Tenor, Bass, split by a hash of the id (80/10/10) and capped at 40/5/5 chorales
(4/1/2 fast), the first in hash order. Items are 4 s at the *same* offsets in both stems.
Notebook 01, section "A short tour of the other data sets".
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from vaesep.audio import SAMPLE_RATE, fit_length, load_audio
from vaesep.data.builder import (
    BuildRequest,
    DatasetBuilder,
    DatasetWriter,
    assign_split,
    hash_order,
    missing_data_error,
)
from vaesep.data.decode import parallel_map, trim_silence
from vaesep.data.mixing import concatenate_pieces

SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")
SOUNDFONT_FILE = "FluidR3_GM.sf2"
PACKAGES = ("fluidsynth", "fluid-soundfont-gm")
MELODY_PROGRAM = 52  # 0-based General MIDI program: 53 "Choir Aahs"
ACCOMPANIMENT_PROGRAM = 48  # 49 "String Ensemble 1"
TEMPO_QPM = 90.0
FLUIDSYNTH_GAIN = 0.5  # FluidSynth's default 0.2 is quiet; 0.5 stays well below clipping
RENDER_TRIM_TOP_DB = 60.0  # cut only the silence before the first note and after the reverb
SATB = ("Soprano", "Alto", "Tenor", "Bass")


def corpus_directory() -> Path:
    """The corpus inside the ``music21`` package (the optional ``music`` extra)."""
    try:
        from music21 import common
    except ImportError as exc:
        raise ModuleNotFoundError(
            "the 'chorales' data set renders the Bach chorales of the music21 corpus, and "
            'music21 is not installed; install it with: pip install "vaesep[music]"',
            name="music21",
        ) from exc
    return Path(common.getCorpusFilePath())


def fluidsynth_program() -> str:
    """The full path of ``fluidsynth``, or MissingSystemDataError naming its package."""
    if (location := shutil.which("fluidsynth")) is None:
        what = "the program 'fluidsynth' is not on PATH"
        raise missing_data_error("chorales", PACKAGES[:1], what)
    return location


def _is_satb(path: Path) -> bool:
    # Reading the part list from the compressed MusicXML takes a millisecond;
    # parsing the whole score would take ~0.2 s per file.
    try:
        with zipfile.ZipFile(path) as archive:
            score_name = next(n for n in archive.namelist() if not n.startswith("META-INF"))
            text = archive.read(score_name).decode("utf-8", "replace")
    except (OSError, zipfile.BadZipFile, StopIteration):
        return False
    return tuple(re.findall(r"<part-name[^>]*>\s*([^<]*?)\s*<", text)) == SATB


def chorale_ids() -> list[str]:
    """Ids (``"bach/bwv1.6"``) of the corpus chorales with exactly the parts S, A, T, B; sorted."""
    base = corpus_directory()
    found = (path for path in (base / "bach").glob("*.mxl") if _is_satb(path))
    return sorted(path.relative_to(base).with_suffix("").as_posix() for path in found)


def write_stem_midi(score: Any, melody_path: Path, accompaniment_path: Path) -> None:
    """Write the soprano and the lower three parts as two MIDI files: translated once and
    split by track (faster than two translations), one channel per part, so an alto and
    tenor in unison sound as two notes instead of one cutting the other off."""
    from music21 import instrument, midi, tempo
    from music21.midi import translate

    for position, part in enumerate(score.parts):
        # the corpus marks parts as voices without a GM program, and some carry a tempo
        marks = part.recurse().getElementsByClass((instrument.Instrument, tempo.MetronomeMark))
        for element in list(marks):
            element.activeSite.remove(element)
        part.insert(0, voice := instrument.Instrument())
        voice.midiProgram = MELODY_PROGRAM if position == 0 else ACCOMPANIMENT_PROGRAM
    score.parts[0].insert(0, tempo.MetronomeMark(number=TEMPO_QPM))
    translated = translate.streamToMidiFile(score)
    conductor, *voices = translated.tracks  # track 0 holds tempo and metre, then one per part
    for channel, track in enumerate(voices, start=1):
        for event in track.events:
            if isinstance(event.type, midi.ChannelVoiceMessages):
                event.channel = channel
    for path, tracks in ((melody_path, voices[:1]), (accompaniment_path, voices[1:])):
        translated.tracks = [conductor, *tracks]  # the same file object, written twice
        translated.open(str(path), "wb")
        translated.write()
        translated.close()


def _fluidsynth(fluidsynth: str, soundfont: Path, midi: Path, wav: Path) -> np.ndarray:
    command = [fluidsynth, "-ni", "-q", "-g", str(FLUIDSYNTH_GAIN), "-r", str(SAMPLE_RATE),
               "-O", "float", "-T", "wav", "-F", str(wav), str(soundfont), str(midi)]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True, check=False)
    if finished.returncode != 0 or not wav.is_file():
        failed = " ".join(command)
        raise RuntimeError(f"fluidsynth failed on {midi.name}: {failed}\n{finished.stderr}")
    return load_audio(wav, SAMPLE_RATE)


Rendered = tuple[np.ndarray, np.ndarray, int]  # melody, accompaniment, where the audio starts


def render_chorale(
    chorale_id: str, work_dir: str, fluidsynth: str, soundfont: str
) -> Rendered | None:
    """One chorale (``"bach/bwv1.6"``) as ``(melody, accompaniment, trim offset)``, float32 at
    16 kHz cut to where the mixture is audible; None if it does not parse into four parts."""
    from music21 import corpus

    try:
        score = corpus.parse(chorale_id)
    except Exception:  # a malformed corpus file is skipped, not fatal
        return None
    if len(score.parts) != 4:
        return None
    directory = Path(work_dir) / chorale_id.replace("/", "_")
    directory.mkdir(parents=True, exist_ok=True)
    midi_files = (directory / "melody.mid", directory / "accompaniment.mid")
    write_stem_midi(score, *midi_files)
    stems = [_fluidsynth(fluidsynth, Path(soundfont), m, m.with_suffix(".wav")) for m in midi_files]
    length = max(stem.shape[0] for stem in stems)
    melody, accompaniment = (fit_length(stem, length) for stem in stems)
    audible, start = trim_silence(melody + accompaniment, RENDER_TRIM_TOP_DB)
    end = start + audible.shape[0]
    return melody[start:end].copy(), accompaniment[start:end].copy(), start


class ChoralesBuilder(DatasetBuilder):
    """Builds ``data.build("chorales")`` (see the module docstring)."""

    version = "1"
    source_names = ("melody", "accompaniment")
    default_root = SOUNDFONT_DIR

    def settings(self, fast: bool) -> dict[str, Any]:
        chorales, caps = ((4, 1, 2), (8, 12)) if fast else ((40, 5, 5), (None, None))
        return {"segment_seconds": 4.0, "tempo_qpm": TEMPO_QPM,
                "programs": {"melody": MELODY_PROGRAM, "accompaniment": ACCOMPANIMENT_PROGRAM},
                "chorales_per_split": dict(zip(self.splits, chorales, strict=True)),
                "max_items": dict(zip(self.splits[1:], caps, strict=True))}  # fmt: skip

    def check_system_data(self, root: Path | None) -> None:
        fluidsynth_program()
        soundfont = (root or SOUNDFONT_DIR) / SOUNDFONT_FILE
        if not soundfont.is_file():
            raise missing_data_error("chorales", PACKAGES[1:], f"no soundfont at {soundfont}")
        if not any((corpus_directory() / "bach").glob("*.mxl")):
            raise RuntimeError("the music21 corpus has no Bach chorales; reinstall music21: "
                               "pip install --force-reinstall music21")  # fmt: skip

    def split_files(self, split: str, root: Path | None) -> list[str]:
        return [chorale for chorale in chorale_ids() if assign_split(chorale) == split]

    def build(self, request: BuildRequest, writer: DatasetWriter) -> None:
        settings, counts = request.settings, request.settings["chorales_per_split"]
        soundfont = str((request.root or SOUNDFONT_DIR) / SOUNDFONT_FILE)
        fluidsynth = fluidsynth_program()
        eligible = chorale_ids()
        wanted = {s: hash_order(c for c in eligible if assign_split(c) == s) for s in self.splits}
        rendered: dict[str, Rendered | None] = {}  # None: failed to render

        def usable(split: str) -> list[str]:  # the first `count` renderable chorales in hash order
            return [c for c in wanted[split] if rendered.get(c, ()) is not None][: counts[split]]

        with tempfile.TemporaryDirectory(prefix=".render-", dir=writer.directory) as scratch:
            while batch := [c for split in wanted for c in usable(split) if c not in rendered]:
                jobs = [(c, scratch, fluidsynth, soundfont) for c in batch]
                desc = f"rendering {len(batch)} chorales"
                results = parallel_map(render_chorale, jobs, progress=request.progress, desc=desc,
                                       unit="chorale")  # fmt: skip
                rendered.update(zip(batch, results, strict=True))
        failed = {c for c, result in rendered.items() if result is None}
        for split in wanted:
            chosen = sorted(usable(split))
            streams, stream_index = {}, {}
            for position, source in enumerate(self.source_names):
                pieces = [(c, rendered[c][position], rendered[c][2]) for c in chosen]
                streams[source], stream_index[source] = concatenate_pieces(pieces)
            writer.add_split(split, streams=streams, stream_index=stream_index, request=request,
                             max_items=settings["max_items"], aligned=True)  # fmt: skip
        instruments = {"melody": "GM 53 Choir Aahs", "accompaniment": "GM 49 String Ensemble 1"}
        writer.note("instruments", instruments)
        writer.note("skipped_chorales", sorted(failed))
