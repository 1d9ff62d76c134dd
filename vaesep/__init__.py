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

__version__ = "0.1.0"

from vaesep.api import list_pretrained, load_model  # noqa: E402

__all__ = ["__version__", "list_pretrained", "load_model"]
