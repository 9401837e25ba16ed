"""What the pages show for a conditional model: the class picker, the class x z grid, the class an
upload reads as, and its style written as every class. A plain model gets none of them."""

from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from vae_app.messages import plain
from vae_app.model_picker import LoadedModel
from vae_app.pictures import show, show_with_download
from vae_core.analysis.conditional import class_probabilities, every_class, style_of
from vae_core.analysis.latent_tools import prior_samples, tile
from vae_core.data.datasets import as_intensities


def class_picker(model: LoadedModel, key: str, title: str = "Class to generate") -> int | None:
    """A row of the model's classes to choose from; the chosen class, or None for a plain model."""
    if not model.codec.classes:
        return None
    return st.radio(
        title,
        range(model.codec.classes),
        format_func=lambda label: plain(model.class_names[label]),
        horizontal=True,
        key=f"{key}:{model.bundle.path}",
        help="This model is conditional: it writes the class you pick, in the style its z holds.",
    )


def class_grid(model: LoadedModel) -> None:
    """Each row a class, each column one z from the prior: a style per column, written as every class."""
    columns = st.slider("Styles (columns)", 4, 16, 8, key="class_grid_columns")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="class_grid_seed")
    grid = every_class(model.codec, prior_samples(columns, model.codec.latent_dim, int(seed)))
    names = ", ".join(model.class_names[: model.codec.classes])
    caption = f"each row a class ({names}), each column one z ~ N(0, I)"
    show_with_download(tile(grid, columns=columns, gap=2), caption, "classes-by-z.png", 900)


@st.cache_data(max_entries=64, show_spinner="Reading your digit's class…")
def _class_probabilities(path: str, created: str, digest: str, _model: LoadedModel, _digit: np.ndarray) -> np.ndarray:
    return class_probabilities(_model.codec, _digit)


def read_as(model: LoadedModel, digit: np.ndarray) -> int | None:
    """The class a conditional model reads `digit` (h, w, c) as: its likeliest, unless the person
    picks another. None for a plain model, which needs no class."""
    if not model.codec.classes:
        return None
    names = model.class_names
    digest = hashlib.sha256(np.ascontiguousarray(digit).tobytes()).hexdigest()
    probabilities = _class_probabilities(str(model.bundle.path), model.meta.created, digest, model, digit)
    likeliest = np.argsort(-probabilities)[:3]
    key, seen = f"encode_read_as:{model.bundle.path}", f"encode_read_digit:{model.bundle.path}"
    if st.session_state.get(seen) != digest:  # a new digit starts on its own likeliest class
        st.session_state[seen], st.session_state[key] = digest, int(likeliest[0])
    label = st.radio(
        "Read your digit as",
        range(model.codec.classes),
        format_func=lambda label: plain(names[label]),
        horizontal=True,
        key=key,
        help="This model is conditional: it encodes and rebuilds your digit given a class.",
    )
    odds = ", ".join(f"{names[c]} {probabilities[c]:.1%}" for c in likeliest)
    st.caption(plain(f"The model's reading, p(class | your digit) by Bayes' rule over its likelihoods: {odds}."))
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
