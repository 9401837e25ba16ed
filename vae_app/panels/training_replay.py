"""Training replay on the Explore page: the latent map after each epoch, on fixed axes, beside that
epoch's losses, and the losses of every epoch as CSV; bundles saved without a replay say so."""

from __future__ import annotations

import streamlit as st

from vae_app.figures import latent_scatter
from vae_app.messages import plain
from vae_app.model_picker import LoadedModel
from vae_app.panels.loss_charts import loss_charts, losses_download
from vae_core.analysis.latent_tools import Plane, plane_ranges
from vae_core.bundles.files import BundleError
from vae_core.bundles.replay import Replay, read_replay
from vae_core.wording import count

# How much of all epochs' points the fixed axes take in: early epochs sit far from the final map.
REPLAY_COVERAGE = 99.8


@st.cache_resource(max_entries=16, show_spinner="Reading the training replay…")
def _replay(path: str, created: str, latent_dim: int) -> Replay | str | None:
    """The bundle's replay, None without one, or the reason it cannot be read."""
    try:
        return read_replay(path, latent_dim)
    except BundleError as error:
        return str(error)


def training_replay(model: LoadedModel, plane: Plane, axis_titles: tuple[str, str]) -> None:
    """An epoch slider over the run's replay: where the snapshot images sat after that epoch."""
    if model.meta.imported is not None:
        st.info("This model was imported, trained elsewhere: it has no training replay or loss history to show.")
        return
    replay = _replay(str(model.bundle.path), model.meta.created, model.bundle.model.latent_dim)
    if isinstance(replay, str):
        st.warning(plain(f"This model's training replay cannot be shown: {replay}"))
        return
    if replay is None:
        st.info(
            "This model has no training replay: it was saved by an older version of the app, or trained with"
            " no validation split (the replay follows validation images)."
        )
        return
    epochs = [int(epoch) for epoch in replay.epochs]
    st.caption(
        f"{count(replay.latent_means.shape[1], 'validation image')} encoded after each of"
        f" {count(len(epochs), 'epoch')}"
        + ("" if epochs[-1] == len(epochs) else f" (of {epochs[-1]}, evenly spaced)")
        + ", on the page's plane and the same axes throughout."
    )
    key = f"replay_epoch:{model.bundle.path}"
    epoch = st.select_slider("After epoch", epochs, epochs[-1], key=key) if len(epochs) > 1 else epochs[0]
    frame = epochs.index(epoch)
    points = plane.project(replay.latent_means.reshape(-1, replay.latent_means.shape[2]))
    ranges = plane_ranges(points, REPLAY_COVERAGE)
    shown = plane.project(replay.latent_means[frame])
    figure = latent_scatter(shown, replay.labels, model.class_names, axis_titles)
    figure.update_xaxes(range=list(ranges[0]), autorange=False)
    figure.update_yaxes(range=list(ranges[1]), autorange=False)
    figure.update_layout(height=480, title=f"after epoch {epoch}")
    scatter, numbers = st.columns([3, 1])
    scatter.plotly_chart(
        figure,
        key=f"replay_scatter:{model.bundle.path}",
        alt="Validation images' latent means by class after the chosen epoch",  # one alt: one chart, redrawn
    )
    history = model.meta.training.history
    record = next((r for r in history if r.get("epoch") == epoch), {})
    for name, loss in (("loss", "loss"), ("validation loss", "val_loss"), ("KL", "kl_loss")):
        if loss in record:
            numbers.metric(f"{name} (nats)", f"{record[loss]:.2f}")
    if history:
        loss_charts(history, key=f"replay_losses:{model.bundle.path}", marked_epoch=epoch)
        losses_download(history, model.bundle.path.name, key=f"replay_losses_csv:{model.bundle.path}")
