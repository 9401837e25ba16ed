"""VAE Explorer: the entry point. Picks the model in the sidebar, then runs the chosen page.

Pages live in `app_pages/`, not `pages/`: Streamlit runs a `pages/` file on its own, without this
entry point, when a new server's first visit goes straight to that page's address.
"""

from pathlib import Path

import streamlit as st

from vae_app.model_picker import current_model, model_picker

st.set_page_config(page_title="VAE Explorer", page_icon="🔢", layout="wide")
st.html(Path(__file__).parent / "vae_app" / "app.css")  # styles only: nothing shown, no space taken
model_picker()
navigation = st.navigation(
    [
        st.Page("app_pages/home.py", title="Home", default=True),
        st.Page("app_pages/train.py", title="Train"),
        st.Page("app_pages/explore.py", title="Explore"),
        st.Page("app_pages/generate.py", title="Generate"),
        st.Page("app_pages/encode.py", title="Encode"),
        st.Page("app_pages/compare.py", title="Compare"),
        st.Page("app_pages/import_model.py", title="Import"),
    ]
)
navigation.run()
# Load the picked model once the page is on screen, so the first page a new server shows does not
# wait for TensorFlow, and the model is ready when a page that needs it is opened.
current_model()
