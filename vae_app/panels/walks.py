"""The Generate page's animations: a walk from one test image to another, or along a direction."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_app.panels.animation import animation_download
from vae_app.panels.direction_maker import kept_directions
from vae_core.analysis.conditional import interpolation
from vae_core.analysis.directions import walk
from vae_core.analysis.latent_tools import Plane

BETWEEN, ALONG = "between two test images", "along a direction"


def walk_animation(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], label: int | None) -> None:
    """A walk between two test images or along a direction, shown and offered as GIF or WebP."""
    atlas, codec = model.bundle.atlas, model.codec
    last = len(atlas.z_mean) - 1
    this_model = f"{model.bundle.path}|{model.meta.created}"
    kind = st.radio("Walk", [BETWEEN, ALONG], horizontal=True, key="walk_kind")
    if kind == BETWEEN:
        left, right = st.columns(2)
        start = left.number_input("From test image", 0, last, 0, key="walk_start")
        end = right.number_input("To test image", 0, last, min(1, last), key="walk_end")
        if codec.classes:
            st.caption("The class morphs from the first image's label to the second's, as z moves.")
        ends, labels = atlas.z_mean[[start, end]], model.labels_at([start, end])

        def between(n: int) -> np.ndarray:
            return codec.decode(*interpolation(codec, ends, labels, n))

        animation_download(between, f"{this_model}|{start}|{end}", f"walk-{start}-{end}", "walk")
        return
    vectors = {f"{title} (axis of the plane)": axis for title, axis in zip(axis_titles, plane.axes, strict=True)}
    if plane.is_line:
        vectors = dict(list(vectors.items())[:1])
    vectors |= {f"kept: {direction.name}": direction.vector for direction in kept_directions(model)}
    left, middle, right = st.columns(3)
    chosen = left.selectbox("Direction", list(vectors), key=f"walk_direction:{model.bundle.path}")
    start = middle.number_input("From test image", 0, last, 0, key="walk_from")
    reach = right.slider("Lengths each way", 0.5, 5.0, 2.0, 0.5, key="walk_reach")
    if not kept_directions(model):
        st.caption("Directions kept on the Explore page are offered here too.")
    vector = np.asarray(vectors[chosen], np.float64)

    def along(n: int) -> np.ndarray:
        return codec.decode(walk(atlas.z_mean[start], vector, np.linspace(-reach, reach, n)), label)

    walked = f"{this_model}|{start}|{vector.tobytes().hex()}|{reach}|{label}"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", chosen.removesuffix(" (axis of the plane)")).strip("-")
    animation_download(along, walked, f"walk-{start}-along-{slug}", "walk")
