"""vaesep: monaural source separation with variational autoencoders.

A teaching and reproduction package for Pandey, Kumar & Namboodiri,
"Monaural Audio Source Separation Using Variational Autoencoders"
(Interspeech 2018). Start with the notebooks in ``notebooks/``.
"""

__version__ = "0.1.0"
