"""The posterior lens on a page: the true posterior's heatmap with q(z|x)'s ellipse over it (drawn by
`figures.lens_figure`), then the ELBO, log p(x) and their gap. The heatmap shows as soon as its grid
is decoded; the numbers, from 1,000 more decodes, follow it."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.figures import lens_figure
from vae_app.model_picker import LoadedModel
from vae_core.analysis.latent_tools import Plane
from vae_core.analysis.posterior_lens import LensEvidence, LensGrid, posterior_evidence, posterior_grid


@st.cache_resource(max_entries=64, show_spinner="Looking through the lens…")
def _test_image_grid(
    path: str, created: str, index: int, fingerprint: str, _model: LoadedModel, _axes: np.ndarray
) -> LensGrid:
    return posterior_grid(_model.codec, _model.bundle.atlas.images[index], _axes, label=_model.labels_at(index))


@st.cache_resource(max_entries=64, show_spinner="Estimating log p(x)…")
def _test_image_evidence(path: str, created: str, index: int, _model: LoadedModel) -> LensEvidence:
    """The numbers do not depend on the plane: one estimate per image, whichever plane is shown."""
    return posterior_evidence(_model.codec, _model.bundle.atlas.images[index], label=_model.labels_at(index))


def show_lens(
    model: LoadedModel,
    plane: Plane,
    axis_titles: tuple[str, str],
    image: np.ndarray | None = None,
    index: int | None = None,
    label: int | None = None,
) -> None:
    """The lens for test image `index` (cached) or for `image` (an upload, read as class `label` by a
    conditional model), on `plane`'s directions."""
    st.subheader("The posterior lens")
    given = ", label" if model.codec.classes else ""  # a conditional model's lens is given the label
    caption = (
        f"The true posterior log p(x|z{given}) + log p(z), up to a constant, around the encoder's guess"
        f" q(z|x{given}) (its 2σ ellipse, dotted)"
    )
    if model.bundle.model.latent_dim > 2:
        caption += f", on the plane of {axis_titles[0]} and {axis_titles[1]} through q's mean"
    st.caption(caption + ".")
    key = (str(model.bundle.path), model.meta.created, None if index is None else int(index))
    if index is not None:
        grid = _test_image_grid(*key, plane.fingerprint, model, plane.axes)
    else:
        with st.spinner("Looking through the lens…"):
            grid = posterior_grid(model.codec, image, plane.axes, label=label)
    figure, numbers = st.columns([3, 1])
    figure.plotly_chart(
        lens_figure(grid, axis_titles),
        key=f"lens_{index}",
        alt="The true posterior's log density as a heatmap, with the encoder's 2-sigma ellipse over it",
    )
    with numbers:
        if index is not None:
            evidence = _test_image_evidence(*key, model)
        else:
            with st.spinner("Estimating log p(x)…"):
                evidence = posterior_evidence(model.codec, image, label=label)
        st.metric("ELBO (nats)", f"{evidence.elbo:.2f}")
        st.metric(f"log p(x{' | label' if given else ''}), k={evidence.samples} (nats)", f"{evidence.log_px:.2f}")
        st.metric("gap = KL(q ‖ true posterior)", f"{max(evidence.gap, 0.0):.2f}")
