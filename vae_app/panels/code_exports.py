"""Explore's downloads of what the map shows: the test set's latent codes, or the selection's, as CSV
and NPZ, and the files TensorFlow's Embedding Projector opens. Each file is made only when its
button is clicked."""

from __future__ import annotations

import streamlit as st

from vae_app.image_scores import scores_of_test_images
from vae_app.model_picker import LoadedModel
from vae_core.exports.latent_codes import LatentCodes, latent_codes
from vae_core.exports.projector import projector_zip
from vae_core.wording import count

# Each file of codes offered: its extension, its media type, and how the codes are written to it.
FORMATS = (("csv", "text/csv", LatentCodes.to_csv), ("npz", "application/octet-stream", LatentCodes.to_npz))


def code_exports(model: LoadedModel, indices: list[int]) -> None:
    """Download buttons for `model`'s codes: every test image's, the selected `indices`' if any, and
    the Embedding Projector's zip."""
    atlas, scores, name = model.bundle.atlas, scores_of_test_images(model), model.bundle.path.name
    st.caption(
        "Each test image's index, label, z mean and standard deviation, reconstruction error and negative"
        " ELBO (nats): as CSV for a spreadsheet or pandas, as NPZ for `numpy.load`."
    )
    groups = [("every test image", None, f"{name}-codes")]
    if indices:
        groups.append((f"the {count(len(indices), 'selected image')}", indices, f"{name}-selection-codes"))
    for described, chosen, stem in groups:
        row = st.container(horizontal=True, gap="small")
        for kind, mime, encode in FORMATS:
            row.download_button(
                f"{kind.upper()} of {described}",
                lambda chosen=chosen, encode=encode: encode(latent_codes(atlas, scores, chosen)),
                file_name=f"{stem}.{kind}",
                mime=mime,
                on_click="ignore",
                key=f"codes:{stem}.{kind}",
            )
    st.download_button(
        "Embedding Projector files (zip)",
        lambda: projector_zip(latent_codes(atlas, scores), atlas.images, model.class_names),
        file_name=f"{name}-projector.zip",
        mime="application/zip",
        on_click="ignore",
        key=f"codes:{name}-projector.zip",
    )
    st.caption(
        "Unzip it into a folder and run `tensorboard --logdir FOLDER`: the Projector tab shows every test"
        " image at its z mean, with its picture and label. projector.tensorflow.org loads its two TSV files."
    )
