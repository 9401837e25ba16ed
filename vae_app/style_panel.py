"""Encode's conditional part: which class your digit reads as, and its style written as every class."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_app.pictures import show
from vae_core.conditional import class_probabilities, style_of
from vae_core.inference import as_intensities
from vae_core.latent_tools import tile


def read_as(model: LoadedModel, digit: np.ndarray) -> int | None:
    """The class a conditional model reads `digit` (h, w, c) as: its likeliest, unless the person
    picks another. None for a plain model, which needs no class."""
    if not model.codec.classes:
        return None
    names = model.class_names
    probabilities = class_probabilities(model.codec, digit)
    likeliest = np.argsort(-probabilities)[:3]
    # A new digit starts on its own likeliest class, not on the class picked for the last one.
    key = f"encode_read_as:{model.bundle.path}:{hashlib.sha256(digit.tobytes()).hexdigest()[:16]}"
    label = st.radio(
        "Read your digit as",
        range(model.codec.classes),
        index=int(likeliest[0]),
        format_func=names.__getitem__,
        horizontal=True,
        key=key,
        help="This model is conditional: it encodes and rebuilds your digit given a class.",
    )
    odds = ", ".join(f"{names[c]} {probabilities[c]:.1%}" for c in likeliest)
    st.caption(f"The model's reading, p(class | your digit) by Bayes' rule over its likelihoods: {odds}.")
    return label


def style_strip(model: LoadedModel, digit: np.ndarray, label: int | None) -> None:
    """Style transfer: the digit's z, encoded as class `label`, decoded as every class."""
    st.subheader("Your style, every class")
    if label is None:
        st.caption("Style transfer needs a conditional model, such as mnist-cvae-2d: pick one in the sidebar.")
        return
    names = model.class_names
    pictures = np.concatenate([as_intensities(np.asarray(digit)[None]), style_of(model.codec, digit, label)])
    caption = f"your {names[label]}, then its slant and stroke written as every class: " + ", ".join(
        names[: model.codec.classes]
    )
    show(tile(pictures, columns=len(pictures), gap=2), caption, side=1100)
