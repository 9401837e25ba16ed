"""A UMAP or t-SNE map of a model's test codes, as Explore shows it: the coordinates once the map is
made, its progress until then (redrawn every second, the page drawn again once it is made), or why
it could not be made, with a way to try again."""

from __future__ import annotations

import numpy as np
import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_app.services.map_jobs import MapJobs, MapState
from vae_core.analysis.code_maps import METHODS
from vae_core.bundles.registry import cache_dir

REFRESH_SECONDS = 1.0
# One per server process, like the training job board: every session sees the map being made.
_JOBS = MapJobs()


def made_map(model: LoadedModel, method: str, dimensions: int = 2) -> np.ndarray | None:
    """The map's coordinates (n, dimensions), said in a caption; None while it is being made or if it
    failed, said in its place."""
    state = _state(model, method, dimensions)
    name, count = _name(method, dimensions), len(model.bundle.atlas.z_mean)
    if state.coords is not None:
        st.caption(
            f"{name} of the {count:,} test codes, made once in {state.seconds:.0f} s and kept for this model."
            " Codes near each other in z stay near; the distances between groups mean little."
        )
        return state.coords
    if state.error is not None:
        st.error(f"The {name} map could not be made: {state.error}")
        again = (cache_dir(), model.bundle.atlas.z_mean, method, dimensions)
        st.button("Try again", key=f"map_retry_{method}_{dimensions}", on_click=_JOBS.forget_failure, args=again)
        return None
    st.fragment(_progress, run_every=REFRESH_SECONDS)(model, method, dimensions)
    return None


def _name(method: str, dimensions: int) -> str:
    return METHODS[method] + (" in 3-D" if dimensions == 3 else "")


def _state(model: LoadedModel, method: str, dimensions: int) -> MapState:
    return _JOBS.state(cache_dir(), model.bundle.atlas.z_mean, method, dimensions)


def _progress(model: LoadedModel, method: str, dimensions: int) -> None:
    """The map's progress, until it is made or fails: then the whole page is drawn again with it."""
    state = _state(model, method, dimensions)
    if state.coords is not None or state.error is not None:
        st.rerun()
    name, count = _name(method, dimensions), len(model.bundle.atlas.z_mean)
    if state.waiting:
        st.info(f"The {name} map waits for another map being made to finish: one is made at a time.")
        return
    progress = state.progress
    steps = f", step {progress.done:,} of {progress.total:,}" if progress.total else ""
    st.progress(
        progress.done / progress.total if progress.total else 0.0,
        text=f"Making the {name} map of the {count:,} test codes: {progress.stage}{steps}"
        f" ({state.seconds:.0f} s so far). It is made once, then kept for this model.",
    )
