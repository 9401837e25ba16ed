"""The posterior lens on a page: the true posterior's heatmap with q(z|x)'s ellipse over it (drawn by
`figures.lens_figure`), and the ELBO, log p(x) and their gap."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.figures import lens_figure
from vae_app.model_picker import LoadedModel
from vae_core.analysis.latent_tools import Plane
from vae_core.analysis.posterior_lens import LensView, posterior_lens


@st.cache_resource(max_entries=64, show_spinner="Looking through the lens…")
def _test_image_lens(
    path: str, created: str, index: int, fingerprint: str, _model: LoadedModel, _axes: np.ndarray
) -> LensView:
    return posterior_lens(_model.codec, _model.bundle.atlas.images[index], _axes, label=_model.labels_at(index))


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
    if index is not None:
        key = (str(model.bundle.path), model.meta.created, int(index), plane.fingerprint)
        view = _test_image_lens(*key, model, plane.axes)
    else:
        with st.spinner("Looking through the lens…"):
            view = posterior_lens(model.codec, image, plane.axes, label=label)
    st.subheader("The posterior lens")
    given = ", label" if model.codec.classes else ""  # a conditional model's lens is given the label
    caption = (
        f"The true posterior log p(x|z{given}) + log p(z), up to a constant, around the encoder's guess"
        f" q(z|x{given}) (its 2σ ellipse, dotted)"
    )
    if model.bundle.model.latent_dim > 2:
        caption += f", on the plane of {axis_titles[0]} and {axis_titles[1]} through q's mean"
    st.caption(caption + ".")
    figure, numbers = st.columns([3, 1])
    figure.plotly_chart(
        lens_figure(view, axis_titles),
        key=f"lens_{index}",
        alt="The true posterior's log density as a heatmap, with the encoder's 2-sigma ellipse over it",
    )
    numbers.metric("ELBO (nats)", f"{view.elbo:.2f}")
    numbers.metric(f"log p(x{' | label' if given else ''}), k={view.samples} (nats)", f"{view.log_px:.2f}")
    numbers.metric("gap = KL(q ‖ true posterior)", f"{max(view.gap, 0.0):.2f}")
