"""The Train page's shared state and live view: the process-wide job board, cached datasets, and
the panel that redraws a run's progress every second."""

from __future__ import annotations

import streamlit as st

from vae_app.figures import latent_scatter, loss_curves
from vae_core.datasets import Dataset, load_dataset
from vae_core.jobs import JobBoard, TrainingJob

REFRESH_SECONDS = 1.0


@st.cache_resource
def job_board() -> JobBoard:
    """One board per server process: every session sees, and cannot duplicate, the running job."""
    return JobBoard()


@st.cache_resource(max_entries=2, show_spinner="Loading the dataset…")
def builtin_dataset(name: str) -> Dataset:
    """A built-in dataset, loaded once and shared read-only (tens of MB: not copied per session)."""
    return load_dataset(name)


def progress_panel(job: TrainingJob) -> None:
    """The run's progress, loss curves and latent snapshot, refreshed while it runs."""
    st.fragment(_draw_progress, run_every=REFRESH_SECONDS if job.running else None)(job)


def _draw_progress(job: TrainingJob) -> None:
    progress = job.progress()
    if progress.stage == "finished":
        if st.session_state.get("shown_finish") != progress.finished:
            st.session_state["shown_finish"] = progress.finished
            st.rerun()  # a full rerun: the sidebar lists the new model, and polling stops
        show = {"completed": st.success, "stopped": st.warning}.get(progress.status, st.error)
        show(progress.message)
    else:
        done = (max(progress.epoch - 1, 0) + progress.batch / max(progress.batches_per_epoch, 1)) / progress.epochs
        text = {"starting": "Starting…", "evaluating": "Training done; evaluating on the test set…"}.get(
            progress.stage,
            f"Epoch {progress.epoch} of {progress.epochs}, batch {progress.batch} of {progress.batches_per_epoch}",
        )
        st.progress(min(done, 1.0), text=text)
        st.button("Stop", on_click=job.stop, disabled=progress.stage != "training", key="stop_training")
    if progress.history:
        st.plotly_chart(loss_curves(progress.history), key="loss_curves")
    if progress.latent_means is not None and progress.latent_means.shape[1] >= 2:
        names = list(job.dataset.class_names or [])
        figure = latent_scatter(progress.latent_means[:, :2], progress.snapshot_labels, names, ("z0", "z1"))
        figure.update_layout(height=420, title=f"Validation images in latent space, epoch {len(progress.history)}")
        st.plotly_chart(figure, key="latent_snapshot")
