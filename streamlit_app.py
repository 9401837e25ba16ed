"""VAE Explorer: the app's entry point. Lists the model bundles the core finds and credits the data."""

import streamlit as st

from vae_core.datasets import SPECS
from vae_core.registry import scan_bundles, user_models_dir

st.set_page_config(page_title="VAE Explorer", layout="wide")
st.title("VAE Explorer")
st.write("Explore what a Variational Autoencoder has learned: train one, walk its latent space, encode your own digit.")

bundles, problems = scan_bundles()
if bundles:
    st.subheader("Models")
    st.dataframe(
        [
            {
                "name": info.name,
                "kind": "pretrained" if info.pretrained else "yours",
                "dataset": info.meta["dataset"]["name"],
                "preset": info.meta["config"]["model"]["preset"],
                "latent size": info.meta["config"]["model"]["latent_dim"],
                "epochs": info.meta["training"]["epochs_run"],
                "test -ELBO (nats)": round(info.meta["test_metrics"]["neg_elbo"], 2),
                "created": info.meta["created"],
            }
            for info in bundles
        ],
        hide_index=True,
    )
else:
    st.info(
        f"No trained models yet. Train one from a terminal, for example "
        f"`python -m vae_core.train --dataset mnist --preset conv --epochs 30`; it is saved under {user_models_dir()}."
    )
for problem in problems:
    st.warning(f"Skipped a folder that is not a complete model: {problem}")

st.caption("Data: " + "; ".join(spec.credit for spec in SPECS.values()) + ".")
