"""The plane a page draws, chosen by the user when the latent size is above 2."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_core.analysis.latent_tools import Plane, dimension_plane, lda_plane, line_plane, pca_plane

PLANE_PARAM = "plane"  # in the address: "pca", "lda", or two dimensions such as "z3,z5"
PCA = "PCA (the two directions of most spread)"
LDA = "LDA (the two directions that separate the classes most)"
DIMENSIONS = "two latent dimensions"
HELD_AT = ("the test set's mean z", "zero (the prior's mean)", "a test image's z")


def choose_plane(model: LoadedModel, key: str) -> tuple[Plane, tuple[str, str]]:
    """Widgets to pick the plane: PCA, LDA (for labelled test images), or two dimensions with the
    others held at a chosen point.

    The choice goes into the address, and a new session opened from that address starts on it.
    """
    z_mean = model.bundle.atlas.z_mean
    latent_dim = z_mean.shape[1]
    if latent_dim <= 2:
        st.query_params.pop(PLANE_PARAM, None)
    if latent_dim == 1:
        st.info("This model has a one-dimensional latent space: z0 runs across, and the vertical axis is empty.")
        return line_plane(), ("z0", "(none)")
    if latent_dim == 2:
        return dimension_plane(2, (0, 1)), ("z0", "z1")
    linked = linked_dimensions(st.query_params.get(PLANE_PARAM), latent_dim)
    labels = model.bundle.atlas.labels
    views = [PCA, *([LDA] if labels is not None and len(np.unique(labels)) > 1 else []), DIMENSIONS]
    chosen = DIMENSIONS if linked else LDA if st.query_params.get(PLANE_PARAM) == "lda" and LDA in views else PCA
    view = st.radio("Plane", views, index=views.index(chosen), horizontal=True, key=f"{key}_view")
    if view == PCA:
        st.query_params[PLANE_PARAM] = "pca"
        return pca_plane(z_mean), ("principal axis 1", "principal axis 2")
    if view == LDA:
        st.query_params[PLANE_PARAM] = "lda"
        st.caption("A flat plane through z like PCA's, turned to set the classes apart: every point on it decodes.")
        return lda_plane(z_mean, labels), ("discriminant axis 1", "discriminant axis 2")
    left, right = st.columns(2)
    dims = linked or (0, 1)
    first = left.selectbox("Horizontal axis", range(latent_dim), index=dims[0], key=f"{key}_dim0", format_func=_name)
    second = right.selectbox("Vertical axis", range(latent_dim), index=dims[1], key=f"{key}_dim1", format_func=_name)
    if first == second:
        st.error("Pick two different dimensions.")
        st.stop()
    st.query_params[PLANE_PARAM] = f"{_name(first)},{_name(second)}"
    return dimension_plane(latent_dim, (first, second), base=_held_point(z_mean, key)), (_name(first), _name(second))


def _held_point(z_mean: np.ndarray, key: str) -> np.ndarray:
    """Where the dimensions off the plane are held: the test set's mean, the prior's, or an image's z."""
    choice = st.radio("Hold the other dimensions at", HELD_AT, horizontal=True, key=f"{key}_held")
    if choice == HELD_AT[1]:
        return np.zeros(z_mean.shape[1])
    if choice == HELD_AT[2]:
        index = st.number_input("Test image", 0, len(z_mean) - 1, 0, key=f"{key}_held_index")
        return z_mean[int(index)]
    return z_mean.mean(axis=0)


def _name(dimension: int) -> str:
    return f"z{dimension}"


def linked_dimensions(text: str | None, latent_dim: int) -> tuple[int, int] | None:
    """The two dimensions an address names ("z3,z5"), or None for PCA, nothing, or anything unusable."""
    found = re.fullmatch(r"z([0-9]{1,3}),z([0-9]{1,3})", text or "")  # latent sizes stop at 64
    if found is None:
        return None
    first, second = int(found[1]), int(found[2])
    return (first, second) if first != second and max(first, second) < latent_dim else None
