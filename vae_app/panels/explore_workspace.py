"""Explore's workspace: the map with the selection's answer beside it, and the views a person opens
below. A click on the map reruns this fragment alone, and of the views only the open ones."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from vae_app.figures import add_direction_arrow, latent_scatter, score_scatter, selected_indices
from vae_app.image_scores import scores_of_test_images
from vae_app.model_picker import LoadedModel
from vae_app.panels.clicked_image import (
    CONDITIONAL_NOTE,
    PROMPT,
    answered_in_browser,
    clicked_image,
    map_selection,
)
from vae_app.panels.code_exports import code_exports
from vae_app.panels.code_map_view import made_map
from vae_app.panels.codes_in_3d import codes_in_3d
from vae_app.panels.dimension_story import dimension_story
from vae_app.panels.direction_maker import direction_arrow, direction_maker
from vae_app.panels.lens_view import show_lens
from vae_app.panels.pad_views import explore_pad
from vae_app.panels.training_replay import training_replay
from vae_app.pictures import show
from vae_app.theme import page_theme
from vae_core.analysis.code_maps import METHODS
from vae_core.analysis.latent_tools import Plane, tile
from vae_core.analysis.outliers import most_unusual
from vae_core.wording import count

COLOURINGS = ("class", "reconstruction error", "negative ELBO")
MAX_GRID = 100
UNUSUAL_SHOWN = 24
MAP_KEY = "explore_scatter"  # the clicked image's element listens to this chart's clicks
MAP_HEIGHT = 520  # with the detail beside it and the views' headers below, one 1000 px screen
VIEWS = (  # (key, label): each computed only while open
    ("explore_lens", "Lens on the selected image's posterior"),
    ("explore_directions", "Directions by example"),
    ("explore_unusual", f"The {UNUSUAL_SHOWN} test images this model explains worst"),
    ("explore_dimensions", "Each latent dimension: what it carries, and moving along it alone"),
    ("explore_3d", "The codes in three dimensions (PCA, LDA or UMAP)"),
    ("explore_pad", "Decode any point (the latent pad)"),
    ("explore_replay", "Training replay"),
    ("explore_exports", "Download the latent codes (CSV, NPZ, Embedding Projector)"),
)


@st.cache_resource(max_entries=32, show_spinner="Drawing the map…")
def _map(path: str, created: str, layout: str, colour_by: str, theme: str, _model: LoadedModel,
         _coords: np.ndarray, axis_titles: tuple[str, str]) -> go.Figure:  # fmt: skip
    """The test set's map for one model, layout (a plane's fingerprint or a map method), colouring and
    theme, built once: a click costs no rebuild. Shared by every session: never mutated (an arrow is
    drawn on a copy)."""
    atlas, coords = _model.bundle.atlas, _coords
    if colour_by == COLOURINGS[0]:
        figure = latent_scatter(coords, atlas.labels, _model.class_names, axis_titles, theme)
    elif colour_by == COLOURINGS[1]:
        figure = score_scatter(coords, atlas.reconstruction_error, "mean squared error", axis_titles)
    else:
        figure = score_scatter(coords, scores_of_test_images(_model), "−ELBO (nats)", axis_titles)
    figure.update_layout(height=MAP_HEIGHT, margin={"t": 30, "b": 10})
    return figure


def latent_map(
    model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], colour_by: str, code_map: str | None
) -> go.Figure | None:
    """The map: the codes on `plane`, with the arrow of the direction the person has made, if any; or
    the `code_map` method's map of them (None while it is being made, its progress shown instead).
    The clicked image's ring is drawn by its element, in the browser: a changed figure would have
    Plotly draw every point again."""
    page = (str(model.bundle.path), model.meta.created)
    if code_map is not None:
        coords = made_map(model, code_map)
        titles = (f"{METHODS[code_map]} 1", f"{METHODS[code_map]} 2")
        return None if coords is None else _map(*page, code_map, colour_by, page_theme(), model, coords, titles)
    coords = plane.project(model.bundle.atlas.z_mean)
    figure = _map(*page, plane.fingerprint, colour_by, page_theme(), model, coords, axis_titles)
    arrow = direction_arrow(model, plane)
    return figure if arrow is None else add_direction_arrow(go.Figure(figure), *arrow)


@st.fragment
def explore_workspace(
    model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], colour_by: str, code_map: str | None
) -> None:
    """The map (of `plane`, or the `code_map` method's) and, beside it, the clicked image or the
    selected group; below, the views, which decode on `plane`."""
    map_column, detail_column = st.columns([3, 2], gap="medium")
    # A click is the clicked image's element's to hear and answer, where the browser can; a box or
    # lasso is the chart's.
    in_browser = answered_in_browser(model)
    indices = map_selection(model, selected_indices(st.session_state.get(MAP_KEY)))
    with map_column:
        figure = latent_map(model, plane, axis_titles, colour_by, code_map)
        if figure is not None:
            st.plotly_chart(
                figure,
                on_select="rerun",
                selection_mode=("box", "lasso") if in_browser else ("points", "box", "lasso"),
                key=MAP_KEY,
                alt=f"The test set's latent means, coloured by {colour_by}",
            )
    with detail_column:
        clicked_image(model, indices, map_key=MAP_KEY)
        selection_detail(model, indices, in_browser)
    views(model, plane, axis_titles, indices)


def views(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], indices: list[int]) -> None:
    """The views below the map, each drawn only while open, about the selection `indices`."""
    index = indices[0] if len(indices) == 1 else None
    drawn = {
        "explore_lens": lambda: clicked_lens(model, plane, axis_titles, index),
        "explore_directions": lambda: direction_maker(model, indices),
        "explore_unusual": lambda: worst_explained(model),
        "explore_dimensions": lambda: dimension_story(model, indices),
        "explore_3d": lambda: codes_in_3d(model),
        "explore_pad": lambda: explore_pad(model, plane, axis_titles),
        "explore_replay": lambda: training_replay(model, plane, axis_titles),
        "explore_exports": lambda: code_exports(model, indices),
    }
    for key, label in VIEWS:
        view = st.expander(label, key=key, on_change="rerun")
        if view.open:
            with view:
                drawn[key]()


def clicked_lens(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str], index: int | None) -> None:
    """The posterior lens on the one image clicked, or what to do for it."""
    if index is None:
        st.info("Click one point on the map: its posterior shows here.")
    else:
        show_lens(model, plane, axis_titles, index=index)


def selection_detail(model: LoadedModel, indices: list[int], in_browser: bool) -> None:
    """The grid of a box or lasso; where the browser does not answer clicks (`in_browser`), the
    clicked image beside its reconstruction, z and error, or the prompt."""
    atlas = model.bundle.atlas
    if len(indices) > 1:
        shown = indices[:MAX_GRID]
        caption = f"{count(len(indices), 'image')} selected" + (
            f"; the first {MAX_GRID} shown" if len(indices) > MAX_GRID else ""
        )
        show(tile(atlas.images[shown], columns=10, gap=2), caption, side=500)
    elif in_browser:
        return
    elif not indices:
        st.info(PROMPT)
        if model.codec.classes:
            st.caption(CONDITIONAL_NOTE)
    else:
        clicked_on_server(model, indices[0])


def clicked_on_server(model: LoadedModel, index: int) -> None:
    """The clicked image, its reconstruction, z and error, drawn by the server: for a browser that
    cannot decode the model or read its test images."""
    atlas = model.bundle.atlas
    reconstruction = model.codec.decode(atlas.z_mean[index], model.labels_at(index))[0]
    left, right = st.columns(2)
    show(atlas.images[index], f"test image {index}: {model.label_name(index)}", side=196, container=left)
    show(reconstruction, "reconstruction from its latent mean", side=196, container=right)
    st.markdown(f"**z mean** `{np.array2string(atlas.z_mean[index], precision=3, separator=', ')}`")
    z_std = np.exp(0.5 * atlas.z_log_var[index])
    st.markdown(f"**z std** `{np.array2string(z_std, precision=3, separator=', ')}`")
    st.markdown(f"**reconstruction error** (mean squared) {atlas.reconstruction_error[index]:.4f}")


def worst_explained(model: LoadedModel) -> None:
    """The test images with the highest negative ELBO, beside their reconstructions."""
    atlas, scores = model.bundle.atlas, scores_of_test_images(model)
    worst = most_unusual(scores, UNUSUAL_SHOWN)
    names = ", ".join(f"{index}: {model.label_name(index)} ({scores[index]:.0f})" for index in worst)
    show(tile(atlas.images[worst], columns=12, gap=2), f"highest negative ELBO first, in nats: {names}", side=900)
    reconstructions = model.codec.decode(atlas.z_mean[worst], model.labels_at(worst))
    show(tile(reconstructions, columns=12, gap=2), "their reconstructions", side=900)
