"""How poorly the picked model explains each test image, scored once per model and process (the
scores behind Explore's colouring by negative ELBO, its worst-explained images and Encode's rank)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_core.analysis.outliers import neg_elbo_per_image


@st.cache_resource(max_entries=16, show_spinner="Scoring every test image against the model…")
def _scores(path: str, created: str, _model: LoadedModel) -> np.ndarray:
    return neg_elbo_per_image(_model.codec, _model.bundle.atlas.images, labels=_model.bundle.atlas.labels)


def scores_of_test_images(model: LoadedModel) -> np.ndarray:
    """Each test image's negative ELBO under `model`, in nats: high is poorly modelled."""
    return _scores(str(model.bundle.path), model.meta.created, model)
