"""Import: a VAE trained elsewhere, its encoder and decoder as .keras or .onnx files (PyTorch's
`torch.onnx.export` writes them), with the data to explore it on, becomes a model every page takes."""

import streamlit as st

from vae_app.panels.model_import import import_form, import_outcome

st.title("Import a VAE")
st.write(
    "Bring a VAE trained elsewhere: its encoder (images to z's mean and log variance) and decoder (z to the"
    " image, as logits or intensities), saved by Keras or as ONNX, and the data to explore it on. The app"
    " measures it on the data's test split and lists it beside its own models."
)
import_outcome()
import_form()
