"""The model picked in the sidebar, loaded once per process and shared by every session.

Picking reads only the bundles' meta.json; TensorFlow is imported and the model loaded on first
use, so pages without a model (Home, Train) show before TensorFlow has even been imported.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from vae_app.figure_formats import accuracy, nats
from vae_app.messages import plain
from vae_core.bundles.files import BundleError
from vae_core.bundles.registry import BundleInfo, scan_bundles
from vae_core.wording import abridged, count

if TYPE_CHECKING:
    from vae_core.bundles.bundle import Bundle
    from vae_core.bundles.meta import BundleMeta
    from vae_core.model.codec import LatentCodec

# Why a conditional model's figures sit apart from a plain model's, for the tables that
# list both (Home's among them, which shows before Keras is imported).
CONDITIONAL_FIGURES = (
    "A conditional model's figures are given each image's label: bounds on −log p(x | label), not −log p(x)"
    " (knowing the label is worth up to log 10 ≈ 2.3 nats per image for ten equally common classes)."
)

MODEL_KEY = "model_name"
MODEL_PARAM = "model"
CHOSEN_KEY = "chosen_model"
FORMAT_NAMES = {"keras": "Keras", "onnx": "ONNX"}  # an imported model's files, as the card names them
PENDING_KEY = "model_to_pick"  # a bundle's path, picked on the next run (`pick_on_the_next_run`)
DEFAULT_MODEL = "mnist-conv-2d"


@dataclass(frozen=True)
class LoadedModel:
    """A bundle with its compiled codec. Shared across sessions: never mutate it."""

    bundle: Bundle
    codec: LatentCodec

    @property
    def meta(self) -> BundleMeta:
        return self.bundle.meta

    @property
    def class_names(self) -> list[str]:
        """A name for every label in the atlas and every class a conditional model knows: the
        dataset's names, then numbers for labels past them."""
        names = list(self.meta.dataset.class_names or ())
        labels = self.bundle.atlas.labels
        classes = max(int(labels.max()) + 1 if labels is not None else 0, self.codec.classes)
        return names + [str(label) for label in range(len(names), classes)]

    def labels_at(self, indices: int | list[int] | np.ndarray) -> np.ndarray | None:
        """The test images' labels at `indices`, for a conditional model's codec; None for unlabelled data."""
        labels = self.bundle.atlas.labels
        return None if labels is None else labels[indices]

    def label_name(self, index: int) -> str:
        """The class name of test image `index`, or '-' for unlabelled data."""
        labels = self.bundle.atlas.labels
        return "-" if labels is None else self.class_names[int(labels[index])]


@st.cache_resource(max_entries=16, show_spinner="Loading the model…")
def shared_model(path: str, created: str) -> LoadedModel:
    """Load a bundle and compile its codec; `created` is in the key so a re-saved bundle reloads."""
    from vae_core.bundles.bundle import load_bundle  # imports TensorFlow: only once a model is needed
    from vae_core.model.onnx_codec import codec_for

    bundle = load_bundle(path)
    # Pictures for the eye: bfloat16 where the processor has it, which decodes grids faster.
    loaded = LoadedModel(bundle, codec_for(bundle.model, decode_precision="auto"))
    # Streamlit ends every script run, fragment runs included, with a full garbage collection
    # (its postScriptGC, and keras.backend.clear_session). With TensorFlow and a model in memory
    # that walk is slow, and holds the GIL while the browser waits for the new picture. Freezing
    # what is alive now takes it out of every later collection. No collection first: it would
    # delay the first page to free a few objects, which instead stay in memory, frozen with the
    # rest, once per model loaded.
    gc.freeze()
    return loaded


def model_picker() -> BundleInfo | None:
    """Sidebar: choose a bundle, see its card. Returns the choice, or None when there is none."""
    bundles, unusable = scan_bundles()
    if unusable:
        st.sidebar.warning(plain(f"{count(len(unusable), 'model')} cannot be used; Home says why."))
    if not bundles:
        st.sidebar.info("No models yet: train one on the Train page.")
        st.session_state[CHOSEN_KEY] = None
        return None
    by_id = model_ids(bundles)
    pending = st.session_state.pop(PENDING_KEY, None)
    picked = next((model_id for model_id, info in by_id.items() if pending and info.path == pending), None)
    if picked is not None:
        st.session_state[MODEL_KEY] = picked
    elif st.session_state.get(MODEL_KEY) not in by_id:
        st.session_state[MODEL_KEY] = _first_choice(by_id)
    chosen = st.sidebar.selectbox("Model", list(by_id), key=MODEL_KEY, format_func=lambda i: _label(by_id[i]))
    st.query_params[MODEL_PARAM] = chosen  # the address names the view: a copied link opens it
    info = by_id[chosen]
    _model_card(info)
    st.session_state[CHOSEN_KEY] = info
    return info


def pick_on_the_next_run(path: Path) -> None:
    """Have the picker choose the bundle at `path` when it is drawn next: for a page that has just
    saved one, after the picker of this run is drawn (its key cannot change then)."""
    st.session_state[PENDING_KEY] = Path(path)


def model_ids(bundles: list[BundleInfo]) -> dict[str, BundleInfo]:
    """The bundles by the name a link uses: the directory name; a model of yours named like a
    pretrained one is told apart as 'NAME (yours)'."""
    pretrained = {info.name for info in bundles if info.pretrained}
    return {
        (f"{info.name} (yours)" if not info.pretrained and info.name in pretrained else info.name): info
        for info in bundles
    }


def _first_choice(by_id: dict[str, BundleInfo]) -> str:
    """The model a new session starts on: the one its link names, else the flagship, else the newest."""
    wanted = st.query_params.get(MODEL_PARAM)
    if wanted in by_id:
        return wanted
    if wanted is not None:
        st.sidebar.warning(plain(f"The link names a model, {abridged(wanted)!r}, that is not here; showing another."))
    return DEFAULT_MODEL if DEFAULT_MODEL in by_id else next(iter(by_id))


def current_model() -> LoadedModel | None:
    """The model picked in this run (the entry point runs the picker before every page), loaded on
    first use in this process; None when there is no model. A model that fails to load is named
    with the reason, and the page stops there."""
    info: BundleInfo | None = st.session_state.get(CHOSEN_KEY)
    return None if info is None else load_or_stop(info, info.name, "Pick another model in the sidebar.")


def load_or_stop(info: BundleInfo, name: str, advice: str) -> LoadedModel:
    """The bundle's model, loaded once per process; one that fails to load is named with the reason
    and `advice`, and the page stops there."""
    try:
        return shared_model(str(info.path), info.meta.created)
    except BundleError as error:
        st.error(plain(f"{name} cannot be used: {error} {advice}"))
        st.stop()


def _label(info: BundleInfo) -> str:
    return f"{info.name} (pretrained)" if info.pretrained else info.name


def _model_card(info: BundleInfo) -> None:
    meta = info.meta
    metrics, knn = meta.test_metrics, meta.test_metrics.knn_accuracy
    kind = " · conditional" if meta.model.conditional else ""
    given = " given the label" if meta.model.conditional else ""
    # An imported model was trained elsewhere: where from, not its (zero) epochs here.
    origin = f"from {FORMAT_NAMES[meta.imported.format]}" if meta.imported else count(meta.training.epochs_run, "epoch")
    st.sidebar.markdown(
        f"**{plain(meta.dataset.name)}** · {meta.model.preset}{kind} · latent {meta.model.latent_dim} · "
        f"{origin}  \n"
        f"test −ELBO{given} **{nats(metrics.neg_elbo, 1)}** nats · IW bound{given} {nats(metrics.neg_iw_bound, 1)}"
        + (f" · 5-NN accuracy {accuracy(knn)}" if knn is not None else "")
    )
