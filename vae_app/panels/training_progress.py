"""The Train page's shared state and live view: the process-wide job board, who started a run,
and the panel that redraws a running run's progress every second."""

from __future__ import annotations

import hashlib
import itertools
import uuid

import streamlit as st

from vae_app.figures import latent_scatter
from vae_app.messages import plain
from vae_app.panels.loss_charts import loss_charts
from vae_app.services.jobs import PREPARING, SAVING, JobBoard, JobProgress, TrainingJob
from vae_core.analysis.evaluation_budget import SCORING_SHARE
from vae_core.bundles.meta import TestMetrics

REFRESH_SECONDS = 1.0
SNAPSHOT_HEIGHT = 420
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
    """A running run's progress, loss curves and latent snapshot, redrawn every second until it ends."""
    st.fragment(_draw_progress, run_every=REFRESH_SECONDS)(job)


def _draw_progress(job: TrainingJob) -> None:
    progress = job.progress()
    if progress.stage == "finished":
        st.rerun()  # a full rerun: the sidebar lists the new model, the outcome shows, and polling stops
    st.progress(*_bar(progress))
    if progress.stage == "evaluating":
        st.caption(
            f"A quick run's importance-weighted bound and 5-NN accuracy score some of its test images only,"
            f" spread evenly over them: as many as fit in {SCORING_SHARE:.0%} of the training time. The ELBO takes"
            " every one."
        )
    for note in progress.notes:
        st.warning(plain(note))
    _stop_button(job, progress.stage)
    curves_and_snapshot(progress)


def _bar(progress: JobProgress) -> tuple[float, str]:
    """The progress bar's share done and its text: the step under way, in words."""
    if progress.stage == "evaluating":
        if progress.step in (PREPARING, SAVING):
            return progress.evaluated, f"{progress.step.capitalize()}…"
        return progress.evaluated, f"Evaluating on the test set: {progress.step}, {progress.evaluated:.0%}"
    if progress.stage == "starting":
        return 0.0, f"{progress.step.capitalize()}…"  # opening the data, then building the model
    done = (max(progress.epoch - 1, 0) + progress.batch / max(progress.batches_per_epoch, 1)) / progress.epochs
    where = f"Epoch {max(progress.epoch, 1)} of {progress.epochs}"
    if progress.batch == 0 and progress.epoch <= 1:
        return 0.0, f"{where}: compiling the training step…"
    return min(done, 1.0), f"{where}, batch {progress.batch} of {progress.batches_per_epoch}"


def scoring(metrics: TestMetrics) -> str:
    """What the evaluation measured on how many test images, in a sentence."""
    knn = metrics.knn_accuracy is not None
    if metrics.scored_images is None or metrics.scored_images >= metrics.images:
        figures = ["The ELBO", f"the importance-weighted bound (k = {metrics.iw_samples})"]
        figures += ["the 5-NN accuracy"] if knn else []
        return f"{', '.join(figures[:-1])} and {figures[-1]} on all {metrics.images:,} test images."
    return (
        f"The ELBO and the importance-weighted bound (k = {metrics.iw_samples}) of all {metrics.images:,} test"
        f" images, the bound's samples drawn for {metrics.scored_images:,} of them spread evenly (the rest's"
        f" follows from their ELBO){' and the 5-NN accuracy on those' if knn else ''}: as many as fit in"
        f" {SCORING_SHARE:.0%} of the training time."
    )


def curves_and_snapshot(progress: JobProgress) -> None:
    """The loss curves, one chart per term, then the latest latent snapshot: side by side on a wide
    screen, one above another on a phone (`st.columns` stacks there)."""
    if progress.history:
        loss_charts(progress.history, key="loss")
    if progress.latent_means is not None and progress.latent_means.shape[1] >= 2:
        names = list(progress.class_names or [])
        figure = latent_scatter(progress.latent_means[:, :2], progress.snapshot_labels, names, ("z0", "z1"))
        figure.update_layout(
            height=SNAPSHOT_HEIGHT, title=f"Validation images in latent space, epoch {len(progress.history)}"
        )
        st.plotly_chart(figure, key="latent_snapshot", alt="Validation images' latent means by class, this epoch")


def _stop_button(job: TrainingJob, stage: str) -> None:
    """Stop, for the session that started the run; the others are told whose run it is."""
    if job.owner != owner_token():
        st.caption("Started from another browser: only that browser can stop it.")
        return
    help_text = "Saves the model without test metrics." if stage == "evaluating" else "Keeps what was learned so far."
    st.button("Stop", on_click=job.stop, disabled=stage == "starting", key="stop_training", help=help_text)
