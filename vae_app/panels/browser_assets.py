"""What the page's browser-side elements fetch from the app's own static files (`static/`, served at
`app/static/`): ONNX Runtime Web, each model's decoder and test-set records, and the elements' ES
modules. Addresses are relative, resolved against the page in the browser: offline, and under any
`server.baseUrlPath`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from vae_app.model_picker import LoadedModel
from vae_app.services.browser_decoders import DecoderUnavailable, served_decoder
from vae_app.services.browser_records import record_layout, served_records

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"  # beside streamlit_app.py
STATIC_URL = "app/static"
ORT_MODULE = "vendor/onnxruntime-web/ort.wasm.bundle.min.mjs"
ORT_WASM = "vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm"
# The registered script of every browser-side element: it imports the element's module (`module_url`).
ELEMENT_ENTRY = (Path(__file__).resolve().parent / "browser_element.js").read_text(encoding="utf-8")


def module_url(path: str) -> str:
    """The address of an element's ES module, `path` within `static/`."""
    return f"{STATIC_URL}/{path}"


@st.cache_resource(max_entries=16, show_spinner="Preparing the model's decoder for your browser…")
def _decoder_url(path: str, created: str, _model: LoadedModel) -> tuple[str | None, str]:
    """(URL, "") of a decoder the browser can fetch, or (None, why not); once per saved bundle."""
    try:
        name = served_decoder(Path(path), _model.bundle.model, STATIC_DIR / "decoders")
    except DecoderUnavailable as error:
        return None, str(error)
    return f"{STATIC_URL}/decoders/{name}", ""


def decoding(model: LoadedModel) -> dict[str, object]:
    """What an element needs to decode `model`'s z in the browser: ONNX Runtime Web, the decoder's
    address (None, with the reason, where there is none) and the image's shape."""
    url, reason = _decoder_url(str(model.bundle.path), model.meta.created, model)
    return {
        "decoder_url": url,
        "no_decoder_reason": reason,
        "ort_module": f"{STATIC_URL}/{ORT_MODULE}",
        "ort_wasm": f"{STATIC_URL}/{ORT_WASM}",
        "image_shape": list(model.bundle.model.image_shape),
    }


@st.cache_resource(max_entries=16, show_spinner=False)
def _records_url(path: str, created: str, _model: LoadedModel) -> str | None:
    """The address of the model's test-set records, or None where they cannot be written here."""
    try:
        return f"{STATIC_URL}/records/{served_records(Path(path), _model.bundle.atlas, STATIC_DIR / 'records')}"
    except OSError:  # a read-only app folder, a full disk: the server draws the clicked image instead
        return None


def records_for_browser(model: LoadedModel) -> dict[str, object] | None:
    """Where the browser reads `model`'s test images one at a time, and how a record is laid out;
    None where it cannot (the page draws them on the server)."""
    url = _records_url(str(model.bundle.path), model.meta.created, model)
    atlas = model.bundle.atlas
    layout = record_layout(atlas.z_mean.shape[1], model.bundle.model.image_shape)
    return None if url is None else {"url": url, "count": len(atlas.z_mean), **layout}
