"""Home's table of models: the figures a person compares first, formatted as the sidebar's card
formats them, so 5-NN accuracy reads 81.4% in both places."""

from __future__ import annotations

import streamlit as st

from vae_app.figure_formats import ACCURACY_FORMAT, NATS_FORMAT
from vae_core.bundles.registry import BundleInfo

# Most useful first, so a phone shows them before the table scrolls sideways; the name stays pinned.
MODEL_COLUMNS = {
    "name": st.column_config.TextColumn("model", pinned=True),
    "dataset": st.column_config.TextColumn("dataset"),
    "neg_elbo": st.column_config.NumberColumn(
        "test −ELBO (nats)", format=NATS_FORMAT, help="Negative ELBO per test image: lower is better."
    ),
    "knn": st.column_config.NumberColumn(
        "5-NN accuracy",
        format=ACCURACY_FORMAT,
        step=0.001,  # with a named format, the display precision: one decimal of a percent
        help="Share of test images whose 5 nearest training images in z vote their label.",
    ),
    "latent": st.column_config.NumberColumn("latent", format="%d", width="small", help="Dimensions of z."),
    "iw_bound": st.column_config.NumberColumn(
        "IW bound (nats)", format=NATS_FORMAT, help="Importance-weighted bound on −log p(x): tighter than −ELBO."
    ),
    "conditional": st.column_config.CheckboxColumn("conditional", help="Given each image's label as well."),
    "preset": st.column_config.TextColumn("preset", width="small"),
    "epochs": st.column_config.NumberColumn("epochs", format="%d", width="small"),
    "kind": st.column_config.TextColumn("kind", width="small"),
}


def model_rows(bundles: list[BundleInfo]) -> list[dict[str, object]]:
    """One row per usable bundle, keyed as `MODEL_COLUMNS`; a metric the run never measured is None
    (a blank cell)."""
    return [
        {
            "name": info.name,
            "dataset": info.meta.dataset.name,
            "neg_elbo": info.meta.test_metrics.neg_elbo,
            "knn": info.meta.test_metrics.knn_accuracy,
            "latent": info.meta.model.latent_dim,
            "iw_bound": info.meta.test_metrics.neg_iw_bound,
            "conditional": info.meta.model.conditional,
            "preset": info.meta.model.preset,
            "epochs": info.meta.training.epochs_run,
            "kind": "pretrained" if info.pretrained else "yours",
        }
        for info in bundles
    ]
