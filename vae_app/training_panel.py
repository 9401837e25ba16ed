"""The Train page's shared state and live view: the process-wide job board, who started a run,
and the panel that redraws a run's progress every second."""

from __future__ import annotations

import hashlib
import itertools
import uuid

import streamlit as st

from vae_app.figures import latent_scatter, loss_curves
from vae_app.messages import plain
from vae_app.services.jobs import JobBoard, TrainingJob

REFRESH_SECONDS = 1.0
SESSION_KEY = "training_session"
XSRF_COOKIE = "_streamlit_xsrf"
# One board per server process: every session sees, and cannot duplicate, the running job. Not in
# st.cache_resource: clearing Streamlit's caches (the "C" key) would drop a running job from view.
_BOARD = JobBoard()


def job_board() -> JobBoard:
    """The server process's job board."""
    return _BOARD


def owner_token() -> str:
    """Names this browser to the runs it starts: only it can stop them, and a reload keeps it the same.

    The name is derived from Streamlit's XSRF cookie, which the browser keeps across reloads and
    no link carries; without that cookie (XSRF protection off, tests) it is this session's own.
    """
    return _browser_token(st.context.cookies.get(XSRF_COOKIE)) or st.session_state.setdefault(
        SESSION_KEY, uuid.uuid4().hex
    )


def _browser_token(cookie: str | None) -> str | None:
    """A hash of the token inside Tornado's XSRF cookie ("2|mask|masked token|time"): the mask
    changes with every page load, the token it hides does not."""
    try:
        _, mask, masked, _ = (cookie or "").split("|")
        token = bytes(a ^ b for a, b in zip(bytes.fromhex(masked), itertools.cycle(bytes.fromhex(mask))))
    except ValueError:
        return None
    return hashlib.sha256(token).hexdigest() if token else None


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
        show(plain(progress.message))
    elif progress.stage == "evaluating":
        st.progress(progress.evaluated, text=f"Training done; evaluating on the test set: {progress.evaluated:.0%}")
    else:
        done = (max(progress.epoch - 1, 0) + progress.batch / max(progress.batches_per_epoch, 1)) / progress.epochs
        text = f"Epoch {progress.epoch} of {progress.epochs}, batch {progress.batch} of {progress.batches_per_epoch}"
        st.progress(min(done, 1.0), text="Opening the data…" if progress.stage == "starting" else text)
    for note in progress.notes:
        st.warning(plain(note))
    if progress.stage != "finished":
        _stop_button(job, progress.stage)
    if progress.history:
        st.plotly_chart(
            loss_curves(progress.history),
            key="loss_curves",
            alt="Total, reconstruction and KL loss per epoch, training and validation",
        )
    if progress.latent_means is not None and progress.latent_means.shape[1] >= 2:
        names = list(progress.class_names or [])
        figure = latent_scatter(progress.latent_means[:, :2], progress.snapshot_labels, names, ("z0", "z1"))
        figure.update_layout(height=420, title=f"Validation images in latent space, epoch {len(progress.history)}")
        st.plotly_chart(figure, key="latent_snapshot", alt="Validation images' latent means by class, this epoch")


def _stop_button(job: TrainingJob, stage: str) -> None:
    """Stop, for the session that started the run; the others are told whose run it is."""
    if job.owner != owner_token():
        st.caption("Started from another browser: only that browser can stop it.")
        return
    help_text = "Saves the model without test metrics." if stage == "evaluating" else "Keeps what was learned so far."
    st.button("Stop", on_click=job.stop, disabled=stage == "starting", key="stop_training", help=help_text)
