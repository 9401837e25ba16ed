"""The class a conditional model writes, picked on the page; a plain model has none to pick."""

from __future__ import annotations

import streamlit as st

from vae_app.model_picker import LoadedModel


def class_picker(model: LoadedModel, key: str, title: str = "Class to generate") -> int | None:
    """A row of the model's classes to choose from; the chosen class, or None for a plain model."""
    if not model.codec.classes:
        return None
    names = model.class_names
    return st.radio(
        title,
        range(model.codec.classes),
        format_func=names.__getitem__,
        horizontal=True,
        key=f"{key}:{model.bundle.path}",
        help="This model is conditional: it writes the class you pick, in the style its z holds.",
    )
