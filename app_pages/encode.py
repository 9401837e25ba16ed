"""Encode: a digit of your own, preprocessed as MNIST was, placed among the test set and rebuilt."""

import numpy as np
import streamlit as st
from PIL import Image

from vae_app.figures import add_encoded_point, latent_scatter
from vae_app.image_scores import scores_of_test_images
from vae_app.messages import plain
from vae_app.model_picker import current_model
from vae_app.panels.class_style_grids import read_as, style_strip
from vae_app.panels.direction_maker import kept_directions, move_along
from vae_app.panels.lens_view import show_lens
from vae_app.pictures import show, squared
from vae_app.planes import choose_plane
from vae_app.services.digit_preprocess import EmptyDrawing, preprocess_digit
from vae_app.services.image_input import UPLOAD_EXTENSIONS, ImageRejected, open_user_image
from vae_core.analysis.latent_tools import nearest_indices, tile
from vae_core.analysis.outliers import neg_elbo_per_image, share_below

st.title("Encode your own digit")
model = current_model()
if model is None:
    st.info("No model to encode with yet: train one on the Train page.")
    st.stop()
if model.codec.image_shape != (28, 28, 1):
    st.info("Encoding your own picture works with 28x28 grayscale models (MNIST, Fashion-MNIST): pick one.")
    st.stop()

# Ready for either on arrival: the square to draw in, and beside it a picture to upload instead.
draw_column, upload_column = st.columns(2, gap="large")
with upload_column:
    upload = st.file_uploader("Or upload a picture of one digit", type=list(UPLOAD_EXTENSIONS))
    st.caption("An upload, while it is here, is encoded instead of the drawing.")
with draw_column:
    from streamlit_drawable_canvas import st_canvas  # registers a component: only when it is shown

    canvas = st_canvas(
        stroke_width=18,
        stroke_color="#000000",
        background_color="#FFFFFF",
        height=280,
        width=280,
        drawing_mode="freedraw",
        return_image_data=True,
        key="encode_canvas",
    )
    # Below the square: the canvas's toolbar shows over the square's top edge and what is just above it.
    st.markdown("**Draw one digit**, large, in the middle of the square.")
picture = None
if upload is not None:
    try:
        picture, notes = open_user_image(upload.getvalue())
    except ImageRejected as error:
        st.error(plain(str(error)))
        st.stop()
    for note in notes:
        st.info(plain(note))
elif canvas.image_data is not None and (canvas.image_data[..., :3] < 128).any():
    picture = Image.fromarray(np.asarray(canvas.image_data, dtype=np.uint8))
if picture is None:
    st.stop()

try:
    steps = preprocess_digit(picture)
except EmptyDrawing as error:
    st.warning(plain(str(error)))
    st.stop()
st.subheader("Preprocessed as MNIST was")
for column, step in zip(st.columns(len(steps)), steps, strict=True):
    background = 255 if step is steps[0] else 0  # dark ink on white until the second step inverts it
    show(squared(step.image, background), step.title, side=140, container=column, width=140)  # one size for all

digit = steps[-1].image[np.newaxis, :, :, np.newaxis]
label = read_as(model, digit[0])  # a conditional model's class for it; None for a plain model
z_mean, z_log_var = model.codec.encode(digit, label)
reconstruction = model.codec.decode(z_mean, label)[0]
atlas = model.bundle.atlas
st.subheader("Where it lands")
plane, axis_titles = choose_plane(model, key="encode")
figure = latent_scatter(plane.project(atlas.z_mean), atlas.labels, model.class_names, axis_titles)
st.plotly_chart(
    add_encoded_point(figure, plane.project(z_mean)[0], plane.spread(z_log_var[0])),
    key="encode_scatter",
    alt="The test set's latent means by class, with your digit as a magenta star and its 2-sigma ellipse",
)
left, right, details = st.columns(3)
show(digit[0], "your digit, preprocessed", container=left)
show(reconstruction, "its reconstruction", container=right)
details.markdown(f"**z mean** `{np.array2string(z_mean[0], precision=3)}`")
details.markdown(f"**z std** `{np.array2string(np.exp(0.5 * z_log_var[0]), precision=3)}`")
score = neg_elbo_per_image(model.codec, digit, labels=None if label is None else np.array([label]))[0]
details.markdown(
    f"**anomaly score** (negative ELBO) {score:.1f} nats: more unusual than"
    f" {share_below(score, scores_of_test_images(model)):.1%} of test images"
)
show_lens(model, plane, axis_titles, image=digit[0], label=label)
style_strip(model, digit[0], label)
directions = kept_directions(model)
if directions:
    st.subheader("Move your digit along a kept direction")
    chosen = st.selectbox("Direction", [d.name for d in directions], key="encode_direction")
    vector = next(d.vector for d in directions if d.name == chosen)
    move_along(model, z_mean[0], digit[0], "your digit", chosen, vector, label)
else:
    st.caption("Directions kept on the Explore page can move your digit here.")
nearest = nearest_indices(z_mean[0], atlas.z_mean, k=8)
st.subheader("Nearest test images in latent space")
show(tile(atlas.images[nearest], columns=8, gap=2), ", ".join(f"{i}: {model.label_name(i)}" for i in nearest), 900)
