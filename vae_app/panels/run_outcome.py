"""The end of a run on the Train page: how it ended, the new model's test figures (as the sidebar's
card words them), what each step took, a button that opens the model in Explore, and its losses per
epoch to download above their curves."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from vae_app.figure_formats import accuracy, nats
from vae_app.messages import plain
from vae_app.model_picker import MODEL_KEY, model_ids
from vae_app.panels.loss_charts import losses_download
from vae_app.panels.training_progress import curves_and_snapshot, scoring
from vae_app.services.jobs import JobProgress, TrainingJob
from vae_core.bundles.meta import TestMetrics
from vae_core.bundles.registry import scan_bundles

EXPLORE_PAGE = "app_pages/explore.py"


def outcome_panel(job: TrainingJob) -> None:
    """A finished run: its outcome, figures and step times, the way to its model, its curves and their CSV."""
    progress = job.progress()
    show = {"completed": st.success, "stopped": st.warning}.get(progress.status, st.error)
    show(plain(progress.message))
    for note in progress.notes:
        st.warning(plain(note))
    figures, button = st.columns([4, 1], vertical_alignment="center")
    if progress.metrics is not None and progress.metrics.neg_elbo is not None:
        test_figures(figures, progress.metrics, given=" given the label" if job.conditional else "")
    open_in_explore(button, job.out_dir, key="open_in_explore")
    st.caption(plain(_took(progress)))
    if progress.history:
        losses_download(progress.history, progress.name, key="losses_csv")
    curves_and_snapshot(progress)


def test_figures(container: DeltaGenerator, metrics: TestMetrics, given: str) -> None:
    """The test figures beside one another, with what they were measured on."""
    knn = metrics.knn_accuracy
    row = container.container(horizontal=True, gap="medium")  # wraps: two a line on a phone, not one
    row.metric(f"test −ELBO{given} (nats)", nats(metrics.neg_elbo, 1), width="content")
    row.metric(f"IW bound{given}, k={metrics.iw_samples} (nats)", nats(metrics.neg_iw_bound, 1), width="content")
    row.metric("5-NN accuracy", accuracy(knn), width="content")
    container.caption(plain(scoring(metrics)))


def open_in_explore(container: DeltaGenerator, where: Path, key: str) -> None:
    """A button that picks the bundle saved at `where` in the sidebar and opens Explore on it; none
    where no listed bundle is there."""
    model_id = model_id_at(where)
    if model_id is not None and container.button(
        "Open in Explore", type="primary", key=key, on_click=_choose, args=(model_id,)
    ):
        st.switch_page(EXPLORE_PAGE)


def model_id_at(where: Path) -> str | None:
    """The name the model picker knows the bundle at `where` by; None when none is listed there."""
    where = Path(where).resolve()
    bundles, _ = scan_bundles()
    return next((model_id for model_id, info in model_ids(bundles).items() if info.path.resolve() == where), None)


def _choose(model_id: str) -> None:
    """Pick the model in the sidebar's picker: run before the page, and its picker, are drawn again."""
    st.session_state[MODEL_KEY] = model_id


def _took(progress: JobProgress) -> str:
    """What each step of the run took, in seconds."""
    steps = progress.step_seconds()
    total = sum(seconds for _, seconds in steps)
    return f"Took {total:.0f} s: " + " · ".join(f"{step} {seconds:.1f} s" for step, seconds in steps) + "."
