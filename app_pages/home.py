"""Home: what the app does, shown and linked, the models it knows, sharing them, and where the data comes from.

Home is the first page a new server shows: nothing here imports Keras (tests/test_home.py checks it).
"""

import streamlit as st

from vae_app.model_picker import CONDITIONAL_FIGURES, DEFAULT_MODEL
from vae_app.panels.bundle_sharing import share_a_model
from vae_app.panels.home_mosaic import atlas_map, pictured_model
from vae_app.panels.models_table import MODEL_COLUMNS, model_rows
from vae_core.bundles.registry import scan_bundles
from vae_core.data.datasets import SPECS

PAGE_LINKS = (
    ("app_pages/train.py", "Train", ":material/model_training:", "Fit a VAE to MNIST, Fashion-MNIST or your images."),
    ("app_pages/explore.py", "Explore", ":material/scatter_plot:", "Click a point of the map: its image, rebuilt."),
    ("app_pages/generate.py", "Generate", ":material/gesture:", "Move through z and watch the digit change."),
    ("app_pages/encode.py", "Encode", ":material/draw:", "Draw or upload a digit: where does it land?"),
    ("app_pages/compare.py", "Compare", ":material/compare:", "Two to four models side by side."),
    ("app_pages/import_model.py", "Import", ":material/upload_file:", "Bring a VAE trained elsewhere (Keras, ONNX)."),
)

st.title("VAE Explorer")
st.write("Explore what a Variational Autoencoder has learned: how it arranges images in a latent space z.")
bundles, unusable = scan_bundles()
pictured = pictured_model(bundles, DEFAULT_MODEL)
picture, links = st.columns([3, 2], gap="large")
if pictured is not None and (mosaic := atlas_map(str(pictured.path), pictured.meta.created)) is not None:
    picture.image(
        mosaic,
        caption=f"{pictured.name}'s latent space: each test image sits where the encoder puts it "
        "(z0 across, z1 up). Alike images gather; styles change smoothly between them.",
        alt=f"A mosaic of {pictured.meta.dataset.name} test images laid out by their latent codes: "
        "images of one class gather in one region, and shade into the next class between regions.",
    )
for page, title, icon, what in PAGE_LINKS:
    with links.container(border=True):
        st.page_link(page, label=f":blue[**{title}**]", icon=icon, width="stretch")
        st.caption(what)

st.subheader("Models")
if bundles:
    st.dataframe(model_rows(bundles), column_config=MODEL_COLUMNS, hide_index=True)
    if any(info.meta.model.conditional for info in bundles):
        st.caption(CONDITIONAL_FIGURES)
else:
    st.info("No trained models yet: train one on the Train page.")
if unusable:
    st.subheader("Models that cannot be used")
    st.dataframe([{"name": bundle.name, "why": bundle.reason} for bundle in unusable], hide_index=True)
share_a_model(bundles)
st.caption("Data: " + "; ".join(spec.credit for spec in SPECS.values()) + ".")
