"""Compare: two to four models' test metrics, loss curves, reconstructions and prior samples."""

import numpy as np
import streamlit as st

from vae_app.figure_formats import ACCURACY_FORMAT
from vae_app.figures import compared_loss_curves
from vae_app.messages import plain
from vae_app.model_picker import CONDITIONAL_FIGURES, MODEL_KEY, load_or_stop, model_ids
from vae_app.pictures import show
from vae_core.analysis.comparison import active_units, why_not_side_by_side
from vae_core.analysis.latent_tools import prior_samples, tile
from vae_core.bundles.registry import scan_bundles

SHOWN_IMAGES, SAMPLES = 8, 16
NATS_COLUMNS = ("test −ELBO", "reconstruction", "KL", "IW bound")


st.title("Compare models")
by_id = model_ids(scan_bundles()[0])
if len(by_id) < 2:
    st.info("Comparing needs two models or more: train another on the Train page.")
    st.stop()
names, sidebar = list(by_id), st.session_state.get(MODEL_KEY)
current = sidebar if sidebar in by_id else names[0]
others = [name for name in names if name != current]
same_data = [name for name in others if by_id[name].meta.dataset.name == by_id[current].meta.dataset.name]
default = [current, (same_data or others)[0]]  # the sidebar's model, and another of its dataset if any
picked = st.multiselect("Models (two to four)", names, default=default, max_selections=4, key="compare_models")
if len(picked) < 2:
    st.info("Pick at least two models.")
    st.stop()
models = {name: load_or_stop(by_id[name], name, "Take it out of the comparison.") for name in picked}

st.dataframe(
    [
        {
            "model": name,
            "dataset": model.meta.dataset.name,
            "latent size": model.meta.model.latent_dim,
            "conditional": model.meta.model.conditional,
            "test −ELBO": model.meta.test_metrics.neg_elbo,
            "reconstruction": model.meta.test_metrics.reconstruction_nll,
            "KL": model.meta.test_metrics.kl,
            "IW bound": model.meta.test_metrics.neg_iw_bound,
            "5-NN accuracy": model.meta.test_metrics.knn_accuracy,
            "active units": active_units(model.bundle.atlas.z_mean, model.bundle.atlas.z_log_var),
        }
        for name, model in models.items()
    ],
    hide_index=True,
    # 5-NN accuracy as Home and the sidebar show it (81.4%); nats to two decimals, as models compared differ by less.
    column_config={
        **{name: st.column_config.NumberColumn(format="%.2f") for name in NATS_COLUMNS},
        "5-NN accuracy": st.column_config.NumberColumn(format=ACCURACY_FORMAT, step=0.001),
    },
)
st.caption(
    "All in nats per test image (Bernoulli likelihood), lower is better, except 5-NN accuracy; active units are"
    " latent dimensions whose average KL from the prior exceeds 0.01 nats. A validation loss that rises in the"
    " first epochs is a KL warm-up bringing its term in."
)
if any(model.meta.model.conditional for model in models.values()):
    st.caption(CONDITIONAL_FIGURES + " Its 5-NN accuracy is not measured: its z is given the label.")
st.plotly_chart(
    compared_loss_curves({name: model.meta.training.history for name, model in models.items()}),
    alt="Each model's validation loss per epoch, overlaid",
)

st.subheader("The same test images, reconstructed by each")
reason = why_not_side_by_side(
    {name: model.meta for name, model in models.items()},
    {name: model.bundle.atlas.images for name, model in models.items()},
)
if reason:
    st.warning(plain(f"Not side by side: {reason}"))
else:
    atlas = next(iter(models.values())).bundle.atlas
    picks = np.linspace(0, len(atlas.images) - 1, min(SHOWN_IMAGES, len(atlas.images))).astype(int)
    show(tile(atlas.images[picks], columns=len(picks), gap=2), "test images", side=700)
    for name, model in models.items():
        decoded = model.codec.decode(model.bundle.atlas.z_mean[picks], model.labels_at(picks))
        show(tile(decoded, columns=len(picks), gap=2), f"{name}: reconstructions from the latent means", side=700)

st.subheader(f"{SAMPLES} samples from the prior, with the same seed")
latent_sizes = {model.meta.model.latent_dim for model in models.values()}
if len(latent_sizes) > 1:
    st.warning("Not side by side: the same seed draws the same z only for models of one latent size.")
else:
    z = prior_samples(SAMPLES, latent_sizes.pop(), seed=0)
    for name, model in models.items():
        classes = model.codec.classes
        samples = model.codec.decode(z, np.arange(SAMPLES) % classes if classes else None)
        caption = f"{name}: z ~ N(0, I), seed 0" + (", as classes 0, 1, 2… in turn" if classes else "")
        show(tile(samples, columns=SAMPLES, gap=2), caption, side=1200)
