"""Interactive notebook views (ipywidgets) over the :mod:`vaesep` library.

Each view lives in its own module. The names below are imported lazily, on
first use, so ``import vaesep.widgets`` stays cheap and one view's
dependencies never burden another.

* :func:`listening_test` / :class:`ListeningTestView` -- the MUSHRA-style
  listening test (notebook 05), from :mod:`vaesep.widgets.listening`.
* :class:`LatentExplorer` -- sliders that decode a point of the VAE's latent
  space (notebook 03), from :mod:`vaesep.widgets.latent`.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "listening_test": "vaesep.widgets.listening",
    "ListeningTestView": "vaesep.widgets.listening",
    "LatentExplorer": "vaesep.widgets.latent",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'vaesep.widgets' has no attribute {name!r}")
