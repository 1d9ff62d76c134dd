"""Small shipped checkpoints of the comparison's models, loadable by name.

The seed-0 speech model of each method's selected configuration is exported into
``vaesep/pretrained`` as ``<stem>-speech.pt``, so that notebook 04 can score it without
training and anyone can call ``vaesep.load_model("drnn-discrim-speech")``. Each file keeps
its training record (``stopped``: ``"early_stopping"`` for a converged run; the budget
and the patience; the history). Weights are stored in 16-bit floats: half the size;
``load_state_dict`` converts them back to 32 bits, and the separated audio differs by
far less than any metric resolves. Notebook 04, section "Shipped models".
"""

from __future__ import annotations

from pathlib import Path

from vaesep.api import PRETRAINED_DIR, export_model
from vaesep.compare.study import Run, Study, load_result, tuning_runs, winner


def export_compact(checkpoint_path: str | Path, out_path: str | Path, *, name: str) -> Path:
    """:func:`vaesep.api.export_model` with floating-point weights stored as float16."""
    return export_model(checkpoint_path, out_path, name=name, half=True)


def shipped_configs(study: Study, name: str) -> dict[str, dict]:
    """Stem → configuration that ships for one learned method.

    The selected configuration, under the method's stem; a method with
    ``ship_variants`` ships the best learning rate of each knob value instead (the
    DNN with γ = 0 as ``dnn``, with γ = 0.05 as ``dnn-discrim``, as the 200-step
    comparison named them).
    """
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
