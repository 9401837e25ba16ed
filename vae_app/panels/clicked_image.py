"""The clicked image beside Explore's map, answered in the browser: a Components v2 element that
hears the map's clicks itself, reads that test image's record from the app's static files and
decodes its z mean there, so the image and its reconstruction show before the server has rerun.

The server's rerun follows (the map's selection event) and brings the selection back; the element
keeps what it shows. Where the browser cannot (no records, a decoder that does not run there), the
element says so to Python, steps aside, and the page draws the clicked image on the server.
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


def clicked_image(model: LoadedModel, indices: list[int], map_key: str) -> bool:
    """Mount the element for the map keyed `map_key`, whose selection is `indices`; whether the
    browser shows a clicked image (else the caller draws it, and the prompt, on the server)."""
    records = records_for_browser(model)
    decoder = decoding(model)
    in_browser = records is not None and decoder["decoder_url"] is not None
    reported = st.session_state.get(KEY) or {}
    data = {
        "signature": f"{model.bundle.path}|{model.meta.created}",
        "module": module_url("clicked_image/clicked_image.js"),
        **decoder,
        "records": records,
        "no_records_reason": "the test images could not be written where the app serves its files",
        "map_key": map_key,
        "selection": ",".join(str(index) for index in indices),
        "class_names": model.class_names,
        "classes": model.codec.classes,
        "prompt": PROMPT,
        "note": CONDITIONAL_NOTE if model.codec.classes else "",
    }
    _ELEMENT(data=data, key=KEY, on_mode_change=lambda: None)
    return in_browser and reported.get("mode") != "server"
