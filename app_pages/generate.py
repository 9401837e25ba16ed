"""Generate: move through latent space with sliders, draw manifolds, sample the prior, interpolate,
animate; a conditional model writes the class picked at the top."""

import numpy as np
import streamlit as st

from vae_app.conditional_panels import class_grid, class_picker
from vae_app.latent_pad import latent_pad
from vae_app.model_picker import current_model
from vae_app.pictures import show, show_with_download
from vae_app.planes import choose_plane
from vae_app.walks import walk_animation
from vae_core.conditional import interpolation
from vae_core.latent_tools import GRID_MODES, grid_coordinates, nearest_indices, plane_ranges, prior_samples, tile

st.title("Generate")
model = current_model()
if model is None:
    st.info("No model to generate with yet: train one on the Train page.")
    st.stop()
atlas, codec = model.bundle.atlas, model.codec
plane, axis_titles = choose_plane(model, key="generate")
label = class_picker(model, key="generate_class")  # None for a plain model
ranges = plane_ranges(plane.project(atlas.z_mean))
model_key = str(model.bundle.path)  # slider ranges differ per model: so do their keys


@st.fragment
def live_decoder() -> None:
    """The pad decodes in the browser as the pointer moves; the sliders below are the precise way,
    and the way where the browser cannot decode. Only this part reruns, once per release."""
    u_key, v_key, z_key = (f"{name}:{model_key}:{plane.fingerprint}" for name in "uvz")
    st.session_state.setdefault(u_key, float(ranges[0].mean()))
    st.session_state.setdefault(v_key, 0.0 if plane.is_line else float(ranges[1].mean()))
    st.session_state.setdefault(z_key, plane.lift(np.array([[st.session_state[u_key], st.session_state[v_key]]]))[0])
    released = latent_pad(
        model,
        plane,
        axis_titles,
        st.session_state[z_key],
        key=f"pad:{model_key}",
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
        show_with_download(codec.decode(z, label)[0], f"decoded on the server at {place}", "decoded.png", 224)
    nearest = nearest_indices(z, atlas.z_mean, k=8)
    show(tile(atlas.images[nearest], columns=8, gap=2), "nearest test images (by latent mean)", side=600)


titles = ["Sliders", "Manifold grid", "Random samples", "Interpolation", "Animation"]
titles += ["Class × z grid"] if label is not None else []  # a conditional model only
sliders, manifold, samples, path, animation, *by_class = st.tabs(titles)
with sliders:
    st.caption(
        "Pad and slider ranges cover 99% of the test set's latent means on this plane; where those barely"
        " spread, ±3 around them."
    )
    live_decoder()
with manifold:
    n = st.slider("Grid size (n x n)", 5, 30, 15, key="grid_n")
    mode = st.radio(
        "Spacing",
        GRID_MODES,
        horizontal=True,
        key="grid_mode",
        help=("linear: even steps across the test set's range; quantile: even steps in probability under the prior"),
    )
    rows = 1 if plane.is_line else n  # on a line every row would be the same
    grid = codec.decode(plane.lift(grid_coordinates(n, ranges, mode)[: rows * n]), label)
    show_with_download(tile(grid, columns=n), f"{rows} x {n} manifold, {mode} spacing", f"manifold-{rows}x{n}.png", 900)
with samples:
    count = st.slider("Samples", 8, 64, 32, step=8, key="sample_count")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="sample_seed")
    drawn = codec.decode(prior_samples(count, atlas.z_mean.shape[1], int(seed)), label)
    show_with_download(tile(drawn, columns=8, gap=2), f"{count} samples of z ~ N(0, I)", "samples.png", 900)
with path:
    last = len(atlas.z_mean) - 1
    left, middle, right = st.columns(3)
    start = left.number_input("From test image", 0, last, 0, key="path_start")
    end = middle.number_input("To test image", 0, last, min(1, last), key="path_end")
    steps = right.slider("Steps", 3, 20, 10, key="path_steps")
    frames = codec.decode(*interpolation(codec, atlas.z_mean[[start, end]], model.labels_at([start, end]), steps))
    strip = np.concatenate([atlas.images[[start]] / 255.0, frames, atlas.images[[end]] / 255.0])
    caption = f"{model.label_name(start)} → {model.label_name(end)}: originals at both ends, decoded path between"
    if label is not None:
        caption += " (the class morphs from one label to the other)"
    show_with_download(tile(strip, columns=len(strip), gap=2), caption, "interpolation.png", 1200)
with animation:
    walk_animation(model, plane, axis_titles, label)
for tab in by_class:
    with tab:
        class_grid(model)
