"""Small shipped checkpoints of the comparison's models, loadable by name.

The comparison trains every learned method itself; the seed-0 speech models
are exported into ``vaesep/pretrained`` as ``<method>-speech`` so that
notebook 04 can run its fast mode, and anyone can call
``vaesep.load_model("drnn-discrim-speech")``. Weights are stored in 16-bit
floats (half the size; ``load_state_dict`` converts them back to 32 bits,
and the separated audio differs by far less than any metric resolves).

The budget-matched VAE is shipped as ``vae-matched-speech``, because
``vae-speech`` is the project's main model, trained longer. Notebook 04,
section "Shipped models".
"""

from __future__ import annotations

from pathlib import Path

from vaesep.api import PRETRAINED_DIR, export_model

SHIPPED_ALIASES: dict[str, str] = {"vae": "vae-matched"}
"""Method names whose shipped file needs another stem (``vae-speech`` is taken)."""


def pretrained_name(method: str, domain: str) -> str:
    """The name :func:`vaesep.load_model` accepts for a method's shipped model on ``domain``."""
    return f"{SHIPPED_ALIASES.get(method, method)}-{domain}"


def export_compact(checkpoint_path: str | Path, out_path: str | Path, *, name: str) -> Path:
    """:func:`vaesep.api.export_model`, then floating-point weights stored as float16.

    Notebook 04, section "Shipped models".
    """
    return export_model(checkpoint_path, out_path, name=name, half=True)


def shipped_path(method: str, domain: str, directory: str | Path = PRETRAINED_DIR) -> Path:
    """Where :func:`export_compact` puts a method's model for ``domain``."""
    return Path(directory) / f"{pretrained_name(method, domain)}.pt"
