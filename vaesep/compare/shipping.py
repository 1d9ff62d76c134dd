"""Small shipped checkpoints of the comparison's models, loadable by name (notebook 04, "Shipped models").

The seed-0 speech model of each selected configuration ships as ``vaesep/pretrained/<stem>-speech.pt``
with its training record; weights are stored as float16 (half the size; the audio differs by far
less than any metric resolves).
"""

from __future__ import annotations

from pathlib import Path

from vaesep.api import PRETRAINED_DIR, export_model
from vaesep.compare.study import Run, Study, load_result, tuning_runs, winner


def export_compact(checkpoint_path: str | Path, out_path: str | Path, *, name: str) -> Path:
    """:func:`vaesep.api.export_model` with floating-point weights stored as float16."""
    return export_model(checkpoint_path, out_path, name=name, half=True)


def shipped_configs(study: Study, name: str) -> dict[str, dict]:
    """Stem → configuration that ships for one learned method: the selected one, or with
    ``ship_variants`` the best learning rate of each knob value (DNN γ = 0 as ``dnn``, 0.05 as ``dnn-discrim``)."""
    method = study.method(name)
    if not method.ship_variants:
        config = winner(study, name)
        return {} if config is None else {method.ship_as or name: config}
    results = [result for run in tuning_runs(study, name) if (result := load_result(run.path(study.out)))]
    chosen = {}
    for value, stem in method.ship_variants.items():
        candidates = [r for r in results if r["config"][method.knob] == value and r["valid_sdr"] is not None]
        if candidates:
            chosen[stem] = max(candidates, key=lambda r: r["valid_sdr"])["config"]
    return chosen


def ship_models(study: Study, directory: str | Path = PRETRAINED_DIR, domain: str = "speech") -> list[Path]:
    """Export the seed-0 model of every learned method's shipped configurations as ``<stem>-<domain>.pt``."""
    shipped = []
    for method in (m for m in study.methods if m.learned):
        for stem, config in shipped_configs(study, method.name).items():
            checkpoint = study.checkpoint(Run(method.name, tuple(sorted(config.items())), 0, domain))
            if checkpoint.is_file():
                out = Path(directory) / f"{stem}-{domain}.pt"
                shipped.append(export_compact(checkpoint, out, name=f"{stem}-{domain}"))
    return shipped
