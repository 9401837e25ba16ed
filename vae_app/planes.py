"""The plane a page draws, chosen by the user when the latent size is above 2."""

from __future__ import annotations

import streamlit as st

from vae_app.models import LoadedModel
from vae_core.latent_tools import Plane, dimension_plane, pca_plane

PCA = "PCA (the two directions of most spread)"
DIMENSIONS = "two latent dimensions"


def choose_plane(model: LoadedModel, key: str) -> tuple[Plane, tuple[str, str]]:
    """Widgets to pick the plane (PCA or two dimensions, others held at the test set's mean)."""
    z_mean = model.bundle.atlas.z_mean
    latent_dim = z_mean.shape[1]
    if latent_dim == 1:
        st.warning("This model has a one-dimensional latent space: the plane shows z0 against itself.")
        return dimension_plane(2, (0, 1)), ("z0", "z0")
    if latent_dim == 2:
        return dimension_plane(2, (0, 1)), ("z0", "z1")
    view = st.radio("Plane", [PCA, DIMENSIONS], horizontal=True, key=f"{key}_view")
    if view == PCA:
        return pca_plane(z_mean), ("principal axis 1", "principal axis 2")
    left, right = st.columns(2)
    first = left.selectbox("Horizontal axis", range(latent_dim), index=0, key=f"{key}_dim0", format_func=_name)
    second = right.selectbox("Vertical axis", range(latent_dim), index=1, key=f"{key}_dim1", format_func=_name)
    if first == second:
        st.error("Pick two different dimensions.")
        st.stop()
    st.caption("The other dimensions are held at the test set's mean latent vector.")
    return dimension_plane(latent_dim, (first, second), base=z_mean.mean(axis=0)), (_name(first), _name(second))


def _name(dimension: int) -> str:
    return f"z{dimension}"
