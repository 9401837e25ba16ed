"""Home's "Share a model": a listed model's bundle as one .zip, made only when its button is clicked,
and a shared .zip added to your models under a name you choose, once it passes the checks every listed
bundle passes (`vae_core.bundles.sharing`). Free of Keras, as Home is."""

from __future__ import annotations

import streamlit as st

from vae_app.messages import plain
from vae_app.model_picker import CHOSEN_KEY, model_ids
from vae_core.bundles.files import BundleError
from vae_core.bundles.registry import MAX_NAME_LENGTH, BundleInfo, user_models_dir
from vae_core.bundles.sharing import MAX_ZIP_BYTES, pack_bundle, suggested_name, unpack_bundle

ADDED_KEY = "shared_model_added"  # the model just added, for the line that says so after the rerun
UPLOADS_KEY = "shared_model_uploads"  # models added so far: each gets a fresh, empty uploader


def share_a_model(bundles: list[BundleInfo]) -> None:
    """A listed model to download beside a shared one to add."""
    st.subheader("Share a model")
    give, take = st.columns(2, gap="large")
    with give:
        offer_download(bundles)
    with take:
        offer_upload(bundles)


def offer_download(bundles: list[BundleInfo]) -> None:
    """A model to pick, the sidebar's by default, and its bundle as a .zip, packed when clicked."""
    if not bundles:
        st.caption("No model to share yet.")
        return
    by_id, chosen = model_ids(bundles), st.session_state.get(CHOSEN_KEY)
    current = next((index for index, info in enumerate(by_id.values()) if chosen and info.path == chosen.path), 0)
    picked_id = st.selectbox("Model to share", list(by_id), index=current)
    picked = by_id[picked_id]
    st.download_button(
        "Download as .zip",
        lambda: pack_bundle(picked.path),
        file_name=f"{picked.name}.zip",
        mime="application/zip",
        on_click="ignore",
        icon=":material/download:",
        key=f"share:{picked_id}",
    )
    st.caption(
        "The model's folder as one file: the model, its figures and test-set atlas, its decoder for browsers"
        " and its training replay. Add it to another VAE Explorer here, or with `vae-bundles unpack`."
    )


def offer_upload(bundles: list[BundleInfo]) -> None:
    """An uploader for a shared .zip, the name to add it under (the zip's, or the next free one), and
    the button that adds it; the app then reruns so the sidebar and the table list it."""
    added_so_far = st.session_state.get(UPLOADS_KEY, 0)
    # Streamlit refuses any upload past server.maxUploadSize whatever a widget says: say no more here.
    limit_mb = min(MAX_ZIP_BYTES // 2**20, st.get_option("server.maxUploadSize"))
    upload = st.file_uploader(
        "Add a shared model (.zip)", type="zip", max_upload_size=limit_mb, key=f"shared_upload:{added_so_far}"
    )
    if (added := st.session_state.pop(ADDED_KEY, None)) is not None:
        st.success(plain(f"Added {added}: it is in the Models table and the sidebar's list."))
    if upload is None:
        return
    data = upload.getvalue()
    try:
        suggested = suggested_name(data, upload.name, taken_names(bundles))
    except BundleError as error:
        st.error(plain(str(error)))
        return
    name = st.text_input(
        "Name",
        suggested,
        max_chars=MAX_NAME_LENGTH,
        key=f"shared_name:{upload.file_id}",
        help="Lower-case letters, digits, '-', '_' and '.'; anything else becomes '-'.",
    )
    if not st.button("Add the model", type="primary", key=f"shared_add:{upload.file_id}"):
        return
    try:
        with st.spinner("Checking and adding the model…"):
            path = unpack_bundle(data, user_models_dir(), name, label=upload.name)
    except BundleError as error:
        st.error(plain(str(error)))
        return
    st.session_state[ADDED_KEY], st.session_state[UPLOADS_KEY] = path.name, added_so_far + 1
    st.rerun()  # the sidebar's picker, drawn before this page, lists the new model on the next run


def taken_names(bundles: list[BundleInfo]) -> set[str]:
    """Names a new model should not take: every listed model's (the pretrained ones' too, so no two
    rows read alike) and everything in the models folder, usable or not."""
    folder = user_models_dir()
    present = {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()
    return present | {info.name for info in bundles}
