"""The clicked image beside Explore's map, answered in the browser: a Components v2 element that
hears the map's clicks itself, reads that test image's record from the app's static files and
decodes its z mean there, so the image and its reconstruction show before the server has rerun.

The element tells Python of the click once its answer is painted (a rerun asked for at the click
would hold the page's main thread before the answer reached the screen); the server's rerun brings
the selection back, and the element keeps what it shows. Box and lasso selections stay the chart's.
Where the browser cannot (no records, a decoder that does not run there), the element says so to
Python, steps aside, and the page draws the clicked image on the server.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_app.panels.browser_assets import ELEMENT_ENTRY, decoding, module_url, records_for_browser

KEY = "explore_clicked_image"
HTML = """
<div class="clicked-image" data-mode="loading">
  <div class="prompt" role="status"><p class="ask"></p><p class="note"></p></div>
  <div class="pair" hidden>
    <figure>
      <canvas class="test-image" role="img" aria-label="The clicked test image"></canvas>
      <figcaption class="image-caption"></figcaption>
    </figure>
    <figure>
      <canvas class="reconstruction" role="img" aria-label="Its reconstruction from its latent mean"></canvas>
      <figcaption>reconstruction from its latent mean</figcaption>
    </figure>
  </div>
  <dl class="numbers" hidden>
    <div><dt>z mean</dt><dd class="z-mean"></dd></div>
    <div><dt>z std</dt><dd class="z-std"></dd></div>
    <div><dt>reconstruction error</dt><dd><span class="error"></span> (mean squared)</dd></div>
  </dl>
</div>
"""
_ELEMENT = st.components.v2.component(
    "clicked_image",
    html=HTML,
    css=Path(__file__).with_suffix(".css").read_text(encoding="utf-8"),
    js=ELEMENT_ENTRY,
)
PROMPT = "Click a point to see that image and its reconstruction here; drag a box or lasso to see a group."
CONDITIONAL_NOTE = (
    "This model is conditional: it is given each image's label, so z is left to hold the style"
    " (slant, stroke, width), and the classes overlap on this map by design."
)


def map_selection(model: LoadedModel, group: list[int]) -> list[int]:
    """The map's selection: the point the element reports clicked in this run, else the chart's box or
    lasso `group` where it changed since the last run, else the selection as it was. Kept per model."""
    memory = st.session_state.setdefault(f"explore_selection:{model.bundle.path}", {"group": [], "selection": []})
    click = (st.session_state.get(KEY) or {}).get("click")
    if isinstance(click, dict) and click.get("signature") == _signature(model):
        index = click.get("index")
        valid = isinstance(index, int) and 0 <= index < len(model.bundle.atlas.z_mean)
        memory["selection"] = [index] if valid else []  # a page's report is checked like any input
    elif group != memory["group"]:
        memory["selection"] = group
    memory["group"] = group
    return memory["selection"]


def _signature(model: LoadedModel) -> str:
    return f"{model.bundle.path}|{model.meta.created}"


def answered_in_browser(model: LoadedModel) -> bool:
    """Whether the element can answer clicks on `model`'s map: its records and decoder are served, and
    the browser has not said it cannot. Else the chart's own point selection takes the clicks, and the
    page draws the clicked image on the server."""
    usable = records_for_browser(model) is not None and decoding(model)["decoder_url"] is not None
    return usable and (st.session_state.get(KEY) or {}).get("mode") != "server"


def clicked_image(model: LoadedModel, indices: list[int], map_key: str) -> None:
    """Mount the element for the map keyed `map_key`, whose selection is `indices`."""
    data = {
        "signature": _signature(model),
        "module": module_url("clicked_image/clicked_image.js"),
        **decoding(model),
        "records": records_for_browser(model),
        "map_key": map_key,
        "selection": ",".join(str(index) for index in indices),
        "class_names": model.class_names,
        "classes": model.codec.classes,
        "prompt": PROMPT,
        "note": CONDITIONAL_NOTE if model.codec.classes else "",
    }
    _ELEMENT(data=data, key=KEY, on_mode_change=lambda: None, on_click_change=lambda: None)
