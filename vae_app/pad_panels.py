"""The latent pad as each page uses it, in a fragment that reruns once per release: on Generate with
the sliders, the server's picture and the nearest test images; on Explore with the nearest images."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.conditional_panels import class_picker
from vae_app.latent_pad import latent_pad
from vae_app.model_picker import LoadedModel
from vae_app.pictures import show, show_with_download
from vae_core.latent_tools import Plane, nearest_indices, plane_ranges, tile


@st.fragment
def generate_pad(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], label: int | None) -> None:
    """The pad decodes in the browser as the pointer moves; the sliders below are the precise way,
    and the way where the browser cannot decode. A conditional model writes class `label`."""
    atlas, ranges = model.bundle.atlas, plane_ranges(plane.project(model.bundle.atlas.z_mean))
    # Slider ranges differ per model and plane: so do their keys.
    u_key, v_key, z_key = (f"{name}:{model.bundle.path}:{plane.fingerprint}" for name in "uvz")
    st.session_state.setdefault(u_key, float(ranges[0].mean()))
    st.session_state.setdefault(v_key, 0.0 if plane.is_line else float(ranges[1].mean()))
    st.session_state.setdefault(z_key, plane.lift(np.array([[st.session_state[u_key], st.session_state[v_key]]]))[0])
    released = latent_pad(
        model,
        plane,
        axis_titles,
        st.session_state[z_key],
        key=f"pad:{model.bundle.path}",
        fallback="release the pointer on the pad, or use the sliders below, to decode on the server",
        label=label,
    )
    if released is not None:  # the pad moved z: the sliders follow, within their ranges
        st.session_state[z_key] = np.asarray(released, dtype=np.float64)
        u, v = plane.project(st.session_state[z_key][None, :])[0]
        st.session_state[u_key] = float(np.clip(u, *ranges[0]))
        st.session_state[v_key] = 0.0 if plane.is_line else float(np.clip(v, *ranges[1]))

    def slid() -> None:  # as the pad does: the dimensions off the plane keep their values
        uv = np.array([st.session_state[u_key], st.session_state[v_key]])
        st.session_state[z_key] = plane.place(st.session_state[z_key], uv)

    left, right = st.columns([2, 1])
    with left:
        st.slider(axis_titles[0], *map(float, ranges[0]), key=u_key, on_change=slid)
        if not plane.is_line:
            st.slider(axis_titles[1], *map(float, ranges[1]), key=v_key, on_change=slid)
    z = st.session_state[z_key]
    u, v = plane.project(z[None, :])[0]
    place = f"{axis_titles[0]} = {u:.2f}" + ("" if plane.is_line else f", {axis_titles[1]} = {v:.2f}")
    with right:
        show_with_download(model.codec.decode(z, label)[0], f"decoded on the server at {place}", "decoded.png", 224)
    nearest = nearest_indices(z, atlas.z_mean, k=8)
    show(tile(atlas.images[nearest], columns=8, gap=2), "nearest test images (by latent mean)", side=600)


@st.fragment
def explore_pad(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str]) -> None:
    """Hover or drag over the pad to see what the model decodes there; a release shows the nearest
    test images to that point."""
    atlas = model.bundle.atlas
    z_key = f"explore_z:{model.bundle.path}:{plane.fingerprint}"
    st.session_state.setdefault(z_key, plane.lift(np.zeros((1, 2)))[0])
    label = class_picker(model, key="explore_class", title="Class to decode as")
    released = latent_pad(
        model,
        plane,
        axis_titles,
        st.session_state[z_key],
        key=f"explore_pad:{model.bundle.path}",
        fallback="click the pad to see the nearest test images to a point",
        label=label,
    )
    if released is not None:
        st.session_state[z_key] = np.asarray(released, dtype=np.float64)
    nearest = nearest_indices(st.session_state[z_key], atlas.z_mean, k=8)
    labels = ", ".join(model.label_name(index) for index in nearest)
    show(tile(atlas.images[nearest], columns=8, gap=2), f"nearest test images to the pad's point: {labels}", side=600)
