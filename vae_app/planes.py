"""The plane a page draws, chosen by the user when the latent size is above 2; on Explore, a UMAP or
t-SNE map of the codes instead."""

from __future__ import annotations

import re

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_core.analysis.code_maps import METHODS
from vae_core.analysis.latent_tools import Plane, dimension_plane, lda_plane, line_plane, pca_plane

PLANE_PARAM = "plane"  # in the address: "pca", "lda", "umap", "tsne", or two dimensions such as "z3,z5"
PCA = "PCA (the two directions of most spread)"
LDA = "LDA (the two directions that separate the classes most)"
DIMENSIONS = "two latent dimensions"
MAPS = {f"{name} (untangles; cannot be decoded)": method for method, name in METHODS.items()}
PCA_TITLES = ("principal axis 1", "principal axis 2")
HELD_AT = ("the test set's mean z", "zero (the prior's mean)", "a test image's z")


def choose_plane(model: LoadedModel, key: str) -> tuple[Plane, tuple[str, str]]:
    """Widgets to pick the plane: PCA, LDA (for labelled test images), or two dimensions with the
    others held at a chosen point.

    The choice goes into the address, and a new session opened from that address starts on it.
    """
    plane, axis_titles, _ = _choose(model, key, with_maps=False)
    return plane, axis_titles


def choose_map(model: LoadedModel, key: str) -> tuple[Plane, tuple[str, str], str | None]:
    """`choose_plane`'s widgets with UMAP and t-SNE maps offered too (above two latent dimensions), and
    the map method chosen, if any. With a map, the plane is PCA's: the views that decode need a flat
    plane, and the page says so."""
    return _choose(model, key, with_maps=True)


def _choose(model: LoadedModel, key: str, with_maps: bool) -> tuple[Plane, tuple[str, str], str | None]:
    z_mean = model.bundle.atlas.z_mean
    latent_dim = z_mean.shape[1]
    if latent_dim <= 2:
        st.query_params.pop(PLANE_PARAM, None)
    if latent_dim == 1:
        st.info("This model has a one-dimensional latent space: z0 runs across, and the vertical axis is empty.")
        return line_plane(), ("z0", "(none)"), None
    if latent_dim == 2:
        return dimension_plane(2, (0, 1)), ("z0", "z1"), None
    linked = linked_dimensions(st.query_params.get(PLANE_PARAM), latent_dim)
    labels = model.bundle.atlas.labels
    views = [PCA, *([LDA] if has_classes(labels) else []), DIMENSIONS]
    views += list(MAPS) if with_maps else []
    named = {"lda": LDA, **{method: view for view, method in MAPS.items()}}.get(st.query_params.get(PLANE_PARAM, ""))
    chosen = DIMENSIONS if linked else named if named in views else PCA
    label = "Plane or map" if with_maps else "Plane"
    view = st.radio(label, views, index=views.index(chosen), horizontal=True, key=f"{key}_view")
    if view == PCA:
        st.query_params[PLANE_PARAM] = "pca"
        return pca_plane(z_mean), PCA_TITLES, None
    if view == LDA:
        st.query_params[PLANE_PARAM] = "lda"
        st.caption("A flat plane through z like PCA's, turned to set the classes apart: every point on it decodes.")
        first, second = discriminant_titles(labels, 2)
        return lda_plane(z_mean, labels), (first, second), None
    if view in MAPS:
        st.query_params[PLANE_PARAM] = MAPS[view]
        st.caption(
            f"{METHODS[MAPS[view]]} keeps codes that are near in z near on the map, bending the space to do it:"
            " a point between two on the map is no latent point, so the map cannot be decoded. The views"
            " below that decode (the lens, the pad, the replay) use the PCA plane."
        )
        return pca_plane(z_mean), PCA_TITLES, MAPS[view]
    left, right = st.columns(2)
    dims = linked or (0, 1)
    first = left.selectbox("Horizontal axis", range(latent_dim), index=dims[0], key=f"{key}_dim0", format_func=_name)
    second = right.selectbox("Vertical axis", range(latent_dim), index=dims[1], key=f"{key}_dim1", format_func=_name)
    if first == second:
        st.error("Pick two different dimensions.")
        st.stop()
    st.query_params[PLANE_PARAM] = f"{_name(first)},{_name(second)}"
    plane = dimension_plane(latent_dim, (first, second), base=_held_point(z_mean, key))
    return plane, (_name(first), _name(second)), None


def discriminant_titles(labels: np.ndarray, count: int) -> tuple[str, ...]:
    """The titles of LDA's first `count` axes: k classes give k - 1 discriminant directions, and
    `discriminant_directions` fills the rest with the widest spread across them."""
    separating = min(count, len(np.unique(labels)) - 1)
    widest = [
        f"widest remaining spread {i + 1}" if count - separating > 1 else "widest remaining spread"
        for i in range(count - separating)
    ]
    return (*(f"discriminant axis {i + 1}" for i in range(separating)), *widest)


def has_classes(labels: np.ndarray | None) -> bool:
    """Whether the test images hold classes for LDA to set apart: labels, of two classes or more."""
    return labels is not None and len(np.unique(labels)) > 1


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
