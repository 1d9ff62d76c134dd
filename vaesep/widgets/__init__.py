"""Interactive notebook views (ipywidgets), one module each, imported by name so that one view's
dependencies never burden another: :mod:`vaesep.widgets.listening`, the listening test (notebook
05), and :mod:`vaesep.widgets.latent`, sliders over the VAE's latent space (notebook 03); :mod:`vaesep.widgets.outputs`, one labelled
player per comparison and compact figures (every notebook).
"""
