"""Explore: the test set in latent space, on a plane or a UMAP or t-SNE map of the codes; click a
point to see it beside the map with its reconstruction; open the views below for the posterior,
directions, outliers, each dimension, the pad and the replay."""

import streamlit as st

from vae_app.figure_formats import accuracy, nats
from vae_app.model_picker import current_model
from vae_app.panels.explore_workspace import COLOURINGS, explore_workspace
from vae_app.planes import choose_map

st.title("Explore the latent space")
model = current_model()
if model is None:
    st.info("No model to explore yet: train one on the Train page.")
    st.stop()
atlas, metrics = model.bundle.atlas, model.meta.test_metrics
given = " given the label" if model.codec.classes else ""
figures = st.container(horizontal=True, gap="medium")  # a row that wraps: two a line on a phone, not one
figures.metric(f"test −ELBO{given} (nats)", nats(metrics.neg_elbo), width="content")
figures.metric(f"IW bound{given}, k={metrics.iw_samples} (nats)", nats(metrics.neg_iw_bound), width="content")
figures.metric("5-NN accuracy", accuracy(metrics.knn_accuracy), width="content")
figures.metric("test images", f"{len(atlas.z_mean):,}", width="content")

plane, axis_titles, code_map = choose_map(model, key="explore")
colour_by = st.radio("Colour by", COLOURINGS, horizontal=True, key="explore_colour")
explore_workspace(model, plane, axis_titles, colour_by, code_map)
