"""The floor for the browser benchmark: bare Streamlit with no model behind it.

A fragment slider drives an `st.image` of a shifted 28x28 pattern, and a 10,000-point WebGL scatter
with a click selection shows one picture, so `bench.browser_latency` can report how much of the
app's latency is Streamlit's own round trip.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.title("Reference")
pattern = np.random.default_rng(0).integers(0, 256, (28, 28), dtype=np.uint8)


@st.fragment
def slider_picture() -> None:
    shift = st.slider("shift", 0, 1000, 500)  # every step gives a new picture, so a new media file
    picture = np.roll(pattern.ravel(), shift).reshape(28, 28)
    st.image(np.repeat(np.repeat(picture, 8, axis=0), 8, axis=1), caption=f"shift {shift}", output_format="PNG")


slider_picture()
points = np.random.default_rng(1).standard_normal((10000, 2))
figure = go.Figure(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", customdata=np.arange(10000)))
figure.update_layout(height=600, dragmode="pan")
event = st.plotly_chart(figure, on_select="rerun", selection_mode=("points",), key="scatter")
chosen = [p["customdata"] for p in event.selection.points] if event and event.selection else []
if chosen:
    st.image(np.repeat(np.repeat(np.roll(pattern, chosen[0], axis=0), 8, 0), 8, 1), caption=f"test image {chosen[0]}")
