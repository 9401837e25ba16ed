"""The test codes in three dimensions, an Explore view: along PCA's or LDA's first three directions
(flat, like the planes) or on a 3-D UMAP map, turned with the pointer. A third axis shows what a
plane folds together: on a 16-D model's codes, LDA's three directions keep the classes apart better
than its two (bench/RESULTS.md)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_app.figures import latent_scatter_3d
from vae_app.model_picker import LoadedModel
from vae_app.panels.code_map_view import made_map
from vae_app.planes import discriminant_titles, has_classes
from vae_app.theme import page_theme
from vae_core.analysis.latent_tools import discriminant_directions, principal_directions
from vae_core.wording import count

PCA, LDA, UMAP = "PCA's three directions", "LDA's three directions", "a 3-D UMAP map"
TITLES = {
    PCA: ("principal axis 1", "principal axis 2", "principal axis 3"),
    UMAP: ("UMAP 1", "UMAP 2", "UMAP 3"),
}


def codes_in_3d(model: LoadedModel) -> None:
    """A choice of the three coordinates, and the codes drawn in them."""
    atlas = model.bundle.atlas
    if atlas.z_mean.shape[1] < 3:
        st.info(f"This model's codes have {count(atlas.z_mean.shape[1], 'dimension')}: the map above shows them all.")
        return
    kinds = [PCA, *([LDA] if has_classes(atlas.labels) else []), UMAP]
    kind = st.radio("Coordinates", kinds, horizontal=True, key="explore_3d_kind")
    mapped = made_map(model, "umap", dimensions=3) if kind == UMAP else None
    if kind == UMAP and mapped is None:
        return
    figure = _figure(str(model.bundle.path), model.meta.created, kind, page_theme(), model, mapped)
    st.plotly_chart(figure, key="explore_3d_chart", alt=f"The test set's latent means along {kind}")
    st.caption("Drag to turn it, scroll to zoom, hover a point for its index; click the map above to see an image.")


@st.cache_resource(max_entries=8, show_spinner="Drawing the codes in 3-D…")
def _figure(
    path: str, created: str, kind: str, theme: str, _model: LoadedModel, _mapped: np.ndarray | None
) -> go.Figure:
    """The 3-D figure for one model, kind of coordinates and theme, built once (the coordinates with it:
    a click while the view is open costs nothing). `_mapped` are a UMAP map's. Shared: never mutated."""
    atlas = _model.bundle.atlas
    coords = _mapped if _mapped is not None else _along(kind, atlas.z_mean, atlas.labels)
    titles = discriminant_titles(atlas.labels, 3) if kind == LDA else TITLES[kind]
    return latent_scatter_3d(coords, atlas.labels, _model.class_names, titles, theme)


def _along(kind: str, z_mean: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """The codes' coordinates along PCA's or LDA's first three directions, through their mean."""
    z = z_mean.astype(np.float64)
    directions = principal_directions(z, 3) if kind == PCA else discriminant_directions(z, labels, 3)
    return (z - z.mean(axis=0)) @ directions.T
