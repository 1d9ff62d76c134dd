"""Looking inside the VAE's latent space (notebook 03): encode, project, measure, decode, listen.

* :mod:`~vaesep.latent.codes` -- what the encoders write: :func:`encode_frames`
  (μ and log σ² of every test frame, with labels), :func:`pca_projection`,
  :func:`tsne_projection`, :func:`probe_accuracy`, :func:`unit_statistics`
  (active units, Burda, Grosse & Salakhutdinov 2016). Sections 1 to 3.
* :mod:`~vaesep.latent.decoding` -- what the decoders read: :func:`decode_latents`,
  :func:`interpolate`, prior samples, :func:`griffin_lim`, :func:`resynthesise`
  with latent edits. Sections 3 (the test by ear) and 4.

With ``variant="per_source"`` there is one encoder per source, and encoder s
feeds only decoder s: the two latent spaces are unrelated, so every analysis
works on one encoder at a time. With ``variant="shared"`` the single encoder is
named ``"shared"`` and feeds every decoder. The figures are in
:mod:`vaesep.plots.latent`, the slider view in :mod:`vaesep.widgets.latent`.
"""

from vaesep.latent.codes import (
    ACTIVE_THRESHOLD,
    MIXTURE,
    LatentSet,
    PCAProjection,
    UnitStatistics,
    as_vae,
    encode_frames,
    encoder_names,
    find_checkpoint,
    frame_level_db,
    latent_unit_statistics,
    pca_projection,
    periodicity,
    pick_frame,
    probe_accuracy,
    tsne_projection,
    unit_statistics,
)
from vaesep.latent.decoding import (
    LatentEdit,
    decode_latents,
    griffin_lim,
    interpolate,
    keep_only_dims,
    prior_samples,
    prior_trajectory,
    resynthesise,
    separation_with_top_units,
    shift_along,
)

__all__ = [
    "ACTIVE_THRESHOLD", "MIXTURE", "LatentEdit", "LatentSet", "PCAProjection", "UnitStatistics",
    "as_vae", "decode_latents", "encode_frames", "encoder_names", "find_checkpoint", "frame_level_db",
    "griffin_lim", "interpolate", "keep_only_dims", "latent_unit_statistics", "pca_projection",
    "periodicity", "pick_frame", "prior_samples", "prior_trajectory", "probe_accuracy", "resynthesise",
    "separation_with_top_units", "shift_along", "tsne_projection", "unit_statistics",
]
