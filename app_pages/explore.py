"""Explore: the test set in latent space; click a point to see it beside its reconstruction; watch
the map form epoch by epoch."""

import numpy as np
import streamlit as st

from vae_app.directions_panel import direction_arrow, directions_panel
from vae_app.figures import add_direction_arrow, latent_scatter, score_scatter, selected_indices
from vae_app.lens import show_lens
from vae_app.model_picker import current_model, nats
from vae_app.pad_panels import explore_pad
from vae_app.pictures import show
from vae_app.planes import choose_plane
from vae_app.replay_panel import replay_panel
from vae_app.unusual import test_scores
from vae_core.latent_tools import tile
from vae_core.outliers import most_unusual
from vae_core.wording import count

MAX_GRID = 100
UNUSUAL_SHOWN = 24
COLOURINGS = ("class", "reconstruction error", "negative ELBO")

st.title("Explore the latent space")
model = current_model()
if model is None:
    st.info("No model to explore yet: train one on the Train page.")
    st.stop()
atlas, metrics = model.bundle.atlas, model.meta.test_metrics
given = " given the label" if model.codec.classes else ""
columns = st.columns(4)
columns[0].metric(f"test −ELBO{given} (nats)", nats(metrics.neg_elbo))
columns[1].metric(f"IW bound{given}, k={metrics.iw_samples} (nats)", nats(metrics.neg_iw_bound))
columns[2].metric("5-NN accuracy", "—" if metrics.knn_accuracy is None else f"{metrics.knn_accuracy:.1%}")
columns[3].metric("test images", f"{len(atlas.z_mean):,}")

plane, axis_titles = choose_plane(model, key="explore")
coords = plane.project(atlas.z_mean)
colour_by = st.radio("Colour by", COLOURINGS, horizontal=True, key="explore_colour")
if colour_by == COLOURINGS[0]:
    figure = latent_scatter(coords, atlas.labels, model.class_names, axis_titles)
elif colour_by == COLOURINGS[1]:
    figure = score_scatter(coords, atlas.reconstruction_error, "mean squared error", axis_titles)
else:
    figure = score_scatter(coords, test_scores(model), "−ELBO (nats)", axis_titles)
arrow = direction_arrow(model, plane)  # from group A's mean code to group B's, as the panel below shows them
if arrow is not None:
    add_direction_arrow(figure, *arrow)
st.caption("Click a point to see that image and its reconstruction; drag a box or lasso to see a group.")
if model.codec.classes:
    st.caption(
        "This model is conditional: it is given each image's label, so z is left to hold the style (slant,"
        " stroke, width), and the classes overlap on this map by design."
    )
event = st.plotly_chart(
    figure,
    on_select="rerun",
    selection_mode=("points", "box", "lasso"),
    key="explore_scatter",
    alt=f"The test set's latent means, coloured by {colour_by}",
)
indices = selected_indices(event)
if len(indices) == 1:
    index = indices[0]
    reconstruction = model.codec.decode(atlas.z_mean[index], model.labels_at(index))[0]
    left, right, details = st.columns([1, 1, 1])
    show(atlas.images[index], f"test image {index}: {model.label_name(index)}", container=left)
    show(reconstruction, "reconstruction from its latent mean", container=right)
    details.markdown(f"**z mean** `{np.array2string(atlas.z_mean[index], precision=3)}`")
    details.markdown(f"**z std** `{np.array2string(np.exp(0.5 * atlas.z_log_var[index]), precision=3)}`")
    details.markdown(f"**reconstruction error** (mean squared) {atlas.reconstruction_error[index]:.4f}")
    show_lens(model, plane, axis_titles, index=index)
elif indices:
    shown = indices[:MAX_GRID]
    caption = f"{count(len(indices), 'image')} selected" + (
        f"; the first {MAX_GRID} shown" if len(indices) > MAX_GRID else ""
    )
    show(tile(atlas.images[shown], columns=10, gap=2), caption, side=900)


directions_panel(model, indices)

if st.toggle(f"Show the {UNUSUAL_SHOWN} test images this model explains worst", key="explore_unusual"):
    scores = test_scores(model)
    worst = most_unusual(scores, UNUSUAL_SHOWN)
    names = ", ".join(f"{index}: {model.label_name(index)} ({scores[index]:.0f})" for index in worst)
    show(tile(atlas.images[worst], columns=12, gap=2), f"highest negative ELBO first, in nats: {names}", side=900)
    reconstructions = model.codec.decode(atlas.z_mean[worst], model.labels_at(worst))
    show(tile(reconstructions, columns=12, gap=2), "their reconstructions", side=900)

st.subheader("Decode any point")
explore_pad(model, plane, axis_titles)
replay_panel(model, plane, axis_titles)
