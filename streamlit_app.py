"""VAE Explorer: the entry point. Picks the model in the sidebar, then runs the chosen page."""

import streamlit as st

from vae_app.models import model_picker

st.set_page_config(page_title="VAE Explorer", layout="wide")
model_picker()
navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", default=True),
        st.Page("pages/train.py", title="Train"),
        st.Page("pages/explore.py", title="Explore"),
        st.Page("pages/generate.py", title="Generate"),
        st.Page("pages/encode.py", title="Encode"),
    ]
)
navigation.run()
