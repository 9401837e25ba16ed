"""The latent pad as each page uses it, in a fragment that reruns once per release: on Generate with
the picture's download and the nearest test images beside it; on Explore with the nearest images."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_app.panels.class_style_grids import class_picker
from vae_app.panels.latent_pad import latent_pad
from vae_app.pictures import png_bytes, show
from vae_core.analysis.latent_tools import Plane, nearest_indices, plane_ranges, tile


@st.fragment
def generate_pad(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], label: int | None) -> None:
    """One picture of z, the pad's own, redrawn in the browser as the pointer or a dimension's slider
    moves; beside it, after each release, the same picture to download and the nearest test images.
    A conditional model writes class `label`."""
    atlas = model.bundle.atlas
    middle = plane.lift(plane_ranges(plane.project(atlas.z_mean)).mean(axis=1)[None])[0]
    pad_column, answer_column = st.columns([7, 3], gap="medium")  # the pad and its picture side by side
    with pad_column:
        drawn_on_release = "release the pointer on the pad, or a dimension's slider, and the server draws the picture"
        z = _pad_point(model, plane, axis_titles, label, "generate", start=middle, fallback=drawn_on_release)
    u, v = plane.project(z[None, :])[0]
    place = f"{axis_titles[0]} = {u:.2f}" + ("" if plane.is_line else f", {axis_titles[1]} = {v:.2f}")
    with answer_column:
        # Decoded on the server only when clicked, at the z the pad last reported.
        st.download_button(
            "Download this picture (PNG)",
            lambda: png_bytes(model.codec.decode(z, label)[0]),
            file_name="decoded.png",
            mime="image/png",
            on_click="ignore",
            key="download:decoded.png",
        )
        nearest = nearest_indices(z, atlas.z_mean, k=8)
        names = ", ".join(model.label_name(index) for index in nearest)
        show(tile(atlas.images[nearest], columns=4, gap=2), f"nearest test images to {place}: {names}", side=400)


@st.fragment
def explore_pad(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str]) -> None:
    """Hover or drag over the pad to see what the model decodes there; a release shows the nearest
    test images to that point."""
    atlas = model.bundle.atlas
    label = class_picker(model, key="explore_class", title="Class to decode as")
    origin = plane.lift(np.zeros((1, 2)))[0]
    fallback = "click the pad to see the nearest test images to a point"
    z = _pad_point(model, plane, axis_titles, label, "explore", start=origin, fallback=fallback)
    nearest = nearest_indices(z, atlas.z_mean, k=8)
    labels = ", ".join(model.label_name(index) for index in nearest)
    show(tile(atlas.images[nearest], columns=8, gap=2), f"nearest test images to the pad's point: {labels}", side=600)


def _pad_point(
    model: LoadedModel,
    plane: Plane,
    axis_titles: tuple[str, str],
    label: int | None,
    page: str,
    *,
    start: np.ndarray,
    fallback: str,
) -> np.ndarray:
    """The page's pad, mounted at the point this session keeps for the model and plane (`start` at first),
    and that point, moved to where a release put it: the pad reports only on release, so the session keeps it."""
    z_key = f"{page}_z:{model.bundle.path}:{plane.fingerprint}"
    st.session_state.setdefault(z_key, start)
    pad_key = f"{page}_pad:{model.bundle.path}"
    released = latent_pad(
        model, plane, axis_titles, st.session_state[z_key], key=pad_key, fallback=fallback, label=label
    )
    if released is not None:
        st.session_state[z_key] = np.asarray(released, dtype=np.float64)
    return st.session_state[z_key]
