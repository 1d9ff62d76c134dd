"""vaesep: monaural source separation with variational autoencoders.

A teaching and reproduction package for Pandey, Kumar & Namboodiri,
"Monaural Audio Source Separation Using Variational Autoencoders"
(Interspeech 2018). Start with the notebooks in ``notebooks/``.

Public API (stable)::

    model = vaesep.load_model("vae-speech")   # or a checkpoint path, or "irm"
    model.source_names                        # ("v", "m")
    estimates = model.separate(mixture, sr)   # (n_sources, len(mixture)) float32
    vaesep.list_pretrained()
"""

import os as _os

__version__ = "0.1.0"

# With torch's default two OpenMP threads, waiting threads spin; on a busy 2-core
# laptop that made training 3-4x slower (benchmarks/README.md). Passive waiting
# costs nothing measurable on an idle machine. Only effective before torch loads,
# and never overrides a value the user set.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from vaesep.api import list_pretrained, load_model  # noqa: E402

__all__ = ["__version__", "list_pretrained", "load_model"]
