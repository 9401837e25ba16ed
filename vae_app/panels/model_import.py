"""The Import page's form and outcome: an encoder and a decoder (.keras or .onnx) with the data to
explore them on become a bundle in the models folder (`vae_core.imports`), measured while a progress
bar moves where the form was sent; the outcome, with Open in Explore, stays until the next import."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from vae_app.messages import plain
from vae_app.model_picker import pick_on_the_next_run
from vae_app.panels.run_outcome import open_in_explore, test_figures
from vae_app.panels.train_form import data_widgets
from vae_core.bundles.files import BundleError
from vae_core.bundles.registry import safe_model_name, user_models_dir
from vae_core.data.datasets import DatasetError, DatasetUnavailable
from vae_core.data.source import DataSource

OUTCOME_KEY = "imported_model"  # (bundle folder, meta) of the last import, shown until the next
DECODER_OUTPUTS = {
    "auto": "Find out (decode prior samples)",
    "logits": "Logits (no sigmoid at its end)",
    "intensities": "Intensities in [0, 1]",
}
SUFFIXES = ["keras", "onnx"]


def import_form() -> None:
    """The files, the data, what the decoder gives and the name; on Import, the import itself."""
    with st.form("import_settings"):
        files, data_column = st.columns(2, gap="large")
        encoder = files.file_uploader("Encoder (.keras or .onnx): images to z mean and log variance", type=SUFFIXES)
        decoder = files.file_uploader("Decoder (.keras or .onnx): z to the image", type=SUFFIXES)
        output = files.radio("The decoder gives", list(DECODER_OUTPUTS), format_func=DECODER_OUTPUTS.get)
        name = files.text_input("Model name", "imported-vae")
        data = data_widgets(data_column)
        if not st.form_submit_button("Import", type="primary"):
            return
    if encoder is None or decoder is None:
        st.error("Choose both files: the encoder and the decoder.")
        return
    with tempfile.TemporaryDirectory(prefix="vae-import-upload-") as folder:
        given = [_saved(upload, Path(folder) / role) for role, upload in (("encoder", encoder), ("decoder", decoder))]
        _run_import(given, data, output, user_models_dir() / safe_model_name(name), Path(folder))


def _saved(upload: UploadedFile, folder: Path) -> Path:
    """The upload written under its own file name (kept in the bundle's meta.json), in a folder of its own."""
    folder.mkdir()
    path = folder / (Path(upload.name).name or "model")
    path.write_bytes(upload.getvalue())
    return path


def _run_import(given: list[Path], data: Callable[[], DataSource], output: str, out_dir: Path, scratch: Path) -> None:
    """Open the data, import with a progress bar, and keep the outcome for the rerun that lists the model."""
    from vae_core.imports.importer import ImportRequest, import_model  # imports Keras: only when asked

    bar = st.progress(0.0, text="Opening the data…")
    try:
        dataset = data().open(seed=0, unpack_to=scratch / "data")
        request = ImportRequest(given[0], given[1], out_dir, decoder_output=output)
        meta = import_model(request, dataset, progress=lambda done, step: bar.progress(min(done, 1.0), text=f"{step}…"))
    except (BundleError, DatasetError, DatasetUnavailable, ValueError) as error:
        bar.empty()
        st.error(plain(str(error)))
        return
    st.session_state[OUTCOME_KEY] = (out_dir, meta)
    pick_on_the_next_run(out_dir)
    st.rerun()  # the sidebar lists the new model, picked


def import_outcome() -> None:
    """The last import's figures and the way to explore it."""
    if OUTCOME_KEY not in st.session_state:
        return
    out_dir, meta = st.session_state[OUTCOME_KEY]
    size, output = meta.model.latent_dim, meta.imported.decoder_output
    st.success(plain(f"Imported as {out_dir.name}: latent size {size}, its decoder gives {output}."))
    st.caption(plain(meta.training.message))
    figures, button = st.columns([4, 1], vertical_alignment="center")
    test_figures(figures, meta.test_metrics, given=" given the label" if meta.model.classes else "")
    open_in_explore(button, out_dir, key="open_imported_in_explore")
