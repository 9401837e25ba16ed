"""The latent pad on a page: a Components v2 element (no iframe) that decodes in the browser.

The browser fetches ONNX Runtime Web and the model's ONNX decoder from the app's own static files
(see `browser_assets`), so it works offline. Python sends the plane, the test set's points as the
pad's background, and the current z; the pad sends z back only when the pointer is released (or a
key or slider let go), so the page follows without a rerun on every move. Where the browser cannot
decode, the pad says so and shows the server's picture of z in the same place.

The pad's script is a set of small ES modules under `static/latent_pad/` (geometry, drawing, decoder,
input, and `pad.js` wiring them). The benchmark's hooks (`benchmark.js`) load only on a page that
asks for them (`window.__latentPadBenchmark`, set before the pad mounts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from vae_app.figures import CLASS_SYMBOLS, class_colours
from vae_app.model_picker import LoadedModel
from vae_app.panels.browser_assets import ELEMENT_ENTRY, decoding, module_url
from vae_app.pictures import png_data_url
from vae_app.theme import page_theme
from vae_core.analysis.latent_tools import Plane, plane_ranges

# Enough test points to show the classes' shapes; more only slows the pad's first drawing.
MAX_BACKGROUND_POINTS = 4000
HTML = """
<div class="latent-pad" data-mode="loading">
  <p class="status" role="status"></p>
  <div class="row">
    <div>
      <canvas class="pad" tabindex="0" role="img"
        aria-label="Latent pad: the test set's latent means by class; move, drag or use the arrow keys"></canvas>
      <p class="legend"></p>
    </div>
    <div class="output">
      <canvas class="picture" role="img" aria-label="What the decoder draws at this point"></canvas>
      <p class="readout" aria-live="polite"></p>
    </div>
  </div>
  <div class="dimensions"></div>
</div>
"""
_PAD = st.components.v2.component(
    "latent_pad",
    html=HTML,
    css=(Path(__file__).with_suffix(".css")).read_text(encoding="utf-8"),
    js=ELEMENT_ENTRY,
)


def latent_pad(
    model: LoadedModel,
    plane: Plane,
    axis_titles: tuple[str, str],
    z: np.ndarray,
    key: str,
    fallback: str,
    label: int | None = None,
) -> list | None:
    """Mount the pad for `model` on `plane` at latent point `z`; the z the user released at, or None.

    `fallback` tells the person what the page does instead where the browser cannot decode; `label`
    is the class a conditional model decodes (a plain model has none)."""
    atlas = model.bundle.atlas
    coords = plane.project(atlas.z_mean)
    decoder = decoding(model)
    reported = st.session_state.get(key) or {}  # the pad's state as it last sent it, this run's release too
    # The pad reports "server" once the browser has failed to decode; a decoder that could not be
    # made is known here first.
    on_server = decoder["decoder_url"] is None or reported.get("mode") == "server"
    pictured = np.asarray(reported["z"] if reported.get("z") is not None else z, dtype=np.float64)
    data = {
        # A new model, plane or theme gets a new pad (background, ranges, sliders); a new z only moves it.
        "signature": f"{model.bundle.path}|{model.meta.created}|{plane.fingerprint}|{page_theme()}",
        **decoder,
        "fallback": fallback,
        "module": module_url("latent_pad/pad.js"),
        "axes": np.round(plane.axes, 6).tolist(),
        "base": np.round(plane.base, 6).tolist(),
        "is_line": plane.is_line,
        "ranges": np.round(plane_ranges(coords), 4).tolist(),
        "axis_titles": list(axis_titles),
        # One slider per latent dimension, over where the test set lies on it.
        "dimension_ranges": np.round(plane_ranges(atlas.z_mean), 4).tolist(),
        "background": _background(model, coords),
        "z": np.asarray(z, dtype=np.float64).round(6).tolist(),
        # A conditional decoder's second input; a new class redraws the pad's picture at the same z.
        "condition": model.codec.condition(label, 1)[0].tolist() if model.codec.classes else None,
        "server_picture": png_data_url(model.codec.decode(pictured, label)[0]) if on_server else None,
        "crosshair_colour": "#e040fb",
        "hover_colour": "#888888",
    }
    result = _PAD(data=data, key=key, on_z_change=lambda: None, on_mode_change=lambda: None)
    return result.z


def _background(model: LoadedModel, coords: np.ndarray) -> dict[str, list]:
    """Up to `MAX_BACKGROUND_POINTS` test images, spread over the test set, where they sit on the
    plane, with their classes' colours (for the theme the page shows), symbols and names."""
    atlas = model.bundle.atlas
    shown = np.linspace(0, len(coords) - 1, min(len(coords), MAX_BACKGROUND_POINTS)).astype(int)
    labels = atlas.labels[shown] if atlas.labels is not None else np.zeros(len(shown), int)
    return {
        "points": np.round(coords[shown], 3).tolist(),
        "labels": labels.astype(int).tolist(),
        "colours": list(class_colours()),
        "symbols": list(CLASS_SYMBOLS),
        "names": model.class_names if atlas.labels is not None else [],
    }
