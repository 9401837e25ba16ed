"""Generate: move through latent space on the pad, draw manifolds, sample the prior and the codes' mixture,
interpolate, animate; a conditional model writes the class picked at the top."""

import numpy as np
import streamlit as st

from vae_app.model_picker import current_model
from vae_app.panels.class_style_grids import class_grid, class_picker
from vae_app.panels.mixture_samples import mixture_samples
from vae_app.panels.pad_views import generate_pad
from vae_app.panels.walks import walk_animation
from vae_app.pictures import decoded_pictures, show_with_download
from vae_app.planes import choose_plane
from vae_core.analysis.conditional import interpolation
from vae_core.analysis.latent_tools import GRID_MODES, grid_coordinates, plane_ranges, prior_samples, tile
from vae_core.data.datasets import as_uint8

st.title("Generate")
model = current_model()
if model is None:
    st.info("No model to generate with yet: train one on the Train page.")
    st.stop()
atlas, codec = model.bundle.atlas, model.codec
plane, axis_titles = choose_plane(model, key="generate")
label = class_picker(model, key="generate_class")  # None for a plain model
ranges = plane_ranges(plane.project(atlas.z_mean))


VIEWS = (
    "Decode a point",
    "Grid over the plane",
    "Samples from the prior",
    "Samples from the codes' mixture",
    "Path between two images",
    "Walk",
)
titles = [*VIEWS, "Classes × styles"] if label is not None else list(VIEWS)  # a conditional model only
# Only the open tab runs: a click on the pad or a slider costs what it shows.
pad, manifold, samples, mixture, path, animation, *by_class = st.tabs(titles, key="generate_tab", on_change="rerun")
if pad.open:
    with pad:
        st.caption(
            "Move over the pad, drag, or use the arrow keys or a dimension's slider: the picture follows at"
            " once. The pad covers 99% of the test set's latent means on this plane; where those barely"
            " spread, ±3 around them."
        )
        generate_pad(model, plane, axis_titles, label)
if manifold.open:
    with manifold:
        n = st.slider("Grid size (n x n)", 5, 30, 15, key="grid_n")
        mode = st.radio(
            "Spacing",
            GRID_MODES,
            horizontal=True,
            key="grid_mode",
            help="linear: even steps across the test set's range; quantile: even steps in probability under the prior",
        )
        rows = 1 if plane.is_line else n  # on a line every row would be the same
        grid = decoded_pictures(codec, plane.lift(grid_coordinates(n, ranges, mode)[: rows * n]), label, columns=n)
        show_with_download(
            tile(grid, columns=n), f"{rows} x {n} manifold, {mode} spacing", f"manifold-{rows}x{n}.png", 900
        )
if samples.open:
    with samples:
        count = st.slider("Samples", 8, 64, 32, step=8, key="sample_count")
        seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="sample_seed")
        drawn = decoded_pictures(codec, prior_samples(count, atlas.z_mean.shape[1], int(seed)), label, columns=8)
        show_with_download(tile(drawn, columns=8, gap=2), f"{count} samples of z ~ N(0, I)", "samples.png", 900)
if mixture.open:
    with mixture:
        mixture_samples(model, label)
if path.open:
    with path:
        last = len(atlas.z_mean) - 1
        left, middle, right = st.columns(3)
        start = left.number_input("From test image", 0, last, 0, key="path_start")
        end = middle.number_input("To test image", 0, last, min(1, last), key="path_end")
        steps = right.slider("Steps", 3, 20, 10, key="path_steps")
        frames = codec.decode(*interpolation(codec, atlas.z_mean[[start, end]], model.labels_at([start, end]), steps))
        strip = np.concatenate([atlas.images[[start]], as_uint8(frames), atlas.images[[end]]])
        caption = f"{model.label_name(start)} → {model.label_name(end)}: originals at both ends, decoded path between"
        if label is not None:
            caption += " (the class morphs from one label to the other)"
        show_with_download(tile(strip, columns=len(strip), gap=2), caption, "interpolation.png", 1200)
if animation.open:
    with animation:
        walk_animation(model, plane, axis_titles, label)
for tab in by_class:
    if tab.open:
        with tab:
            class_grid(model)
