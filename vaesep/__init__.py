"""vaesep: monaural source separation with variational autoencoders.

A teaching and reproduction package for Pandey, Kumar & Namboodiri,
"Monaural Audio Source Separation Using Variational Autoencoders"
(Interspeech 2018). Start with the notebooks in ``notebooks/``; the code of
the method is in five files, read in this order: ``spectral.py``,
``models/vae.py``, ``models/separator.py``, ``train.py``, ``metrics/scores.py``.

Public API (stable)::

    model = vaesep.load_model("vae-speech")   # or a checkpoint path, or "irm"
    model.source_names                        # ("v", "m")
    estimates = model.separate(mixture, sr)   # (n_sources, len(mixture)) float32
    vaesep.list_pretrained()

Importing the package loads nothing heavy and changes nothing: torch is
imported with the first model.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "list_pretrained", "load_model"]


def __getattr__(name: str):
    # from vaesep.api on first use, so that `import vaesep` stays light (no torch)
    if name in ("load_model", "list_pretrained"):
        from vaesep import api

        return getattr(api, name)
    raise AttributeError(f"module 'vaesep' has no attribute {name!r}")
