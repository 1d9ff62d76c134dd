"""Notebook views, one module each, imported by name so that one view's dependencies never burden
another: :mod:`~vaesep.widgets.listening` (notebook 05), :mod:`~vaesep.widgets.latent` (03) and
:mod:`~vaesep.widgets.outputs`, level-preserving players and compact figures (every notebook)."""
