"""Explore's "Each latent dimension" view: the KL each dimension carries, the active ones marked, and
the traversal grid (a row per dimension, most informative first, each moved alone from -3 to +3
around the clicked image's code or the origin), as a PNG and, a row at a time, as an animation."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.figures import kl_bars
from vae_app.model_picker import LoadedModel
from vae_app.panels.animation import animation_download
from vae_app.pictures import decoded_pictures, show_with_download
from vae_core.analysis.comparison import ACTIVE_UNIT_NATS, kl_per_dimension
from vae_core.analysis.latent_tools import tile
from vae_core.analysis.traversals import (
    TRAVERSAL_REACH,
    dimensions_by_kl,
    traversal_codes,
    traversal_values,
)
from vae_core.wording import count

MAX_ROWS = 16  # a 64-D model's grid shows its 16 most informative dimensions


def dimension_story(model: LoadedModel, indices: list[int]) -> None:
    """The KL bars, then the traversal grid around the one clicked image (or the origin), then one
    row as an animation."""
    atlas = model.bundle.atlas
    kl = kl_per_dimension(atlas.z_mean, atlas.z_log_var)
    active = int(np.sum(kl > ACTIVE_UNIT_NATS))
    st.plotly_chart(kl_bars(kl, ACTIVE_UNIT_NATS), key="dimension_kl", alt="KL from the prior of each latent dimension")
    st.caption(
        f"KL(q(z_d|x) ‖ N(0, 1)) averaged over the test images: {active} of {count(len(kl), 'dimension')} carry"
        f" more than {ACTIVE_UNIT_NATS} nats about them (active units); the others are left at the prior."
    )
    index = indices[0] if len(indices) == 1 else None
    centre = atlas.z_mean[index] if index is not None else np.zeros(len(kl))
    label = model.labels_at(index) if index is not None else (0 if model.codec.classes else None)
    order = dimensions_by_kl(kl)[:MAX_ROWS]
    values = traversal_values()
    pictures = decoded_pictures(model.codec, traversal_codes(centre, order, values), label, columns=len(values))
    around = (
        f"test image {index}'s code" if index is not None else "the origin (click a point to centre it on an image)"
    )
    show_with_download(
        tile(pictures, columns=len(values), gap=2),
        f"Rows, most KL first: {', '.join(f'z{d}' for d in order)}; columns: that dimension alone from"
        f" −{TRAVERSAL_REACH:g} to +{TRAVERSAL_REACH:g}, every other held at {around}.",
        f"{model.bundle.path.name}-traversals.png",
        side=min(720, 80 * len(values)),
    )
    row = st.selectbox("Animate one dimension", order, format_func=lambda d: f"z{d} ({kl[d]:.2f} nats)")
    animation_download(
        lambda frames: model.codec.decode(traversal_codes(centre, [row], traversal_values(frames)), label),
        walk=f"{model.bundle.path}:{model.meta.created}:traversal:{index}:{row}",
        name=f"{model.bundle.path.name}-z{row}",
        key="dimension_walk",
    )
