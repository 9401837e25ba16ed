"""Home: what the app does, the models it knows, and where the data comes from."""

import streamlit as st

from vae_app.model_picker import CONDITIONAL_FIGURES, rounded
from vae_core.datasets import SPECS
from vae_core.registry import scan_bundles

st.title("VAE Explorer")
st.write(
    "Explore what a Variational Autoencoder has learned. **Train** one and watch its losses, **Explore** "
    "its latent space, **Generate** digits by moving through it, and **Encode** a digit of your own."
)
columns = st.columns(4)
for column, (page, text) in zip(
    columns,
    [
        ("app_pages/train.py", "Train a VAE"),
        ("app_pages/explore.py", "Explore the latent space"),
        ("app_pages/generate.py", "Generate from z"),
        ("app_pages/encode.py", "Encode your digit"),
    ],
    strict=True,
):
    column.page_link(page, label=text)

bundles, unusable = scan_bundles()
st.subheader("Models")
if bundles:
    st.dataframe(
        [
            {
                "name": info.name,
                "kind": "pretrained" if info.pretrained else "yours",
                "dataset": info.meta.dataset.name,
                "preset": info.meta.model.preset,
                "conditional": info.meta.model.conditional,
                "latent size": info.meta.model.latent_dim,
                "epochs": info.meta.training.epochs_run,
                "test −ELBO (nats)": rounded(info.meta.test_metrics.neg_elbo),
                "IW bound (nats)": rounded(info.meta.test_metrics.neg_iw_bound),
                "5-NN accuracy": info.meta.test_metrics.knn_accuracy,
                "created": info.meta.created,
            }
            for info in bundles
        ],
        hide_index=True,
    )
    if any(info.meta.model.conditional for info in bundles):
        st.caption(CONDITIONAL_FIGURES)
else:
    st.info("No trained models yet: train one on the Train page.")
if unusable:
    st.subheader("Models that cannot be used")
    st.dataframe([{"name": bundle.name, "why": bundle.reason} for bundle in unusable], hide_index=True)
st.caption("Data: " + "; ".join(spec.credit for spec in SPECS.values()) + ".")
